/**
 * YAML 1.1 scanner with libyaml's acceptance, as go-yaml v2 (2.4) has it: the text becomes a queue
 * of tokens the parser pulls one at a time. The rules that make libyaml what it is live here:
 *
 * - Simple keys. A scalar, alias, anchor, tag or flow-collection start may turn out to be a mapping
 *   key; that is only known when a ':' follows on the same line, within 1024 characters. Until
 *   then the token is held back from the parser, and when the ':' comes a KEY token (and in block
 *   context a BLOCK-MAPPING-START) is slotted in before it. go-yaml tracks the candidates by
 *   token number, with a few consequences of its own that are reproduced (see `fetchMore`).
 * - Indentation. Block collections open when a key or '-' sits right of the current indentation
 *   and close (BLOCK-END) when a token starts left of it.
 * - Whitespace. Tabs may separate tokens but never indent; where the scanner skips space depends
 *   on the context, and that decides which tab is an error and which message it gets.
 * - Reading. go-yaml decodes 512-byte blocks on demand, and only a block it decodes can fail.
 *   `need(n)` stands wherever go-yaml asks for n characters ahead, so the blocks decoded are the
 *   ones go-yaml decodes (tracked only when the input has something that depends on it).
 *
 * Positions are UTF-16 offsets into the text. libyaml counts columns and the simple-key distance
 * in characters; `col` and `chars` convert when the text has astral characters.
 */
import type {Prepared, ReaderFault} from './chars.js'

export const T_STREAM_START = 1
export const T_STREAM_END = 2
export const T_VERSION_DIRECTIVE = 3
export const T_TAG_DIRECTIVE = 4
export const T_DOCUMENT_START = 5
export const T_DOCUMENT_END = 6
export const T_BLOCK_SEQUENCE_START = 7
export const T_BLOCK_MAPPING_START = 8
export const T_BLOCK_END = 9
export const T_FLOW_SEQUENCE_START = 10
export const T_FLOW_SEQUENCE_END = 11
export const T_FLOW_MAPPING_START = 12
export const T_FLOW_MAPPING_END = 13
export const T_BLOCK_ENTRY = 14
export const T_FLOW_ENTRY = 15
export const T_KEY = 16
export const T_VALUE = 17
export const T_ALIAS = 18
export const T_ANCHOR = 19
export const T_TAG = 20
export const T_SCALAR = 21

export const STYLE_PLAIN = 1
export const STYLE_SINGLE = 2
export const STYLE_DOUBLE = 3
export const STYLE_LITERAL = 4
export const STYLE_FOLDED = 5

/** go-yaml's limit on flow nesting and on the indentation stack. */
export const MAX_DEPTH = 10_000

export class Token {
  constructor(
    public type: number,
    public start: number,
    public end: number,
    /** Line (0-based) of `start`. */
    public line: number,
    /** Scalar value; anchor or alias name; tag or %TAG handle. */
    public value = '',
    /** Scalar style; %YAML major version. */
    public style = 0,
    /** Tag suffix; %TAG prefix. */
    public suffix = '',
    /** %YAML minor version. */
    public minor = 0,
  ) {}
}

/** What went wrong, where, and the line go-yaml names in its message. */
export class YamlFault {
  constructor(
    public message: string,
    public offset: number,
    public goLine: number,
  ) {}
}

/**
 * A scanner error: go-yaml prints the 0-based line of the position plus one, or no line when that
 * position is on the first line (the context mark it falls back to is never later).
 */
function scanFault(message: string, offset: number, line: number): YamlFault {
  return new YamlFault(message, offset, line === 0 ? 0 : line + 1)
}

interface SimpleKey {
  possible: boolean
  required: boolean
  tokenNumber: number
  pos: number
  line: number
  col: number
}

/* Character classes, on UTF-16 code units (the text ends in NULs). */
const isBreak = (c: number) => c === 0x0a || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029
const isBlank = (c: number) => c === 0x20 || c === 0x09
const isBreakZ = (c: number) => c === 0x0a || c === 0x0d || c === 0 || c === 0x85 || c === 0x2028 || c === 0x2029
const isBlankZ = (c: number) => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0 || c === 0x85 || c === 0x2028 || c === 0x2029
const isAlpha = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2d
const isDigit = (c: number) => c >= 0x30 && c <= 0x39
const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
const hexValue = (c: number) => (c <= 0x39 ? c - 0x30 : c <= 0x46 ? c - 0x37 : c - 0x57)

/** Characters a tag URI may hold (besides letters, digits, '_' and '-'). */
const URI_EXTRA = new Uint8Array(128)
for (const ch of ";/?:@&=+$,.!~*'()[]%") URI_EXTRA[ch.charCodeAt(0)] = 1
const isUriChar = (c: number) => isAlpha(c) || (c < 128 && URI_EXTRA[c] === 1)

/** Characters that cannot start a plain scalar (and blanks/breaks). */
const INDICATOR = new Uint8Array(128)
for (const ch of "-?:,[]{}#&*!|>'\"%@`") INDICATOR[ch.charCodeAt(0)] = 1

/** Padding after the text: reads past the end see NUL, as go-yaml's buffer does. */
const PAD = '\0'.repeat(16)

const utf8 = new TextDecoder('utf-8', {fatal: false})

export class Scanner {
  private readonly src: string
  private readonly end: number
  private readonly astral: boolean

  pos: number
  line = 0
  private lineStart: number

  // Reader emulation (see chars.ts). `gate` is the offset past which a `need` must look closer:
  // Infinity when untracked.
  private gate = Infinity
  private avail = 0
  private chunk = -1
  private atEof = false
  private readonly chunkEnds: number[] | undefined
  private readonly fault: ReaderFault | undefined
  private readonly feff: boolean
  /** go-yaml's misplaced BOM test currently succeeds (the decode buffer starts with U+FEFF). */
  private bomAtBufferStart = false

  private flowLevel = 0
  private indent = -1
  private readonly indents: number[] = []
  private simpleKeyAllowed = false
  private readonly keys: SimpleKey[] = []
  /** Token number → index in `keys` of the candidate saved for it; -1 once removed. */
  private readonly keyByToken: number[] = []

  private queue: Token[] = []
  private head = 0
  /** Tokens handed to the parser so far (go-yaml's tokens_parsed). */
  private parsed = 0
  private available = false
  private started = false
  streamEndProduced = false

  constructor(input: Prepared) {
    this.src = input.text + PAD
    this.end = input.text.length
    this.astral = input.astral
    this.pos = input.start
    this.lineStart = input.start
    this.chunkEnds = input.chunkEnds
    this.fault = input.fault
    this.feff = input.feff
    if (input.chunkEnds) {
      this.avail = input.start
      this.gate = input.start
    }
  }

  /** The next token, scanning as far as the simple-key rules require (go-yaml's peek_token). */
  peek(): Token {
    if (!this.available) this.fetchMore()
    return this.queue[this.head]
  }

  /** Hands the peeked token to the parser. */
  skip(): void {
    this.available = false
    this.parsed++
    this.streamEndProduced = this.queue[this.head].type === T_STREAM_END
    this.head++
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  // ---- reading -------------------------------------------------------------------------------

  /** Makes sure `n` characters from the current one are decoded (go-yaml's cache). */
  private need(n: number): void {
    if (this.pos + n > this.gate) this.load(n)
  }

  private load(n: number): void {
    if (this.chars(this.pos, this.avail) >= n) return
    // go-yaml moves what is left to the start of its buffer before decoding more.
    this.moveBufferStart()
    if (this.atEof) {
      // Past the end each refill adds one NUL.
      this.avail++
    } else {
      const ends = this.chunkEnds!
      while (this.chars(this.pos, this.avail) < n) {
        const next = this.chunk + 1
        if (this.fault && this.fault.chunk === next) throw new YamlFault(this.fault.message, this.fault.offset, 0)
        if (next >= ends.length) {
          this.atEof = true
          this.avail = this.end + 1
          break
        }

        this.chunk = next
        this.avail = ends[next]
      }
    }

    this.gate = this.astral ? this.avail - 8 : this.avail
  }

  private moveBufferStart(): void {
    if (this.feff) this.bomAtBufferStart = this.src.charCodeAt(this.pos) === 0xfeff
  }

  /** Characters (code points) from `a` to `b`. */
  private chars(a: number, b: number): number {
    if (!this.astral || b <= a) return b - a
    let n = 0
    const {src} = this
    for (let i = a; i < b; i++) {
      const c = src.charCodeAt(i)
      if (c >= 0xdc00 && c <= 0xdfff && i > a) {
        const p = src.charCodeAt(i - 1)
        if (p >= 0xd800 && p <= 0xdbff) continue
      }

      n++
    }

    return n
  }

  /** libyaml's column: characters since the start of the line. */
  private col(): number {
    return this.astral ? this.chars(this.lineStart, this.pos) : this.pos - this.lineStart
  }

  /** Skips one character (a surrogate pair is one), staying on the line. */
  private skipChar(): void {
    const c = this.src.charCodeAt(this.pos)
    this.pos += c >= 0xd800 && c <= 0xdbff ? 2 : 1
  }

  /** Skips a line break (CR LF counts as one). */
  private skipLine(): void {
    const {src, pos} = this
    const c = src.charCodeAt(pos)
    if (c === 0x0d && src.charCodeAt(pos + 1) === 0x0a) this.pos += 2
    else if (isBreak(c)) this.pos++
    else return
    this.line++
    this.lineStart = this.pos
  }

  /** Consumes a line break and returns what it stands for in a value: LS and PS stay, the rest are LF. */
  private readLine(): string {
    const {src, pos} = this
    const c = src.charCodeAt(pos)
    let out = '\n'
    if (c === 0x0d && src.charCodeAt(pos + 1) === 0x0a) this.pos += 2
    else if (c === 0x0d || c === 0x0a || c === 0x85) this.pos++
    else if (c === 0x2028 || c === 0x2029) {
      out = src[pos]
      this.pos++
    } else return ''
    this.line++
    this.lineStart = this.pos
    return out
  }

  private error(message: string): YamlFault {
    return scanFault(message, this.pos, this.line)
  }

  // ---- the token queue -----------------------------------------------------------------------

  private append(token: Token): void {
    this.queue.push(token)
  }

  /** Inserts at `at` tokens after the head; negative appends (as go-yaml does, stale numbers included). */
  private insert(at: number, token: Token): void {
    if (at < 0) this.queue.push(token)
    else this.queue.splice(this.head + at, 0, token)
  }

  private nextTokenNumber(): number {
    return this.parsed + (this.queue.length - this.head)
  }

  /**
   * Scans until the head of the queue can be handed out: while the head token is a simple-key
   * candidate that may still be completed, what follows decides whether a KEY goes before it.
   * The candidate is looked up by the head's token number; go-yaml leaves some numbers registered
   * after their candidate was given up, and drops the number of a flow collection's start when an
   * empty collection closes (so `[]: x` reads as `[]`, the rest unread). Both are kept.
   */
  private fetchMore(): void {
    for (;;) {
      if (this.head < this.queue.length) {
        const level = this.keyByToken[this.parsed]
        if (level === undefined || level < 0) break
        const key = this.keys[level]
        if (key === undefined) throw new YamlFault('runtime error: index out of range', this.pos, 0)
        if (!this.keyStillPossible(key)) break
      }

      this.fetchNext()
    }

    this.available = true
  }

  /** A candidate stays possible on its own line and within 1024 characters; a required one must. */
  private keyStillPossible(key: SimpleKey): boolean {
    if (!key.possible) return false
    if (key.line < this.line || (this.pos - key.pos > 1024 && this.chars(key.pos, this.pos) > 1024)) {
      if (key.required) throw this.error("could not find expected ':'")
      key.possible = false
      return false
    }

    return true
  }

  private saveSimpleKey(): void {
    if (!this.simpleKeyAllowed) return
    const col = this.col()
    const required = this.flowLevel === 0 && this.indent === col
    const number = this.nextTokenNumber()
    this.removeSimpleKey()
    const level = this.keys.length - 1
    const key = this.keys[level]
    key.possible = true
    key.required = required
    key.tokenNumber = number
    key.pos = this.pos
    key.line = this.line
    key.col = col
    this.keyByToken[number] = level
  }

  private removeSimpleKey(): void {
    const key = this.keys[this.keys.length - 1]
    if (key.possible) {
      if (key.required) throw this.error("could not find expected ':'")
      key.possible = false
      this.keyByToken[key.tokenNumber] = -1
    }
  }

  private increaseFlowLevel(): void {
    this.keys.push({col: this.col(), line: this.line, pos: this.pos, possible: false, required: false, tokenNumber: this.nextTokenNumber()})
    this.flowLevel++
    if (this.flowLevel > MAX_DEPTH) throw this.error(`exceeded max depth of ${MAX_DEPTH}`)
  }

  private decreaseFlowLevel(): void {
    if (this.flowLevel > 0) {
      this.flowLevel--
      const key = this.keys.pop()!
      this.keyByToken[key.tokenNumber] = -1
    }
  }

  /** Opens a block collection when `column` is right of the indentation (block context only). */
  private rollIndent(column: number, number: number, type: number, pos: number, line: number): void {
    if (this.flowLevel > 0 || this.indent >= column) return
    this.indents.push(this.indent)
    this.indent = column
    if (this.indents.length > MAX_DEPTH) throw this.error(`exceeded max depth of ${MAX_DEPTH}`)
    const token = new Token(type, pos, pos, line)
    if (number > -1) this.insert(number - this.parsed, token)
    else this.append(token)
  }

  /** Closes every block collection indented more than `column`. */
  private unrollIndent(column: number): void {
    if (this.flowLevel > 0) return
    while (this.indent > column) {
      this.append(new Token(T_BLOCK_END, this.pos, this.pos, this.line))
      this.indent = this.indents.pop()!
    }
  }

  // ---- dispatch ------------------------------------------------------------------------------

  private fetchNext(): void {
    this.need(1)
    if (!this.started) {
      this.indent = -1
      this.keys.push({col: 0, line: 0, pos: this.pos, possible: false, required: false, tokenNumber: 0})
      this.simpleKeyAllowed = true
      this.started = true
      this.append(new Token(T_STREAM_START, this.pos, this.pos, this.line))
      return
    }

    this.skipToToken()
    const column = this.col()
    this.unrollIndent(column)
    this.need(4)
    const {src, pos} = this
    const c = src.charCodeAt(pos)
    if (c === 0) return this.fetchStreamEnd(column)
    if (column === 0) {
      if (c === 0x25) return this.fetchDirective()
      if (c === 0x2d && src.charCodeAt(pos + 1) === 0x2d && src.charCodeAt(pos + 2) === 0x2d && isBlankZ(src.charCodeAt(pos + 3))) {
        return this.fetchDocumentIndicator(T_DOCUMENT_START)
      }

      if (c === 0x2e && src.charCodeAt(pos + 1) === 0x2e && src.charCodeAt(pos + 2) === 0x2e && isBlankZ(src.charCodeAt(pos + 3))) {
        return this.fetchDocumentIndicator(T_DOCUMENT_END)
      }
    }

    const next = src.charCodeAt(pos + 1)
    switch (c) {
      case 0x5b: {
        return this.fetchFlowStart(T_FLOW_SEQUENCE_START)
      }

      case 0x7b: {
        return this.fetchFlowStart(T_FLOW_MAPPING_START)
      }

      case 0x5d: {
        return this.fetchFlowEnd(T_FLOW_SEQUENCE_END)
      }

      case 0x7d: {
        return this.fetchFlowEnd(T_FLOW_MAPPING_END)
      }

      case 0x2c: {
        return this.fetchFlowEntry()
      }

      case 0x2d: {
        if (isBlankZ(next)) return this.fetchBlockEntry()
        break
      }

      case 0x3f: {
        if (this.flowLevel > 0 || isBlankZ(next)) return this.fetchKey()
        break
      }

      case 0x3a: {
        if (this.flowLevel > 0 || isBlankZ(next)) return this.fetchValue()
        break
      }

      case 0x2a: {
        return this.fetchAnchor(T_ALIAS)
      }

      case 0x26: {
        return this.fetchAnchor(T_ANCHOR)
      }

      case 0x21: {
        return this.fetchTag()
      }

      case 0x7c: {
        if (this.flowLevel === 0) return this.fetchBlockScalar(true)
        break
      }

      case 0x3e: {
        if (this.flowLevel === 0) return this.fetchBlockScalar(false)
        break
      }

      case 0x27: {
        return this.fetchQuoted(true)
      }

      case 0x22: {
        return this.fetchQuoted(false)
      }
    }

    // A plain scalar starts with anything but blanks and indicators; '-' also when a non-blank
    // follows, and in block context '?' and ':' when a non-blank (or non-break) follows.
    if (
      !(isBlankZ(c) || (c < 128 && INDICATOR[c] === 1)) ||
      (c === 0x2d && !isBlank(next)) ||
      (this.flowLevel === 0 && (c === 0x3f || c === 0x3a) && !isBlankZ(next))
    ) {
      return this.fetchPlain()
    }

    throw this.error('found character that cannot start any token')
  }

  /**
   * Skips spaces, comments and line breaks up to the next token. Tabs are skipped only where a
   * simple key cannot start (after a token on the same line) or in flow context: elsewhere a tab
   * is left for the dispatcher, which cannot start a token with it.
   */
  private skipToToken(): void {
    const {src} = this
    for (;;) {
      this.need(1)
      if (this.bomAtBufferStart && this.col() === 0) this.skipChar()
      this.need(1)
      let c = src.charCodeAt(this.pos)
      while (c === 0x20 || (c === 0x09 && (this.flowLevel > 0 || !this.simpleKeyAllowed))) {
        this.pos++
        this.need(1)
        c = src.charCodeAt(this.pos)
      }

      if (c === 0x23) {
        while (!isBreakZ(c)) {
          this.skipChar()
          this.need(1)
          c = src.charCodeAt(this.pos)
        }
      }

      if (!isBreak(c)) return
      this.need(2)
      this.skipLine()
      if (this.flowLevel === 0) this.simpleKeyAllowed = true
    }
  }

  private fetchStreamEnd(column: number): void {
    // The end of the stream counts as the start of a new line.
    if (column !== 0) {
      this.line++
      this.lineStart = this.pos
    }

    this.unrollIndent(-1)
    this.removeSimpleKey()
    this.simpleKeyAllowed = false
    this.append(new Token(T_STREAM_END, this.pos, this.pos, this.line))
  }

  private fetchDirective(): void {
    this.unrollIndent(-1)
    this.removeSimpleKey()
    this.simpleKeyAllowed = false
    this.append(this.scanDirective())
  }

  private fetchDocumentIndicator(type: number): void {
    this.unrollIndent(-1)
    this.removeSimpleKey()
    this.simpleKeyAllowed = false
    const start = this.pos
    this.pos += 3
    this.append(new Token(type, start, this.pos, this.line))
  }

  private fetchFlowStart(type: number): void {
    this.saveSimpleKey()
    this.increaseFlowLevel()
    this.simpleKeyAllowed = true
    this.appendIndicator(type)
  }

  private fetchFlowEnd(type: number): void {
    this.removeSimpleKey()
    this.decreaseFlowLevel()
    this.simpleKeyAllowed = false
    this.appendIndicator(type)
  }

  private fetchFlowEntry(): void {
    this.removeSimpleKey()
    this.simpleKeyAllowed = true
    this.appendIndicator(T_FLOW_ENTRY)
  }

  private fetchBlockEntry(): void {
    if (this.flowLevel === 0) {
      if (!this.simpleKeyAllowed) throw this.error('block sequence entries are not allowed in this context')
      this.rollIndent(this.col(), -1, T_BLOCK_SEQUENCE_START, this.pos, this.line)
    }
    // In flow context '-' is left for the parser to refuse.

    this.removeSimpleKey()
    this.simpleKeyAllowed = true
    this.appendIndicator(T_BLOCK_ENTRY)
  }

  private fetchKey(): void {
    if (this.flowLevel === 0) {
      if (!this.simpleKeyAllowed) throw this.error('mapping keys are not allowed in this context')
      this.rollIndent(this.col(), -1, T_BLOCK_MAPPING_START, this.pos, this.line)
    }

    this.removeSimpleKey()
    this.simpleKeyAllowed = this.flowLevel === 0
    this.appendIndicator(T_KEY)
  }

  private fetchValue(): void {
    const key = this.keys[this.keys.length - 1]
    if (this.keyStillPossible(key)) {
      // The candidate was a key after all: KEY before it, and in block context maybe a mapping start.
      this.insert(key.tokenNumber - this.parsed, new Token(T_KEY, key.pos, key.pos, key.line))
      this.rollIndent(key.col, key.tokenNumber, T_BLOCK_MAPPING_START, key.pos, key.line)
      key.possible = false
      this.keyByToken[key.tokenNumber] = -1
      this.simpleKeyAllowed = false
    } else {
      // A value after a complex ('?') key, or after nothing.
      if (this.flowLevel === 0) {
        if (!this.simpleKeyAllowed) throw this.error('mapping values are not allowed in this context')
        this.rollIndent(this.col(), -1, T_BLOCK_MAPPING_START, this.pos, this.line)
      }

      this.simpleKeyAllowed = this.flowLevel === 0
    }

    this.appendIndicator(T_VALUE)
  }

  private appendIndicator(type: number): void {
    const start = this.pos
    this.pos++
    this.append(new Token(type, start, this.pos, this.line))
  }

  private fetchAnchor(type: number): void {
    this.saveSimpleKey()
    this.simpleKeyAllowed = false
    this.append(this.scanAnchor(type))
  }

  private fetchTag(): void {
    this.saveSimpleKey()
    this.simpleKeyAllowed = false
    this.append(this.scanTag())
  }

  private fetchBlockScalar(literal: boolean): void {
    this.removeSimpleKey()
    this.simpleKeyAllowed = true
    this.append(this.scanBlockScalar(literal))
  }

  private fetchQuoted(single: boolean): void {
    this.saveSimpleKey()
    this.simpleKeyAllowed = false
    this.append(this.scanQuoted(single))
  }

  private fetchPlain(): void {
    this.saveSimpleKey()
    this.simpleKeyAllowed = false
    this.append(this.scanPlain())
  }

  // ---- directives ----------------------------------------------------------------------------

  private scanDirective(): Token {
    const {src} = this
    const start = this.pos
    const line = this.line
    this.pos++
    this.need(1)
    const nameStart = this.pos
    while (isAlpha(src.charCodeAt(this.pos))) {
      this.pos++
      this.need(1)
    }

    if (this.pos === nameStart) throw this.error('could not find expected directive name')
    if (!isBlankZ(src.charCodeAt(this.pos))) throw this.error('found unexpected non-alphabetical character')
    const name = src.slice(nameStart, this.pos)
    let token: Token
    if (name === 'YAML') {
      this.need(1)
      this.skipBlanks()
      const major = this.versionNumber()
      if (src.charCodeAt(this.pos) !== 0x2e) throw this.error("did not find expected digit or '.' character")
      this.pos++
      const minor = this.versionNumber()
      token = new Token(T_VERSION_DIRECTIVE, start, this.pos, line, '', major, '', minor)
    } else if (name === 'TAG') {
      this.need(1)
      this.skipBlanks()
      const handle = this.scanTagHandle(true)
      this.need(1)
      if (!isBlank(src.charCodeAt(this.pos))) throw this.error('did not find expected whitespace')
      this.skipBlanks()
      const prefix = this.scanTagUri(true, '')
      this.need(1)
      if (!isBlankZ(src.charCodeAt(this.pos))) throw this.error('did not find expected whitespace or line break')
      token = new Token(T_TAG_DIRECTIVE, start, this.pos, line, handle, 0, prefix)
    } else {
      throw this.error('found unknown directive name')
    }

    this.need(1)
    this.skipBlanks()
    this.skipComment()
    if (!isBreakZ(src.charCodeAt(this.pos))) throw this.error('did not find expected comment or line break')
    if (isBreak(src.charCodeAt(this.pos))) {
      this.need(2)
      this.skipLine()
    }

    return token
  }

  /** Spaces and tabs (the caller has made the first character available). */
  private skipBlanks(): void {
    while (isBlank(this.src.charCodeAt(this.pos))) {
      this.pos++
      this.need(1)
    }
  }

  /** A comment to the end of the line, if one starts here. */
  private skipComment(): void {
    if (this.src.charCodeAt(this.pos) !== 0x23) return
    while (!isBreakZ(this.src.charCodeAt(this.pos))) {
      this.skipChar()
      this.need(1)
    }
  }

  private versionNumber(): number {
    this.need(1)
    let value = 0
    let length = 0
    for (let c = this.src.charCodeAt(this.pos); isDigit(c); c = this.src.charCodeAt(this.pos)) {
      if (++length > 2) throw this.error('found extremely long version number')
      value = value * 10 + (c - 0x30)
      this.pos++
      this.need(1)
    }

    if (length === 0) throw this.error('did not find expected version number')
    return value
  }

  // ---- anchors and tags ----------------------------------------------------------------------

  private scanAnchor(type: number): Token {
    const {src} = this
    const start = this.pos
    const line = this.line
    this.pos++
    this.need(1)
    const nameStart = this.pos
    while (isAlpha(src.charCodeAt(this.pos))) {
      this.pos++
      this.need(1)
    }

    const end = this.pos
    const c = src.charCodeAt(end)
    // The name ends at a blank or at one of '?', ':', ',', ']', '}', '%', '@', '`'.
    if (end === nameStart || !(isBlankZ(c) || c === 0x3f || c === 0x3a || c === 0x2c || c === 0x5d || c === 0x7d || c === 0x25 || c === 0x40 || c === 0x60)) {
      throw this.error('did not find expected alphabetic or numeric character')
    }

    return new Token(type, start, end, line, src.slice(nameStart, end))
  }

  private scanTag(): Token {
    const {src} = this
    const start = this.pos
    const line = this.line
    this.need(2)
    let handle: string
    let suffix: string
    if (src.charCodeAt(this.pos + 1) === 0x3c) {
      // Verbatim: !<uri>
      this.pos += 2
      suffix = this.scanTagUri(false, null)
      if (src.charCodeAt(this.pos) !== 0x3e) throw this.error("did not find the expected '>'")
      this.pos++
      handle = ''
    } else {
      handle = this.scanTagHandle(false)
      if (handle.length > 1 && handle.charCodeAt(handle.length - 1) === 0x21) {
        suffix = this.scanTagUri(false, null)
      } else {
        // Not a handle after all: '!' and the rest is the suffix ('!' alone is the non-specific tag).
        suffix = this.scanTagUri(false, handle)
        handle = '!'
        if (suffix.length === 0) {
          handle = ''
          suffix = '!'
        }
      }
    }

    this.need(1)
    if (!isBlankZ(src.charCodeAt(this.pos))) throw this.error('did not find expected whitespace or line break')
    return new Token(T_TAG, start, this.pos, line, handle, 0, suffix)
  }

  /** `!`, `!!` or `!word!`; in a tag (not a %TAG directive) also `!word`, which is then no handle. */
  private scanTagHandle(directive: boolean): string {
    const {src} = this
    this.need(1)
    if (src.charCodeAt(this.pos) !== 0x21) throw this.error("did not find expected '!'")
    const start = this.pos
    this.pos++
    this.need(1)
    while (isAlpha(src.charCodeAt(this.pos))) {
      this.pos++
      this.need(1)
    }

    if (src.charCodeAt(this.pos) === 0x21) this.pos++
    else if (directive && this.pos - start !== 1) throw this.error("did not find expected '!'")
    return src.slice(start, this.pos)
  }

  /** A tag URI, %-escapes decoded; `head` is a would-be handle that belongs to it (minus its '!'). */
  private scanTagUri(directive: boolean, head: null | string): string {
    const {src} = this
    let out = head !== null && head.length > 1 ? head.slice(1) : ''
    let hasTag = head !== null && head.length > 0
    this.need(1)
    let run = this.pos
    for (let c = src.charCodeAt(this.pos); isUriChar(c); c = src.charCodeAt(this.pos)) {
      if (c === 0x25) {
        out += src.slice(run, this.pos) + this.scanUriEscapes(directive)
        run = this.pos
      } else {
        this.pos++
      }

      this.need(1)
      hasTag = true
    }

    out += src.slice(run, this.pos)
    if (!hasTag) throw this.error('did not find expected tag URI')
    return out
  }

  /** One UTF-8 character written as %XX escapes (its octets are only checked for their shape). */
  private scanUriEscapes(directive: boolean): string {
    void directive
    const {src} = this
    const octets: number[] = []
    let left = -1
    while (left !== 0) {
      this.need(3)
      const p = this.pos
      if (!(src.charCodeAt(p) === 0x25 && isHex(src.charCodeAt(p + 1)) && isHex(src.charCodeAt(p + 2)))) throw this.error('did not find URI escaped octet')
      const octet = (hexValue(src.charCodeAt(p + 1)) << 4) + hexValue(src.charCodeAt(p + 2))
      if (left === -1) {
        left = (octet & 0x80) === 0 ? 1 : (octet & 0xe0) === 0xc0 ? 2 : (octet & 0xf0) === 0xe0 ? 3 : (octet & 0xf8) === 0xf0 ? 4 : 0
        if (left === 0) throw this.error('found an incorrect leading UTF-8 octet')
      } else if ((octet & 0xc0) !== 0x80) {
        throw this.error('found an incorrect trailing UTF-8 octet')
      }

      octets.push(octet)
      this.pos += 3
      left--
    }

    return utf8.decode(Uint8Array.from(octets))
  }

  // ---- block scalars -------------------------------------------------------------------------

  private scanBlockScalar(literal: boolean): Token {
    const {src} = this
    const start = this.pos
    const line = this.line
    this.pos++
    this.need(1)
    let chomping = 0
    let increment = 0
    let c = src.charCodeAt(this.pos)
    if (c === 0x2b || c === 0x2d) {
      chomping = c === 0x2b ? 1 : -1
      this.pos++
      this.need(1)
      c = src.charCodeAt(this.pos)
      if (isDigit(c)) {
        if (c === 0x30) throw this.error('found an indentation indicator equal to 0')
        increment = c - 0x30
        this.pos++
      }
    } else if (isDigit(c)) {
      if (c === 0x30) throw this.error('found an indentation indicator equal to 0')
      increment = c - 0x30
      this.pos++
      this.need(1)
      c = src.charCodeAt(this.pos)
      if (c === 0x2b || c === 0x2d) {
        chomping = c === 0x2b ? 1 : -1
        this.pos++
      }
    }

    this.need(1)
    this.skipBlanks()
    this.skipComment()
    if (!isBreakZ(src.charCodeAt(this.pos))) throw this.error('did not find expected comment or line break')
    if (isBreak(src.charCodeAt(this.pos))) {
      this.need(2)
      this.skipLine()
    }

    let indent = increment > 0 ? (this.indent >= 0 ? this.indent + increment : increment) : 0
    const state = {breaks: '', end: this.pos, indent}
    this.blockScalarBreaks(state)
    indent = state.indent
    let value = ''
    let leadingBreak = ''
    let leadingBlank = false
    this.need(1)
    while (this.col() === indent && src.charCodeAt(this.pos) !== 0) {
      // At the start of a non-empty line: folding joins lines with a space unless either side is
      // more indented (a "blank" line start) or empty lines came between.
      const trailingBlank = isBlank(src.charCodeAt(this.pos))
      if (!literal && !leadingBlank && !trailingBlank && leadingBreak === '\n') {
        if (state.breaks === '') value += ' '
      } else {
        value += leadingBreak
      }

      value += state.breaks
      state.breaks = ''
      leadingBlank = trailingBlank
      const from = this.pos
      while (!isBreakZ(src.charCodeAt(this.pos))) {
        this.skipChar()
        this.need(1)
      }

      value += src.slice(from, this.pos)
      this.need(2)
      leadingBreak = this.readLine()
      this.blockScalarBreaks(state)
    }

    if (chomping !== -1) value += leadingBreak
    if (chomping === 1) value += state.breaks
    return new Token(T_SCALAR, start, state.end, line, value, literal ? STYLE_LITERAL : STYLE_FOLDED)
  }

  /**
   * Indentation and empty lines before a block scalar line. Without an explicit indentation the
   * first non-empty line sets it (at least one more than the enclosing block, and at least 1);
   * an empty line more indented than that first line also counts.
   */
  private blockScalarBreaks(state: {breaks: string; end: number; indent: number}): void {
    const {src} = this
    state.end = this.pos
    let maxIndent = 0
    for (;;) {
      this.need(1)
      while ((state.indent === 0 || this.col() < state.indent) && src.charCodeAt(this.pos) === 0x20) {
        this.pos++
        this.need(1)
      }

      const col = this.col()
      if (col > maxIndent) maxIndent = col
      const c = src.charCodeAt(this.pos)
      if ((state.indent === 0 || col < state.indent) && c === 0x09) throw this.error('found a tab character where an indentation space is expected')
      if (!isBreak(c)) break
      this.need(2)
      state.breaks += this.readLine()
      state.end = this.pos
    }

    if (state.indent === 0) state.indent = Math.max(maxIndent, this.indent + 1, 1)
  }

  // ---- quoted scalars ------------------------------------------------------------------------

  private scanQuoted(single: boolean): Token {
    const {src} = this
    const start = this.pos
    const line = this.line
    const quote = single ? 0x27 : 0x22
    this.pos++
    let value = ''
    for (;;) {
      this.need(4)
      let c = src.charCodeAt(this.pos)
      if (this.atDocumentIndicator()) throw this.error('found unexpected document indicator')
      if (c === 0) throw this.error('found unexpected end of stream')
      let leadingBlanks = false
      let run = this.pos
      while (!isBlankZ(c)) {
        if (single && c === 0x27) {
          if (src.charCodeAt(this.pos + 1) !== 0x27) break
          value += src.slice(run, this.pos) + "'"
          this.pos += 2
          run = this.pos
        } else if (c === quote) {
          break
        } else if (!single && c === 0x5c) {
          value += src.slice(run, this.pos)
          const e = src.charCodeAt(this.pos + 1)
          if (isBreak(e)) {
            // An escaped line break: the break and the next line's indentation vanish.
            this.need(3)
            this.pos++
            this.skipLine()
            leadingBlanks = true
            run = this.pos
            break
          }

          value += this.scanEscape(e)
          run = this.pos
        } else {
          this.skipChar()
        }

        this.need(2)
        c = src.charCodeAt(this.pos)
      }

      if (!leadingBlanks) value += src.slice(run, this.pos)
      this.need(1)
      c = src.charCodeAt(this.pos)
      if (c === quote) break
      // Blanks and line breaks: kept inside a line, folded across lines.
      let whitespace = ''
      let leadingBreak = ''
      let trailingBreaks = ''
      while (isBlank(c) || isBreak(c)) {
        if (isBlank(c)) {
          if (!leadingBlanks) whitespace += src[this.pos]
          this.pos++
        } else {
          this.need(2)
          if (leadingBlanks) {
            trailingBreaks += this.readLine()
          } else {
            whitespace = ''
            leadingBreak = this.readLine()
            leadingBlanks = true
          }
        }

        this.need(1)
        c = src.charCodeAt(this.pos)
      }

      if (!leadingBlanks) value += whitespace
      else if (leadingBreak === '\n') value += trailingBreaks === '' ? ' ' : trailingBreaks
      else value += leadingBreak + trailingBreaks
    }

    this.pos++
    return new Token(T_SCALAR, start, this.pos, line, value, single ? STYLE_SINGLE : STYLE_DOUBLE)
  }

  /** The escape at the current '\\' (`e` is the character after it); leaves the position after it. */
  private scanEscape(e: number): string {
    let digits = 0
    let out = ''
    switch (e) {
      case 0x30: {
        out = '\0'
        break
      }

      case 0x61: {
        out = '\x07'
        break
      }

      case 0x62: {
        out = '\b'
        break
      }

      case 0x74:
      case 0x09: {
        out = '\t'
        break
      }

      case 0x6e: {
        out = '\n'
        break
      }

      case 0x76: {
        out = '\v'
        break
      }

      case 0x66: {
        out = '\f'
        break
      }

      case 0x72: {
        out = '\r'
        break
      }

      case 0x65: {
        out = '\x1b'
        break
      }

      case 0x20: {
        out = ' '
        break
      }

      case 0x22: {
        out = '"'
        break
      }

      case 0x27: {
        out = "'"
        break
      }

      case 0x5c: {
        out = '\\'
        break
      }

      case 0x4e: {
        out = '\x85'
        break
      }

      case 0x5f: {
        out = '\xa0'
        break
      }

      case 0x4c: {
        out = '\u2028'
        break
      }

      case 0x50: {
        out = '\u2029'
        break
      }

      case 0x78: {
        digits = 2
        break
      }

      case 0x75: {
        digits = 4
        break
      }

      case 0x55: {
        digits = 8
        break
      }

      default: {
        throw this.error('found unknown escape character')
      }
    }

    this.pos += 2
    if (digits === 0) return out
    this.need(digits)
    const {src} = this
    let value = 0
    for (let k = 0; k < digits; k++) {
      const h = src.charCodeAt(this.pos + k)
      if (!isHex(h)) throw this.error('did not find expected hexdecimal number')
      value = value * 16 + hexValue(h)
    }

    if ((value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) throw this.error('found invalid Unicode character escape code')
    this.pos += digits
    return String.fromCodePoint(value)
  }

  /** '---' or '...' followed by a blank, at the start of a line. */
  private atDocumentIndicator(): boolean {
    const {src, pos} = this
    const c = src.charCodeAt(pos)
    if ((c !== 0x2d && c !== 0x2e) || this.col() !== 0) return false
    return src.charCodeAt(pos + 1) === c && src.charCodeAt(pos + 2) === c && isBlankZ(src.charCodeAt(pos + 3))
  }

  // ---- plain scalars -------------------------------------------------------------------------

  private scanPlain(): Token {
    const {src} = this
    const start = this.pos
    const line = this.line
    const indent = this.indent + 1
    const flow = this.flowLevel > 0
    let end = this.pos
    let value = ''
    let leadingBlanks = false
    let leadingBreak = ''
    let trailingBreaks = ''
    let whitespace = ''
    for (;;) {
      this.need(4)
      let c = src.charCodeAt(this.pos)
      if (c === 0x23 || this.atDocumentIndicator()) break
      let run = -1
      while (!isBlankZ(c)) {
        // ': ' ends it anywhere; so do flow indicators in flow context.
        if (c === 0x3a) {
          if (isBlankZ(src.charCodeAt(this.pos + 1))) break
        } else if (flow && (c === 0x2c || c === 0x3f || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d)) {
          break
        }

        if (run === -1) {
          // First character after blanks: join what came between.
          if (leadingBlanks) {
            if (leadingBreak === '\n') value += trailingBreaks === '' ? ' ' : trailingBreaks
            else value += leadingBreak + trailingBreaks
            leadingBreak = ''
            trailingBreaks = ''
            leadingBlanks = false
          } else if (whitespace !== '') {
            value += whitespace
          }

          whitespace = ''
          run = this.pos
        }

        this.skipChar()
        if (this.pos + 2 > this.gate) this.load(2)
        c = src.charCodeAt(this.pos)
      }

      if (run !== -1) {
        value += src.slice(run, this.pos)
        end = this.pos
      }

      if (!(isBlank(c) || isBreak(c))) break
      this.need(1)
      while (isBlank(c) || isBreak(c)) {
        if (isBlank(c)) {
          if (leadingBlanks && c === 0x09 && this.col() < indent) {
            throw scanFault('found a tab character that violates indentation', this.pos, this.line)
          }

          if (!leadingBlanks) whitespace += src[this.pos]
          this.pos++
        } else {
          this.need(2)
          if (leadingBlanks) {
            trailingBreaks += this.readLine()
          } else {
            whitespace = ''
            leadingBreak = this.readLine()
            leadingBlanks = true
          }
        }

        this.need(1)
        c = src.charCodeAt(this.pos)
      }

      if (!flow && this.col() < indent) break
    }

    if (leadingBlanks) this.simpleKeyAllowed = true
    return new Token(T_SCALAR, start, end, line, value, STYLE_PLAIN)
  }
}
