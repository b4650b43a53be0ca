/**
 * Checks an assertion's signature the way snapd does (asserts/crypto.go, registration-protocol.md
 * §3.3–3.4), with node:crypto doing the RSA work:
 *
 * - a key is base64 of 0x01 + an OpenPGP v4 RSA public-key packet (`snap export-key`, the
 *   `device-key` header, an account-key body); its id is the unpadded base64url SHA3-384 of those
 *   bytes, which the assertion names in `sign-key-sha3-384`;
 * - a signature is base64 of 0x01 + an OpenPGP v4 signature packet, RSA PKCS#1 v1.5 over SHA-512 of
 *   the content followed by the packet's hashed part (RFC 4880 §5.2.4).
 */
import {createPublicKey, type KeyObject, verify} from 'node:crypto'

import {UserError} from '../errors.js'
import {type Assertion} from './decode.js'
import {keyIdOf} from './keys.js'
import {decodeV1, HASH_SHA512, OpenPgpCursor, type OpenPgpFailure, type OpenPgpPacket, SIGNATURE_BINARY_DOCUMENT, TAG_PUBLIC_KEY, TAG_SIGNATURE} from './openpgp.js'

export interface AssertionPublicKey {
  /** The snapd key id (`sign-key-sha3-384` of what it signs). */
  id: string
  /** RSA modulus size. */
  bits: number
  key: KeyObject
}

export interface AssertionSignatureCheck {
  valid: boolean
  /** The id of the key the check used. */
  keyId: string
  /** Why the signature is not valid. */
  reason?: string
}

const RSA_ALGORITHMS = new Set([1, 2, 3])

/** Decodes a public key in snapd's encoding; throws a UserError naming `source` when it is not one. */
export function decodeAssertionPublicKey(text: string, source = 'public key'): AssertionPublicKey {
  const bytes = decodeV1(text, source)
  const fail = (why: string): UserError =>
    new UserError('E_ASSERTION_KEY', `${source} is not a snapd public key: ${why}`, {
      hint: 'give the output of `snap export-key <name>` (or the device-key header / account-key body)',
    })
  const packet = readPacket(bytes.subarray(1), fail)
  if (packet.tag !== TAG_PUBLIC_KEY) throw fail(`expected a public-key packet, found packet type ${packet.tag}`)
  const body = new OpenPgpCursor(packet.body, fail)
  if (body.u8() !== 4) throw fail('only OpenPGP v4 keys are supported')
  body.skip(4) // creation time: fixed by snapd, part of the id
  const algorithm = body.u8()
  if (!RSA_ALGORITHMS.has(algorithm)) throw fail(`only RSA keys are supported (algorithm ${algorithm})`)
  const n = body.mpi()
  const e = body.mpi()
  const bits = bitLength(n)
  // snapd itself checks neither: a key with e = 1 "verifies" a signature anyone can make, and
  // small moduli are factored. snapd makes 4096-bit keys with e = 65537 for every device.
  if (bits < MIN_VERIFY_KEY_BITS) throw fail(`the RSA key has ${bits} bits; keys under ${MIN_VERIFY_KEY_BITS} bits are refused (snapd makes 4096-bit keys)`)
  const exponent = e.subarray(e.length - Math.ceil(bitLength(e) / 8))
  if (!exponent.equals(RSA_EXPONENT))
    throw fail(
      `the RSA public exponent is ${exponent.length <= 6 ? (exponent.length === 0 ? 0 : exponent.readUIntBE(0, exponent.length)) : `a ${bitLength(e)}-bit number`}; only 65537 is accepted (what snapd and every RSA key generator use)`,
    )
  const key = createPublicKey({format: 'jwk', key: {e: e.toString('base64url'), kty: 'RSA', n: n.toString('base64url')}})
  return {bits, id: keyIdOf(bytes), key}
}

/** Verifying a signature by a smaller key proves little: refused wherever an assertion is checked. */
export const MIN_VERIFY_KEY_BITS = 2048
const RSA_EXPONENT = Buffer.from([0x01, 0x00, 0x01])

/** The bit length of a big-endian number, leading zero bytes and bits not counted. */
function bitLength(bytes: Buffer): number {
  let i = 0
  while (i < bytes.length && bytes[i] === 0) i++
  if (i === bytes.length) return 0
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]))
}

/** Verifies `assertion`'s signature with `publicKey` (snapd encoding, or decoded). */
export function verifyAssertionSignature(assertion: Assertion, publicKey: AssertionPublicKey | string): AssertionSignatureCheck {
  const key = typeof publicKey === 'string' ? decodeAssertionPublicKey(publicKey) : publicKey
  const invalid = (reason: string): AssertionSignatureCheck => ({keyId: key.id, reason, valid: false})
  const signedBy = assertion.headers['sign-key-sha3-384']
  if (signedBy !== key.id) return invalid(`the assertion is signed by key ${String(signedBy)}, not by ${key.id}`)

  let parsed: ParsedSignature
  try {
    parsed = parseSignature(decodeV1(assertion.signature, 'signature'))
  } catch (error) {
    if (error instanceof UserError) return invalid(error.message)
    throw error
  }

  const hashedPart = parsed.hashedPart
  const trailer = Buffer.alloc(6)
  trailer.writeUInt8(4, 0)
  trailer.writeUInt8(0xff, 1)
  trailer.writeUInt32BE(hashedPart.length, 2)
  const signed = Buffer.concat([assertion.content, hashedPart, trailer])
  const modulusBytes = key.bits / 8
  const value = parsed.value.length < modulusBytes ? Buffer.concat([Buffer.alloc(modulusBytes - parsed.value.length), parsed.value]) : parsed.value
  if (!verify('sha512', signed, key.key, value)) return invalid('the signature does not match the content (the assertion was changed after signing)')
  return {keyId: key.id, valid: true}
}

interface ParsedSignature {
  /** The packet from its version byte to the end of the hashed subpackets. */
  hashedPart: Buffer
  value: Buffer
}

function parseSignature(bytes: Buffer): ParsedSignature {
  const fail = (why: string): UserError => new UserError('E_ASSERTION_SIGNATURE', `the signature is not a snapd signature: ${why}`)
  const packet = readPacket(bytes.subarray(1), fail)
  if (packet.tag !== TAG_SIGNATURE) throw fail(`expected a signature packet, found packet type ${packet.tag}`)
  const body = new OpenPgpCursor(packet.body, fail)
  if (body.u8() !== 4) throw fail('only OpenPGP v4 signatures are supported')
  if (body.u8() !== SIGNATURE_BINARY_DOCUMENT) throw fail('not a binary-document signature')
  const algorithm = body.u8()
  if (!RSA_ALGORITHMS.has(algorithm)) throw fail(`only RSA signatures are supported (algorithm ${algorithm})`)
  if (body.u8() !== HASH_SHA512) throw fail('snapd requires SHA-512 signatures')
  body.skip(body.u16())
  const hashedPart = packet.body.subarray(0, body.offset)
  body.skip(body.u16()) // unhashed subpackets
  body.skip(2) // left 16 bits of the hash: the RSA check covers it
  const value = body.mpi()
  return {hashedPart, value}
}

/** One whole OpenPGP packet, with nothing after it. */
function readPacket(bytes: Buffer, fail: OpenPgpFailure): OpenPgpPacket {
  const cursor = new OpenPgpCursor(bytes, fail)
  const packet = cursor.packet()
  if (cursor.remaining !== 0) throw fail('trailing data after the packet')
  return packet
}
