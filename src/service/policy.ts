/**
 * The issue policy: may this device be issued this serial? One place decides it for every kind
 * of list a model can hold its devices to (serials: in the serve config, and its onboarding):
 * - `any`: whatever serial the request proposes (the default);
 * - `allowlist`: only a serial the factory's list brought in (serve import --serials);
 * - `pattern`: only a serial the whole of the model's pattern matches (bounded: serial-pattern.ts);
 * - hardware identity: only a device that proves it holds the key of an imported hardware-identity
 *   assertion, the factory's list of devices by key rather than by serial;
 * - and whatever the model's policy, no device the operator blocked (serve block), by serial or by
 *   device key: neither a first issue nor a device asking again.
 * Registration asks it twice: for the identity, before the nonce is consumed (the proof signs the
 * nonce), and for the serial, once it is known, before a signature is spent. Every refusal is a
 * 4xx whose message says what to fix.
 */
import type {KeyObject} from 'node:crypto'

import {decodeNonceSignatureText, type HardwareKeyType, nonceHashOf, type SerialRequestView, verifyNonceSignature} from '../assertions/index.js'
import {storedHardwareKey} from '../assertions/hardware-identity.js'
import {quoteInput} from '../support/echo.js'
import type {ServiceModel} from './config.js'
import {ServiceRefusal} from './refusals.js'
import {MAX_PATTERN_INPUT, matchSerialPattern} from './serial-pattern.js'
import type {DeviceBlock, HardwareIdentityKey, ServiceStore} from './store/index.js'

export class IssuePolicy {
  constructor(private readonly store: ServiceStore) {}

  /**
   * The imported identity whose key signed the request-id: found by the body's digest among those
   * of the issuers the model accepts (the brand first), the signature checked as snapd's
   * VerifyNonceSignature checks it, with the hash of the key's type.
   */
  async hardwareIdentity(model: ServiceModel, request: SerialRequestView): Promise<HardwareIdentityKey> {
    const proof = readHardwareProof(request.body)
    const found = await this.store.findIdentities(proof.digest)
    if (found.length === 0) throw new ServiceRefusal('hardware-identity-unknown', `hardware identity not imported yet: no imported identity has the key ${proof.digest}`)
    const identity = model.issuers.map((issuer) => found.find((i) => i.issuerId === issuer)).find((i) => i !== undefined)
    if (!identity) {
      throw new ServiceRefusal(
        'hardware-identity-issuer',
        `the hardware identity of key ${proof.digest} was issued by ${found.map((i) => i.issuerId).join(', ')}; ${model.brand}/${model.model} accepts identities issued by ${model.issuers.join(' or ')}`,
      )
    }

    const key = hardwareKeyOf(identity)
    if (proof.hardwareIdKey !== undefined && proof.hardwareIdKey.replaceAll('\n', '') !== identity.hardwareIdKey.replaceAll('\n', '')) {
      throw new ServiceRefusal('hardware-key-mismatch', `the body's hardware-id-key is not the key of ${proof.digest} (hardware id ${quoteInput(identity.hardwareId)})`)
    }

    const signature = decodeNonceSignatureText(proof.signature)
    if (signature === undefined) throw new ServiceRefusal('hardware-body-invalid', 'request-id-signature is not base64 (standard or URL-safe, padded or not)')
    const check = verifyNonceSignature(key.key, request.requestId, signature, nonceHashOf(key.type))
    if (!check.valid) throw new ServiceRefusal('hardware-identity-signature', `request-id-signature does not verify with the ${key.type} key of hardware id ${quoteInput(identity.hardwareId)}: ${check.reason}`)
    return identity
  }

  /**
   * Whether `serial` may be issued to the device key for `model` (a first issue or again): the
   * pattern first (no database), then one read of the store for the allowlist and the blocks.
   * Throws the refusal: a {@link BlockedDevice} (with the block, whose reason is the log's) for a block.
   */
  async admit(model: ServiceModel, serial: string, deviceKeyId: string): Promise<void> {
    const name = `${model.brand}/${model.model}`
    const policy = model.serials
    if (policy.kind === 'pattern') {
      const matched = matchSerialPattern(policy.pattern, serial)
      if (matched === undefined) throw new ServiceRefusal('serial-pattern', `serial of ${serial.length} characters: a pattern is matched against at most ${MAX_PATTERN_INPUT}`)
      if (!matched) throw new ServiceRefusal('serial-pattern', `serial ${quoteInput(serial)} does not match ${quoteInput(policy.pattern.source)}, the serial pattern of ${name}`)
    }

    const facts = await this.store.admission(model.brand, model.model, serial, deviceKeyId)
    if (facts.block) throw new BlockedDevice(facts.block, serial)
    if (policy.kind === 'allowlist' && !facts.listed) throw new ServiceRefusal('serial-not-allowed', `serial ${quoteInput(serial)} is not on the allowlist of ${name}`)
  }
}

/** A refusal for a block: the device is told what is blocked and since when; the reason is the operator's, for the log. */
export class BlockedDevice extends ServiceRefusal {
  constructor(
    readonly block: DeviceBlock,
    serial: string,
  ) {
    const what = block.kind === 'serial' ? `serial ${quoteInput(serial)}` : `device key ${block.value}`
    super('device-blocked', `${what} is blocked${block.brand === '' ? '' : ` for ${block.brand}/${block.model}`} since ${block.blocked}`)
  }
}

/** A hardware identity proof is under 2 KB (an RSA-4096 key and signature): JSON.parse is given no more than this. */
export const MAX_HARDWARE_BODY_BYTES = 16 * 1024
const DIGEST = /^[A-Za-z0-9_-]{64}$/

/** What the body of a hardware-identity serial-request holds, read as JSON within bounds. */
interface HardwareProof {
  digest: string
  signature: string
  hardwareIdKey?: string
}

/** A body that means to be a hardware proof: a JSON object naming its fields. */
export function looksLikeHardwareProof(body: string): boolean {
  return body.trimStart().startsWith('{') && (body.includes('"request-id-signature"') || body.includes('"hardware-id-key-sha'))
}

/**
 * The body as snapd sends what the prepare-serial-request hook set (Go's json.Marshal of one
 * object), read as JSON, never YAML: the digest (hardware-id-key-sha3-384, or
 * hardware-id-key-sha384 as snapd up to 2.77 names it; the same when both are given), the
 * request-id-signature, and optionally the hardware-id-key. Other fields are the hook's.
 */
export function readHardwareProof(body: string): HardwareProof {
  const invalid = (why: string): ServiceRefusal => new ServiceRefusal('hardware-body-invalid', `the serial-request body ${why}`)
  const size = Buffer.byteLength(body)
  if (size === 0) throw invalid('is empty')
  if (size > MAX_HARDWARE_BODY_BYTES) throw invalid(`is ${size} bytes; a hardware identity proof is at most ${MAX_HARDWARE_BODY_BYTES}`)
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch (error) {
    throw invalid(`is not JSON (${(error as Error).message})`)
  }

  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`is JSON, but ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not an object`)
  const fields = value as Record<string, unknown>
  const text = (name: string): string | undefined => {
    const found = Object.hasOwn(fields, name) ? fields[name] : undefined
    if (found !== undefined && typeof found !== 'string') throw invalid(`has a ${name} that is not a string`)
    return found
  }

  const sha3 = text('hardware-id-key-sha3-384')
  const older = text('hardware-id-key-sha384')
  if (sha3 === undefined && older === undefined) throw invalid('has neither hardware-id-key-sha3-384 nor hardware-id-key-sha384')
  if (sha3 !== undefined && older !== undefined && sha3 !== older) throw invalid('has a hardware-id-key-sha3-384 and a hardware-id-key-sha384 that differ')
  const digest = (sha3 ?? older)!
  if (!DIGEST.test(digest)) throw invalid(`has a key digest ${quoteInput(digest)} that is not 64 characters of unpadded base64url (SHA3-384)`)
  const signature = text('request-id-signature')
  if (signature === undefined) throw invalid('has no request-id-signature')
  const hardwareIdKey = text('hardware-id-key')
  return {digest, signature, ...(hardwareIdKey === undefined ? {} : {hardwareIdKey})}
}

/** The key of an imported identity (the store holds its header text and type). */
function hardwareKeyOf(identity: HardwareIdentityKey): {key: KeyObject; type: HardwareKeyType} {
  const type = identity.keyType as HardwareKeyType
  return {key: storedHardwareKey(identity.hardwareIdKey, type), type}
}
