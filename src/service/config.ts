/**
 * The `serve` config: a YAML file (schemas/serve.schema.json) naming where the service listens,
 * where it keeps its state, and for each model the brand key that signs serials, the api-key its
 * devices send and the assertions returned with every serial.
 *
 * ```yaml
 * listen: 127.0.0.1:8642
 * database: sqlite:serve.db
 * models:
 *   - brand: acme
 *     model: acme-pc
 *     api-key: {env: ACME_PC_API_KEY}
 *     signing-key: keys/acme-serials.pem
 *     chain: [assertions/acme.account, assertions/acme-serials.account-key]
 * ```
 *
 * A model onboards its devices by the api-key they send (the default), by their hardware identity
 * (`onboarding: hardware-identity`: each device proves it holds the key of a hardware-identity
 * assertion `serve import` took, issued by the brand or an account of `issuers`; an api-key is then
 * optional, and a second gate when given), or by either (`onboarding: [api-key, hardware-identity]`).
 * The keys that check imported identities come from every chain in the config: the models', and
 * those of `issuers:` (an account id and its account and account-keys).
 *
 * Loading checks what would otherwise fail only on a device: a model whose signing key is not the
 * account-key its chain returns is refused at start (the Serial Vault's best-known pain: the log
 * shows a serial, the device silently rejects it). The api-key values are resolved here and kept
 * out of every message.
 */
import {createPrivateKey, X509Certificate} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import {isIP} from 'node:net'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {Ajv2020, type ErrorObject} from 'ajv/dist/2020.js'

import {accountKeyValidAt, accountKeyView, accountView, type Assertion, type AssertionPublicKey, decodeAssertionPublicKey, loadSigningKey, parseAssertions, type SigningKey} from '../assertions/index.js'
import {UserError} from '../errors.js'
import {readBoundedFile} from '../support/bounded-read.js'
import {didYouMean} from '../support/suggest.js'
import {pointerToPath} from '../support/json-pointer.js'
import {MAX_SERIAL_LENGTH} from '../serial/serial-text.js'
import {type DocumentPath, readYamlDocument} from '../go-yaml/document.js'

export const DEFAULT_LISTEN = '127.0.0.1:8642'
export const DEFAULT_DATABASE = 'sqlite:serve.db'

const MAX_CONFIG_BYTES = 1024 * 1024
const MAX_KEY_BYTES = 64 * 1024
/** An account and an account-key are a few KB; snapd's own limits allow a few MB per assertion. */
const MAX_CHAIN_FILE_BYTES = 4 * 1024 * 1024

export type DatabaseLocation =
  | {kind: 'sqlite'; path: string}
  /**
   * `url` may hold a password: it goes only to the driver. `shown` is the URL without it, for
   * every message and log line.
   */
  | {kind: 'postgres'; url: string; shown: string}

export type OnboardingMethod = 'api-key' | 'hardware-identity'

export interface ServiceModel {
  brand: string
  model: string
  /** How its devices prove which model they are: the api-key, their hardware identity, or either. */
  onboarding: {apiKey: boolean; hardwareIdentity: boolean}
  /**
   * The api-key its devices send, when the model has one (required in api-key onboarding; in
   * hardware-identity onboarding alone, a gate before the body). A secret: never in a message, a
   * log line or an answer.
   */
  apiKey?: string
  /** Where the api-key came from, for messages: `literal` or the variable's name. */
  apiKeyFrom?: string
  /** Whose hardware identities its devices may present: the brand, then the accounts its `issuers` names. */
  issuers: string[]
  /**
   * In hardware-identity onboarding, the serial: the identity's hardware-id (a serial the request
   * proposes must be it), or what the request proposes, as in api-key onboarding.
   */
  serialFrom: 'hardware-id' | 'request'
  /** The models whose devices may re-register as this one on a remodel: `brand/model`, or `brand/*`. */
  remodelFrom: string[]
  /** On a remodel, the serial: the original serial's number, or what the request proposes. */
  remodelSerial: 'keep' | 'request'
  signingKey: SigningKey
  /** The chain returned after each serial, as the files hold it (never re-serialized). */
  chain: string[]
  /** Public keys of the brand, by key id: the signing key and every account-key of the chain. */
  brandKeys: Map<string, AssertionPublicKey>
}

/**
 * Bounds that keep one client, or a crowd of them, from taking the service down. The defaults
 * hold a factory line whose stations all reach the service through one NAT address.
 */
export interface ServiceLimits {
  /** Open connections, all clients together; more are closed as they arrive. */
  connections: number
  /** Open connections from one address. */
  connectionsPerClient: number
  /** Request body bytes held at once, all clients together; a request over it is answered 503. */
  bodyBytes: number
  /** Request body bytes held at once for one address. */
  bodyBytesPerClient: number
  /** The longest serial issued, in characters. */
  serialLength: number
  /**
   * Request-ids issued without an api-key (hardware-identity onboarding) in the nonce lifetime
   * (600 s), all clients together: each is a row until it expires, so this bounds the table.
   */
  anonymousRequestIds: number
  /** The same, for one address. */
  anonymousRequestIdsPerClient: number
}

export const DEFAULT_LIMITS: ServiceLimits = {
  anonymousRequestIds: 200_000,
  anonymousRequestIdsPerClient: 20_000,
  bodyBytes: 64 * 1024 * 1024,
  bodyBytesPerClient: 16 * 1024 * 1024,
  connections: 1024,
  connectionsPerClient: 256,
  serialLength: MAX_SERIAL_LENGTH,
}

/** A key an issuer signs hardware-identity assertions with: an account-key of a chain in the config. */
export interface IssuerKey {
  key: AssertionPublicKey
  since: string
  until?: string
  /** The chain file it came from, for messages. */
  file: string
}

export interface ServiceConfig {
  file: string
  listen: {host: string; port: number}
  database: DatabaseLocation
  tls?: {certificate: Buffer; key: Buffer; certificateFile: string; keyFile: string}
  models: ServiceModel[]
  /** The keys of the accounts that issue hardware identities, by account id, from every chain of the config. */
  issuerKeys: Map<string, IssuerKey[]>
  limits: ServiceLimits
  /** What works but deserves attention (no chain: devices will need the store), each said once. */
  warnings: string[]
}

export interface LoadServiceConfigOptions {
  env?: NodeJS.ProcessEnv
  /** The time account-key validity is checked at. */
  now?: Date
}

/** Reads, checks and resolves a serve config; every mistake is a UserError at its place. */
export function loadServiceConfig(file: string, options: LoadServiceConfigOptions = {}): ServiceConfig {
  const {baseDir, data, fail} = readConfigFile(file)
  const env = options.env ?? process.env
  const now = options.now ?? new Date()
  const warnings: string[] = []

  const models: ServiceModel[] = []
  const byApiKey = new Map<string, number>()
  const byName = new Map<string, number>()
  const chainKeys: ChainKey[] = []
  for (const [index, raw] of data.models.entries()) {
    const at = (key: string): DocumentPath => ['models', index, key]
    const name = `${raw.brand}/${raw.model}`
    const earlier = byName.get(name)
    if (earlier !== undefined) throw fail(at('model'), `model ${name} is configured twice (also models[${earlier}])`, 'keep one entry per brand and model')
    byName.set(name, index)
    const onboarding = onboardingOf(raw, index, fail)

    let apiKey: string | undefined
    let apiKeyFrom: string | undefined
    if (raw['api-key'] !== undefined) {
      ;({apiKey, apiKeyFrom} = resolveApiKey(raw['api-key'], env, () => at('api-key'), fail))
      if (apiKeyFrom === 'literal') {
        warnings.push(`models[${index}] (${name}) has its api-key written in ${file}: whoever reads the file can register devices as ${name}; use api-key: {env: NAME} and set NAME where serve starts`)
      }

      const sharedWith = byApiKey.get(apiKey)
      if (sharedWith !== undefined) {
        throw fail(at('api-key'), `the api-key is the same as that of models[${sharedWith}]`, 'give each model its own api-key: it is how the service tells which model a device claims to be')
      }

      byApiKey.set(apiKey, index)
    }

    const keyFile = resolve(baseDir, raw['signing-key'])
    exposedKeyWarning(keyFile, 'the signing key', warnings)
    let signingKey: SigningKey
    try {
      signingKey = loadSigningKey(readBoundedFile(keyFile, MAX_KEY_BYTES, {shown: keyFile, what: 'PEM key'}), raw['signing-key'])
    } catch (error) {
      if (error instanceof UserError) throw relocate(error, fail(at('signing-key'), error.message, error.hint ?? 'give the brand key that signs serials'))
      throw error
    }

    const brandKeys = new Map<string, AssertionPublicKey>([[signingKey.keyId, decodeAssertionPublicKey(signingKey.encodedPublicKey, raw['signing-key'])]])
    const chain: string[] = []
    const chainAssertions: Assertion[] = []
    for (const [n, chainFile] of (raw.chain ?? []).entries()) {
      const read = readChainFile(baseDir, chainFile, ['models', index, 'chain', n], fail, (assertion) =>
        fail(
          ['models', index, 'chain', n],
          `${chainFile} holds a ${assertion.type} assertion; the chain returns the brand's account and account-key`,
          `get them with: snap known --remote account account-id=${raw.brand}; snap known --remote account-key public-key-sha3-384=${signingKey.keyId}`,
        ),
      )
      chainAssertions.push(...read.assertions)
      chain.push(read.text)
      chainKeys.push(...read.keys)
    }

    if (chain.length === 0) {
      warnings.push(`models[${index}] (${name}) has no chain: devices must fetch the brand's account-key from the store to accept their serial, which a factory without internet cannot`)
    } else {
      checkChain(chainAssertions, raw.brand, signingKey, now, (message, hint) => fail(at('chain'), message, hint))
      for (const assertion of chainAssertions) {
        if (assertion.type !== 'account-key' || accountKeyView(assertion).accountId !== raw.brand) continue
        const key = decodeAssertionPublicKey(assertion.body, 'account-key body')
        brandKeys.set(key.id, key)
      }
    }

    models.push({
      brand: raw.brand,
      brandKeys,
      chain,
      issuers: [raw.brand, ...(raw.issuers ?? []).filter((id) => id !== raw.brand)],
      model: raw.model,
      onboarding,
      remodelFrom: raw['remodel-from'] ?? [],
      remodelSerial: raw['remodel-serial'] ?? 'keep',
      serialFrom: raw['serial-from'] ?? 'hardware-id',
      signingKey,
      ...(apiKey === undefined ? {} : {apiKey, apiKeyFrom}),
    })
  }

  // A remodelled device proves itself by its original serial, checked against the keys the config holds.
  for (const [index, model] of models.entries()) {
    for (const from of model.remodelFrom) {
      const brand = from.slice(0, from.indexOf('/'))
      if (!models.some((m) => m.brand === brand)) {
        warnings.push(
          `models[${index}] (${model.brand}/${model.model}) takes devices remodelled from ${from}, but no model of the config is of brand ${brand}: serve holds no key of ${brand} to check their original serials, and refuses them; add a model of ${brand} with its signing key and chain`,
        )
      }
    }
  }

  const issuerKeys = issuerKeysOf(data, baseDir, fail, chainKeys)
  for (const [index, model] of models.entries()) {
    if (!model.onboarding.hardwareIdentity) continue
    for (const issuer of model.issuers) {
      if (!issuerKeys.has(issuer)) {
        warnings.push(
          `models[${index}] (${model.brand}/${model.model}) accepts hardware identities issued by ${issuer}, but no chain of the config holds an account-key of ${issuer}: serve import cannot check them; add ${issuer}'s account and account-key under issuers:`,
        )
      }
    }
  }

  for (const issuer of data.issuers ?? []) {
    if (!models.some((m) => m.onboarding.hardwareIdentity && m.issuers.includes(issuer['account-id']))) {
      warnings.push(`issuers: ${issuer['account-id']} is accepted by no model (a model's issuers: lists the accounts whose hardware identities it accepts besides its brand's)`)
    }
  }

  const listen = parseListen(data.listen ?? DEFAULT_LISTEN, (message, hint) => fail(['listen'], message, hint))
  const database = databaseOf(data, baseDir, fail)
  const tls = data.tls ? loadTls(data.tls, baseDir, fail, warnings) : undefined
  if (!tls && !isLoopback(listen.host)) {
    warnings.push(
      `listen ${data.listen ?? DEFAULT_LISTEN} serves other machines over plain HTTP: api-keys and serials cross the network in clear; add tls: {certificate: …, key: …}, or listen on 127.0.0.1 behind a TLS proxy`,
    )
  }

  const limits = {...DEFAULT_LIMITS}
  const rawLimits = data.limits ?? {}
  if (rawLimits.connections !== undefined) limits.connections = rawLimits.connections
  if (rawLimits['connections-per-client'] !== undefined) limits.connectionsPerClient = rawLimits['connections-per-client']
  if (rawLimits['body-bytes'] !== undefined) limits.bodyBytes = rawLimits['body-bytes']
  if (rawLimits['body-bytes-per-client'] !== undefined) limits.bodyBytesPerClient = rawLimits['body-bytes-per-client']
  if (rawLimits['serial-length'] !== undefined) limits.serialLength = rawLimits['serial-length']
  if (rawLimits['anonymous-request-ids'] !== undefined) limits.anonymousRequestIds = rawLimits['anonymous-request-ids']
  if (rawLimits['anonymous-request-ids-per-client'] !== undefined) limits.anonymousRequestIdsPerClient = rawLimits['anonymous-request-ids-per-client']
  if (limits.anonymousRequestIdsPerClient > limits.anonymousRequestIds) {
    throw fail(
      ['limits', 'anonymous-request-ids-per-client'],
      `is ${limits.anonymousRequestIdsPerClient}, more than limits.anonymous-request-ids (${limits.anonymousRequestIds})`,
      'one client cannot be given more request-ids than all clients together',
    )
  }
  if (limits.connectionsPerClient > limits.connections) {
    throw fail(['limits', 'connections-per-client'], `is ${limits.connectionsPerClient}, more than limits.connections (${limits.connections})`, 'one client cannot hold more connections than all clients together')
  }

  if (limits.bodyBytesPerClient > limits.bodyBytes) {
    throw fail(['limits', 'body-bytes-per-client'], `is ${limits.bodyBytesPerClient}, more than limits.body-bytes (${limits.bodyBytes})`, 'one client cannot hold more body bytes than all clients together')
  }

  return {database, file, issuerKeys, limits, listen, models, tls, warnings: [...new Set(warnings)]}
}

/** What `serve import` needs of a config: no api-key, no private key. */
export interface ImportConfig {
  file: string
  database: DatabaseLocation
  models: Pick<ServiceModel, 'brand' | 'issuers' | 'model' | 'onboarding'>[]
  issuerKeys: Map<string, IssuerKey[]>
}

/**
 * The database, the models' onboarding and the issuers' keys of a config, for importing
 * hardware identities where serve's api-keys and signing keys are not at hand (a station's host).
 */
export function loadImportConfig(file: string): ImportConfig {
  const {baseDir, data, fail} = readConfigFile(file)
  const chainKeys: ChainKey[] = []
  const models = data.models.map((raw, index) => {
    for (const [n, chainFile] of (raw.chain ?? []).entries()) chainKeys.push(...readChainFile(baseDir, chainFile, ['models', index, 'chain', n], fail).keys)
    return {brand: raw.brand, issuers: [raw.brand, ...(raw.issuers ?? []).filter((id) => id !== raw.brand)], model: raw.model, onboarding: onboardingOf(raw, index, fail)}
  })
  return {database: databaseOf(data, baseDir, fail), file, issuerKeys: issuerKeysOf(data, baseDir, fail, chainKeys), models}
}

interface ChainKey extends IssuerKey {
  accountId: string
}

/**
 * A chain file: its text as returned to devices, its account and account-key assertions, and the
 * account-keys as keys. Another type of assertion is `other`'s error.
 */
function readChainFile(baseDir: string, chainFile: string, at: DocumentPath, fail: Fail, other?: (assertion: Assertion) => UserError): {text: string; assertions: Assertion[]; keys: ChainKey[]} {
  const path = resolve(baseDir, chainFile)
  const bytes = readBoundedFile(path, MAX_CHAIN_FILE_BYTES, {shown: path, what: 'assertion'})
  let assertions: Assertion[]
  try {
    assertions = parseAssertions(bytes, {file: chainFile})
  } catch (error) {
    if (error instanceof UserError) throw relocate(error, fail(at, `${chainFile}: ${error.message}`, error.hint ?? 'give assertion files as `snap known` prints them'))
    throw error
  }

  const keys: ChainKey[] = []
  for (const assertion of assertions) {
    if (assertion.type !== 'account' && assertion.type !== 'account-key') {
      throw other?.(assertion) ?? fail(at, `${chainFile} holds a ${assertion.type} assertion; a chain holds account and account-key assertions`, 'give the files snap known --remote account and account-key print')
    }

    if (assertion.type !== 'account-key') continue
    let view
    try {
      view = accountKeyView(assertion, chainFile)
    } catch (error) {
      if (error instanceof UserError) throw fail(at, error.message, 'give the chain as snap known prints it')
      throw error
    }

    const key = decodeAssertionPublicKey(assertion.body, `the account-key body in ${chainFile}`)
    keys.push({accountId: view.accountId, file: chainFile, key, since: view.since, ...(view.until === undefined ? {} : {until: view.until})})
  }

  return {assertions, keys, text: bytes.toString('utf8').replace(/\n*$/, '\n')}
}

/** The account-keys of every chain by account id; each of issuers: must hold one of its account. */
function issuerKeysOf(data: RawConfig, baseDir: string, fail: Fail, chainKeys: ChainKey[]): Map<string, IssuerKey[]> {
  const all = [...chainKeys]
  const seen = new Set<string>()
  for (const [index, issuer] of (data.issuers ?? []).entries()) {
    const id = issuer['account-id']
    if (seen.has(id)) throw fail(['issuers', index, 'account-id'], `issuer ${id} is listed twice`, 'give each issuer once, with all its chain files')
    seen.add(id)
    const keys: ChainKey[] = []
    for (const [n, chainFile] of issuer.chain.entries()) keys.push(...readChainFile(baseDir, chainFile, ['issuers', index, 'chain', n], fail).keys)
    const own = keys.filter((k) => k.accountId === id)
    if (own.length === 0) {
      throw fail(['issuers', index, 'chain'], `holds no account-key of ${id}`, `add the account-key of the key ${id} signs hardware identities with: snap known --remote account-key account-id=${id}`)
    }

    all.push(...keys)
  }

  const byAccount = new Map<string, IssuerKey[]>()
  for (const {accountId, ...key} of all) {
    const list = byAccount.get(accountId) ?? []
    if (!list.some((k) => k.key.id === key.key.id)) list.push(key)
    byAccount.set(accountId, list)
  }

  return byAccount
}

function onboardingOf(raw: RawModel, index: number, fail: Fail): ServiceModel['onboarding'] {
  const methods = raw.onboarding === undefined ? ['api-key'] : typeof raw.onboarding === 'string' ? [raw.onboarding] : raw.onboarding
  const onboarding = {apiKey: methods.includes('api-key'), hardwareIdentity: methods.includes('hardware-identity')}
  const name = `${raw.brand}/${raw.model}`
  if (onboarding.apiKey && raw['api-key'] === undefined) {
    throw fail(
      ['models', index],
      `model ${name} onboards devices by api-key, and has no api-key`,
      'give api-key: {env: NAME}, or onboard its devices by hardware identity alone (onboarding: hardware-identity), where the api-key is optional',
    )
  }

  if (!onboarding.hardwareIdentity) {
    for (const key of ['issuers', 'serial-from'] as const) {
      if (raw[key] !== undefined) throw fail(['models', index, key], `is for hardware-identity onboarding, and model ${name} onboards by api-key alone`, 'add onboarding: [api-key, hardware-identity], or leave it out')
    }
  }

  return onboarding
}

/** Only the database a config names (for reading the signing log without the keys or api-keys). */
export function loadServiceDatabase(file: string): DatabaseLocation {
  const {baseDir, data, fail} = readConfigFile(file)
  return databaseOf(data, baseDir, fail)
}

function readConfigFile(file: string): {baseDir: string; data: RawConfig; fail: Fail} {
  const text = readBoundedFile(file, MAX_CONFIG_BYTES, {what: 'serve config'}).toString('utf8')
  const doc = readYamlDocument(text, file, 'E_SERVE_CONFIG')
  const fail: Fail = (path, message, hint, at = 'value') => {
    const pos = doc.locate(path, at)
    return new UserError('E_SERVE_CONFIG', `${formatPath(path)}: ${message}`, {column: pos?.column, file, hint, line: pos?.line})
  }

  checkSchema(doc.data, fail)
  return {baseDir: dirname(resolve(file)), data: doc.data as unknown as RawConfig, fail}
}

function databaseOf(data: RawConfig, baseDir: string, fail: Fail): DatabaseLocation {
  return parseDatabase(data.database ?? DEFAULT_DATABASE, baseDir, (message, hint) => fail(['database'], message, hint))
}

/** The database location named in a config, resolved against its directory. */
function parseDatabase(text: string, baseDir: string, fail: (message: string, hint: string) => UserError): DatabaseLocation {
  if (text.startsWith('sqlite:')) {
    const path = text.slice('sqlite:'.length)
    if (path === '') throw fail('the sqlite database needs a path', 'e.g. sqlite:serve.db (relative to the config file)')
    return {kind: 'sqlite', path: path === ':memory:' ? path : resolve(baseDir, path)}
  }

  if (/^postgres(?:ql)?:\/\//.test(text)) return parsePostgresUrl(text, fail)
  // The text may be a URL with a password in it: never shown.
  throw fail(`the database is neither sqlite:PATH nor a postgres:// URL`, DATABASE_FORMS)
}

const DATABASE_FORMS = 'sqlite:PATH (one machine), or postgres://USER@HOST[:PORT]/DATABASE for several instances (the password in PGPASSWORD)'

function parsePostgresUrl(text: string, fail: (message: string, hint: string) => UserError): DatabaseLocation {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw fail('the postgres URL cannot be read as a URL', DATABASE_FORMS)
  }

  const shown = redactedUrl(url)
  if (url.hostname === '' && !url.searchParams.has('host')) throw fail(`${shown} names no host`, DATABASE_FORMS)
  if (url.pathname.length <= 1) throw fail(`${shown} names no database`, DATABASE_FORMS)
  return {kind: 'postgres', shown, url: text}
}

/** The URL with its password replaced, for messages. */
function redactedUrl(url: URL): string {
  const copy = new URL(url.href)
  if (copy.password !== '') copy.password = '***'
  // A password may also ride in the query (?password=…).
  for (const key of [...copy.searchParams.keys()]) if (/pass/i.test(key)) copy.searchParams.set(key, '***')
  return copy.href
}

/** How a database is named in messages: the path, or the URL without its password. */
export function describeDatabase(location: DatabaseLocation): string {
  return location.kind === 'sqlite' ? `sqlite:${location.path}` : location.shown
}

function parseListen(text: string, fail: (message: string, hint: string) => UserError): {host: string; port: number} {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text)
  const port = match ? Number(match[3]) : Number.NaN
  if (!match || port > 65_535) throw fail(`"${text}" is not HOST:PORT`, `e.g. ${DEFAULT_LISTEN}, [::1]:8642, or 0.0.0.0:8642 to serve a factory network (port 0 picks a free port)`)
  return {host: match[1] ?? match[2], port}
}

interface RawModel {
  brand: string
  model: string
  onboarding?: OnboardingMethod | OnboardingMethod[]
  'api-key'?: string | {env: string}
  'signing-key': string
  chain?: string[]
  issuers?: string[]
  'serial-from'?: 'hardware-id' | 'request'
  'remodel-from'?: string[]
  'remodel-serial'?: 'keep' | 'request'
}

interface RawConfig {
  listen?: string
  database?: string
  tls?: {certificate: string; key: string}
  limits?: {
    connections?: number
    'connections-per-client'?: number
    'body-bytes'?: number
    'body-bytes-per-client'?: number
    'serial-length'?: number
    'anonymous-request-ids'?: number
    'anonymous-request-ids-per-client'?: number
  }
  issuers?: {'account-id': string; chain: string[]}[]
  models: RawModel[]
}

type Fail = (path: DocumentPath, message: string, hint: string, at?: 'key' | 'value') => UserError

let schemaCheck: ReturnType<Ajv2020['compile']> | undefined

function checkSchema(data: unknown, fail: Fail): void {
  if (!schemaCheck) {
    const ajv = new Ajv2020({allErrors: true, strict: true})
    schemaCheck = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')))
  }

  if (schemaCheck(data)) return
  const errors = schemaCheck.errors ?? []
  // A mistyped key (modle:) also leaves its key missing: the typo is what to fix.
  const error = errors.find((e) => e.keyword === 'additionalProperties') ?? mostUseful(errors)
  const path = pointerToPath(error.instancePath)
  if (error.keyword === 'additionalProperties') {
    const extra = String(error.params.additionalProperty)
    const allowed = Object.keys(propertiesAt(path))
    const guess = didYouMean(extra, allowed)
    throw fail([...path, extra], `unknown key "${extra}"`, guess ? `did you mean "${guess}"? (allowed here: ${allowed.join(', ')})` : `allowed here: ${allowed.join(', ')}`, 'key')
  }

  if (error.keyword === 'required') throw fail(path, `"${String(error.params.missingProperty)}" is missing`, `each model needs ${REQUIRED_MODEL_KEYS.join(', ')} (the schema: ${SCHEMA_FILE})`)
  throw fail(path, error.message ?? 'is not valid', hintFor(path))
}

/** ajv reports every branch of a oneOf; the error deepest in the document says most. */
function mostUseful(errors: ErrorObject[]): ErrorObject {
  return errors.reduce((best, e) => (e.instancePath.length > best.instancePath.length && e.keyword !== 'oneOf' ? e : best), errors[0])
}

function propertiesAt(path: DocumentPath): Record<string, unknown> {
  const top = {$schema: 1, database: 1, issuers: 1, limits: 1, listen: 1, models: 1, tls: 1}
  if (path.length === 0) return top
  if (path[0] === 'tls') return {certificate: 1, key: 1}
  if (path[0] === 'limits') {
    return {'anonymous-request-ids': 1, 'anonymous-request-ids-per-client': 1, 'body-bytes': 1, 'body-bytes-per-client': 1, connections: 1, 'connections-per-client': 1, 'serial-length': 1}
  }

  if (path[0] === 'issuers') return {'account-id': 1, chain: 1}
  if (path[0] === 'models') return {'api-key': 1, brand: 1, chain: 1, issuers: 1, model: 1, onboarding: 1, 'remodel-from': 1, 'remodel-serial': 1, 'serial-from': 1, 'signing-key': 1}
  return {}
}

const REQUIRED_MODEL_KEYS = ['brand', 'model', 'signing-key', 'api-key (unless onboarding: hardware-identity)']
/** The schema of the config, where this copy of snap-gadget keeps it. */
const SCHEMA_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas', 'serve.schema.json')

function hintFor(path: DocumentPath): string {
  const last = path.at(-1)
  if (last === 'brand') return 'the brand account id: lower-case letters, digits and single dashes'
  if (last === 'model') return 'the model name from the model assertion'
  if (last === 'api-key' || path.includes('api-key')) return 'a string for lab use, or {env: NAME} to read it from the environment'
  if (last === 'listen') return `HOST:PORT, e.g. ${DEFAULT_LISTEN}`
  if (last === 'database') return DATABASE_FORMS
  return `the schema: ${SCHEMA_FILE}`
}

function resolveApiKey(spec: NonNullable<RawModel['api-key']>, env: NodeJS.ProcessEnv, at: () => DocumentPath, fail: Fail): {apiKey: string; apiKeyFrom: string} {
  if (typeof spec === 'string') return {apiKey: checkedApiKey(spec, 'the api-key', at, fail), apiKeyFrom: 'literal'}
  const value = env[spec.env]
  if (value === undefined || value === '') throw fail([...at(), 'env'], `the environment variable ${spec.env} is ${value === undefined ? 'not set' : 'empty'}`, `export ${spec.env}=… before starting serve`)
  return {apiKey: checkedApiKey(value, `the environment variable ${spec.env}`, () => [...at(), 'env'], fail), apiKeyFrom: `$${spec.env}`}
}

function checkedApiKey(value: string, what: string, at: () => DocumentPath, fail: Fail): string {
  // The value is a secret: say what is wrong with it, never what it is.
  if (/[\u0000-\u001F\u007F]/.test(value) || value.trim() !== value) {
    throw fail(at(), `${what} has control characters or surrounding spaces, which an HTTP header cannot carry`, 'use printable characters only, as `snap set <gadget> api-key=…` would')
  }

  return value
}

/**
 * The chain must let a device check the serial with nothing else: the brand's account, and the
 * account-key of the signing key, valid now.
 */
function checkChain(assertions: Assertion[], brand: string, key: SigningKey, now: Date, fail: (message: string, hint: string) => UserError): void {
  const fetch = `snap known --remote account account-id=${brand} > ${brand}.account; snap known --remote account-key public-key-sha3-384=${key.keyId} > serials.account-key`
  const shapeOf = <T>(view: () => T): T => {
    try {
      return view()
    } catch (error) {
      if (error instanceof UserError) throw fail(error.message, 'give the chain as snap known prints it')
      throw error
    }
  }

  const accounts = assertions.filter((a) => a.type === 'account').map((a) => shapeOf(() => accountView(a)))
  const accountKeys = assertions.filter((a) => a.type === 'account-key').map((a) => shapeOf(() => accountKeyView(a)))
  if (!accounts.some((a) => a.accountId === brand)) throw fail(`the chain has no account assertion for brand ${brand}`, fetch)

  const accountKey = accountKeys.find((a) => a.publicKeyId === key.keyId)
  if (!accountKey) {
    throw fail(
      `the chain has no account-key for the signing key (${key.keyId}): devices would reject every serial`,
      `register the key with the brand account (snapcraft register-key <name>, with snap seeing the key through SNAPD_EXT_KEYMGR=$(command -v snap-gadget-keymgr); or send what snap-gadget key account-key-request <key.pem> --account ${brand} prints) and add its account-key: ${fetch}`,
    )
  }

  if (accountKey.accountId !== brand) {
    throw fail(`the signing key is registered to account ${accountKey.accountId}, not to brand ${brand}: devices would reject every serial`, `sign ${brand}'s serials with a key registered to ${brand}`)
  }

  if (Date.parse(accountKey.since) > now.getTime()) throw fail(`the signing key's account-key is valid only from ${accountKey.since}`, 'use a key that is valid now')
  if (!accountKeyValidAt(accountKey, now)) {
    throw fail(
      `the signing key's account-key expired at ${accountKey.until}`,
      'make a new key (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096), register it (snap-gadget key account-key-request <key.pem> --account <brand>, or snapcraft register-key) and sign with it',
    )
  }
}

/**
 * The certificate and key, checked now rather than by the first device: each is PEM of its kind,
 * and the key is the certificate's.
 */
function loadTls(raw: {certificate: string; key: string}, baseDir: string, fail: Fail, warnings: string[]): NonNullable<ServiceConfig['tls']> {
  const certificatePath = resolve(baseDir, raw.certificate)
  const certificate = readBoundedFile(certificatePath, MAX_KEY_BYTES, {shown: certificatePath, what: 'PEM certificate'})
  const keyPath = resolve(baseDir, raw.key)
  const key = readBoundedFile(keyPath, MAX_KEY_BYTES, {shown: keyPath, what: 'PEM key'})
  exposedKeyWarning(keyPath, 'the TLS key', warnings)
  let parsed: X509Certificate
  try {
    if (!certificate.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) throw new Error('no "-----BEGIN CERTIFICATE-----" line')
    parsed = new X509Certificate(certificate)
  } catch (error) {
    throw fail(['tls', 'certificate'], `${raw.certificate} is not a PEM certificate: ${(error as Error).message}`, 'give the certificate chain as PEM (openssl x509 -in FILE -noout -text shows what a file holds)')
  }

  let privateKey
  try {
    privateKey = createPrivateKey(key)
  } catch (error) {
    throw fail(['tls', 'key'], `${raw.key} is not a PEM private key: ${(error as Error).message}`, 'give the unencrypted PEM private key of the certificate')
  }

  if (!parsed.checkPrivateKey(privateKey)) {
    throw fail(['tls', 'key'], `${raw.key} is not the key of the certificate ${raw.certificate}`, `give the private key the certificate was issued for (its subject: ${parsed.subject.replaceAll('\n', ', ')})`)
  }

  return {certificate, certificateFile: raw.certificate, key, keyFile: raw.key}
}

/** A private key others may read is a key others may copy: said once per file. */
function exposedKeyWarning(path: string, what: string, warnings: string[]): void {
  let mode: number
  try {
    mode = statSync(path).mode & 0o777
  } catch {
    return
  }

  if ((mode & 0o077) !== 0) {
    warnings.push(`${what} ${path} can be read by ${mode & 0o007 ? 'every user' : 'its group'} (mode ${mode.toString(8).padStart(4, '0')}): make it the serve user's alone with chmod 600 ${path}`)
  }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  if (isIP(host) === 6) return host === '::1'
  return false
}

function relocate(original: UserError, located: UserError): UserError {
  // The original message names the key file; the located one points at the config line.
  return new UserError(original.code, located.message, {cause: original, column: located.column, file: located.file, hint: located.hint, kind: original.kind, line: located.line})
}

function formatPath(path: DocumentPath): string {
  let text = ''
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text ? `.${part}` : part
  return text || '(top level)'
}
