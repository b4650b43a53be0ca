/**
 * The hardware identity key on QuickJS, which has no node:crypto: ECDSA on P-256 and P-384 with
 * @noble/curves, SHA3-384 with @noble/hashes (both audited, maintained, no dependencies of their
 * own). Signatures are RFC 6979 deterministic: the same key and message give the same DER bytes on
 * every engine and architecture (the tests compare QuickJS on amd64, arm64 and armhf with noble on
 * Node, and verify them with node:crypto). Keys are PKCS#8 DER exactly as OpenSSL writes them
 * (RFC 5915 ECPrivateKey with the public key, no parameters), so node:crypto and `openssl pkey`
 * read a key QuickJS made, and QuickJS reads one node:crypto made.
 *
 * RSA is not here: generating an RSA key in JavaScript on a small ARM board takes minutes, so the
 * QuickJS host refuses RSA key types and says to run the hook with Node.
 */
import {p256, p384} from '@noble/curves/nist.js'
import {ecdsa, type ECDSA} from '@noble/curves/abstract/weierstrass.js'
import {sha256, sha384, sha512} from '@noble/hashes/sha2.js'
import {sha3_384} from '@noble/hashes/sha3.js'

import type {HostCrypto, HostKeyType} from '../../support/host-types.js'

type CurveType = 'ecdsa-p256' | 'ecdsa-p384'

/** id-ecPublicKey (1.2.840.10045.2.1) and the curves' OIDs, as DER contents. */
const EC_PUBLIC_KEY = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]
const CURVE_OIDS: Record<CurveType, number[]> = {
  'ecdsa-p256': [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
  'ecdsa-p384': [0x2b, 0x81, 0x04, 0x00, 0x22],
}
/** rsaEncryption (1.2.840.113549.1.1.1). */
const RSA_ENCRYPTION = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]

const curves = new Map<CurveType, ECDSA>()

/** The curve's ECDSA with the host's random bytes for noble's blinding (the signature stays deterministic). */
function curveOf(type: CurveType, randomBytes: (length: number) => Uint8Array): ECDSA {
  let curve = curves.get(type)
  if (!curve) {
    // Blinding draws a few bytes per signature; noble's default source (WebCrypto) is not on QuickJS.
    const random = (length = 32) => Uint8Array.from(randomBytes(length))
    curve = type === 'ecdsa-p256' ? ecdsa(p256.Point, sha256, {randomBytes: random}) : ecdsa(p384.Point, sha384, {randomBytes: random})
    curves.set(type, curve)
  }

  return curve
}

/** A DER TLV. */
function der(tag: number, ...parts: (number[] | Uint8Array)[]): Uint8Array {
  const contents: number[] = []
  for (const part of parts) for (const byte of part) contents.push(byte)
  const n = contents.length
  const length = n < 0x80 ? [n] : n < 0x1_00 ? [0x81, n] : [0x82, n >> 8, n & 0xff]
  return Uint8Array.from([tag, ...length, ...contents])
}

interface Tlv {
  tag: number
  contents: Uint8Array
  /** The offset just past this element. */
  end: number
}

/** The DER element at `offset`; throws for one that runs past the bytes. */
function readTlv(bytes: Uint8Array, offset: number): Tlv {
  const tag = bytes[offset]
  let length = bytes[offset + 1]
  let at = offset + 2
  if (length >= 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 2) throw notAKey('a length that is not one to three bytes')
    length = 0
    for (let i = 0; i < count; i++) length = (length << 8) | bytes[at++]
  }

  if (tag === undefined || length === undefined || at + length > bytes.length) throw notAKey('an element runs past its end')
  return {contents: bytes.subarray(at, at + length), end: at + length, tag}
}

/** The elements of a SEQUENCE's contents. */
function children(contents: Uint8Array): Tlv[] {
  const out: Tlv[] = []
  for (let at = 0; at < contents.length;) {
    const element = readTlv(contents, at)
    out.push(element)
    at = element.end
  }

  return out
}

/** An Error with an errno-like code, as the hosts throw (no import of the Node host: this module also runs alone). */
function hostError(code: string, message: string): Error & {code: string} {
  return Object.assign(new Error(`${code}: ${message}`), {code})
}

function notAKey(why: string): Error {
  return hostError('EKEYFORMAT', `not a PKCS#8 private key: ${why}`)
}

function same(a: Uint8Array, b: readonly number[]): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}

function spkiOf(type: CurveType, point: Uint8Array): Uint8Array {
  return der(0x30, der(0x30, der(0x06, EC_PUBLIC_KEY), der(0x06, CURVE_OIDS[type])), der(0x03, [0], point))
}

function pkcs8Of(type: CurveType, secret: Uint8Array, point: Uint8Array): Uint8Array {
  const ecPrivateKey = der(0x30, der(0x02, [1]), der(0x04, secret), der(0xa1, der(0x03, [0], point)))
  return der(0x30, der(0x02, [0]), der(0x30, der(0x06, EC_PUBLIC_KEY), der(0x06, CURVE_OIDS[type])), der(0x04, ecPrivateKey))
}

/** The key type and secret scalar of a PKCS#8 EC key; an RSA key is refused with ENOTSUP. */
function readPkcs8(pkcs8: Uint8Array): {secret: Uint8Array; type: CurveType} {
  const top = readTlv(pkcs8, 0)
  if (top.tag !== 0x30 || top.end !== pkcs8.length) throw notAKey('not one DER SEQUENCE')
  const [version, algorithm, privateKey] = children(top.contents)
  if (version?.tag !== 0x02 || algorithm?.tag !== 0x30 || privateKey?.tag !== 0x04) throw notAKey('not version, algorithm and key')
  const [oid, parameters] = children(algorithm.contents)
  if (oid && same(oid.contents, RSA_ENCRYPTION)) throw hostError('ENOTSUP', 'RSA keys')
  if (!oid || !same(oid.contents, EC_PUBLIC_KEY) || parameters?.tag !== 0x06) throw notAKey('not an EC key on a named curve')
  const type = (Object.keys(CURVE_OIDS) as CurveType[]).find((t) => same(parameters.contents, CURVE_OIDS[t]))
  if (!type) throw hostError('ENOTSUP', 'EC keys on curves other than P-256 and P-384')
  const inner = readTlv(privateKey.contents, 0)
  const [, secret] = children(inner.contents)
  const size = type === 'ecdsa-p256' ? 32 : 48
  if (inner.tag !== 0x30 || secret?.tag !== 0x04 || secret.contents.length > size) throw notAKey('no ECPrivateKey')
  const padded = new Uint8Array(size)
  padded.set(secret.contents, size - secret.contents.length)
  return {secret: padded, type}
}

/** A new P-256 or P-384 key as PKCS#8 DER, its scalar from `randomBytes` (noble reduces 48 or 72 bytes into the group). */
export function generateEcKey(type: HostKeyType, randomBytes: (length: number) => Uint8Array): Uint8Array {
  if (type !== 'ecdsa-p256' && type !== 'ecdsa-p384') throw hostError('ENOTSUP', 'RSA keys')
  const curve = curveOf(type, randomBytes)
  const secret = curve.utils.randomSecretKey(randomBytes(curve.lengths.seed!))
  return pkcs8Of(type, secret, curve.getPublicKey(secret, false))
}

/** The DER SubjectPublicKeyInfo and type of a PKCS#8 EC key. */
export function ecPublicKeyOf(pkcs8: Uint8Array, randomBytes: (length: number) => Uint8Array): {spki: Uint8Array; type: HostKeyType} {
  const {secret, type} = readPkcs8(pkcs8)
  return {spki: spkiOf(type, curveOf(type, randomBytes).getPublicKey(secret, false)), type}
}

/** ECDSA over `message`, hashed with SHA-256 (P-256) or SHA-384 (P-384): ASN.1 DER, low S, RFC 6979. */
export function ecSign(pkcs8: Uint8Array, message: Uint8Array, randomBytes: (length: number) => Uint8Array): Uint8Array {
  const {secret, type} = readPkcs8(pkcs8)
  return curveOf(type, randomBytes).sign(message, secret, {format: 'der', prehash: true})
}

/** The hardware identity key's operations and the hashes, with `randomBytes` for keys and noble's blinding. */
export function nobleCrypto(randomBytes: (length: number) => Uint8Array): Pick<HostCrypto, 'generatePrivateKey' | 'publicKeyOf' | 'sha3_384' | 'sha512' | 'signWithPrivateKey'> {
  return {
    generatePrivateKey: (type) => generateEcKey(type, randomBytes),
    publicKeyOf: (pkcs8) => ecPublicKeyOf(pkcs8, randomBytes),
    sha3_384: (data) => sha3_384(data),
    sha512: (data) => sha512(data),
    signWithPrivateKey: (pkcs8, message) => ecSign(pkcs8, message, randomBytes),
  }
}
