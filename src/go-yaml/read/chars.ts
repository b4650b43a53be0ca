/**
 * The input side of the YAML reader: bytes or text to the characters the scanner reads, with the
 * checks go-yaml v2's reader makes and the way it makes them.
 *
 * go-yaml decodes its input 512 bytes at a time (counted from the first byte of the input, BOM
 * included) and checks every character of a block when it decodes it: invalid UTF-8 or UTF-16 and
 * characters outside YAML's printable set fail the whole read, even when the scanner never gets
 * to them. A block is decoded only when the scanner asks for a character past the ones it already
 * has, so a bad byte in a block go-yaml never needs is no error. The scanner therefore has to know
 * where each block's characters end, but only when something depends on it: a bad character, or
 * a U+FEFF (see `Prepared.feff`). Well-formed input without either is read untracked.
 */

/** Size of go-yaml's raw input buffer: what one read decodes. */
const CHUNK_BYTES = 512

export interface ReaderFault {
  /** libyaml's reader message. */
  message: string
  /** UTF-16 offset of the offending character in `Prepared.text`. */
  offset: number
  /**
   * The block whose decoding raises it; `chunkEnds.length` means the read that finds the end of
   * the input (an incomplete sequence there).
   */
  chunk: number
}

export interface Prepared {
  /** The characters, with any byte-order mark of a byte input removed. */
  text: string
  /** Where reading starts: 1 when a string input begins with U+FEFF (go-yaml skips that BOM). */
  start: number
  /**
   * For each 512-byte block, the UTF-16 offset just after the last character it completes.
   * Absent when nothing depends on how far the input is read.
   */
  chunkEnds?: number[]
  /** The first reader error, if the input has one anywhere. */
  fault?: ReaderFault
  /** The text is printable ASCII, tabs and line breaks only. */
  ascii: boolean
  /** The text holds surrogate pairs: columns and lengths must count code points, not UTF-16 units. */
  astral: boolean
  /**
   * The text holds U+FEFF past its start. go-yaml's scanner tests for a BOM at the start of its
   * decode buffer rather than at the current character, so a U+FEFF that happens to begin the
   * buffer makes it drop the first character of every line until the buffer is refilled.
   */
  feff: boolean
}

/**
 * Anything but tab, LF, CR and printable ASCII: one native pass over the text settles the usual
 * case (ASCII, nothing go-yaml's reader refuses) faster than a character loop would.
 */
const NOT_PLAIN_ASCII = /[^\t\n\r\x20-\x7e]/

const fatalUtf8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true})
const lenientUtf8 = new TextDecoder('utf-8', {fatal: false, ignoreBOM: true})

export function prepare(input: string | Uint8Array): Prepared {
  if (typeof input === 'string') return prepareText(input)
  if (input.length >= 2 && input[0] === 0xff && input[1] === 0xfe) return prepareUtf16(input, true)
  if (input.length >= 2 && input[0] === 0xfe && input[1] === 0xff) return prepareUtf16(input, false)
  const bom = input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf ? 3 : 0
  const body = bom === 0 ? input : input.subarray(bom)
  let text: string
  try {
    text = fatalUtf8.decode(body)
  } catch {
    return prepareBadUtf8(body, bom)
  }

  return finish(text, 0, bom, false)
}

/**
 * A string stands for its UTF-8 encoding. Lone surrogates cannot be encoded; UTF-8 encoders write
 * U+FFFD for them, and so does this (one unit for one unit, so offsets are kept).
 */
function prepareText(input: string): Prepared {
  let text = input
  if (!(text as unknown as {isWellFormed(): boolean}).isWellFormed()) text = (text as unknown as {toWellFormed(): string}).toWellFormed()
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0
  return finish(text, start, start === 1 ? 3 : 0, false)
}

/**
 * Well-formed text: looks for the first character go-yaml refuses, for astral characters and for
 * U+FEFF, and works out the block boundaries only when a fault or U+FEFF makes them matter.
 */
function finish(text: string, start: number, bomBytes: number, utf16: boolean): Prepared {
  if (!utf16 && !NOT_PLAIN_ASCII.test(text)) return {ascii: true, astral: false, feff: false, start, text}
  let astral = false
  let feff = false
  let bad = -1
  const n = text.length
  for (let i = start; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x20 && c < 0x7f) continue
    if (c === 0x0a || c === 0x09 || c === 0x0d) continue
    if (c < 0xa0) {
      if (c === 0x85) continue
      bad = i
      break
    }

    if (c < 0xd800) continue
    if (c < 0xe000) {
      // Well-formed here, so this is the high half of a pair.
      astral = true
      i++
      continue
    }

    if (c === 0xfeff) feff = true
    else if (c >= 0xfffe) {
      bad = i
      break
    }
  }

  if (bad === -1 && !feff && !utf16) return {ascii: false, astral, feff, start, text}
  const chunkEnds: number[] = []
  const width = utf16 ? utf16Width : utf8Width
  let byte = bomBytes
  let limit = CHUNK_BYTES
  let fault: ReaderFault | undefined
  for (let i = start; i < n;) {
    const c = text.codePointAt(i)!
    const units = c > 0xffff ? 2 : 1
    const w = width(c)
    while (byte + w > limit) {
      chunkEnds.push(i)
      limit += CHUNK_BYTES
    }

    if (i === bad) {
      fault = {chunk: chunkEnds.length, message: 'control characters are not allowed', offset: i}
      break
    }

    byte += w
    i += units
  }

  if (!fault) closeChunks(chunkEnds, byte, n)
  return {ascii: false, astral, chunkEnds, fault, feff, start, text}
}

/** Ends the block list: the last, partly filled block holds everything that is left. */
function closeChunks(chunkEnds: number[], totalBytes: number, textEnd: number): void {
  const blocks = Math.max(1, Math.ceil(totalBytes / CHUNK_BYTES))
  while (chunkEnds.length < blocks) chunkEnds.push(textEnd)
}

/**
 * Records a fault met by the decoder: every block before the one that raises it ends before the
 * faulty character. `block` -1 stands for the read that finds the end of the input.
 */
function faultAt(chunkEnds: number[], block: number, totalBytes: number, offset: number, message: string): ReaderFault {
  if (block === -1) {
    closeChunks(chunkEnds, totalBytes, offset)
    block = chunkEnds.length
  }

  while (chunkEnds.length < block) chunkEnds.push(offset)
  return {chunk: block, message, offset}
}

function utf8Width(c: number): number {
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4
}

function utf16Width(c: number): number {
  return c > 0xffff ? 4 : 2
}

function allowed(c: number): boolean {
  return (c >= 0x20 && c <= 0x7e) || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x85 || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff)
}

/**
 * UTF-8 that does not decode: walks it character by character as libyaml's decoder does (leading
 * octet, completeness, trailing octets, overlong forms, range, printable set) to find the first
 * error and the block whose decoding meets it. A sequence cut by a block boundary is only checked
 * once the next block is in, and one cut by the end of the input when the end is found.
 */
function prepareBadUtf8(body: Uint8Array, bom: number): Prepared {
  const text = lenientUtf8.decode(body)
  const chunkEnds: number[] = []
  let limit = CHUNK_BYTES
  let units = 0
  let astral = false
  let feff = false
  let fault: ReaderFault | undefined
  const n = body.length
  const blockOf = (lastByte: number) => Math.floor((bom + lastByte) / CHUNK_BYTES)
  for (let i = 0; i < n;) {
    const b = body[i]
    const w = b < 0x80 ? 1 : (b & 0xe0) === 0xc0 ? 2 : (b & 0xf0) === 0xe0 ? 3 : (b & 0xf8) === 0xf0 ? 4 : 0
    let message: string | undefined
    let block = 0
    let value = 0
    if (w === 0) {
      message = 'invalid leading UTF-8 octet'
      block = blockOf(i)
    } else if (i + w > n) {
      message = 'incomplete UTF-8 octet sequence'
      block = -1
    } else {
      block = blockOf(i + w - 1)
      value = w === 1 ? b : w === 2 ? b & 0x1f : w === 3 ? b & 0x0f : b & 0x07
      for (let k = 1; k < w; k++) {
        const t = body[i + k]
        if ((t & 0xc0) !== 0x80) {
          message = 'invalid trailing UTF-8 octet'
          break
        }

        value = (value << 6) + (t & 0x3f)
      }

      if (message === undefined) {
        if ((w === 2 && value < 0x80) || (w === 3 && value < 0x800) || (w === 4 && value < 0x10000)) message = 'invalid length of a UTF-8 sequence'
        else if ((value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) message = 'invalid Unicode character'
        else if (!allowed(value)) message = 'control characters are not allowed'
      }
    }

    if (message !== undefined) {
      fault = faultAt(chunkEnds, block, bom + n, units, message)
      break
    }

    while (bom + i + w > limit) {
      chunkEnds.push(units)
      limit += CHUNK_BYTES
    }

    if (value > 0xffff) astral = true
    if (value === 0xfeff) feff = true
    units += value > 0xffff ? 2 : 1
    i += w
  }

  return {ascii: false, astral, chunkEnds, fault, feff, start: 0, text}
}

/**
 * UTF-16 with a BOM: always tracked (rare, and every check has its own way of waiting for the
 * bytes it needs).
 */
function prepareUtf16(bytes: Uint8Array, littleEndian: boolean): Prepared {
  const body = bytes.subarray(2)
  const text = new TextDecoder(littleEndian ? 'utf-16le' : 'utf-16be', {fatal: false, ignoreBOM: true}).decode(body)
  const lo = littleEndian ? 0 : 1
  const hi = 1 - lo
  const chunkEnds: number[] = []
  let limit = CHUNK_BYTES
  let units = 0
  let astral = false
  let feff = false
  let fault: ReaderFault | undefined
  const n = body.length
  const blockOf = (lastByte: number) => Math.floor((2 + lastByte) / CHUNK_BYTES)
  for (let i = 0; i < n;) {
    let message: string | undefined
    let block = -1
    let w = 2
    let value = 0
    if (i + 2 > n) {
      message = 'incomplete UTF-16 character'
    } else {
      value = body[i + lo] + (body[i + hi] << 8)
      if ((value & 0xfc00) === 0xdc00) {
        message = 'unexpected low surrogate area'
        block = blockOf(i + 1)
      } else if ((value & 0xfc00) === 0xd800) {
        w = 4
        if (i + 4 > n) {
          message = 'incomplete UTF-16 surrogate pair'
        } else {
          const low = body[i + 2 + lo] + (body[i + 2 + hi] << 8)
          block = blockOf(i + 3)
          if ((low & 0xfc00) === 0xdc00) value = 0x10000 + ((value & 0x3ff) << 10) + (low & 0x3ff)
          else message = 'expected low surrogate area'
        }
      } else {
        block = blockOf(i + 1)
      }

      if (message === undefined && !allowed(value)) message = 'control characters are not allowed'
    }

    if (message !== undefined) {
      fault = faultAt(chunkEnds, block, bytes.length, units, message)
      break
    }

    while (2 + i + w > limit) {
      chunkEnds.push(units)
      limit += CHUNK_BYTES
    }

    if (value > 0xffff) astral = true
    if (value === 0xfeff) feff = true
    units += value > 0xffff ? 2 : 1
    i += w
  }

  if (!fault) closeChunks(chunkEnds, bytes.length, text.length)
  return {ascii: false, astral, chunkEnds, fault, feff, start: 0, text}
}
