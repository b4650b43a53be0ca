/**
 * Reads snapd assertions (model, serial-request, serial, account-key, …) from their wire format,
 * the way snapd's `asserts` package decodes them (reference: registration-protocol.md §3):
 *
 *     HEADERS "\n\n" [BODY "\n\n"] SIGNATURE "\n"
 *
 * - Headers end at the first empty line. A header is `name: value`, or `name:` followed by a
 *   4-space indented multi-line text, a list (`  - item`, nested items one level deeper) or a map
 *   (`  key: value`). Every scalar is a string.
 * - The body is exactly `body-length` bytes of UTF-8 (no body when the header is absent or 0).
 * - The signature is base64 (0x01 + an OpenPGP signature packet) over the content: every byte
 *   before the empty line that precedes the signature.
 * - A stream holds assertions separated by exactly one empty line.
 *
 * Parsing never re-serializes: `content` is the exact byte range the signature covers.
 */
import {isUtf8} from 'node:buffer'

import {type ErrorCode, UserError} from '../errors.js'
import {lineStartsOfBytes, position} from '../support/line-index.js'

/** A header value: snapd has no numbers or booleans, only strings, lists and maps. */
export type HeaderValue = HeaderMap | HeaderValue[] | string
export interface HeaderMap {
  [name: string]: HeaderValue
}

export interface Assertion {
  /** The `type` header (`model`, `serial`, `serial-request`, …). */
  type: string
  /** Every header, in the order of the text. */
  headers: HeaderMap
  /** The body, '' when there is none. */
  body: string
  /** The signature block as written: base64 lines joined by "\n", without the final newline. */
  signature: string
  /** The exact bytes the signature covers (headers, plus the empty line and body when present). */
  content: Uint8Array
  /** Byte offset and 1-based line where the assertion starts in the input. */
  offset: number
  line: number
  /** 1-based line where the body starts in the input; 0 when there is no body. */
  bodyLine: number
}

export interface ParseAssertionOptions {
  /** The file name errors point at. */
  file?: string
}

/** snapd's decoder limits (asserts.MaxHeadersSize, MaxBodySize, MaxSignatureSize). */
export const ASSERTION_LIMITS = {
  body: 2 * 1024 * 1024,
  headers: 128 * 1024,
  signature: 128 * 1024,
} as const

const HEADER_NAME = /^[a-z](?:-?[a-z0-9])*$/
const SHA3_384_ID = /^[A-Za-z0-9_-]{64}$/
const SIGNATURE_TEXT = /^[A-Za-z0-9+/=\n]+$/
const NL = 0x0a
const utf8 = new TextDecoder('utf-8', {fatal: true})

/** Parses a stream of assertions (one or more, separated by one empty line). */
export function parseAssertions(input: string | Uint8Array, options: ParseAssertionOptions = {}): Assertion[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  const reader = new StreamReader(bytes, options.file)
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw reader.error('E_ASSERTION_ENCODING', 'the text starts with a UTF-8 byte order mark', 0, {
      hint: 'save the file without a byte order mark',
    })
  }

  const assertions: Assertion[] = []
  while (reader.pos < bytes.length) assertions.push(reader.next())
  if (assertions.length === 0) {
    throw new UserError('E_ASSERTION_EMPTY', 'no assertion found: the input is empty', {file: options.file, hint: 'give the text of an assertion'})
  }

  return assertions
}

/** Parses text that must hold exactly one assertion. */
export function parseAssertion(input: string | Uint8Array, options: ParseAssertionOptions = {}): Assertion {
  const all = parseAssertions(input, options)
  if (all.length !== 1) {
    throw new UserError('E_ASSERTION_COUNT', `expected one assertion, found ${all.length}`, {
      file: options.file,
      hint: 'pass a single assertion, or parse the text as a stream',
      line: all[1].line,
    })
  }

  return all[0]
}

/** A header that must be a single-line or multi-line string; undefined when absent. */
export function headerText(assertion: Assertion, name: string, options: ParseAssertionOptions = {}): string | undefined {
  const value = assertion.headers[name]
  if (value === undefined || typeof value === 'string') return value
  throw new UserError('E_ASSERTION_HEADER', `header "${name}" of the ${assertion.type} assertion must be a string, not a ${Array.isArray(value) ? 'list' : 'map'}`, {
    file: options.file,
    line: assertion.line,
  })
}

interface ErrorOptions {
  hint?: string
  column?: number
}

class StreamReader {
  pos = 0
  // LF only: a CR is an error of its own here (Windows line endings), never a line break.
  private readonly lineStarts: number[]

  constructor(
    private readonly bytes: Buffer,
    private readonly file: string | undefined,
  ) {
    this.lineStarts = lineStartsOfBytes(bytes)
  }

  /** 1-based line of a byte offset. */
  lineOf(offset: number): number {
    return position(this.lineStarts, offset).line
  }

  /** An error at a byte offset: its line, and its column in bytes unless `options` gives one. */
  error(code: ErrorCode, message: string, offset: number, options: ErrorOptions = {}): UserError {
    const at = position(this.lineStarts, offset)
    return new UserError(code, message, {
      column: options.column ?? at.column,
      file: this.file,
      hint: options.hint,
      line: at.line,
    })
  }

  next(): Assertion {
    const {bytes} = this
    const start = this.pos
    const line = this.lineOf(start)
    if (bytes[start] === NL) {
      throw this.error('E_ASSERTION_SYNTAX', 'unexpected empty line: assertions in a stream are separated by exactly one empty line', start, {
        hint: 'remove the extra empty line',
      })
    }

    const firstNewline = bytes.indexOf(NL, start)
    if (firstNewline > start && bytes[firstNewline - 1] === 0x0d) {
      throw this.error('E_ASSERTION_ENCODING', 'the text has Windows line endings (CR LF)', firstNewline - 1, {
        hint: 'assertions use LF line endings only; convert the file (e.g. with dos2unix)',
      })
    }

    // 1. Headers, up to the first empty line.
    const headEnd = bytes.indexOf('\n\n', start)
    if (headEnd === -1) {
      throw this.error('E_ASSERTION_SYNTAX', 'the headers are not followed by an empty line and a signature', start, {
        hint: 'an assertion is headers, an empty line, [body and an empty line,] then its signature',
      })
    }

    if (headEnd - start > ASSERTION_LIMITS.headers) {
      throw this.error('E_ASSERTION_TOO_LARGE', `the headers are larger than snapd's limit of ${ASSERTION_LIMITS.headers} bytes`, start)
    }

    const headText = this.text(start, headEnd, 'the headers are')
    const cr = headText.indexOf('\r')
    if (cr !== -1) {
      throw this.error('E_ASSERTION_ENCODING', 'the headers contain a carriage return (Windows line endings)', start + Buffer.byteLength(headText.slice(0, cr)), {
        hint: 'assertions use LF line endings only; convert the file (e.g. with dos2unix)',
      })
    }

    const headers = new HeaderParser(headText, (message, lineIndex, column, hint) => new UserError('E_ASSERTION_SYNTAX', message, {column, file: this.file, hint, line: line + lineIndex})).parse()
    const type = this.requireString(headers, 'type', line)
    this.checkKeyId(headers, line)

    // 2. Body: exactly body-length bytes, then an empty line.
    const bodyLength = this.bodyLength(headers, line)
    const bodyStart = headEnd + 2
    let contentEnd = headEnd
    let signatureStart = bodyStart
    let body = ''
    if (bodyLength > 0) {
      const bodyEnd = bodyStart + bodyLength
      if (bodyEnd > bytes.length) {
        throw this.error('E_ASSERTION_BODY_LENGTH', `body-length is ${bodyLength} but only ${bytes.length - bodyStart} bytes follow the headers`, bodyStart, {
          hint: 'body-length counts the bytes of the body, its newlines included',
        })
      }

      if (bytes[bodyEnd] !== NL || bytes[bodyEnd + 1] !== NL) {
        throw this.error('E_ASSERTION_BODY_LENGTH', `the body does not end after body-length (${bodyLength}) bytes: an empty line must follow it`, Math.min(bodyEnd, bytes.length - 1), {
          hint: 'body-length counts the bytes of the body, its newlines included; the signature follows one empty line',
        })
      }

      body = this.text(bodyStart, bodyEnd, 'the body is')
      contentEnd = bodyEnd
      signatureStart = bodyEnd + 2
    }

    // 3. Signature, up to the empty line before the next assertion or the end.
    const separator = bytes.indexOf('\n\n', signatureStart)
    const signatureEnd = separator === -1 ? bytes.length : separator
    this.pos = separator === -1 ? bytes.length : separator + 2
    if (signatureEnd - signatureStart > ASSERTION_LIMITS.signature) {
      throw this.error('E_ASSERTION_TOO_LARGE', `the signature is larger than snapd's limit of ${ASSERTION_LIMITS.signature} bytes`, signatureStart)
    }

    if (bytes[signatureStart] === NL) {
      // snapd would read on and fail the signature check; a wrong body-length is the usual cause.
      throw this.error(
        bodyLength > 0 ? 'E_ASSERTION_BODY_LENGTH' : 'E_ASSERTION_SYNTAX',
        bodyLength > 0 ? `more than one empty line follows the body: body-length (${bodyLength}) looks too small` : 'more than one empty line follows the headers',
        signatureStart,
        {hint: bodyLength > 0 ? 'body-length counts the bytes of the body, its final newline included' : 'one empty line separates the headers from the signature'},
      )
    }

    let signature = bytes.toString('latin1', signatureStart, signatureEnd)
    if (signature.endsWith('\n')) signature = signature.slice(0, -1)
    this.checkSignature(signature, signatureStart, bodyLength)

    return {
      body,
      bodyLine: bodyLength > 0 ? this.lineOf(bodyStart) : 0,
      content: Uint8Array.prototype.slice.call(bytes, start, contentEnd),
      headers,
      line,
      offset: start,
      signature,
      type,
    }
  }

  private text(from: number, to: number, what: string): string {
    try {
      return utf8.decode(this.bytes.subarray(from, to))
    } catch {
      throw this.error('E_ASSERTION_ENCODING', `${what} not valid UTF-8`, firstInvalidLine(this.bytes, from, to), {
        column: 1,
        hint: 'assertions are UTF-8 text',
      })
    }
  }

  private requireString(headers: HeaderMap, name: string, line: number): string {
    const value = headers[name]
    if (typeof value === 'string' && value !== '') return value
    throw new UserError('E_ASSERTION_HEADER', value === undefined ? `the "${name}" header is missing` : `the "${name}" header must be a non-empty string`, {
      file: this.file,
      hint: `every assertion starts with "type: <type>" and ends its headers with "sign-key-sha3-384: <key id>"`,
      line,
    })
  }

  private checkKeyId(headers: HeaderMap, line: number): void {
    const id = this.requireString(headers, 'sign-key-sha3-384', line)
    if (!SHA3_384_ID.test(id)) {
      throw new UserError('E_ASSERTION_HEADER', `"sign-key-sha3-384" is not a key id (64 characters of unpadded base64url): ${JSON.stringify(id)}`, {
        file: this.file,
        line,
      })
    }
  }

  private bodyLength(headers: HeaderMap, line: number): number {
    const value = headers['body-length']
    if (value === undefined) return 0
    if (typeof value !== 'string' || !/^(?:0|[1-9][0-9]*)$/.test(value)) {
      throw new UserError('E_ASSERTION_BODY_LENGTH', `"body-length" must be a decimal number of bytes without leading zeros, not ${JSON.stringify(value)}`, {
        file: this.file,
        line,
      })
    }

    const length = Number(value)
    if (length > ASSERTION_LIMITS.body) {
      throw new UserError('E_ASSERTION_TOO_LARGE', `body-length ${length} is larger than snapd's limit of ${ASSERTION_LIMITS.body} bytes`, {file: this.file, line})
    }

    return length
  }

  private checkSignature(signature: string, offset: number, bodyLength: number): void {
    if (signature === '') {
      throw this.error('E_ASSERTION_SIGNATURE', 'the assertion has no signature', offset, {hint: 'the signature follows the empty line after the headers (or after the body)'})
    }

    const flat = signature.replaceAll('\n', '')
    if (!SIGNATURE_TEXT.test(signature) || flat.length % 4 !== 0 || !/^[^=]*={0,2}$/.test(flat)) {
      const looksLikeBody = bodyLength === 0 && /^[^\n]*:/.test(signature)
      throw this.error('E_ASSERTION_SIGNATURE', 'the signature block is not base64', offset, {
        hint: looksLikeBody
          ? 'the text after the headers looks like a body: a body needs a "body-length" header with its size in bytes'
          : 'the signature is the base64 text snapd wrote after the last empty line; it must not be edited',
      })
    }

    const version = Buffer.from(flat.slice(0, 4), 'base64')[0]
    if (version !== 0x01) {
      throw this.error('E_ASSERTION_SIGNATURE', `unsupported signature format version ${version}`, offset, {hint: 'snapd signatures start with the format byte 0x01 ("A" in base64)'})
    }
  }
}

type HeaderErrorFactory = (message: string, lineIndex: number, column: number, hint?: string) => UserError

const MULTILINE_INDENT = '    '
const NESTING_INDENT = '  '

/** snapd's header grammar (asserts/headers.go), with the failing line and column in every error. */
class HeaderParser {
  private readonly lines: string[]

  constructor(
    text: string,
    private readonly fail: HeaderErrorFactory,
  ) {
    this.lines = text.split('\n')
  }

  parse(): HeaderMap {
    const headers: HeaderMap = {}
    let i = 0
    while (i < this.lines.length) {
      const entry = this.lines[i]
      const colon = entry.indexOf(':')
      if (colon === -1) throw this.fail(`header line without "name:": ${JSON.stringify(entry)}`, i, 1, this.indentHint(entry))
      const name = entry.slice(0, colon)
      if (!HEADER_NAME.test(name)) {
        throw this.fail(`invalid header name ${JSON.stringify(name)}`, i, 1, 'header names are lower-case letters, digits and single dashes, starting with a letter')
      }

      if (Object.hasOwn(headers, name)) throw this.fail(`repeated header "${name}"`, i, 1)
      const [value, after] = this.entry(colon + 1, i, 0)
      headers[name] = value
      i = after
    }

    return headers
  }

  /** The value introduced at `lines[first]`, whose text before the value is `consumed` long. */
  private entry(consumed: number, first: number, indent: number): [HeaderValue, number] {
    const entry = this.lines[first]
    if (consumed === entry.length) {
      const nested = ' '.repeat(indent) + NESTING_INDENT
      const next = this.lines[first + 1]
      if (next !== undefined && next.startsWith(nested)) {
        const rest = next.slice(nested.length)
        if (rest.startsWith('-')) return this.list(first + 1, indent)
        if (rest.length > 0 && rest[0] !== ' ') return this.map(first + 1, indent)
      }

      return this.multiline(first + 1, indent)
    }

    if (entry[consumed] !== ' ') {
      throw this.fail(`expected a space after ":" (or a line break for a multi-line value): ${JSON.stringify(entry)}`, first, consumed + 1)
    }

    return [entry.slice(consumed + 1), first + 1]
  }

  private multiline(first: number, indent: number): [string, number] {
    const prefix = ' '.repeat(indent) + MULTILINE_INDENT
    let end = first
    while (end < this.lines.length && this.lines[end].startsWith(prefix)) end++
    if (end === first) {
      const found = first < this.lines.length ? JSON.stringify(this.lines[first]) : 'the end of the headers'
      throw this.fail(
        `a multi-line value must be indented by ${prefix.length} spaces, found ${found}`,
        Math.min(first, this.lines.length - 1),
        1,
        `after "${this.lines[first - 1].trim()}" give the value on the same line ("name: value") or on lines indented by ${prefix.length} spaces`,
      )
    }

    return [
      this.lines
        .slice(first, end)
        .map((l) => l.slice(prefix.length))
        .join('\n'),
      end,
    ]
  }

  private list(first: number, indent: number): [HeaderValue[], number] {
    const prefix = ' '.repeat(indent) + NESTING_INDENT + '-'
    const items: HeaderValue[] = []
    let i = first
    while (i < this.lines.length && this.lines[i].startsWith(prefix)) {
      const [value, after] = this.entry(prefix.length, i, indent + NESTING_INDENT.length)
      items.push(value)
      i = after
    }

    return [items, i]
  }

  private map(first: number, indent: number): [HeaderMap, number] {
    const prefix = ' '.repeat(indent) + NESTING_INDENT
    const map: HeaderMap = {}
    let i = first
    while (i < this.lines.length && this.lines[i].startsWith(prefix)) {
      const entry = this.lines[i].slice(prefix.length)
      const colon = entry.indexOf(':')
      if (colon === -1) throw this.fail(`map entry without "key:": ${JSON.stringify(entry)}`, i, prefix.length + 1, this.indentHint(entry))
      const key = entry.slice(0, colon)
      if (!HEADER_NAME.test(key)) throw this.fail(`invalid map key ${JSON.stringify(key)}`, i, prefix.length + 1)
      if (Object.hasOwn(map, key)) throw this.fail(`repeated map key "${key}"`, i, prefix.length + 1)
      const [value, after] = this.entry(prefix.length + colon + 1, i, prefix.length)
      map[key] = value
      i = after
    }

    return [map, i]
  }

  private indentHint(entry: string): string | undefined {
    return /^ +/.test(entry) ? 'check the indentation: multi-line text is indented by 4 spaces, list items ("- ") and map entries by 2 per level' : undefined
  }
}

/** Offset of the start of the first line in [from, to) that is not valid UTF-8. */
function firstInvalidLine(bytes: Buffer, from: number, to: number): number {
  let lineStart = from
  while (lineStart < to) {
    const newline = bytes.indexOf(NL, lineStart)
    const lineEnd = newline === -1 || newline > to ? to : newline
    if (!isUtf8(bytes.subarray(lineStart, lineEnd))) return lineStart
    lineStart = lineEnd + 1
  }

  return from
}
