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

import {
  type Assertion,
  type AssertionPublicKey,
  decodeAssertionPublicKey,
  modelView,
  parseAssertions,
  type SerialRequestView,
  serialRequestView,
  signAssertion,
  signAssertionAsync,
  verifyAssertionSignature,
} from '../assertions/index.js'
import {UserError} from '../errors.js'
import {readUntrustedYaml} from '../go-yaml/untrusted.js'
import {MAX_SERIAL_LENGTH, serialTextProblem} from '../serial/serial-text.js'
import {quoteInput} from '../support/echo.js'
import {ConcurrencyLimiter} from '../support/limiter.js'
import type {ServiceModel} from './config.js'
import {BlockedDevice, IssuePolicy, looksLikeHardwareProof} from './policy.js'
import {type RefusalCode, REFUSALS, ServiceRefusal} from './refusals.js'
import {checkOriginalSerial, knownSerialKeys, originalSerialOf, takesRemodelFrom} from './remodel.js'
import type {HardwareIdentityKey, OriginalSerial, ServiceStore, SigningLogEntry} from './store/index.js'
import {rfc3339} from '../support/rfc3339.js'

export {ServiceRefusal} from './refusals.js'

/** Serial Vault nonces live 600 s and are used once. */
export const NONCE_LIFETIME_MS = 600_000
export const ASSERTION_MEDIA_TYPE = 'application/x.ubuntu.assertion'
/** A body parsed for its `serial:` is a few hardware facts; snapd allows 2 MiB, none needs more than this. */
const MAX_BODY_YAML_BYTES = 256 * 1024
/** Model assertions remembered as verified: a service serves a handful of models, each of a few revisions. */
const MAX_VERIFIED_MODELS = 64
/** The scope of request-ids given without an api-key: not a brand/model, so never one's. */
const HARDWARE_SCOPE = 'hardware-identity'

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
  /** The hardware id whose key signed the request-id (hardware-identity onboarding), once verified. */
  hardwareId?: string
  /** The account that issued that hardware identity. */
  hardwareIssuer?: string
  /** On a re-registration (remodel), the serial the device held before, once its original serial checked. */
  remodelledFrom?: OriginalSerial
  /** The operator's reason for the block that refused the request (serve block): for the log, never the device. */
  blockReason?: string
}

interface DeviceServiceOptions {
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
  /** Request-ids given without an api-key within a nonce's lifetime: all together, and per client address. */
  anonymousRequestIds?: {total: number; perClient: number}
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
type RequestHeaders = Record<string, string | string[] | undefined>

export class DeviceService {
  private readonly now: () => Date
  private readonly apiKeyDigests: {digest: Buffer; model: ServiceModel}[]
  /** Undefined: signatures are made on the event loop. */
  private readonly signing: ConcurrencyLimiter | undefined
  /** Model assertions whose brand signature verified, oldest first (see checkModelSignature). */
  private readonly verifiedModels = new Set<string>()
  private readonly maxSerialLength: number
  /** Models a device may register without an api-key, by its hardware identity: by brand/model. */
  private readonly anonymous: Map<string, ServiceModel>
  private readonly anonymousRequestIds: WindowCounter
  /** Every model served, by brand/model: a re-registration names its new model, whatever api-key it carries. */
  private readonly byName: Map<string, ServiceModel>
  /** The keys whose serials a remodelled device may present as its original one. */
  private readonly serialKeys: ReturnType<typeof knownSerialKeys>
  private readonly policy: IssuePolicy

  constructor(private readonly options: DeviceServiceOptions) {
    this.now = options.now ?? (() => new Date())
    this.policy = new IssuePolicy(options.store)
    const threads = options.signingThreads ?? defaultSigningThreads()
    this.signing = threads > 0 ? new ConcurrencyLimiter(threads) : undefined
    this.apiKeyDigests = options.models.flatMap((model) => (model.apiKey === undefined ? [] : [{digest: digest(model.apiKey), model}]))
    this.maxSerialLength = options.maxSerialLength ?? MAX_SERIAL_LENGTH
    // Either onboarding is enough when the model takes both; hardware alone needs no api-key unless one is configured.
    this.anonymous = new Map(options.models.filter((m) => m.onboarding.hardwareIdentity && (m.apiKey === undefined || m.onboarding.apiKey)).map((m) => [scopeOf(m), m]))
    this.byName = new Map(options.models.map((m) => [scopeOf(m), m]))
    this.serialKeys = knownSerialKeys(options.models)
    const limits = options.anonymousRequestIds ?? {perClient: 20_000, total: 200_000}
    this.anonymousRequestIds = new WindowCounter(NONCE_LIFETIME_MS, limits.total, limits.perClient)
  }

  /**
   * The model whose api-key the request's headers carry: the only thing checked before a body is
   * read. Every key is compared, so the time taken does not tell which one matched, and a caller
   * without a valid key learns nothing about which models are served. Undefined: the request has
   * no api-key, and some model registers devices by their hardware identity alone; the body will
   * have to prove it.
   */
  authenticate(headers: RequestHeaders): ServiceModel | undefined {
    const apiKey = singleHeader(headers, 'api-key')
    if (apiKey === undefined) {
      if (this.anonymous.size > 0) return undefined
      throw new ServiceRefusal('api-key-missing')
    }

    const given = digest(apiKey)
    let found: ServiceModel | undefined
    for (const candidate of this.apiKeyDigests) if (timingSafeEqual(given, candidate.digest) && !found) found = candidate.model
    if (!found) throw new ServiceRefusal('api-key-invalid')
    return found
  }

  /**
   * `POST /v1/request-id`: a fresh nonce for a device of the model whose api-key it holds, or,
   * without an api-key, for a device that will sign it with its hardware identity key: those are
   * bounded in number (each is a row until it expires), all together and per client address.
   */
  async requestId(entry: ServiceModel | undefined, event: RegistrationEvent, client?: string): Promise<ServiceAnswer> {
    if (entry) {
      event.brand = entry.brand
      event.model = entry.model
    } else if (!this.anonymousRequestIds.take(client ?? '', this.now().getTime())) {
      throw new ServiceRefusal(
        'request-id-busy',
        `the service gave as many request-ids without an api-key in the last ${NONCE_LIFETIME_MS / 1000} s as its limits allow${client === undefined ? '' : ', all clients together or to this address'}`,
      )
    }

    const nonce = randomBytes(20).toString('hex')
    await this.options.store.addNonce(nonce, entry ? scopeOf(entry) : HARDWARE_SCOPE, this.now())
    return json(200, {'request-id': nonce})
  }

  /**
   * `POST /v1/serial`: checks a serial-request and answers with a signed serial and the chain.
   * `entry` is the model of the api-key the request carried; undefined when it carried none.
   */
  async serial(entry: ServiceModel | undefined, body: Buffer, event: RegistrationEvent): Promise<ServiceAnswer> {
    if (entry) {
      event.brand = entry.brand
      event.model = entry.model
    }

    const [requestAssertion, modelAssertion, originalAssertion] = readStream(body)
    const request = refuseOnUserError(() => serialRequestView(requestAssertion, 'the request body'), 'stream-invalid')
    const {brandId: brand, model: modelName} = request
    event.claimed = {brand, model: modelName}
    const original = originalSerialOf(requestAssertion)
    if (originalAssertion && !original) throw new ServiceRefusal('stream-unexpected', 'the stream holds a serial assertion, and the serial-request has no original-* headers')

    // 1. The serial-request is for the model whose api-key the device holds. Said the same way
    //    whether that other model is served or not. Without an api-key, for a model whose devices
    //    register by hardware identity alone. On a re-registration the api-key is the original
    //    gadget's (snapd keeps the old gadget's settings), and the new model must take the old.
    const model = original ? this.remodelTarget(entry, brand, modelName, original) : (entry ?? this.anonymous.get(`${brand}/${modelName}`))
    if (!original && entry && (brand !== entry.brand || modelName !== entry.model)) {
      throw new ServiceRefusal('api-key-invalid', `the api-key is not the one of model ${quoteInput(`${brand}/${modelName}`)} that the serial-request names`)
    }

    if (!model) throw new ServiceRefusal('api-key-missing', `the request has no api-key, and ${quoteInput(`${brand}/${modelName}`)} is not a model this service registers by hardware identity alone`)

    // 2. The serial-request is signed by the device key it carries.
    const deviceKeyText = request.deviceKey
    const deviceKey = refuseOnUserError(() => decodeAssertionPublicKey(deviceKeyText, 'the device-key header'), 'device-key-invalid')
    const selfSigned = verifyAssertionSignature(requestAssertion, deviceKey)
    if (!selfSigned.valid) throw new ServiceRefusal('serial-request-signature', `the serial-request is not signed by its device-key: ${selfSigned.reason}`)
    event.deviceKeyId = deviceKey.id

    // 3. The model, when sent, is the request's and (when the brand key is known) the brand's.
    if (modelAssertion) {
      const sent = refuseOnUserError(() => modelView(modelAssertion, 'the request body'), 'stream-invalid')
      if (sent.brandId !== brand || sent.model !== modelName) {
        throw new ServiceRefusal('model-mismatch', `the model assertion is ${quoteInput(`${sent.brandId}/${sent.model}`)}, but the serial-request is for ${brand}/${modelName}`)
      }

      if (sent.authorityId !== brand) throw new ServiceRefusal('model-authority', `the model is signed by ${quoteInput(sent.authorityId)}, not by its brand ${brand}`)
      const brandKey = model.brandKeys.get(sent.signKeyId)
      if (brandKey) {
        this.checkModelSignature(modelAssertion, brandKey, sent.signKeyId)
      } else {
        event.note = `model signed by key ${quoteInput(sent.signKeyId)}, which the config's chain does not hold: its signature was not checked`
      }
    }

    // 3b. On a re-registration: the new model and the original serial, which must be this
    //     service's, for the original-* values, certifying the key that signed the request.
    if (original) {
      if (!modelAssertion || !originalAssertion) throw new ServiceRefusal('remodel-stream', `the stream has ${modelAssertion ? 'no original serial' : 'no model assertion'}`)
      checkOriginalSerial(originalAssertion, original, deviceKey, this.serialKeys)
      event.remodelledFrom = original
    }

    // 4. The hardware identity, when the model onboards by it: the body's digest finds an imported
    //    identity the model accepts, whose key signed the request-id. A model that takes either
    //    onboarding goes this way when the device sent no api-key or sent a hardware proof. A
    //    remodelled device proves itself by its original serial instead.
    const byHardware = !original && model.onboarding.hardwareIdentity && (!entry || !model.onboarding.apiKey || looksLikeHardwareProof(request.body))
    const identity = byHardware ? await this.policy.hardwareIdentity(model, request) : undefined
    if (identity) {
      event.brand = model.brand
      event.model = model.model
      event.hardwareId = identity.hardwareId
      event.hardwareIssuer = identity.issuerId
    }

    // 5. The nonce: known, fresh, this model's (or, without an api-key, given without one), consumed exactly once.
    const nonceCheck = await this.options.store.consumeNonce(request.requestId, entry ? scopeOf(entry) : HARDWARE_SCOPE, this.now(), NONCE_LIFETIME_MS)
    if (nonceCheck === 'unknown') throw new ServiceRefusal('request-id-unknown')
    if (nonceCheck === 'expired') throw new ServiceRefusal('request-id-expired', `the request-id is older than ${NONCE_LIFETIME_MS / 1000} s`)
    if (nonceCheck === 'wrong-model') {
      throw new ServiceRefusal(
        'request-id-model',
        entry ? `the request-id was issued for another model's api-key, not ${brand}/${modelName}` : 'the request-id was issued for an api-key, and this serial-request has none',
      )
    }

    // 6. The serial: the identity's hardware id, the original serial's number on a re-registration
    //    (unless the model's remodel-serial says request), or what the device proposes (the header,
    //    else `serial:` in a YAML body).
    const serial =
      identity && model.serialFrom === 'hardware-id' ? this.hardwareSerial(request, identity, event) : original && model.remodelSerial === 'keep' ? this.keptSerial(original) : this.proposedSerial(request, event)
    const hardware = identity ? {digest: identity.digest, hardwareId: identity.hardwareId, issuerId: identity.issuerId} : undefined
    // 7. The model's serial policy and the operator's blocks, before a signature is spent.
    try {
      await this.policy.admit(model, serial, deviceKey.id)
    } catch (error) {
      if (error instanceof BlockedDevice) event.blockReason = error.block.reason
      throw error
    }

    const claim = {brand, deviceKeyId: deviceKey.id, model: modelName, now: this.now(), serial, ...(hardware ? {hardware} : {}), ...(original ? {remodelledFrom: original} : {})}
    const outcome = await this.options.store.issueSerial(claim, (revision) => this.signSerial(model, {body: request.body, deviceKeyId: deviceKey.id, deviceKeyText, revision, serial}))
    switch (outcome.kind) {
      case 'serial-taken': {
        throw new ServiceRefusal('serial-taken', `serial ${serial} of ${brand}/${modelName} was issued to another device key`)
      }

      case 'key-has-serial': {
        throw new ServiceRefusal('device-has-serial', `this device key already has serial ${outcome.serial} of ${brand}/${modelName}; it cannot get a second one (${serial})`)
      }

      case 'identity-unknown': {
        throw new ServiceRefusal('hardware-identity-unknown', `hardware identity not imported yet: the identity of hardware id ${quoteInput(hardware!.hardwareId)} is gone from the store`)
      }

      case 'identity-taken': {
        throw new ServiceRefusal('hardware-identity-taken', `hardware id ${quoteInput(hardware!.hardwareId)} registered another device key (${outcome.deviceKeyId}), not this one (${deviceKey.id})`)
      }

      case 'device-has-identity': {
        throw new ServiceRefusal('device-has-identity', `this device key registered with hardware id ${quoteInput(outcome.hardwareId)} of ${outcome.issuerId}, not with ${quoteInput(hardware!.hardwareId)}`)
      }

      case 'issued': {
        event.serial = serial
        event.revision = outcome.entry.revision
        return {body: outcome.assertion + model.chain.map((a) => `\n${a}`).join(''), contentType: ASSERTION_MEDIA_TYPE, status: 200}
      }
    }
  }

  /**
   * The model's signature against the brand key. Every device of a model sends the same model
   * assertion, so one that verified is remembered by its exact bytes and signature (the answer for
   * them cannot change), sparing each registration an RSA verification (about 0.15 ms).
   */
  private checkModelSignature(assertion: Assertion, brandKey: AssertionPublicKey, keyId: string): void {
    const known = `${keyId}\n${assertion.signature}\n${Buffer.from(assertion.content).toString('latin1')}`
    if (this.verifiedModels.has(known)) return
    const check = verifyAssertionSignature(assertion, brandKey)
    if (!check.valid) throw new ServiceRefusal('model-signature', `the model assertion's signature does not verify against brand key ${keyId}: ${check.reason}`)
    if (this.verifiedModels.size >= MAX_VERIFIED_MODELS) this.verifiedModels.delete(this.verifiedModels.values().next().value!)
    this.verifiedModels.add(known)
  }

  /** The identity's hardware id as the serial: a serial the request proposes must be it. */
  private hardwareSerial(request: SerialRequestView, identity: HardwareIdentityKey, event: RegistrationEvent): string {
    const serial = identity.hardwareId
    if (request.serial !== undefined && request.serial !== serial) {
      event.claimed = {...event.claimed, serial: request.serial}
      throw new ServiceRefusal('serial-not-hardware-id', `the serial-request proposes serial ${quoteInput(request.serial)}, and its hardware identity is hardware id ${quoteInput(serial)}`)
    }

    const problem = serialTextProblem(serial, this.maxSerialLength)
    if (problem) throw new ServiceRefusal('serial-invalid', `the hardware id ${quoteInput(serial)} of the identity cannot be a serial: ${problem}`)
    return serial
  }

  /**
   * The model a re-registration asks for: served here, taking devices of the original model, and
   * asked with the api-key of the original model (as snapd sends it) or of the new one; without
   * an api-key only for a model whose devices may ask without one.
   */
  private remodelTarget(entry: ServiceModel | undefined, brand: string, modelName: string, original: OriginalSerial): ServiceModel | undefined {
    const name = `${brand}/${modelName}`
    const from = `${original.brand}/${original.model}`
    const target = this.byName.get(name)
    if (entry && entry !== target && (entry.brand !== original.brand || entry.model !== original.model)) {
      throw new ServiceRefusal('api-key-invalid', `the api-key is neither the one of the original model ${quoteInput(from)} nor of ${quoteInput(name)} that the serial-request names`)
    }

    if (!target) {
      if (!entry) return undefined
      throw new ServiceRefusal('remodel-not-allowed', `${quoteInput(name)} is not a model this service registers, so it takes no device remodelled from ${quoteInput(from)}`)
    }

    if (!entry && !this.anonymous.has(name)) return undefined
    if (!takesRemodelFrom(target, original)) throw new ServiceRefusal('remodel-not-allowed', `${name} does not take devices remodelled from ${quoteInput(from)}`)
    return target
  }

  /** The original serial's number, issued again for the new model. */
  private keptSerial(original: OriginalSerial): string {
    const problem = serialTextProblem(original.serial, this.maxSerialLength)
    if (problem) throw new ServiceRefusal('serial-invalid', `the original serial ${quoteInput(original.serial)} cannot be a serial here: ${problem}`)
    return original.serial
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
      'authority-id': entry.authority,
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
  const hardware = entry.hardwareId === undefined ? '' : `  hardware id ${entry.hardwareId} (${entry.hardwareIssuer ?? '?'})`
  const from = entry.remodelledFrom
  const remodel = from === undefined ? '' : `  remodelled from ${from.brand}/${from.model} serial ${from.serial}`
  return `${entry.signed}  ${entry.brand}/${entry.model}  ${entry.serial}  revision ${entry.revision}  device key ${entry.deviceKeyId}${hardware}${remodel}`
}

/**
 * Events per key over a sliding window (in slots of a sixtieth of it), refused past a total and
 * past a count per key. The keys followed are bounded: past that many, a new key is held to the
 * total alone.
 */
class WindowCounter {
  private readonly slotMs: number
  private readonly totals: number[]
  private total = 0
  private slot = -1
  private readonly perKey = new Map<string, {slots: number[]; count: number}>()

  constructor(
    windowMs: number,
    private readonly limit: number,
    private readonly limitPerKey: number,
    private readonly slots = 60,
    private readonly maxKeys = 65_536,
  ) {
    this.slotMs = windowMs / slots
    this.totals = Array.from({length: slots}, () => 0)
  }

  /** Counts one event of `key` at `nowMs` unless that goes over a limit. */
  take(key: string, nowMs: number): boolean {
    const slot = Math.floor(nowMs / this.slotMs)
    this.advance(slot)
    if (this.total >= this.limit) return false
    let own = this.perKey.get(key)
    if (own) this.expire(own, slot)
    if (own && own.count >= this.limitPerKey) return false
    if (!own && this.perKey.size < this.maxKeys) {
      own = {count: 0, slots: []}
      this.perKey.set(key, own)
    }

    if (own) {
      own.slots.push(slot)
      own.count++
    }

    this.total++
    this.totals[slot % this.slots]++
    return true
  }

  private advance(slot: number): void {
    if (slot <= this.slot) return
    const steps = Math.min(slot - this.slot, this.slots)
    for (let i = 1; i <= steps; i++) {
      const index = (this.slot + i) % this.slots
      this.total -= this.totals[index]
      this.totals[index] = 0
    }

    this.slot = slot
    // Keys whose events all expired leave the map: it holds only the clients of the window.
    if (steps === this.slots || slot % this.slots === 0) {
      for (const [key, own] of this.perKey) {
        this.expire(own, slot)
        if (own.count === 0) this.perKey.delete(key)
      }
    }
  }

  private expire(own: {slots: number[]; count: number}, slot: number): void {
    let drop = 0
    while (drop < own.slots.length && own.slots[drop] <= slot - this.slots) drop++
    if (drop > 0) {
      own.slots.splice(0, drop)
      own.count -= drop
    }
  }
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

/** The serial-request, then the model, then (on a re-registration) the original serial, as snapd sends them. */
function readStream(body: Buffer): [Assertion, Assertion | undefined, Assertion | undefined] {
  if (body.length === 0) throw new ServiceRefusal('stream-empty')
  const assertions = refuseOnUserError(() => parseAssertions(body, {file: 'the request body'}), 'stream-invalid')
  const [request, ...rest] = assertions
  if (request.type !== 'serial-request') throw new ServiceRefusal('stream-order', `the stream starts with a ${request.type} assertion`)
  const models = rest.filter((a) => a.type === 'model')
  const serials = rest.filter((a) => a.type === 'serial')
  const others = rest.filter((a) => a.type !== 'model' && a.type !== 'serial')
  if (others.length > 0) throw new ServiceRefusal('stream-unexpected', `the stream holds a ${others[0].type} assertion`)
  if (models.length > 1) throw new ServiceRefusal('stream-unexpected', 'the stream holds more than one model assertion')
  if (serials.length > 1) throw new ServiceRefusal('stream-unexpected', 'the stream holds more than one serial assertion')
  return [request, models[0], serials[0]]
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
