/**
 * The part of Node's Buffer the engine-neutral code uses (from, alloc, byteLength, concat; toString
 * and from in utf8, latin1, hex, base64, base64url; equals; readUInt16/32), for QuickJS, which has
 * no Buffer and, in older builds, no TextEncoder. A Uint8Array subclass, so subarray() and slice()
 * return one too.
 */
type Encoding = 'ascii' | 'base64' | 'base64url' | 'binary' | 'hex' | 'latin1' | 'utf-8' | 'utf8'

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

export function utf8Encode(text: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i)
    if (c >= 0xd8_00 && c <= 0xdb_ff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc_00 && next <= 0xdf_ff) {
        c = 0x1_00_00 + ((c - 0xd8_00) << 10) + (next - 0xdc_00)
        i++
      }
    }

    if (c >= 0xd8_00 && c <= 0xdf_ff) c = 0xff_fd // a lone surrogate, as Node encodes it
    if (c < 0x80) out.push(c)
    else if (c < 0x8_00) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f))
    else if (c < 0x1_00_00) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f))
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f))
  }

  return Uint8Array.from(out)
}

/** UTF-8 to text; each invalid sequence becomes U+FFFD, as Node decodes. */
export function utf8Decode(bytes: Uint8Array): string {
  // The WHATWG decoder, as Node's: a bad sequence becomes one U+FFFD per maximal subpart, and the
  // byte that broke it starts the next character.
  let out = ''
  let needed = 0
  let seen = 0
  let code = 0
  let lower = 0x80
  let upper = 0xbf
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (needed === 0) {
      if (b < 0x80) out += String.fromCharCode(b)
      else if (b >= 0xc2 && b <= 0xdf) [needed, code] = [1, b & 0x1f]
      else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0
        if (b === 0xed) upper = 0x9f
        ;[needed, code] = [2, b & 0x0f]
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90
        if (b === 0xf4) upper = 0x8f
        ;[needed, code] = [3, b & 0x07]
      } else out += '\uFFFD'
      continue
    }

    if (b < lower || b > upper) {
      ;[needed, seen, code, lower, upper] = [0, 0, 0, 0x80, 0xbf]
      out += '\uFFFD'
      i--
      continue
    }

    ;[lower, upper] = [0x80, 0xbf]
    code = (code << 6) | (b & 0x3f)
    if (++seen === needed) {
      out += String.fromCodePoint(code)
      ;[needed, seen, code] = [0, 0, 0]
    }
  }

  return needed === 0 ? out : `${out}\uFFFD`
}

function base64Encode(bytes: Uint8Array, url: boolean): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0)
    out += BASE64[(n >> 18) & 63] + BASE64[(n >> 12) & 63]
    out += i + 1 < bytes.length ? BASE64[(n >> 6) & 63] : '='
    out += i + 2 < bytes.length ? BASE64[n & 63] : '='
  }

  return url ? out.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : out
}

/** Base64 or base64url, padded or not; as Node does, other characters are skipped and the first `=` ends it. */
function base64Decode(text: string): Uint8Array {
  const out: number[] = []
  let bits = 0
  let value = 0
  for (const char of text.replace(/-/g, '+').replace(/_/g, '/')) {
    if (char === '=') break
    const digit = BASE64.indexOf(char)
    if (digit === -1) continue
    value = (value << 6) | digit
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out.push((value >> bits) & 0xff)
    }
  }

  return Uint8Array.from(out)
}

export class PortableBuffer extends Uint8Array {
  static alloc(size: number): PortableBuffer {
    return new PortableBuffer(size)
  }

  static byteLength(text: string, encoding: Encoding = 'utf8'): number {
    return PortableBuffer.from(text, encoding).length
  }

  static concat(list: readonly Uint8Array[]): PortableBuffer {
    const out = new PortableBuffer(list.reduce((n, b) => n + b.length, 0))
    let at = 0
    for (const part of list) {
      out.set(part, at)
      at += part.length
    }

    return out
  }

  static override from(source: unknown, encodingOrOffset?: unknown, length?: number): PortableBuffer {
    if (typeof source === 'string') return PortableBuffer.fromBytes(encode(source, (encodingOrOffset as Encoding | undefined) ?? 'utf8'))
    if (source instanceof ArrayBuffer) return new PortableBuffer(source, (encodingOrOffset as number | undefined) ?? 0, length ?? source.byteLength - ((encodingOrOffset as number | undefined) ?? 0))
    return PortableBuffer.fromBytes(Uint8Array.from(source as ArrayLike<number>))
  }

  static isBuffer(value: unknown): value is PortableBuffer {
    return value instanceof PortableBuffer
  }

  private static fromBytes(bytes: Uint8Array): PortableBuffer {
    return new PortableBuffer(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length)
  }

  equals(other: Uint8Array): boolean {
    return this.length === other.length && this.every((b, i) => b === other[i])
  }

  readUInt16BE(at: number): number {
    return (this.check(at, 2)[at] << 8) | this[at + 1]
  }

  readUInt32BE(at: number): number {
    return ((this.check(at, 4)[at] << 24) | (this[at + 1] << 16) | (this[at + 2] << 8) | this[at + 3]) >>> 0
  }

  readUInt32LE(at: number): number {
    return ((this.check(at, 4)[at + 3] << 24) | (this[at + 2] << 16) | (this[at + 1] << 8) | this[at]) >>> 0
  }

  override toString(encoding: Encoding = 'utf8', start = 0, end = this.length): string {
    const bytes = this.subarray(start, end)
    switch (encoding) {
      case 'hex': {
        return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
      }

      case 'latin1':
      case 'binary': {
        return Array.from(bytes, (b) => String.fromCharCode(b)).join('')
      }

      case 'ascii': {
        return Array.from(bytes, (b) => String.fromCharCode(b & 0x7f)).join('')
      }

      case 'base64':
      case 'base64url': {
        return base64Encode(bytes, encoding === 'base64url')
      }

      default: {
        return utf8Decode(bytes)
      }
    }
  }

  private check(at: number, size: number): this {
    if (!Number.isInteger(at) || at < 0 || at + size > this.length) throw new RangeError(`offset ${at} is out of range`)
    return this
  }
}

function encode(text: string, encoding: Encoding): Uint8Array {
  switch (encoding) {
    case 'hex': {
      const out = new Uint8Array(Math.floor(text.length / 2))
      for (let i = 0; i < out.length; i++) {
        // Node stops at the first pair that is not two hex digits (parseInt would take "aG" as 0xa).
        const pair = text.slice(i * 2, i * 2 + 2)
        if (!/^[\da-f]{2}$/i.test(pair)) return out.subarray(0, i)
        out[i] = Number.parseInt(pair, 16)
      }

      return out
    }

    case 'latin1':
    case 'binary':
    case 'ascii': {
      return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff)
    }

    case 'base64':
    case 'base64url': {
      return base64Decode(text)
    }

    default: {
      return utf8Encode(text)
    }
  }
}
