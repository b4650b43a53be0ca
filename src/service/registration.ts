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

import {type Assertion, decodeAssertionPublicKey, modelView, parseAssertions, type SerialRequestView, serialRequestView, signAssertion, signAssertionAsync, verifyAssertionSignature} from '../assertions/index.js'
import {UserError} from '../errors.js'
import {readUntrustedYaml} from '../go-yaml/untrusted.js'
import {MAX_SERIAL_LENGTH, serialTextProblem} from '../serial/serial-text.js'
import {quoteInput} from '../support/echo.js'
import {ConcurrencyLimiter} from '../support/limiter.js'
import type {ServiceModel} from './config.js'
import {type RefusalCode, REFUSALS, ServiceRefusal} from './refusals.js'
import type {ServiceStore, SigningLogEntry} from './store/index.js'

export {ServiceRefusal} from './refusals.js'

/** Serial Vault nonces live 600 s and are used once. */
export const NONCE_LIFETIME_MS = 600_000
export const ASSERTION_MEDIA_TYPE = 'application/x.ubuntu.assertion'
/** A body parsed for its `serial:` is a few hardware facts; snapd allows 2 MiB, none needs more than this. */
const MAX_BODY_YAML_BYTES = 256 * 1024

export interface ServiceAnswer {
  status: number
  contentType: string
  body: string
  /** The refusal's code, for the event log. */
  code?: string
}

/**
 * What happened, for the operator's log: never a secret. `brand` and `model` are those of the
 * api-key the request carried (authenticated); what the request claimed before it was checked is
 * under `claimed`, and a serial is `serial` only once issued.
 */
export interface RegistrationEvent {
  brand?: string
  model?: string
  /** The serial issued. */
  serial?: string
  revision?: number
  /** The device key whose signature on the serial-request verified. */
  deviceKeyId?: string
  /** What the request said of itself, unverified: never to be read as fact. */
  claimed?: {brand?: string; model?: string; serial?: string}
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
  /** The longest serial issued, in characters (MAX_SERIAL_LENGTH by default). */
  maxSerialLength?: number
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

/** Headers as node:http gives them. */
export type RequestHeaders = Record<string, string | string[] | undefined>

export class DeviceService {
  private readonly now: () => Date
  private readonly apiKeyDigests: {digest: Buffer; model: ServiceModel}[]
  /** Undefined: signatures are made on the event loop. */
  private readonly signing: ConcurrencyLimiter | undefined
  private readonly maxSerialLength: number

  constructor(private readonly options: DeviceServiceOptions) {
    this.now = options.now ?? (() => new Date())
    const threads = options.signingThreads ?? defaultSigningThreads()
    this.signing = threads > 0 ? new ConcurrencyLimiter(threads) : undefined
    this.apiKeyDigests = options.models.map((model) => ({digest: digest(model.apiKey), model}))
    this.maxSerialLength = options.maxSerialLength ?? MAX_SERIAL_LENGTH
  }

  /**
   * The model whose api-key the request's headers carry: the only thing checked before a body is
   * read. Every key is compared, so the time taken does not tell which one matched, and a caller
   * without a valid key learns nothing about which models are served.
   */
  authenticate(headers: RequestHeaders): ServiceModel {
    const apiKey = singleHeader(headers, 'api-key')
    if (apiKey === undefined) throw new ServiceRefusal('api-key-missing')
    const given = digest(apiKey)
    let found: ServiceModel | undefined
    for (const candidate of this.apiKeyDigests) if (timingSafeEqual(given, candidate.digest) && !found) found = candidate.model
    if (!found) throw new ServiceRefusal('api-key-invalid')
    return found
  }

  /** `POST /v1/request-id`: a fresh nonce for a device of the model whose api-key it holds. */
  async requestId(entry: ServiceModel, event: RegistrationEvent): Promise<ServiceAnswer> {
    event.brand = entry.brand
    event.model = entry.model
    const nonce = randomBytes(20).toString('hex')
    await this.options.store.addNonce(nonce, scopeOf(entry), this.now())
    return json(200, {'request-id': nonce})
  }

  /** `POST /v1/serial`: checks a serial-request and answers with a signed serial and the chain. */
  async serial(entry: ServiceModel, body: Buffer, event: RegistrationEvent): Promise<ServiceAnswer> {
    event.brand = entry.brand
    event.model = entry.model
    const [requestAssertion, modelAssertion] = readStream(body)
    const request = refuseOnUserError(() => serialRequestView(requestAssertion, 'the request body'), 'stream-invalid')
    const {brandId: brand, model: modelName} = request
    event.claimed = {brand, model: modelName}

    // 1. The serial-request is for the model whose api-key the device holds. Said the same way
    //    whether that other model is served or not.
    if (brand !== entry.brand || modelName !== entry.model) {
      throw new ServiceRefusal('api-key-invalid', `the api-key is not the one of model ${quoteInput(`${brand}/${modelName}`)} that the serial-request names`)
    }

    // 2. The serial-request is signed by the device key it carries.
    const deviceKeyText = request.deviceKey
    const deviceKey = refuseOnUserError(() => decodeAssertionPublicKey(deviceKeyText, 'the device-key header'), 'device-key-invalid')
    const selfSigned = verifyAssertionSignature(requestAssertion, deviceKey)
    if (!selfSigned.valid) throw new ServiceRefusal('serial-request-signature', `the serial-request is not signed by its device-key: ${selfSigned.reason}`)
    event.deviceKeyId = deviceKey.id

    // 3. The model, when sent, is the request's and (when the brand key is known) the brand's.
    if (modelAssertion) {
      const model = refuseOnUserError(() => modelView(modelAssertion, 'the request body'), 'stream-invalid')
      if (model.brandId !== brand || model.model !== modelName) {
        throw new ServiceRefusal('model-mismatch', `the model assertion is ${quoteInput(`${model.brandId}/${model.model}`)}, but the serial-request is for ${brand}/${modelName}`)
      }

      if (model.authorityId !== brand) throw new ServiceRefusal('model-authority', `the model is signed by ${quoteInput(model.authorityId)}, not by its brand ${brand}`)
      const brandKey = entry.brandKeys.get(model.signKeyId)
      if (brandKey) {
        const check = verifyAssertionSignature(modelAssertion, brandKey)
        if (!check.valid) throw new ServiceRefusal('model-signature', `the model assertion's signature does not verify against brand key ${model.signKeyId}: ${check.reason}`)
      } else {
        event.note = `model signed by key ${quoteInput(model.signKeyId)}, which the config's chain does not hold: its signature was not checked`
      }
    }

    // 4. The nonce: known, fresh, this model's, consumed exactly once.
    const nonceCheck = await this.options.store.consumeNonce(request.requestId, scopeOf(entry), this.now(), NONCE_LIFETIME_MS)
    if (nonceCheck === 'unknown') throw new ServiceRefusal('request-id-unknown')
    if (nonceCheck === 'expired') throw new ServiceRefusal('request-id-expired', `the request-id is older than ${NONCE_LIFETIME_MS / 1000} s`)
    if (nonceCheck === 'wrong-model') throw new ServiceRefusal('request-id-model', `the request-id was issued for another model's api-key, not ${brand}/${modelName}`)

    // 5. The serial the device proposes: the header, else `serial:` in a YAML body.
    const serial = this.proposedSerial(request, event)

    const outcome = await this.options.store.issueSerial({brand, deviceKeyId: deviceKey.id, model: modelName, now: this.now(), serial}, (revision) =>
      this.signSerial(entry, {body: request.body, deviceKeyId: deviceKey.id, deviceKeyText, revision, serial}),
    )
    if (outcome.kind === 'serial-taken') throw new ServiceRefusal('serial-taken', `serial ${serial} of ${brand}/${modelName} was issued to another device key`)
    if (outcome.kind === 'key-has-serial') throw new ServiceRefusal('device-has-serial', `this device key already has serial ${outcome.serial} of ${brand}/${modelName}; it cannot get a second one (${serial})`)
    event.serial = serial
    event.revision = outcome.entry.revision
    return {body: outcome.assertion + entry.chain.map((a) => `\n${a}`).join(''), contentType: ASSERTION_MEDIA_TYPE, status: 200}
  }

  /** `GET /v1/version`. */
  version(): ServiceAnswer {
    return json(200, {service: 'snap-gadget serve', version: this.options.version})
  }

  /**
   * The serial the request proposes: its `serial` header, else `serial:` in its body read as YAML
   * the way a Go device service reads it, within limits (a body is the device's to fill).
   */
  private proposedSerial(request: SerialRequestView, event: RegistrationEvent): string {
    let serial = request.serial
    if (serial === undefined && request.body !== '') {
      const read = readUntrustedYaml(request.body, {maxBytes: MAX_BODY_YAML_BYTES, schema: 'yaml-1.1'})
      if (!read.ok) throw new ServiceRefusal('body-invalid', `the serial-request body cannot be read as YAML${read.line === undefined ? '' : ` (line ${read.line})`}: ${read.message}`)
      const body = read.value
      const value = body !== null && typeof body === 'object' && !Array.isArray(body) ? body.serial : undefined
      if (value !== undefined && typeof value !== 'string') {
        throw new ServiceRefusal('serial-invalid', `serial: in the body must be a string, not ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}: quote it ("…")`)
      }

      serial = value
    }

    if (serial === undefined || serial === '') throw new ServiceRefusal('serial-missing')
    event.claimed = {...event.claimed, serial}
    const problem = serialTextProblem(serial, this.maxSerialLength)
    if (problem) throw new ServiceRefusal('serial-invalid', `serial ${quoteInput(serial)} cannot be a serial: ${problem}`)
    return serial
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

/** The answer for a code of the table without a request of its own to speak of. */
export function tableAnswer(code: RefusalCode): ServiceAnswer {
  const spec = REFUSALS[code]
  return json(spec.status, {code, message: `${spec.means}: ${spec.fix}`})
}

function readStream(body: Buffer): [Assertion, Assertion | undefined] {
  if (body.length === 0) throw new ServiceRefusal('stream-empty')
  const assertions = refuseOnUserError(() => parseAssertions(body, {file: 'the request body'}), 'stream-invalid')
  const [request, ...rest] = assertions
  if (request.type !== 'serial-request') throw new ServiceRefusal('stream-order', `the stream starts with a ${request.type} assertion`)
  const models = rest.filter((a) => a.type === 'model')
  const others = rest.filter((a) => a.type !== 'model')
  if (others.length > 0) throw new ServiceRefusal('stream-unexpected', `the stream holds a ${others[0].type} assertion`)
  if (models.length > 1) throw new ServiceRefusal('stream-unexpected', 'the stream holds more than one model assertion')
  return [request, models[0]]
}

function refuseOnUserError<T>(run: () => T, code: RefusalCode): T {
  try {
    return run()
  } catch (error) {
    throw refusalFor(error, code)
  }
}

/** A user mistake in what the device sent is a refusal with `code`; anything else stays what it is. */
function refusalFor(error: unknown, code: RefusalCode): unknown {
  return error instanceof UserError ? new ServiceRefusal(code, error.located) : error
}

function singleHeader(headers: RequestHeaders, name: string): string | undefined {
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
