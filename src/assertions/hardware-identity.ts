/**
 * snapd's hardware identity (asserts/hardware_identity.go, snapd 2.73 and later;
 * secure-onboarding.md §2–3) on node:crypto, and the conventions snap-gadget settles where snapd
 * leaves them open:
 *
 * - `hardware-id-key` is the body of a PEM `PUBLIC KEY` without its armour: standard base64
 *   (padded) of the DER SubjectPublicKeyInfo. snapd parses it with Go's x509.ParsePKIXPublicKey.
 *   snap-gadget writes it, and takes it from a station, on one line: snapd's digest is over the
 *   header's text, line breaks included, so one line leaves no doubt about that text.
 * - `hardware-id-key-sha3-384` is the unpadded base64url SHA3-384 of the bytes of that text.
 * - The device proves it holds the key by signing the request-id the service issued: the UTF-8
 *   bytes of the request-id exactly as snapd set `registration.request-id`, hashed with SHA-256 for
 *   P-256 and RSA keys and SHA-384 for P-384 keys; ECDSA signatures are ASN.1 DER SEQUENCE{r,s},
 *   RSA ones PKCS#1 v1.5; the text in the body is standard base64, padded (URL-safe and unpadded
 *   are accepted too).
 * - snapd's VerifyNonceSignature is the judge: RSA PKCS#1 v1.5 with the signature as long as the
 *   modulus, ECDSA DER with nothing after it. snapd verifies no other key type (Ed25519 was
 *   dropped in 2.76), so the key types are ECDSA P-256 (the default) and P-384, and RSA of 2048,
 *   3072 or 4096 bits with the exponent 65537.
 */
import {createHash, createPublicKey, type KeyObject, verify} from 'node:crypto'

import {UserError} from '../errors.js'
import type {AssertionInput} from './encode.js'

export const HARDWARE_KEY_TYPES = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const
export type HardwareKeyType = (typeof HARDWARE_KEY_TYPES)[number]
export const DEFAULT_HARDWARE_KEY_TYPE: HardwareKeyType = 'ecdsa-p256'

/** The hash of the request-id a signature covers, by key type. */
export type NonceHash = 'sha256' | 'sha384'

/** snapd's account ids (asserts/account.go validAccountID): the issuer-id of an identity. */
export const ISSUER_ID = /^(?:[a-zA-Z0-9]{32}|[-a-z0-9]{2,28})$/
/** snapd's model names (asserts/model.go validModel): the hardware-name of an identity. */
export const HARDWARE_NAME = /^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$/
export const ISSUER_ID_RULE = 'an account id: 2 to 28 lower-case letters, digits and dashes (acme-brand), or the 32 letters and digits the store made'
export const HARDWARE_NAME_RULE = 'letters and digits, single dashes between them (snapd\'s rule for model names), e.g. "acme-gw-r2"'

/** An RSA-4096 SubjectPublicKeyInfo is 736 characters of base64; nothing a key needs is longer. */
export const MAX_HARDWARE_ID_KEY_LENGTH = 2048
/** An RSA-4096 signature is 684 characters of base64. */
export const MAX_NONCE_SIGNATURE_LENGTH = 1024

export interface HardwareIdKey {
  /** The `hardware-id-key` text: one line of standard, padded base64 of the DER SubjectPublicKeyInfo. */
  text: string
  /** The `hardware-id-key-sha3-384` of that text. */
  digest: string
  type: HardwareKeyType
  key: KeyObject
}

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** snapd's digest of a `hardware-id-key` header: SHA3-384 over its text's bytes, unpadded base64url. */
export function hardwareIdKeyDigest(text: string): string {
  return createHash('sha3-384').update(text, 'utf8').digest('base64url')
}

/** The `hardware-id-key` text of a public key (or of a private key's public half). */
export function hardwareIdKeyText(key: KeyObject): string {
  return (key.type === 'private' ? createPublicKey(key) : key).export({format: 'der', type: 'spki'}).toString('base64')
}

/** The key type of a key, as the conventions name it; undefined for a key snapd cannot verify with. */
export function hardwareKeyTypeOf(key: KeyObject): HardwareKeyType | undefined {
  const details = key.asymmetricKeyDetails ?? {}
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ecdsa-p256'
    if (details.namedCurve === 'secp384r1') return 'ecdsa-p384'
    return undefined
  }

  if (key.asymmetricKeyType === 'rsa' && details.publicExponent === 65_537n) {
    const bits = details.modulusLength
    if (bits === 2048 || bits === 3072 || bits === 4096) return `rsa-${bits}`
  }

  return undefined
}

/** A key in words, for messages: "an ECDSA key on secp521r1", "a 1024-bit RSA key". */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {}
  if (key.asymmetricKeyType === 'ec') return `an ECDSA key on ${details.namedCurve ?? 'an unnamed curve'}`
  if (key.asymmetricKeyType === 'rsa') {
    const exponent = details.publicExponent === 65_537n ? '' : ` with the public exponent ${String(details.publicExponent)}`
    return `a ${details.modulusLength}-bit RSA key${exponent}`
  }

  return `an ${String(key.asymmetricKeyType).toUpperCase()} key`
}

/** The hash the signature over the request-id uses for a key type. */
export function nonceHashOf(type: HardwareKeyType): NonceHash {
  return type === 'ecdsa-p384' ? 'sha384' : 'sha256'
}

const KEY_TYPES_SAID = 'ECDSA P-256 (the default) or P-384, or RSA of 2048, 3072 or 4096 bits with the exponent 65537: the keys snapd verifies a request-id signature with'

/**
 * A `hardware-id-key` as snap-gadget takes it from a station or a device: one line of standard
 * base64 (padded) of a DER SubjectPublicKeyInfo, written as snapd's parser and the base64 encoder
 * write it, of a key type above. Anything else is a UserError (E_HARDWARE_KEY) naming `source`.
 */
export function readHardwareIdKey(text: string, source = 'the hardware-id-key'): HardwareIdKey {
  const fail = (why: string, hint: string): UserError => new UserError('E_HARDWARE_KEY', `${source} ${why}`, {hint})
  const spki = 'the base64 of the DER SubjectPublicKeyInfo on one line (`openssl pkey -pubin -in key.pub.pem -outform DER | base64 -w0`)'
  if (text.length > MAX_HARDWARE_ID_KEY_LENGTH) throw fail(`is ${text.length} characters; a public key snapd verifies with is at most ${MAX_HARDWARE_ID_KEY_LENGTH}`, `give ${spki}`)
  if (text.length === 0) throw fail('is empty', `give ${spki}`)
  if (/[\r\n]/.test(text)) throw fail('spans several lines', `give ${spki}: snapd's digest is over the text, so it must be written the same way everywhere`)
  if (text.includes('-----BEGIN')) throw fail('is PEM with its armour', `give ${spki}, without the BEGIN and END lines`)
  if (!STANDARD_BASE64.test(text)) throw fail('is not standard base64 with its padding', `give ${spki}`)
  const der = Buffer.from(text, 'base64')
  let key: KeyObject
  try {
    key = createPublicKey({format: 'der', key: der, type: 'spki'})
  } catch (error) {
    throw fail(`is not a DER SubjectPublicKeyInfo: ${(error as Error).message}`, `give ${spki}`)
  }

  if (hardwareIdKeyText(key) !== text) throw fail('is not written as its key encodes it (DER re-encodes it otherwise)', `give ${spki}`)
  const type = hardwareKeyTypeOf(key)
  if (type === undefined) throw fail(`is ${describeKey(key)}`, `make the key ${KEY_TYPES_SAID}`)
  return {digest: hardwareIdKeyDigest(text), key, text, type}
}

/** The DER SubjectPublicKeyInfo of an uncompressed EC point, up to the point: SEQUENCE{SEQUENCE{id-ecPublicKey, curve}, BIT STRING 00 04 …}. */
const EC_SPKI_PREFIX = {
  'ecdsa-p256': {crv: 'P-256', prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), size: 32},
  'ecdsa-p384': {crv: 'P-384', prefix: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'), size: 48},
} as const

/**
 * The verifying key of a `hardware-id-key` that {@link readHardwareIdKey} once accepted as `type`
 * (an identity serve imported). An EC key goes in as a JWK of its point: OpenSSL's DER decoder
 * takes about 0.1 ms on an idle machine and, beside serve's signing threads, ten times more
 * (locks), which made a registration by hardware identity 11 % slower than one by api-key.
 * Anything but the canonical encoding of the type's curve takes the DER path.
 */
export function storedHardwareKey(text: string, type: HardwareKeyType): KeyObject {
  const der = Buffer.from(text.replaceAll('\n', ''), 'base64')
  const ec = type === 'ecdsa-p256' || type === 'ecdsa-p384' ? EC_SPKI_PREFIX[type] : undefined
  if (ec && der.length === ec.prefix.length + 1 + 2 * ec.size && der.subarray(0, ec.prefix.length).equals(ec.prefix) && der[ec.prefix.length] === 0x04) {
    const x = der.subarray(ec.prefix.length + 1, ec.prefix.length + 1 + ec.size)
    const y = der.subarray(ec.prefix.length + 1 + ec.size)
    return createPublicKey({format: 'jwk', key: {crv: ec.crv, kty: 'EC', x: x.toString('base64url'), y: y.toString('base64url')}})
  }

  return createPublicKey({format: 'der', key: der, type: 'spki'})
}

/**
 * The public key of a `hardware-id-key` header as snapd's assembler reads it: the header's lines
 * are the PEM body (standard base64, padded), and the key is what Go's x509.ParsePKIXPublicKey
 * takes (RSA, ECDSA on the NIST curves P-224 to P-521, Ed25519, X25519, DSA), whether or not it can
 * verify a signature. Throws an Error with snapd's reason.
 */
export function parseHeaderKey(text: string): KeyObject {
  const flat = text.replaceAll(/[\n \t]/g, '')
  if (!STANDARD_BASE64.test(flat) || flat === '') throw new Error('no PEM block was found')
  let key: KeyObject
  try {
    key = createPublicKey({format: 'der', key: Buffer.from(flat, 'base64'), type: 'spki'})
  } catch (error) {
    throw new Error(`cannot parse public key: ${(error as Error).message}`)
  }

  const curve = key.asymmetricKeyDetails?.namedCurve
  const goParses =
    key.asymmetricKeyType === 'rsa' ||
    key.asymmetricKeyType === 'ed25519' ||
    key.asymmetricKeyType === 'x25519' ||
    key.asymmetricKeyType === 'dsa' ||
    (key.asymmetricKeyType === 'ec' && ['secp224r1', 'prime256v1', 'secp384r1', 'secp521r1'].includes(curve ?? ''))
  if (!goParses) throw new Error(`cannot parse public key: ${describeKey(key)} is not one x509 reads`)
  return key
}

export type NonceSignatureCheck = {valid: true} | {valid: false; reason: string}

/**
 * snapd's `(*HardwareIdentity).VerifyNonceSignature(nonce, signature, hash)`: the nonce hashed
 * with `hash`, then RSA PKCS#1 v1.5 (the signature exactly as long as the modulus, as Go's
 * rsa.VerifyPKCS1v15 wants it) or ECDSA over an ASN.1 DER SEQUENCE{r,s} with nothing after it
 * (OpenSSL, like Go's asn1.Unmarshal, refuses a signature that is not exactly DER). Other keys are
 * refused, as snapd refuses them.
 */
export function verifyNonceSignature(key: KeyObject, nonce: string | Uint8Array, signature: Uint8Array, hash: NonceHash | 'sha512'): NonceSignatureCheck {
  const message = typeof nonce === 'string' ? Buffer.from(nonce, 'utf8') : nonce
  let valid: boolean
  try {
    if (key.asymmetricKeyType === 'rsa') {
      const size = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8)
      if (signature.length !== size) return {reason: `the RSA signature is ${signature.length} bytes, not the modulus's ${size}`, valid: false}
      valid = verify(hash, message, key, signature)
    } else if (key.asymmetricKeyType === 'ec') {
      valid = verify(hash, message, {dsaEncoding: 'der', key}, signature)
    } else {
      return {reason: `unsupported algorithm type: ${String(key.asymmetricKeyType)}`, valid: false}
    }
  } catch (error) {
    return {reason: `the signature cannot be read: ${(error as Error).message}`, valid: false}
  }

  return valid ? {valid: true} : {reason: 'the signature does not verify over the request-id with the hardware key', valid: false}
}

const ANY_BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/

/**
 * The bytes of a `request-id-signature` text: standard or URL-safe base64, padded or not. Undefined
 * when it is none of these (node's own decoder would skip what it does not know, silently).
 */
export function decodeNonceSignatureText(text: string): Buffer | undefined {
  if (text.length === 0 || text.length > MAX_NONCE_SIGNATURE_LENGTH || !ANY_BASE64.test(text)) return undefined
  const bare = text.replace(/=+$/, '')
  if (bare.length % 4 === 1) return undefined
  if (bare.length !== text.length && text.length % 4 !== 0) return undefined
  return Buffer.from(bare.replaceAll('-', '+').replaceAll('_', '/'), 'base64')
}

/** The `request-id-signature` text a device writes: standard base64, padded. */
export function encodeNonceSignature(signature: Uint8Array): string {
  return Buffer.from(signature).toString('base64')
}

export interface HardwareIdentityInput {
  /** The account that certifies the key and signs the assertion (authority-id = issuer-id). */
  issuerId: string
  manufacturer: string
  /** The hardware's model designation (snapd's model-name rule). */
  hardwareName: string
  /** The individual device's id (by default its serial). */
  hardwareId: string
  key: HardwareIdKey
  /** RFC 3339; snapd keeps it without checking it. */
  timestamp?: string
}

/**
 * What to sign for a `hardware-identity` assertion: the headers snapd's assembler checks, the key on
 * one line, its digest over that line. Refuses (E_HARDWARE_IDENTITY) what snapd would refuse to
 * decode.
 */
export function hardwareIdentityInput(input: HardwareIdentityInput): AssertionInput {
  const fail = (why: string, hint: string): UserError => new UserError('E_HARDWARE_IDENTITY', `cannot make the hardware-identity assertion: ${why}`, {hint})
  if (!ISSUER_ID.test(input.issuerId)) throw fail(`the issuer id ${JSON.stringify(input.issuerId)} is not an account id`, `give ${ISSUER_ID_RULE}`)
  if (input.manufacturer.trim() === '') throw fail('the manufacturer is empty', 'give the name of the device manufacturer')
  if (!HARDWARE_NAME.test(input.hardwareName)) throw fail(`the hardware name ${JSON.stringify(input.hardwareName)} is not snapd's form`, `give ${HARDWARE_NAME_RULE}`)
  if (input.hardwareId === '') throw fail('the hardware id is empty', "give the device's id (its serial by default)")
  return {
    headers: {
      'authority-id': input.issuerId,
      'hardware-id': input.hardwareId,
      'hardware-id-key': input.key.text,
      'hardware-id-key-sha3-384': input.key.digest,
      'hardware-name': input.hardwareName,
      'issuer-id': input.issuerId,
      manufacturer: input.manufacturer,
      ...(input.timestamp === undefined ? {} : {timestamp: input.timestamp}),
    },
    type: 'hardware-identity',
  }
}
