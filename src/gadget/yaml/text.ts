/**
 * Bytes to text, the way go-yaml v2's reader (a port of libyaml's) accepts them: a UTF-8 or
 * UTF-16 BOM picks the encoding, invalid UTF-8 is an error, and so are control characters
 * other than tab, LF and CR.
 */

export interface DecodedText {
  /** The text; invalid UTF-8 sequences are replaced by U+FFFD so the rest can still be read. */
  text: string
  /** The first encoding error: go-yaml fails there if it reads that far. */
  invalid?: {message: string; offset: number; byteOffset: number}
  /** The bytes go-yaml reads (after any UTF-8 BOM). */
  bytes: Uint8Array
}

const utf8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true})
const lenientUtf8 = new TextDecoder('utf-8', {fatal: false, ignoreBOM: true})

export function decodeYamlBytes(bytes: Uint8Array): DecodedText {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return {bytes, text: decodeUtf16(bytes.subarray(2), 'utf-16le')}
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return {bytes, text: decodeUtf16(bytes.subarray(2), 'utf-16be')}
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes
  try {
    return {bytes: body, text: utf8.decode(body)}
  } catch {
    const problem = utf8Problem(body) ?? {at: 0, message: 'invalid leading UTF-8 octet'}
    const offset = lenientUtf8.decode(body.subarray(0, problem.at)).length
    return {bytes: body, invalid: {byteOffset: problem.at, message: problem.message, offset}, text: lenientUtf8.decode(body)}
  }
}

/** 1-based line and column (in characters) of `offset` in `text`. */
export function lineColumn(text: string, offset: number): {column: number; line: number} {
  let line = 1
  let lineStart = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++
    lineStart = i + 1
  }

  return {column: offset - lineStart + 1, line}
}

function decodeUtf16(bytes: Uint8Array, label: 'utf-16be' | 'utf-16le'): string {
  // libyaml replaces nothing: an odd trailing byte or a lone surrogate is an error, which the
  // control-character check below then reports as U+FFFD is allowed but the decoder is fatal.
  return new TextDecoder(label, {fatal: false, ignoreBOM: true}).decode(bytes)
}

/** The character allowed-set of go-yaml's reader (yaml_parser_update_buffer). */
export function firstDisallowedChar(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x20 && c <= 0x7e) continue
    if (c === 0x09 || c === 0x0a || c === 0x0d || c === 0x85) continue
    if (c >= 0xa0 && c <= 0xd7ff) continue
    if (c >= 0xe000 && c <= 0xfffd) continue
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++
        continue
      }
    }

    return i
  }

  return -1
}

/** Where go-yaml's reader first fails on UTF-8, and its message (readerc.go's checks, in order). */
function utf8Problem(bytes: Uint8Array): {at: number; message: string} | undefined {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]
    const width = (b & 0x80) === 0 ? 1 : (b & 0xe0) === 0xc0 ? 2 : (b & 0xf0) === 0xe0 ? 3 : (b & 0xf8) === 0xf0 ? 4 : 0
    if (width === 0) return {at: i, message: 'invalid leading UTF-8 octet'}
    if (i + width > bytes.length) return {at: i, message: 'incomplete UTF-8 octet sequence'}
    let value = width === 1 ? b : width === 2 ? b & 0x1f : width === 3 ? b & 0x0f : b & 0x07
    for (let k = 1; k < width; k++) {
      const c = bytes[i + k]
      // Reported at the start of the sequence: where the stray character is.
      if ((c & 0xc0) !== 0x80) return {at: i, message: 'invalid trailing UTF-8 octet'}
      value = (value << 6) | (c & 0x3f)
    }

    if ((width === 2 && value < 0x80) || (width === 3 && value < 0x800) || (width === 4 && value < 0x10000)) {
      return {at: i, message: 'invalid length of a UTF-8 sequence'}
    }

    if ((value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) return {at: i, message: 'invalid Unicode character'}
    i += width
  }

  return undefined
}
