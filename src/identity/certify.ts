/**
 * The factory's certification of hardware identity keys: from the stations' exports, the
 * `hardware-identity` assertions the issuer signs with its account-key (authority-id = issuer-id,
 * the key on one line, its digest over that line), which `serve import` takes.
 *
 * Idempotent: a device exported twice, or already certified in the assertions an earlier run
 * wrote, is certified once; those assertions are kept as they are, and only new devices are
 * signed. A key is one device: a key under two hardware ids, or a hardware id with two keys, is
 * refused before anything is signed, whether both are in the exports or one was certified before.
 */
import {type HardwareIdentityView, hardwareIdentityView} from '../assertions/views.js'
import {type Assertion, parseAssertions} from '../assertions/decode.js'
import {describeKey, hardwareIdentityInput, hardwareKeyTypeOf, ISSUER_ID, ISSUER_ID_RULE} from '../assertions/hardware-identity.js'
import type {SigningKey} from '../assertions/keys.js'
import {signAssertion} from '../assertions/sign.js'
import {verifyAssertionSignature} from '../assertions/verify.js'
import {UserError} from '../errors.js'
import {quoteInput} from '../support/echo.js'
import type {StationRow} from './station-export.js'
import {rfc3339} from '../support/rfc3339.js'

interface CertifyOptions {
  /** The account that certifies the keys: the brand, or a manufacturer the brand's service trusts. */
  issuerId: string
  /** The issuer's registered account-key (RSA 4096, PEM, as serve signs with). */
  key: SigningKey
  /** For the rows that do not give their own. */
  manufacturer?: string
  hardwareName?: string
  now?: Date
  /** What an earlier run wrote (the output file), kept as it is: its devices are not signed again. */
  earlier?: {text: string; file: string}
}

interface CertifiedIdentity {
  hardwareId: string
  /** hardware-id-key-sha3-384. */
  digest: string
  keyType: string
  hardwareName: string
  manufacturer: string
  /** signed now, or kept from the earlier run. */
  status: 'kept' | 'signed'
  /** Where the device was read (`file:line`), or the earlier file. */
  source: string
  assertion: string
}

interface Certification {
  issuerId: string
  /** The id of the key that signed the new assertions. */
  keyId: string
  identities: CertifiedIdentity[]
  /** Rows that repeated a device already certified in this run or the earlier one. */
  repeated: number
  /** The assertions, kept ones first as they were, as one stream. */
  text: string
}

/** Signs a hardware-identity assertion for each device of `rows` not certified yet. */
export function certifyHardwareIdentities(rows: readonly StationRow[], options: CertifyOptions): Certification {
  if (!ISSUER_ID.test(options.issuerId)) {
    throw new UserError('E_HARDWARE_IDENTITY', `the issuer id ${quoteInput(options.issuerId)} is not an account id`, {hint: `give ${ISSUER_ID_RULE}; it is the account whose key signs the identities`})
  }

  const byDigest = new Map<string, {hardwareId: string; source: string}>()
  const byHardwareId = new Map<string, {digest: string; source: string}>()
  const conflicts: string[] = []
  const identities: CertifiedIdentity[] = []
  const claim = (hardwareId: string, digest: string, source: string): boolean => {
    const keyOwner = byDigest.get(digest)
    const idOwner = byHardwareId.get(hardwareId)
    if (keyOwner && keyOwner.hardwareId === hardwareId) return false
    if (keyOwner) conflicts.push(`the key ${digest} is exported as hardware id ${quoteInput(keyOwner.hardwareId)} (${keyOwner.source}) and as ${quoteInput(hardwareId)} (${source})`)
    else if (idOwner) conflicts.push(`hardware id ${quoteInput(hardwareId)} has the key ${idOwner.digest} (${idOwner.source}) and the key ${digest} (${source})`)
    else {
      byDigest.set(digest, {hardwareId, source})
      byHardwareId.set(hardwareId, {digest, source})
      return true
    }

    return false
  }

  for (const earlier of readEarlier(options)) {
    claim(earlier.view.hardwareId, earlier.view.hardwareIdKeyDigest, options.earlier!.file)
    identities.push({
      assertion: earlier.text,
      digest: earlier.view.hardwareIdKeyDigest,
      hardwareId: earlier.view.hardwareId,
      hardwareName: earlier.view.hardwareName,
      keyType: earlier.keyType,
      manufacturer: earlier.view.manufacturer,
      source: options.earlier!.file,
      status: 'kept',
    })
  }

  const fresh: StationRow[] = []
  let repeated = 0
  for (const row of rows) {
    const before = conflicts.length
    if (claim(row.hardwareId, row.key.digest, row.source)) fresh.push(row)
    else if (conflicts.length === before) repeated++
  }

  if (conflicts.length > 0) {
    throw new UserError('E_HARDWARE_IDENTITY_CONFLICT', `${conflicts[0]}${conflicts.length > 1 ? ` (and ${conflicts.length - 1} more)` : ''}: nothing was signed`, {
      details: conflicts,
      hint: 'a hardware identity is one key of one device, made once: a key under two ids would let one device register as another, so find which export is wrong and remove its row (a device whose key was made again needs its old identity withdrawn first)',
      kind: 'failed',
    })
  }

  const now = options.now ?? new Date()
  const timestamp = rfc3339(now)
  for (const row of fresh) {
    const manufacturer = row.manufacturer ?? options.manufacturer
    const hardwareName = row.hardwareName ?? options.hardwareName
    if (manufacturer === undefined || hardwareName === undefined) {
      const missing = manufacturer === undefined ? 'manufacturer' : 'hardware-name'
      throw new UserError('E_HARDWARE_IDENTITY', `${row.source}: no ${missing} for ${quoteInput(row.hardwareId)}`, {hint: `give --${missing}, or a ${missing} field in the export`})
    }

    const input = hardwareIdentityInput({hardwareId: row.hardwareId, hardwareName, issuerId: options.issuerId, key: row.key, manufacturer, timestamp})
    const {text} = signAssertion(input, options.key, {signatureTime: now})
    identities.push({assertion: text, digest: row.key.digest, hardwareId: row.hardwareId, hardwareName, keyType: row.key.type, manufacturer, source: row.source, status: 'signed'})
  }

  return {identities, issuerId: options.issuerId, keyId: options.key.keyId, repeated, text: identities.map((i) => i.assertion.replace(/\n*$/, '\n')).join('\n')}
}

interface EarlierIdentity {
  view: HardwareIdentityView
  text: string
  keyType: string
}

/** The identities of the earlier output: this issuer's, each as snapd would decode it. */
function readEarlier(options: CertifyOptions): EarlierIdentity[] {
  if (!options.earlier || options.earlier.text.trim() === '') return []
  const {file, text} = options.earlier
  const fail = (why: string, line?: number): UserError =>
    new UserError('E_HARDWARE_IDENTITY', `${file} ${why}`, {file, hint: 'give an output file of earlier runs for the same issuer (it is extended), another file, or --force to write it afresh', line})
  let assertions: Assertion[]
  try {
    assertions = parseAssertions(text, {file})
  } catch (error) {
    if (error instanceof UserError) throw fail(`is not an assertion file: ${error.message}`, error.line)
    throw error
  }

  const bytes = Buffer.from(text, 'utf8')
  return assertions.map((assertion, index) => {
    if (assertion.type !== 'hardware-identity') throw fail(`holds a ${assertion.type} assertion, not only hardware identities`, assertion.line)
    const view = hardwareIdentityView(assertion, file)
    if (view.issuerId !== options.issuerId) throw fail(`holds identities of issuer ${quoteInput(view.issuerId)}, not ${options.issuerId}`, assertion.line)
    if (view.signKeyId === options.key.keyId && !verifyAssertionSignature(assertion, options.key.encodedPublicKey).valid) {
      throw fail(`holds an identity (${quoteInput(view.hardwareId)}) whose signature does not verify: it was changed after signing`, assertion.line)
    }

    const end = index + 1 < assertions.length ? assertions[index + 1].offset : bytes.length
    return {keyType: keyTypeName(view), text: bytes.toString('utf8', assertion.offset, end).replace(/\n*$/, '\n'), view}
  })
}

function keyTypeName(view: HardwareIdentityView): string {
  return hardwareKeyTypeOf(view.publicKey) ?? describeKey(view.publicKey)
}
