/**
 * The few OpenPGP pieces snapd's assertion format is made of (RFC 4880), written byte for byte as
 * snapd 2.57.6 writes them through golang.org/x/crypto/openpgp/packet, and snapd's "v1" wrapping:
 * base64 of the byte 0x01 followed by one packet, in lines of 76 characters (asserts/crypto.go).
 * Reading: packet headers in both formats and the fields inside packets, for snapd's keys and
 * signatures and for the keys GnuPG exports.
 */
import {UserError} from '../errors.js'

const FORMAT_V1 = 0x01
export const TAG_SIGNATURE = 2
export const TAG_PUBLIC_KEY = 6
export const PUBLIC_KEY_ALGORITHM_RSA = 1
export const HASH_SHA512 = 10
export const SIGNATURE_BINARY_DOCUMENT = 0x00
export const SUBPACKET_CREATION_TIME = 2
/** snapd fixes every key's creation time, so a key id depends only on the RSA numbers. */
export const KEY_CREATION_TIME = Date.UTC(2016, 0, 1) / 1000

const LINE_LENGTH = 76

/** base64 of 0x01 + `packet`, in lines of 76 characters joined by "\n", no final newline (encodeV1). */
export function encodeV1(packet: Uint8Array): string {
  const flat = Buffer.concat([Uint8Array.of(FORMAT_V1), packet]).toString('base64')
  const lines: string[] = []
  for (let offset = 0; offset < flat.length; offset += LINE_LENGTH) lines.push(flat.slice(offset, offset + LINE_LENGTH))
  return lines.join('\n')
}

/** The bytes of a v1 text (base64, any line breaks), with the 0x01 checked; `what` names it in errors. */
export function decodeV1(text: string, what: string): Buffer {
  const flat = text.replaceAll(/\s+/g, '')
  if (flat === '' || flat.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(flat)) {
    throw new UserError('E_ASSERTION_KEY', `${what} is not base64`, {hint: 'give the base64 text exactly as snapd wrote it'})
  }

  const bytes = Buffer.from(flat, 'base64')
  if (bytes[0] !== FORMAT_V1) throw new UserError('E_ASSERTION_KEY', `${what} has unsupported format version ${bytes[0]}`, {hint: 'snapd encodings start with the byte 0x01'})
  return bytes
}

/** A new-format packet: tag byte, then the length in 1, 2 or 5 bytes (x/crypto's serializeHeader). */
export function packet(tag: number, body: Uint8Array): Buffer {
  const length = body.length
  let header: Buffer
  if (length < 192) {
    header = Buffer.from([0xc0 | tag, length])
  } else if (length < 8384) {
    header = Buffer.from([0xc0 | tag, 192 + ((length - 192) >> 8), (length - 192) & 0xff])
  } else {
    header = Buffer.alloc(6)
    header[0] = 0xc0 | tag
    header[1] = 0xff
    header.writeUInt32BE(length, 2)
  }

  return Buffer.concat([header, body])
}

/**
 * A multiprecision integer: its bit count, then the bytes. `bitLength` defaults to the number's
 * own (leading zero bytes dropped); a signature passes 8 × its byte length, as x/crypto does.
 */
export function mpi(bytes: Uint8Array, bitLength?: number): Buffer {
  let start = 0
  if (bitLength === undefined) {
    while (start < bytes.length && bytes[start] === 0) start++
    bitLength = start === bytes.length ? 0 : (bytes.length - start - 1) * 8 + 32 - Math.clz32(bytes[start])
  }

  const out = Buffer.alloc(2 + bytes.length - start)
  out.writeUInt16BE(bitLength, 0)
  out.set(bytes.subarray(start), 2)
  return out
}

export function uint32(value: number): Buffer {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(value, 0)
  return out
}

/** Says why OpenPGP bytes cannot be read; the caller words the error (what was being read, the hint). */
export type OpenPgpFailure = (why: string) => UserError

/** One packet: its tag, its body, and where its header starts in the bytes it was read from. */
export interface OpenPgpPacket {
  tag: number
  body: Buffer
  offset: number
}

/** Reads OpenPGP fields in order; running past the end is `fail('truncated')`. */
export class OpenPgpCursor {
  offset = 0

  constructor(
    readonly bytes: Buffer,
    private readonly fail: OpenPgpFailure,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.offset
  }

  take(count: number): Buffer {
    if (this.offset + count > this.bytes.length) throw this.fail('truncated')
    const part = this.bytes.subarray(this.offset, this.offset + count)
    this.offset += count
    return part
  }

  skip(count: number): void {
    this.take(count)
  }

  u8(): number {
    return this.take(1)[0]
  }

  u16(): number {
    return this.take(2).readUInt16BE(0)
  }

  u32(): number {
    return this.take(4).readUInt32BE(0)
  }

  /** A multiprecision integer: bit count, then the big-endian bytes. */
  mpi(): Buffer {
    const bits = this.u16()
    return this.take((bits + 7) >> 3)
  }

  /**
   * The packet at the cursor (RFC 4880 §4.2): old format (lengths of 1, 2 or 4 bytes) or new
   * format (1, 2 or 5 bytes). Partial and indeterminate lengths are refused: they are for streamed
   * data, never for keys or signatures.
   */
  packet(): OpenPgpPacket {
    const offset = this.offset
    const first = this.u8()
    if ((first & 0x80) === 0) throw this.fail('not an OpenPGP packet')
    let tag: number
    let length: number
    if (first & 0x40) {
      tag = first & 0x3f
      const l0 = this.u8()
      if (l0 < 192) length = l0
      else if (l0 < 224) length = ((l0 - 192) << 8) + this.u8() + 192
      else if (l0 === 255) length = this.u32()
      else throw this.fail('partial packet lengths are not supported')
    } else {
      tag = (first >> 2) & 0x0f
      const lengthType = first & 0x03
      if (lengthType === 0) length = this.u8()
      else if (lengthType === 1) length = this.u16()
      else if (lengthType === 2) length = this.u32()
      else throw this.fail('indeterminate packet lengths are not supported')
    }

    return {body: this.take(length), offset, tag}
  }
}
