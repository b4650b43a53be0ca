/**
 * The device side of the service: what snapd's DeviceManager sends and what it must get back
 * (registration-protocol.md §2, device-service.md §1–3). Transport-free: the HTTP layer hands in
 * headers and bytes and writes out the {@link ServiceAnswer}.
 *
 * snapd treats every 4xx and 500 as final for the attempt (the device waits for its back-off,
 * 5 minutes and more) and retries > 500 after a minute. So a refusal is a 4xx only when the device
 * cannot fix it by asking again; anything the database might answer differently a moment later
 * is a 503. Messages reach the device's `snap changes` only as `application/json` with `message`.
 */
import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import {availableParallelism} from 'node:os'

import {parse as parseYaml} from 'yaml'

import {type Assertion, decodeAssertionPublicKey, headerText, parseAssertions, signAssertion, signAssertionAsync, verifyAssertionSignature} from '../assertions/index.js'
import {UserError} from '../errors.js'
import {ConcurrencyLimiter} from '../support/limiter.js'
import type {ServiceModel} from './config.js'
import type {ServiceStore, SigningLogEntry} from './store/index.js'

/** Serial Vault nonces live 600 s and are used once. */
export const NONCE_LIFETIME_MS = 600_000
export const ASSERTION_MEDIA_TYPE = 'application/x.ubuntu.assertion'

export interface ServiceAnswer {
  status: number
  contentType: string
  body: string
  /** The refusal's code, for the event log. */
  code?: string
}

/** What happened, for the operator's log: never a secret. */
export interface RegistrationEvent {
  brand?: string
  model?: string
  serial?: string
  revision?: number
  deviceKeyId?: string
  /** Why the model's own signature was not checked. */
  note?: string
}

export interface DeviceServiceOptions {
  models: readonly ServiceModel[]
  store: ServiceStore
  now?: () => Date
  version: string
  /**
   * Signatures made at once on libuv's thread pool; 0 signs on the event loop. By default one per
   * core, leaving a thread of the pool free, and 0 on one core (see defaultSigningThreads).
   */
  signingThreads?: number
}

/**
 * With more than one core, signatures run on libuv's thread pool, one per core at most: the event
 * loop answers request-ids and health checks while a 4096-bit signature (about 4 ms) is made, and
 * the service uses every core. Never every thread of the pool (UV_THREADPOOL_SIZE, 4 by default):
 * the WAL's fsync and the database driver's name lookups run there too. On one core the hop to a
 * thread buys nothing and costs time, so the event loop signs. bench/serve.bench.mjs, share of the
 * one-core limit: on the event loop 67 % as it runs (two cores, shared with the devices) and 68 %
 * confined to one core; on the pool 76–79 % as it runs, and 61–64 % confined to one core.
 */
export function defaultSigningThreads(): number {
  const cores = availableParallelism()
  if (cores === 1) return 0
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4
  return Math.max(1, Math.min(cores, pool - 1))
}

/** A refusal the device is told about: status, stable code, what to fix. */
export class ServiceRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export class DeviceService {
  private readonly now: () => Date
  private readonly apiKeyDigests: {digest: Buffer; model: ServiceModel}[]
  /** Undefined: signatures are made on the event loop. */
  private readonly signing: ConcurrencyLimiter | undefined

  constructor(private readonly options: DeviceServiceOptions) {
    this.now = options.now ?? (() => new Date())
    const threads = options.signingThreads ?? defaultSigningThreads()
    this.signing = threads > 0 ? new ConcurrencyLimiter(threads) : undefined
    this.apiKeyDigests = options.models.map((model) => ({digest: digest(model.apiKey), model}))
  }

  /** `POST /v1/request-id`: a fresh nonce for a device that holds a known api-key. */
  async requestId(headers: Record<string, string | string[] | undefined>, event: RegistrationEvent): Promise<ServiceAnswer> {
    const model = this.modelByApiKey(headers)
    event.brand = model.brand
    event.model = model.model
    const nonce = randomBytes(20).toString('hex')
    await this.options.store.addNonce(nonce, scopeOf(model), this.now())
    return json(200, {'request-id': nonce})
  }

  /** `POST /v1/serial`: checks a serial-request and answers with a signed serial and the chain. */
  async serial(headers: Record<string, string | string[] | undefined>, body: Buffer, event: RegistrationEvent): Promise<ServiceAnswer> {
    const apiKey = singleHeader(headers, 'api-key')
    if (apiKey === undefined) throw new ServiceRefusal(401, 'api-key-missing', 'the request has no api-key header: set device-service.headers to {"api-key": "…"} in the gadget (snap set <gadget> api-key=…)')
    const [request, model] = readStream(body)
    const brand = requiredHeader(request, 'brand-id')
    const modelName = requiredHeader(request, 'model')
    event.brand = brand
    event.model = modelName

    // 1. The api-key must be the one of this brand and model.
    const entry = this.options.models.find((m) => m.brand === brand && m.model === modelName)
    if (!entry) throw new ServiceRefusal(400, 'unknown-model', `this service issues no serials for model ${brand}/${modelName}: add it to the serve config`)
    if (!timingSafeEqual(digest(apiKey), digest(entry.apiKey))) {
      throw new ServiceRefusal(401, 'api-key-invalid', `the api-key is not the one configured for model ${brand}/${modelName}: check the gadget's api-key setting`)
    }

    // 2. The serial-request is signed by the device key it carries.
    const deviceKeyText = requiredHeader(request, 'device-key')
    const deviceKey = refuseOnUserError(() => decodeAssertionPublicKey(deviceKeyText, 'the device-key header'), 'device-key-invalid')
    event.deviceKeyId = deviceKey.id
    const selfSigned = verifyAssertionSignature(request, deviceKey)
    if (!selfSigned.valid) throw new ServiceRefusal(400, 'serial-request-signature', `the serial-request is not signed by its device-key: ${selfSigned.reason}`)

    // 3. The model, when sent, is the request's and (when the brand key is known) the brand's.
    if (model) {
      if (model.headers['brand-id'] !== brand || model.headers.model !== modelName) {
        throw new ServiceRefusal(400, 'model-mismatch', `the model assertion is ${String(model.headers['brand-id'])}/${String(model.headers.model)}, but the serial-request is for ${brand}/${modelName}`)
      }

      if (model.headers['authority-id'] !== brand) throw new ServiceRefusal(400, 'model-authority', `the model is signed by ${String(model.headers['authority-id'])}, not by its brand ${brand}`)
      const keyId = String(model.headers['sign-key-sha3-384'])
      const brandKey = entry.brandKeys.get(keyId)
      if (brandKey) {
        const check = verifyAssertionSignature(model, brandKey)
        if (!check.valid) throw new ServiceRefusal(400, 'model-signature', `the model assertion's signature does not verify against brand key ${keyId}: ${check.reason}`)
      } else {
        event.note = `model signed by key ${keyId}, which the config's chain does not hold: its signature was not checked`
      }
    }

    // 4. The nonce: known, fresh, this model's, consumed exactly once.
    const nonce = requiredHeader(request, 'request-id')
    const nonceCheck = await this.options.store.consumeNonce(nonce, scopeOf(entry), this.now(), NONCE_LIFETIME_MS)
    if (nonceCheck === 'unknown') throw new ServiceRefusal(400, 'request-id-unknown', 'the request-id is unknown or was already used: each serial-request needs a fresh one from request-id')
    if (nonceCheck === 'expired') throw new ServiceRefusal(400, 'request-id-expired', `the request-id is older than ${NONCE_LIFETIME_MS / 1000} s: ask for a fresh one`)
    if (nonceCheck === 'wrong-model') throw new ServiceRefusal(400, 'request-id-model', `the request-id was issued for another model's api-key, not ${brand}/${modelName}`)

    // 5. The serial the device proposes: the header, else `serial:` in a YAML body.
    const serial = proposedSerial(request)
    event.serial = serial

    const outcome = await this.options.store.issueSerial({brand, deviceKeyId: deviceKey.id, model: modelName, now: this.now(), serial}, (revision) =>
      this.signSerial(entry, {body: request.body, deviceKeyId: deviceKey.id, deviceKeyText, revision, serial}),
    )
    if (outcome.kind === 'serial-taken') throw new ServiceRefusal(400, 'serial-taken', `serial ${serial} of ${brand}/${modelName} was issued to another device key: each device needs its own serial`)
    if (outcome.kind === 'key-has-serial') throw new ServiceRefusal(400, 'device-has-serial', `this device key already has serial ${outcome.serial} of ${brand}/${modelName}; it cannot get a second one (${serial})`)
    event.revision = outcome.entry.revision
    return {body: outcome.assertion + entry.chain.map((a) => `\n${a}`).join(''), contentType: ASSERTION_MEDIA_TYPE, status: 200}
  }

  /** `GET /v1/version`. */
  version(): ServiceAnswer {
    return json(200, {service: 'snap-gadget serve', version: this.options.version})
  }

  /** `GET /v1/health`: healthy when the database answers. */
  async health(): Promise<ServiceAnswer> {
    try {
      await this.options.store.ping()
      return json(200, {database: 'healthy', healthy: true})
    } catch {
      return json(503, {code: 'database-unavailable', database: 'unavailable', healthy: false, message: 'the database does not answer'})
    }
  }

  private modelByApiKey(headers: Record<string, string | string[] | undefined>): ServiceModel {
    const apiKey = singleHeader(headers, 'api-key')
    if (apiKey === undefined) throw new ServiceRefusal(401, 'api-key-missing', 'the request has no api-key header: set device-service.headers to {"api-key": "…"} in the gadget (snap set <gadget> api-key=…)')
    const given = digest(apiKey)
    // Compare with every key, so the time taken does not tell which position matched.
    let found: ServiceModel | undefined
    for (const candidate of this.apiKeyDigests) if (timingSafeEqual(given, candidate.digest) && !found) found = candidate.model
    if (!found) throw new ServiceRefusal(401, 'api-key-invalid', "the api-key is not one this service knows: check the gadget's api-key setting")
    return found
  }

  private async signSerial(entry: ServiceModel, s: {body: string; deviceKeyId: string; deviceKeyText: string; revision: number; serial: string}): Promise<string> {
    const headers: Record<string, string> = {
      'authority-id': entry.brand,
      'brand-id': entry.brand,
      'device-key': s.deviceKeyText,
      'device-key-sha3-384': s.deviceKeyId,
      model: entry.model,
      serial: s.serial,
      timestamp: rfc3339(this.now()),
    }
    if (s.revision > 0) headers.revision = String(s.revision)
    // What the device sent that snapd's signer would refuse is the device's to fix.
    try {
      const input = {body: s.body, headers, type: 'serial'}
      return (this.signing ? await this.signing.run(() => signAssertionAsync(input, entry.signingKey)) : signAssertion(input, entry.signingKey)).text
    } catch (error) {
      throw refusalFor(error, 'serial-unsignable')
    }
  }
}

/** One signing-log entry as the operator reads it. */
export function describeEntry(entry: SigningLogEntry): string {
  return `${entry.signed}  ${entry.brand}/${entry.model}  ${entry.serial}  revision ${entry.revision}  device key ${entry.deviceKeyId}`
}

export function json(status: number, value: unknown): ServiceAnswer {
  const code = typeof (value as {code?: unknown}).code === 'string' ? (value as {code: string}).code : undefined
  // Exactly application/json: snapd shows the message only for that media type.
  return {body: JSON.stringify(value), code, contentType: 'application/json', status}
}

export function refusalAnswer(refusal: ServiceRefusal): ServiceAnswer {
  return json(refusal.status, {code: refusal.code, message: refusal.message})
}

function readStream(body: Buffer): [Assertion, Assertion | undefined] {
  if (body.length === 0) throw new ServiceRefusal(400, 'stream-empty', 'the request body is empty: post the serial-request followed by the model assertion')
  const assertions = refuseOnUserError(() => parseAssertions(body, {file: 'the request body'}), 'stream-invalid')
  const [request, ...rest] = assertions
  if (request.type !== 'serial-request') throw new ServiceRefusal(400, 'stream-order', `the stream starts with a ${request.type} assertion; it must start with the serial-request`)
  const models = rest.filter((a) => a.type === 'model')
  const others = rest.filter((a) => a.type !== 'model')
  if (others.length > 0) throw new ServiceRefusal(400, 'stream-unexpected', `the stream holds a ${others[0].type} assertion; only the serial-request and the model belong in it`)
  if (models.length > 1) throw new ServiceRefusal(400, 'stream-unexpected', 'the stream holds more than one model assertion')
  return [request, models[0]]
}

function proposedSerial(request: Assertion): string {
  let serial = headerText(request, 'serial')
  if (serial === undefined && request.body !== '') {
    let body: unknown
    try {
      body = parseYaml(request.body, {maxAliasCount: 10, uniqueKeys: true})
    } catch (error) {
      throw new ServiceRefusal(400, 'body-invalid', `the serial-request body is not valid YAML: ${(error as Error).message.split('\n')[0]}`)
    }

    const value = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).serial : undefined
    if (value !== undefined && typeof value !== 'string') throw new ServiceRefusal(400, 'serial-invalid', `serial: in the body must be a string, not ${typeof value}: quote it ("${String(value)}")`)
    serial = value
  }

  if (serial === undefined || serial === '') {
    throw new ServiceRefusal(400, 'serial-missing', 'the serial-request proposes no serial: the gadget must set registration.proposed-serial (or serial: in registration.body)')
  }

  if (serial.includes('/')) throw new ServiceRefusal(400, 'serial-invalid', `serial "${printable(serial)}" contains "/", which snapd refuses in a serial`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001F\u007F]/.test(serial) || serial.trim() !== serial) {
    throw new ServiceRefusal(400, 'serial-invalid', `serial "${printable(serial)}" has control characters or surrounding spaces`)
  }

  return serial
}

function requiredHeader(assertion: Assertion, name: string): string {
  const value = refuseOnUserError(() => headerText(assertion, name), 'stream-invalid')
  if (value === undefined || value === '') throw new ServiceRefusal(400, 'stream-invalid', `the ${assertion.type} assertion has no ${name} header`)
  return value
}

function refuseOnUserError<T>(run: () => T, code: string): T {
  try {
    return run()
  } catch (error) {
    throw refusalFor(error, code)
  }
}

/** A user mistake in what the device sent is a 400 with `code`; anything else stays what it is. */
function refusalFor(error: unknown, code: string): unknown {
  return error instanceof UserError ? new ServiceRefusal(400, code, error.located) : error
}

function singleHeader(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function scopeOf(model: ServiceModel): string {
  return `${model.brand}/${model.model}`
}

/** Fixed-length digests: timingSafeEqual needs equal lengths, and the length would leak too. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)
    .slice(1, -1)
    .replaceAll(/[\u0080-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g, '?')
}
