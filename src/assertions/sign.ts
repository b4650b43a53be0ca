/**
 * Signs assertions as snapd 2.57.6 does (asserts/crypto.go with golang.org/x/crypto/openpgp), with
 * node:crypto doing the RSA: the signature is base64 of 0x01 + one OpenPGP v4 signature packet
 *
 *     version 4, type 0x00 (binary document), algorithm 1 (RSA), hash 10 (SHA-512),
 *     hashed subpackets: creation time only (not critical); no unhashed subpackets,
 *     the first two bytes of the digest, the RSA PKCS#1 v1.5 value as an MPI of 8 × its byte length
 *
 * over the content followed by the packet's hashed part and its trailer (RFC 4880 §5.2.4), in
 * lines of 76 characters. snapd sets no issuer subpacket (GnuPG does, so `snap sign` with a GnuPG
 * key gives a longer packet); the verifier accepts both.
 */
import {createHash, sign} from 'node:crypto'

import {InternalError, UserError} from '../errors.js'
import {type Assertion, parseAssertion} from './decode.js'
import {type AssertionInput, assertionContent} from './encode.js'
import {type SigningKey} from './keys.js'
import {encodeV1, HASH_SHA512, mpi, packet, PUBLIC_KEY_ALGORITHM_RSA, SIGNATURE_BINARY_DOCUMENT, SUBPACKET_CREATION_TIME, TAG_SIGNATURE, uint32} from './openpgp.js'

export interface SignOptions {
  /** The signature's creation time; snapd uses the time of signing. Whole seconds are kept. */
  signatureTime?: Date
}

export interface SignedAssertion {
  /** The whole assertion as snapd writes it, ending in "\n". */
  text: string
  /** `text` parsed back. */
  assertion: Assertion
}

/**
 * Signs `input` with `key`: adds `sign-key-sha3-384` and (for a non-empty body) `body-length`,
 * orders and writes the headers as snapd does, signs. Throws UserError E_ASSERTION_INPUT for what
 * snapd would refuse (see encode.ts).
 */
export function signAssertion(input: AssertionInput, key: SigningKey, options: SignOptions = {}): SignedAssertion {
  const {content} = assertionContent(input, key.keyId)
  const signature = signContent(Buffer.from(content, 'utf8'), key, options.signatureTime ?? new Date())
  return signedAssertion(input.type, content, signature)
}

/**
 * {@link signAssertion} with the RSA on libuv's thread pool: a service signing for many devices
 * keeps answering while a 4096-bit signature (about 4 ms of CPU) is made, and uses more than one
 * core. The same bytes as signAssertion for the same input, key and time.
 */
export async function signAssertionAsync(input: AssertionInput, key: SigningKey, options: SignOptions = {}): Promise<SignedAssertion> {
  const {content} = assertionContent(input, key.keyId)
  const signature = await signContentAsync(Buffer.from(content, 'utf8'), key, options.signatureTime ?? new Date())
  return signedAssertion(input.type, content, signature)
}

function signedAssertion(type: string, content: string, signature: string): SignedAssertion {
  const text = `${content}\n\n${signature}\n`
  let assertion: Assertion
  try {
    assertion = parseAssertion(text)
  } catch (error) {
    throw new InternalError(`a signed ${type} assertion does not parse back: ${(error as Error).message}`, {cause: error})
  }

  return {assertion, text}
}

/** The signature block (76-column base64 lines, no final newline) for `content`. */
export function signContent(content: Uint8Array, key: SigningKey, time: Date): string {
  const unsigned = signaturePacket(content, time)
  return unsigned.block(sign('sha512', unsigned.signed, key.privateKey))
}

/** {@link signContent} with the RSA on libuv's thread pool. */
async function signContentAsync(content: Uint8Array, key: SigningKey, time: Date): Promise<string> {
  const unsigned = signaturePacket(content, time)
  const value = await new Promise<Buffer>((resolve, reject) => sign('sha512', unsigned.signed, key.privateKey, (error, result) => (error ? reject(error) : resolve(result))))
  return unsigned.block(value)
}

/** What the RSA signs for `content` at `time`, and how its value becomes the signature block. */
function signaturePacket(content: Uint8Array, time: Date): {signed: Buffer; block: (value: Buffer) => string} {
  const seconds = Math.floor(time.getTime() / 1000)
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > 0xff_ff_ff_ff) {
    throw new UserError('E_ASSERTION_INPUT', `cannot sign the assertion: the signature time ${String(time)} is outside OpenPGP's range (1970 to 2106)`, {hint: 'give a valid date'})
  }

  const creationTime = Buffer.concat([Uint8Array.of(5, SUBPACKET_CREATION_TIME), uint32(seconds)])
  const hashedPart = Buffer.concat([Uint8Array.of(4, SIGNATURE_BINARY_DOCUMENT, PUBLIC_KEY_ALGORITHM_RSA, HASH_SHA512), Uint8Array.of(creationTime.length >> 8, creationTime.length & 0xff), creationTime])
  const trailer = Buffer.concat([Uint8Array.of(4, 0xff), uint32(hashedPart.length)])
  const signed = Buffer.concat([content, hashedPart, trailer])
  const digest = createHash('sha512').update(signed).digest()
  const block = (value: Buffer) =>
    encodeV1(
      packet(
        TAG_SIGNATURE,
        Buffer.concat([
          hashedPart,
          Uint8Array.of(0, 0), // no unhashed subpackets
          digest.subarray(0, 2),
          mpi(value, value.length * 8),
        ]),
      ),
    )
  return {block, signed}
}
