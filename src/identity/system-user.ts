/**
 * A brand-signed system-user assertion for factory and support access, and the auto-import.assert
 * a device takes it from: the signer's account and account-key, then the system-user (snapd adds
 * an assertion only when the key that signed it is known). Everything snapd would check when the
 * device reads it that can be checked here is: the chain is the signing key's, valid now; the
 * model (when given as an assertion) is the brand's, and lets this authority make users.
 */
import {type Assertion, parseAssertions, signAssertion, type SignedAssertion, type SigningKey, loadSigningKey} from '../assertions/index.js'
import {type SystemUserFeature, systemUserFeatures, systemUserHeaders, type SystemUserInput, type SystemUserView, systemUserView} from '../assertions/system-user.js'
import {accountKeyValidAt, accountKeyView, accountView, modelView} from '../assertions/views.js'
import {UserError} from '../errors.js'
import {readBoundedFile} from '../support/bounded-read.js'
import {MAX_KEY_FILE_BYTES} from '../keys/read-key.js'
import {sha512Crypt} from '../support/sha512-crypt.js'
import {rfc3339} from '../support/rfc3339.js'

/** The default validity: a factory shift or a support visit, not a year. */
const SYSTEM_USER_DEFAULT_HOURS = 72
/** Account, account-key and model assertions are a few KB each. */
const MAX_ASSERTION_FILE_BYTES = 1024 * 1024
/** crypt(3) hashes only the bytes it is given; a pass phrase longer than this is a mistake. */
const MAX_PASSWORD_BYTES = 4096

export interface SystemUserOptions extends Omit<SystemUserInput, 'brandId' | 'passwordHash' | 'since' | 'until'> {
  /** The PEM private key that signs (the brand's, or a system-user-authority's), as serve takes it. */
  key: SigningKey
  /** The signer's account and account-key assertions (a stream), bundled ahead of the system-user. */
  chain?: readonly Assertion[]
  /** Model assertions: their names go into `models`, and their brand and authorities are checked. */
  modelAssertions?: readonly Assertion[]
  /** Default: the model assertions' brand, else the signer's account. */
  brandId?: string
  /** The password: hashed here (SHA-512 crypt), never kept. */
  password?: string
  since?: Date
  until?: Date
  /** Default: now. */
  now?: Date
}

interface IssuedSystemUser {
  signed: SignedAssertion
  /** account, account-key (when given), then the system-user: what auto-import.assert holds. */
  bundle: string
  /** The types in the bundle, in order. */
  bundled: string[]
  view: SystemUserView
  /** Features not every snapd honours, with the first release that does. */
  features: SystemUserFeature[]
  /** What the device will check that could not be checked here. */
  notes: string[]
}

/** Signs the system-user assertion; refuses (UserError) what snapd would refuse on the device. */
export function issueSystemUser(options: SystemUserOptions): IssuedSystemUser {
  const now = options.now ?? new Date()
  const notes: string[] = []
  const accountKeys = (options.chain ?? []).filter((a) => a.type === 'account-key')
  const accounts = (options.chain ?? []).filter((a) => a.type === 'account')
  const strangers = (options.chain ?? []).filter((a) => a.type !== 'account-key' && a.type !== 'account')
  if (strangers.length > 0)
    throw chainError(
      `the chain holds a ${strangers[0].type} assertion`,
      "give the signer's account and account-key assertions (snap known --remote account account-id=<id>; snap known --remote account-key public-key-sha3-384=<key id>)",
    )

  // The signer's account-key: the one for this key.
  const ownKeys = accountKeys.map((a) => ({assertion: a, view: accountKeyView(a)})).filter((k) => k.view.publicKeyId === options.key.keyId)
  if (accountKeys.length > 0 && ownKeys.length === 0) {
    throw chainError(`no account-key in the chain is for the signing key ${options.key.keyId}`, 'give the account-key assertion of the key that signs (snap-gadget key id <key.pem> prints its id)')
  }

  const accountKey = ownKeys[0]?.view
  const authorityId = options.authorityId ?? accountKey?.accountId ?? options.brandId ?? modelBrand(options.modelAssertions)
  if (!authorityId) throw new UserError('E_SYSTEM_USER', 'the brand is not known', {hint: "give --brand, or the signer's account-key (--chain) or a model assertion (--model FILE)", kind: 'usage'})
  if (accountKey && accountKey.accountId !== authorityId) throw chainError(`the signing key belongs to ${accountKey.accountId}, not to ${authorityId}`, `sign with a key of ${authorityId}, or leave --authority out`)
  if (accountKey && !accountKeyValidAt(accountKey, now))
    throw chainError(`the account-key of the signing key is not valid now (since ${accountKey.since}${accountKey.until ? `, until ${accountKey.until}` : ''})`, 'sign with a key whose account-key is valid')
  const account = accounts.map((a) => ({assertion: a, view: accountView(a)})).find((a) => a.view.accountId === authorityId)
  if (options.chain && !account) notes.push(`the chain has no account assertion of ${authorityId}: a device that does not hold it cannot add the system-user`)
  if (!accountKey) notes.push(`no account-key given: the device must already hold the account-key ${options.key.keyId} of ${authorityId} (give --chain to bundle it)`)

  const brandId = options.brandId ?? modelBrand(options.modelAssertions) ?? authorityId
  const since = options.since ?? new Date(Math.floor(now.getTime() / 1000) * 1000)
  const until = options.until ?? new Date(since.getTime() + SYSTEM_USER_DEFAULT_HOURS * 3600 * 1000)
  if (accountKey?.until && Date.parse(accountKey.until) < until.getTime()) notes.push(`the signing key's account-key expires at ${accountKey.until}, before the user's until (${rfc3339(until)})`)

  // The models: names given, and the assertions' names, checked as the device will check them.
  const models = [...(options.models ?? [])]
  const series = new Set(options.series ?? [])
  for (const model of options.modelAssertions ?? []) {
    const view = modelView(model)
    if (view.brandId !== brandId)
      throw new UserError('E_SYSTEM_USER', `the model ${view.model} is of brand ${view.brandId}, not ${brandId}`, {
        hint: "a device looks its system-users up under its model's brand: give models of one brand",
        kind: 'usage',
      })
    const authorities = systemUserAuthority(model, view.brandId)
    if (!authorities.includes('*') && !authorities.includes(authorityId)) {
      throw new UserError('E_SYSTEM_USER', `the model ${view.model} lets ${authorities.join(', ')} make system users, not ${authorityId}`, {
        hint: `sign with a key of ${authorities[0]}, or add ${authorityId} to the model's system-user-authority`,
        kind: 'usage',
      })
    }

    if (!models.includes(view.model)) models.push(view.model)
    const modelSeries = model.headers.series
    if (typeof modelSeries === 'string' && options.series && options.series.length > 0 && !series.has(modelSeries)) {
      throw new UserError('E_SYSTEM_USER', `the model ${view.model} is of series ${modelSeries}, which --series leaves out`, {hint: `add --series ${modelSeries}, or leave --series out`, kind: 'usage'})
    }
  }

  if (authorityId !== brandId && !options.modelAssertions?.length) notes.push(`signed by ${authorityId} for brand ${brandId}: the model must list ${authorityId} in its system-user-authority`)
  notes.push(`the device creates the user only while its clock is between ${rfc3339(since)} and ${rfc3339(until)}, and only when no user is managed on it yet (or with snap create-user --force-managed)`)
  const password = options.password
  if (password !== undefined && (password === '' || Buffer.byteLength(password) > MAX_PASSWORD_BYTES || /[\r\n\0]/.test(password))) {
    throw new UserError('E_SYSTEM_USER', 'the password is empty, longer than 4096 bytes, or holds a line break or NUL', {hint: 'give the password as one line', kind: 'usage'})
  }

  const input: SystemUserInput = {
    ...options,
    authorityId,
    brandId,
    models,
    passwordHash: password === undefined ? undefined : sha512Crypt(password),
    series: [...series],
    since,
    until,
  }
  const signed = signAssertion({headers: systemUserHeaders(input), type: 'system-user'}, options.key, {signatureTime: now})
  const chain = [account?.assertion, ownKeys[0]?.assertion].filter((a): a is Assertion => a !== undefined)
  const bundle = [...chain.map((a) => assertionText(a)), signed.text].join('\n')
  return {bundle, bundled: [...chain.map((a) => a.type), 'system-user'], features: systemUserFeatures(input), notes, signed, view: systemUserView(signed.assertion)}
}

interface SystemUserFiles {
  /** PEM private key file. */
  keyFile: string
  /** Files of account/account-key assertions. */
  chainFiles?: readonly string[]
  /** Files of model assertions. */
  modelFiles?: readonly string[]
}

/** {@link issueSystemUser} with the key, chain and models read from files (bounded). */
export function issueSystemUserFromFiles(files: SystemUserFiles, options: Omit<SystemUserOptions, 'chain' | 'key' | 'modelAssertions'>): IssuedSystemUser {
  const key = loadSigningKey(readBoundedFile(files.keyFile, MAX_KEY_FILE_BYTES, {what: 'key'}), files.keyFile)
  const read = (file: string) => parseAssertions(readBoundedFile(file, MAX_ASSERTION_FILE_BYTES, {what: 'assertion'}), {file})
  const chain = (files.chainFiles ?? []).flatMap((file) => read(file))
  const modelAssertions = (files.modelFiles ?? []).flatMap((file) =>
    read(file).map((assertion) => {
      if (assertion.type !== 'model')
        throw new UserError('E_SYSTEM_USER', `${file} holds a ${assertion.type} assertion, not a model`, {file, hint: "give the model assertion (snap model --assertion), or the model's name", kind: 'usage'})
      return assertion
    }),
  )
  return issueSystemUser({...options, chain: files.chainFiles ? chain : undefined, key, modelAssertions})
}

function modelBrand(models: readonly Assertion[] | undefined): string | undefined {
  return models && models.length > 0 ? modelView(models[0]).brandId : undefined
}

/** The model's system-user-authority as snapd reads it (asserts/model.go checkOptionalSystemUserAuthority): the brand when absent, anyone for "*", and a list always with the brand. */
function systemUserAuthority(model: Assertion, brandId: string): string[] {
  const value = model.headers['system-user-authority']
  if (value === undefined) return [brandId]
  if (value === '*') return ['*']
  if (Array.isArray(value)) return [brandId, ...value.filter((v): v is string => typeof v === 'string' && v !== brandId)]
  throw new UserError('E_ASSERTION_HEADER', 'the model\'s system-user-authority is neither "*" nor a list', {hint: 'give the model assertion as snapd signs it', line: model.line})
}

function assertionText(assertion: Assertion): string {
  return `${Buffer.from(assertion.content).toString('utf8')}\n\n${assertion.signature}\n`
}

function chainError(message: string, hint: string): UserError {
  return new UserError('E_SYSTEM_USER', message, {hint, kind: 'usage'})
}
