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

const STYLE_PLAIN = 1
const STYLE_SINGLE = 2
const STYLE_DOUBLE = 3
const STYLE_LITERAL = 4
const STYLE_FOLDED = 5

/** go-yaml's limit on flow nesting and on the indentation stack. */
export const MAX_DEPTH = 10_000

/** Empties an array (setting the length is a runtime call even when it is already 0). */
export function clear(array: unknown[]): void {
  if (array.length !== 0) array.length = 0
}

export class Token {
  constructor(
    public type: number,
    public start: number,
    public end: number,
    /** Line (0-based) of `start`. */
    public line: number,
    /** Scalar value; anchor or alias name; tag or %TAG handle. */
    public value: string,
    /** Scalar style; %YAML major version. */
    public style: number,
    /** Tag suffix; %TAG prefix. */
    public suffix: string,
    /** %YAML minor version. */
    public minor: number,
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
for (const ch of '-?:,[]{}#&*!|>\'"%@`') INDICATOR[ch.charCodeAt(0)] = 1

/**
 * ASCII classes for the hot loops: what ends a plain scalar's run of characters.
 * 1: blank, break or NUL; 2: ':'; 3: a flow indicator (',', '?', '[', ']', '{', '}').
 */
const RUN_END = new Uint8Array(128)
for (const c of [0x20, 0x09, 0x0a, 0x0d, 0]) RUN_END[c] = 1
RUN_END[0x3a] = 2
for (const ch of ',?[]{}') RUN_END[ch.charCodeAt(0)] = 3

/** `gate` when reading is not tracked: past any offset a string can have. */
const UNTRACKED = 0x3f_ff_ff_ff

/** NULs after the text (lookahead goes at most 8 characters past the end). */
const PAD = 16

const utf8 = new TextDecoder('utf-8', {fatal: false})

/**
 * The text's UTF-16 code units followed by NULs (reads past the end see NUL, as in go-yaml's
 * buffer). The scanner reads these rather than the string: typed-array reads are cheaper than
 * charCodeAt. ASCII text (the usual case) fits bytes and is copied natively.
 */
function codeUnits(text: string, ascii: boolean): Uint16Array | Uint8Array {
  const n = text.length
  if (ascii) {
    const bytes = Buffer.allocUnsafe(n + PAD)
    bytes.write(text, 0, 'latin1')
    bytes.fill(0, n)
    return bytes
  }

  const units = new Uint16Array(n + PAD)
  for (let i = 0; i < n; i++) units[i] = text.charCodeAt(i)
  return units
}

const NO_CODES = new Uint8Array(PAD)

/**
 * One scanner serves every read in turn (`reset`), so that its arrays are not made anew for
 * each document.
 */
export class Scanner {
  private src = ''
  /** The UTF-16 code units of `src`, for the loops (typed-array reads beat charCodeAt). */
  private codes: Uint16Array | Uint8Array = NO_CODES
  private end = 0
  private astral = false

  pos = 0
  line = 0
  private lineStart = 0

  // Reader emulation (see chars.ts). `gate` is the offset past which a `need` must look closer;
  // UNTRACKED (a small integer, so comparisons stay integer ones) when nothing depends on it.
  private gate = UNTRACKED
  private avail = 0
  private chunk = -1
  private atEof = false
  private chunkEnds: number[] | undefined
  private fault: ReaderFault | undefined
  private feff = false
  /** go-yaml's misplaced BOM test currently succeeds (the decode buffer starts with U+FEFF). */
  private bomAtBufferStart = false

  private flowLevel = 0
  private indent = -1
  private readonly indents: number[] = []
  private simpleKeyAllowed = false
  private readonly keys: SimpleKey[] = []
  /** Token number → 1 + index in `keys` of the candidate saved for it; 0 when none (or removed). */
  private readonly keyByToken: number[] = []
  /** How much of `keyByToken` this document has used. */
  private keyTokens = 0

  /** Tokens [head, tail) are waiting; slots past `tail` are stale. */
  private readonly queue: Token[] = []
  private head = 0
  private tail = 0
  /** Tokens handed to the parser so far (go-yaml's tokens_parsed). */
  private parsed = 0
  private available = false
  private started = false

  reset(input: Prepared): void {
    this.src = input.text
    this.codes = codeUnits(input.text, input.ascii)
    this.end = input.text.length
    this.astral = input.astral
    this.pos = input.start
    this.line = 0
    this.lineStart = input.start
    this.chunkEnds = input.chunkEnds
    this.fault = input.fault
    this.feff = input.feff
    this.avail = input.chunkEnds ? input.start : 0
    this.gate = input.chunkEnds ? input.start : UNTRACKED
    this.chunk = -1
    this.atEof = false
    this.bomAtBufferStart = false
    this.flowLevel = 0
    this.indent = -1
    clear(this.indents)
    this.simpleKeyAllowed = false
    clear(this.keys)
    // All zero again, keeping the array's room for the next document.
    this.keyByToken.fill(0, 0, this.keyTokens)
    this.keyTokens = 0
    clear(this.queue)
    this.head = 0
    this.tail = 0
    this.parsed = 0
    this.available = false
    this.started = false
  }

  /** Lets go of the document. */
  release(): void {
    this.src = ''
    this.codes = NO_CODES
    this.chunkEnds = undefined
    this.fault = undefined
    clear(this.queue)
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
    // The queue is rarely more than a few tokens long: start over whenever it runs empty.
    if (++this.head === this.tail) this.head = this.tail = 0
  }

  // ---- reading -------------------------------------------------------------------------------

  /** Makes sure `n` characters from the current one are decoded (go-yaml's cache). */
  private need(n: number): void {
    if (this.pos + n > this.gate) this.load(n)
  }

  /** `need` for loops that keep the position in a local. */
  private loadAt(p: number, n: number): number {
    this.pos = p
    this.load(n)
    return p
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
    if (this.feff) this.bomAtBufferStart = this.codes[this.pos] === 0xfeff
  }

  /** Characters (code points) from `a` to `b`. */
  private chars(a: number, b: number): number {
    if (!this.astral || b <= a) return b - a
    let n = 0
    const {codes} = this
    for (let i = a; i < b; i++) {
      const c = codes[i]
      if (c >= 0xdc00 && c <= 0xdfff && i > a) {
        const p = codes[i - 1]
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
    const c = this.codes[this.pos]
    this.pos += c >= 0xd800 && c <= 0xdbff ? 2 : 1
  }

  /** Skips a line break (CR LF counts as one). */
  private skipLine(): void {
    const {codes, pos} = this
    const c = codes[pos]
    if (c === 0x0d && codes[pos + 1] === 0x0a) this.pos += 2
    else if (isBreak(c)) this.pos++
    else return
    this.line++
    this.lineStart = this.pos
  }

  /** Consumes a line break and returns what it stands for in a value: LS and PS stay, the rest are LF. */
  private readLine(): string {
    const {src, codes, pos} = this
    const c = codes[pos]
    let out = '\n'
    if (c === 0x0d && codes[pos + 1] === 0x0a) this.pos += 2
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
    const q = this.queue
    if (this.tail === q.length) q.push(token)
    else q[this.tail] = token
    this.tail++
  }

  /** Inserts at `at` tokens after the head; negative appends (as go-yaml does, stale numbers included). */
  private insert(at: number, token: Token): void {
    if (at < 0) return this.append(token)
    const q = this.queue
    const i = this.head + at
    let j = this.tail
    this.append(q[j - 1])
    while (--j > i) q[j] = q[j - 1]
    q[i] = token
  }

  private nextTokenNumber(): number {
    return this.parsed + (this.tail - this.head)
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
      if (this.head < this.tail) {
        const entry = this.keyByToken[this.parsed]
        if (entry === undefined || entry === 0) break
        const key = this.keys[entry - 1]
        // go-yaml would index past its stack here and panic; no input is known to get here.
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
    this.setKeyToken(number, level + 1)
  }

  private removeSimpleKey(): void {
    const key = this.keys[this.keys.length - 1]
    if (key.possible) {
      if (key.required) throw this.error("could not find expected ':'")
      key.possible = false
      this.setKeyToken(key.tokenNumber, 0)
    }
  }

  private setKeyToken(number: number, entry: number): void {
    if (number >= this.keyTokens) this.keyTokens = number + 1
    this.keyByToken[number] = entry
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
      this.setKeyToken(key.tokenNumber, 0)
    }
  }

  /** Opens a block collection when `column` is right of the indentation (block context only). */
  private rollIndent(column: number, number: number, type: number, pos: number, line: number): void {
    if (this.flowLevel > 0 || this.indent >= column) return
    this.indents.push(this.indent)
    this.indent = column
    if (this.indents.length > MAX_DEPTH) throw this.error(`exceeded max depth of ${MAX_DEPTH}`)
    const token = new Token(type, pos, pos, line, '', 0, '', 0)
    if (number > -1) this.insert(number - this.parsed, token)
    else this.append(token)
  }

  /** Closes every block collection indented more than `column`. */
  private unrollIndent(column: number): void {
    if (this.flowLevel > 0) return
    while (this.indent > column) {
      this.append(new Token(T_BLOCK_END, this.pos, this.pos, this.line, '', 0, '', 0))
      this.indent = this.indents.pop()!
    }
  }

  // ---- dispatch ------------------------------------------------------------------------------

  private fetchNext(): void {
    if (this.pos + 1 > this.gate) this.load(1)
    if (!this.started) {
      this.indent = -1
      this.keys.push({col: 0, line: 0, pos: this.pos, possible: false, required: false, tokenNumber: 0})
      this.simpleKeyAllowed = true
      this.started = true
      this.append(new Token(T_STREAM_START, this.pos, this.pos, this.line, '', 0, '', 0))
      return
    }

    this.skipToToken()
    const column = this.col()
    this.unrollIndent(column)
    if (this.pos + 4 > this.gate) this.load(4)
    const {codes, pos} = this
    const c = codes[pos]
    if (c === 0) return this.fetchStreamEnd(column)
    if (column === 0) {
      if (c === 0x25) return this.fetchDirective()
      if (c === 0x2d && codes[pos + 1] === 0x2d && codes[pos + 2] === 0x2d && isBlankZ(codes[pos + 3])) {
        return this.fetchDocumentIndicator(T_DOCUMENT_START)
      }

      if (c === 0x2e && codes[pos + 1] === 0x2e && codes[pos + 2] === 0x2e && isBlankZ(codes[pos + 3])) {
        return this.fetchDocumentIndicator(T_DOCUMENT_END)
      }
    }

    const next = codes[pos + 1]
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
    if (!(isBlankZ(c) || (c < 128 && INDICATOR[c] === 1)) || (c === 0x2d && !isBlank(next)) || (this.flowLevel === 0 && (c === 0x3f || c === 0x3a) && !isBlankZ(next))) {
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
    const {codes} = this
    for (;;) {
      if (this.pos + 1 > this.gate) this.load(1)
      if (this.bomAtBufferStart && this.col() === 0) this.skipChar()
      if (this.pos + 1 > this.gate) this.load(1)
      const tabs = this.flowLevel > 0 || !this.simpleKeyAllowed
      let p = this.pos
      let c = codes[p]
      while (c === 0x20 || (c === 0x09 && tabs)) {
        if (++p + 1 > this.gate) p = this.loadAt(p, 1)
        c = codes[p]
      }

      if (c === 0x23) {
        while (!isBreakZ(c)) {
          if (++p + 1 > this.gate) p = this.loadAt(p, 1)
          c = codes[p]
        }
      }

      this.pos = p
      if (!isBreak(c)) return
      if (this.pos + 2 > this.gate) this.load(2)
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
    this.append(new Token(T_STREAM_END, this.pos, this.pos, this.line, '', 0, '', 0))
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
    this.append(new Token(type, start, this.pos, this.line, '', 0, '', 0))
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
      this.insert(key.tokenNumber - this.parsed, new Token(T_KEY, key.pos, key.pos, key.line, '', 0, '', 0))
      this.rollIndent(key.col, key.tokenNumber, T_BLOCK_MAPPING_START, key.pos, key.line)
      key.possible = false
      this.setKeyToken(key.tokenNumber, 0)
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
    this.append(new Token(type, start, this.pos, this.line, '', 0, '', 0))
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
    const {src, codes} = this
    const start = this.pos
    const line = this.line
    this.pos++
    this.need(1)
    const nameStart = this.pos
    while (isAlpha(codes[this.pos])) {
      this.pos++
      this.need(1)
    }

    if (this.pos === nameStart) throw this.error('could not find expected directive name')
    if (!isBlankZ(codes[this.pos])) throw this.error('found unexpected non-alphabetical character')
    const name = src.slice(nameStart, this.pos)
    let token: Token
    if (name === 'YAML') {
      this.need(1)
      this.skipBlanks()
      const major = this.versionNumber()
      if (codes[this.pos] !== 0x2e) throw this.error("did not find expected digit or '.' character")
      this.pos++
      const minor = this.versionNumber()
      token = new Token(T_VERSION_DIRECTIVE, start, this.pos, line, '', major, '', minor)
    } else if (name === 'TAG') {
      this.need(1)
      this.skipBlanks()
      const handle = this.scanTagHandle(true)
      this.need(1)
      if (!isBlank(codes[this.pos])) throw this.error('did not find expected whitespace')
      this.skipBlanks()
      const prefix = this.scanTagUri(null)
      this.need(1)
      if (!isBlankZ(codes[this.pos])) throw this.error('did not find expected whitespace or line break')
      token = new Token(T_TAG_DIRECTIVE, start, this.pos, line, handle, 0, prefix, 0)
    } else {
      throw this.error('found unknown directive name')
    }

    this.need(1)
    this.skipBlanks()
    this.skipComment()
    if (!isBreakZ(codes[this.pos])) throw this.error('did not find expected comment or line break')
    if (isBreak(codes[this.pos])) {
      this.need(2)
      this.skipLine()
    }

    return token
  }

  /** Spaces and tabs (the caller has made the first character available). */
  private skipBlanks(): void {
    while (isBlank(this.codes[this.pos])) {
      this.pos++
      this.need(1)
    }
  }

  /** A comment to the end of the line, if one starts here. */
  private skipComment(): void {
    if (this.codes[this.pos] !== 0x23) return
    while (!isBreakZ(this.codes[this.pos])) {
      this.skipChar()
      this.need(1)
    }
  }

  private versionNumber(): number {
    this.need(1)
    let value = 0
    let length = 0
    for (let c = this.codes[this.pos]; isDigit(c); c = this.codes[this.pos]) {
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
    const {src, codes} = this
    const start = this.pos
    const line = this.line
    this.pos++
    this.need(1)
    const nameStart = this.pos
    while (isAlpha(codes[this.pos])) {
      this.pos++
      this.need(1)
    }

    const end = this.pos
    const c = codes[end]
    // The name ends at a blank or at one of '?', ':', ',', ']', '}', '%', '@', '`'.
    if (end === nameStart || !(isBlankZ(c) || c === 0x3f || c === 0x3a || c === 0x2c || c === 0x5d || c === 0x7d || c === 0x25 || c === 0x40 || c === 0x60)) {
      throw this.error('did not find expected alphabetic or numeric character')
    }

    return new Token(type, start, end, line, src.slice(nameStart, end), 0, '', 0)
  }

  private scanTag(): Token {
    const {codes} = this
    const start = this.pos
    const line = this.line
    this.need(2)
    let handle: string
    let suffix: string
    if (codes[this.pos + 1] === 0x3c) {
      // Verbatim: !<uri>
      this.pos += 2
      suffix = this.scanTagUri(null)
      if (codes[this.pos] !== 0x3e) throw this.error("did not find the expected '>'")
      this.pos++
      handle = ''
    } else {
      handle = this.scanTagHandle(false)
      if (handle.length > 1 && handle.charCodeAt(handle.length - 1) === 0x21) {
        suffix = this.scanTagUri(null)
      } else {
        // Not a handle after all: '!' and the rest is the suffix ('!' alone is the non-specific tag).
        suffix = this.scanTagUri(handle)
        handle = '!'
        if (suffix.length === 0) {
          handle = ''
          suffix = '!'
        }
      }
    }

    this.need(1)
    if (!isBlankZ(codes[this.pos])) throw this.error('did not find expected whitespace or line break')
    return new Token(T_TAG, start, this.pos, line, handle, 0, suffix, 0)
  }

  /** `!`, `!!` or `!word!`; in a tag (not a %TAG directive) also `!word`, which is then no handle. */
  private scanTagHandle(directive: boolean): string {
    const {src, codes} = this
    this.need(1)
    if (codes[this.pos] !== 0x21) throw this.error("did not find expected '!'")
    const start = this.pos
    this.pos++
    this.need(1)
    while (isAlpha(codes[this.pos])) {
      this.pos++
      this.need(1)
    }

    if (codes[this.pos] === 0x21) this.pos++
    else if (directive && this.pos - start !== 1) throw this.error("did not find expected '!'")
    return src.slice(start, this.pos)
  }

  /** A tag URI, %-escapes decoded; `head` is a would-be handle that belongs to it (minus its '!'). */
  private scanTagUri(head: null | string): string {
    const {src, codes} = this
    let out = head !== null && head.length > 1 ? head.slice(1) : ''
    let hasTag = head !== null && head.length > 0
    this.need(1)
    let run = this.pos
    for (let c = codes[this.pos]; isUriChar(c); c = codes[this.pos]) {
      if (c === 0x25) {
        out += src.slice(run, this.pos) + this.scanUriEscapes()
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
  private scanUriEscapes(): string {
    const {codes} = this
    const octets: number[] = []
    let left = -1
    while (left !== 0) {
      this.need(3)
      const p = this.pos
      if (!(codes[p] === 0x25 && isHex(codes[p + 1]) && isHex(codes[p + 2]))) throw this.error('did not find URI escaped octet')
      const octet = (hexValue(codes[p + 1]) << 4) + hexValue(codes[p + 2])
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
    const {src, codes} = this
    const start = this.pos
    const line = this.line
    this.pos++
    this.need(1)
    let chomping = 0
    let increment = 0
    let c = codes[this.pos]
    if (c === 0x2b || c === 0x2d) {
      chomping = c === 0x2b ? 1 : -1
      this.pos++
      this.need(1)
      c = codes[this.pos]
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
      c = codes[this.pos]
      if (c === 0x2b || c === 0x2d) {
        chomping = c === 0x2b ? 1 : -1
        this.pos++
      }
    }

    this.need(1)
    this.skipBlanks()
    this.skipComment()
    if (!isBreakZ(codes[this.pos])) throw this.error('did not find expected comment or line break')
    if (isBreak(codes[this.pos])) {
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
    while (this.col() === indent && codes[this.pos] !== 0) {
      // At the start of a non-empty line: folding joins lines with a space unless either side is
      // more indented (a "blank" line start) or empty lines came between.
      const trailingBlank = isBlank(codes[this.pos])
      if (!literal && !leadingBlank && !trailingBlank && leadingBreak === '\n') {
        if (state.breaks === '') value += ' '
      } else {
        value += leadingBreak
      }

      value += state.breaks
      state.breaks = ''
      leadingBlank = trailingBlank
      const from = this.pos
      while (!isBreakZ(codes[this.pos])) {
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
    return new Token(T_SCALAR, start, state.end, line, value, literal ? STYLE_LITERAL : STYLE_FOLDED, '', 0)
  }

  /**
   * Indentation and empty lines before a block scalar line. Without an explicit indentation the
   * first non-empty line sets it (at least one more than the enclosing block, and at least 1);
   * an empty line more indented than that first line also counts.
   */
  private blockScalarBreaks(state: {breaks: string; end: number; indent: number}): void {
    const {codes} = this
    state.end = this.pos
    let maxIndent = 0
    for (;;) {
      this.need(1)
      while ((state.indent === 0 || this.col() < state.indent) && codes[this.pos] === 0x20) {
        this.pos++
        this.need(1)
      }

      const col = this.col()
      if (col > maxIndent) maxIndent = col
      const c = codes[this.pos]
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
    const {src, codes} = this
    const start = this.pos
    const line = this.line
    const quote = single ? 0x27 : 0x22
    this.pos++
    let value = ''
    for (;;) {
      this.need(4)
      let c = codes[this.pos]
      if (this.atDocumentIndicator()) throw this.error('found unexpected document indicator')
      if (c === 0) throw this.error('found unexpected end of stream')
      let leadingBlanks = false
      let run = this.pos
      while (!isBlankZ(c)) {
        if (single && c === 0x27) {
          if (codes[this.pos + 1] !== 0x27) break
          value += src.slice(run, this.pos) + "'"
          this.pos += 2
          run = this.pos
        } else if (c === quote) {
          break
        } else if (!single && c === 0x5c) {
          value += src.slice(run, this.pos)
          const e = codes[this.pos + 1]
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
        c = codes[this.pos]
      }

      if (!leadingBlanks) value += src.slice(run, this.pos)
      this.need(1)
      c = codes[this.pos]
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
        c = codes[this.pos]
      }

      if (!leadingBlanks) value += whitespace
      else if (leadingBreak === '\n') value += trailingBreaks === '' ? ' ' : trailingBreaks
      else value += leadingBreak + trailingBreaks
    }

    this.pos++
    return new Token(T_SCALAR, start, this.pos, line, value, single ? STYLE_SINGLE : STYLE_DOUBLE, '', 0)
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
    const {codes} = this
    let value = 0
    for (let k = 0; k < digits; k++) {
      const h = codes[this.pos + k]
      if (!isHex(h)) throw this.error('did not find expected hexdecimal number')
      value = value * 16 + hexValue(h)
    }

    if ((value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) throw this.error('found invalid Unicode character escape code')
    this.pos += digits
    return String.fromCodePoint(value)
  }

  /** '---' or '...' followed by a blank, at the start of a line. */
  private atDocumentIndicator(): boolean {
    const {codes, pos} = this
    const c = codes[pos]
    if ((c !== 0x2d && c !== 0x2e) || this.col() !== 0) return false
    return codes[pos + 1] === c && codes[pos + 2] === c && isBlankZ(codes[pos + 3])
  }

  // ---- plain scalars -------------------------------------------------------------------------

  private scanPlain(): Token {
    const {src, codes} = this
    const start = this.pos
    const line = this.line
    const indent = this.indent + 1
    const flow = this.flowLevel > 0
    let end = this.pos
    let value = ''
    let leadingBlanks = false
    let leadingBreak = ''
    let trailingBreaks = ''
    // Blanks since the last run, on the same line: [wsStart, wsEnd) of the source.
    let wsStart = 0
    let wsEnd = 0
    for (;;) {
      if (this.pos + 4 > this.gate) this.load(4)
      let p = this.pos
      let c = codes[p]
      if (c === 0x23 || this.atDocumentIndicator()) break
      const run = p
      for (;;) {
        if (c < 0x80) {
          const k = RUN_END[c]
          // ': ' ends it anywhere; flow indicators in flow context.
          if (k !== 0 && (k === 1 || (k === 2 ? isBlankZ(codes[p + 1]) : flow))) break
        } else if (c === 0x85 || c === 0x2028 || c === 0x2029) {
          break
        }

        if (++p + 2 > this.gate) p = this.loadAt(p, 2)
        c = codes[p]
      }

      this.pos = p
      if (p !== run) {
        // Join what came between this run and the last: blanks inside a line are kept, a single
        // line break folds to a space, more breaks keep all but the first.
        if (leadingBlanks) {
          if (leadingBreak === '\n') value += trailingBreaks === '' ? ' ' : trailingBreaks
          else value += leadingBreak + trailingBreaks
          leadingBreak = ''
          trailingBreaks = ''
          leadingBlanks = false
        } else if (wsEnd !== wsStart) {
          value += src.slice(wsStart, wsEnd)
        }

        value = value === '' ? src.slice(run, p) : value + src.slice(run, p)
        wsStart = wsEnd = end = p
      }

      if (!(isBlank(c) || isBreak(c))) break
      if (this.pos + 1 > this.gate) this.load(1)
      for (;;) {
        if (c === 0x20 && leadingBlanks) {
          // Indentation on a new line: only its end matters.
          p = this.pos
          do {
            if (++p + 1 > this.gate) p = this.loadAt(p, 1)
          } while (codes[p] === 0x20)
          this.pos = p
          c = codes[p]
          continue
        }

        if (isBlank(c)) {
          if (leadingBlanks && c === 0x09 && this.col() < indent) {
            throw scanFault('found a tab character that violates indentation', this.pos, this.line)
          }

          if (!leadingBlanks) {
            if (wsEnd === wsStart) wsStart = this.pos
            wsEnd = this.pos + 1
          }

          this.pos++
        } else if (isBreak(c)) {
          if (this.pos + 2 > this.gate) this.load(2)
          if (leadingBlanks) {
            trailingBreaks += this.readLine()
          } else {
            wsStart = wsEnd
            leadingBreak = this.readLine()
            leadingBlanks = true
          }
        } else {
          break
        }

        if (this.pos + 1 > this.gate) this.load(1)
        c = codes[this.pos]
      }

      if (!flow && this.col() < indent) break
    }

    if (leadingBlanks) this.simpleKeyAllowed = true
    return new Token(T_SCALAR, start, end, line, value, STYLE_PLAIN, '', 0)
  }
}
