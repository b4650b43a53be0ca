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

export interface ServiceModel {
  brand: string
  model: string
  /** The api-key its devices send. A secret: never in a message, a log line or an answer. */
  apiKey: string
  /** Where the api-key came from, for messages: `literal` or the variable's name. */
  apiKeyFrom: string
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
}

export const DEFAULT_LIMITS: ServiceLimits = {
  bodyBytes: 64 * 1024 * 1024,
  bodyBytesPerClient: 16 * 1024 * 1024,
  connections: 1024,
  connectionsPerClient: 256,
  serialLength: MAX_SERIAL_LENGTH,
}

export interface ServiceConfig {
  file: string
  listen: {host: string; port: number}
  database: DatabaseLocation
  tls?: {certificate: Buffer; key: Buffer; certificateFile: string; keyFile: string}
  models: ServiceModel[]
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
  for (const [index, raw] of data.models.entries()) {
    const at = (key: string): DocumentPath => ['models', index, key]
    const name = `${raw.brand}/${raw.model}`
    const earlier = byName.get(name)
    if (earlier !== undefined) throw fail(at('model'), `model ${name} is configured twice (also models[${earlier}])`, 'keep one entry per brand and model')
    byName.set(name, index)

    const {apiKey, apiKeyFrom} = resolveApiKey(raw['api-key'], env, () => at('api-key'), fail)
    if (apiKeyFrom === 'literal') {
      warnings.push(`models[${index}] (${name}) has its api-key written in ${file}: whoever reads the file can register devices as ${name}; use api-key: {env: NAME} and set NAME where serve starts`)
    }

    const sharedWith = byApiKey.get(apiKey)
    if (sharedWith !== undefined) {
      throw fail(at('api-key'), `the api-key is the same as that of models[${sharedWith}]`, 'give each model its own api-key: it is how the service tells which model a device claims to be')
    }

    byApiKey.set(apiKey, index)

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
      const path = resolve(baseDir, chainFile)
      const bytes = readBoundedFile(path, MAX_CHAIN_FILE_BYTES, {shown: path, what: 'assertion'})
      let assertions: Assertion[]
      try {
        assertions = parseAssertions(bytes, {file: chainFile})
      } catch (error) {
        if (error instanceof UserError) throw relocate(error, fail(['models', index, 'chain', n], `${chainFile}: ${error.message}`, error.hint ?? 'give assertion files as `snap known` prints them'))
        throw error
      }

      for (const assertion of assertions) {
        if (assertion.type !== 'account' && assertion.type !== 'account-key') {
          throw fail(
            ['models', index, 'chain', n],
            `${chainFile} holds a ${assertion.type} assertion; the chain returns the brand's account and account-key`,
            `get them with: snap known --remote account account-id=${raw.brand}; snap known --remote account-key public-key-sha3-384=${signingKey.keyId}`,
          )
        }

        chainAssertions.push(assertion)
      }

      chain.push(bytes.toString('utf8').replace(/\n*$/, '\n'))
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

    models.push({apiKey, apiKeyFrom, brand: raw.brand, brandKeys, chain, model: raw.model, signingKey})
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
  if (limits.connectionsPerClient > limits.connections) {
    throw fail(['limits', 'connections-per-client'], `is ${limits.connectionsPerClient}, more than limits.connections (${limits.connections})`, 'one client cannot hold more connections than all clients together')
  }

  if (limits.bodyBytesPerClient > limits.bodyBytes) {
    throw fail(['limits', 'body-bytes-per-client'], `is ${limits.bodyBytesPerClient}, more than limits.body-bytes (${limits.bodyBytes})`, 'one client cannot hold more body bytes than all clients together')
  }

  return {database, file, limits, listen, models, tls, warnings: [...new Set(warnings)]}
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
export function parseDatabase(text: string, baseDir: string, fail: (message: string, hint: string) => UserError): DatabaseLocation {
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

export function parseListen(text: string, fail: (message: string, hint: string) => UserError): {host: string; port: number} {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text)
  const port = match ? Number(match[3]) : Number.NaN
  if (!match || port > 65_535) throw fail(`"${text}" is not HOST:PORT`, `e.g. ${DEFAULT_LISTEN}, [::1]:8642, or 0.0.0.0:8642 to serve a factory network (port 0 picks a free port)`)
  return {host: match[1] ?? match[2], port}
}

interface RawModel {
  brand: string
  model: string
  'api-key': string | {env: string}
  'signing-key': string
  chain?: string[]
}

interface RawConfig {
  listen?: string
  database?: string
  tls?: {certificate: string; key: string}
  limits?: {connections?: number; 'connections-per-client'?: number; 'body-bytes'?: number; 'body-bytes-per-client'?: number; 'serial-length'?: number}
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
  const top = {$schema: 1, database: 1, limits: 1, listen: 1, models: 1, tls: 1}
  if (path.length === 0) return top
  if (path[0] === 'tls') return {certificate: 1, key: 1}
  if (path[0] === 'limits') return {'body-bytes': 1, 'body-bytes-per-client': 1, connections: 1, 'connections-per-client': 1, 'serial-length': 1}
  if (path[0] === 'models') return {'api-key': 1, brand: 1, chain: 1, model: 1, 'signing-key': 1}
  return {}
}

const REQUIRED_MODEL_KEYS = ['brand', 'model', 'api-key', 'signing-key']
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

function resolveApiKey(spec: RawModel['api-key'], env: NodeJS.ProcessEnv, at: () => DocumentPath, fail: Fail): {apiKey: string; apiKeyFrom: string} {
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
