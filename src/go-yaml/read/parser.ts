/**
 * readYaml: the first document of a YAML stream, read the way go-yaml v2's `yaml.Unmarshal` reads
 * it before decoding (libyaml's parser, then go-yaml's node builder), with the same acceptance and
 * the same error messages and line numbers.
 *
 * go-yaml stops after the first document's end event, which needs one token past the root (plus
 * whatever the scanner's simple-key lookahead takes): text after that is never scanned, and a bad
 * byte there is only an error when it shares a 512-byte reader block with something that was.
 * The parser is libyaml's LL(1) state machine with an explicit state stack, building nodes as it
 * goes, so nesting depth is bounded by go-yaml's own limit (10,000) and never by the call stack.
 */
import type {ScalarStyle, YamlAlias, YamlMap, YamlNode, YamlReadResult, YamlScalar, YamlSeq} from './ast.js'
import {type Prepared, prepare} from './chars.js'
import {readPlainBlock} from './plain-block.js'
import {
  clear,
  Scanner,
  T_ALIAS,
  T_ANCHOR,
  T_BLOCK_END,
  T_BLOCK_ENTRY,
  T_BLOCK_MAPPING_START,
  T_BLOCK_SEQUENCE_START,
  T_DOCUMENT_END,
  T_DOCUMENT_START,
  T_FLOW_ENTRY,
  T_FLOW_MAPPING_END,
  T_FLOW_MAPPING_START,
  T_FLOW_SEQUENCE_END,
  T_FLOW_SEQUENCE_START,
  T_KEY,
  T_SCALAR,
  T_STREAM_END,
  T_STREAM_START,
  T_TAG,
  T_TAG_DIRECTIVE,
  T_VALUE,
  T_VERSION_DIRECTIVE,
  type Token,
  YamlFault,
} from './scanner.js'

export type {YamlReadResult} from './ast.js'

/** Reads the first document of `input` (text, or bytes in UTF-8 or BOM-marked UTF-16). */
export function readYaml(input: string | Uint8Array): YamlReadResult {
  const prepared = prepare(input)
  if (prepared.ascii) {
    // The usual gadget.yaml: plain block YAML in ASCII, read natively (plain-block.ts). ASCII text
    // has no byte-order mark to skip and nothing go-yaml's reader refuses.
    const root = readPlainBlock(prepared.text)
    if (root !== undefined) return {root, singleDocument: true, text: prepared.text}
  }

  return readPrepared(prepared)
}

/** readYaml without the plain-block shortcut: libyaml's way for every input (the shortcut's tests compare the two). */
export function readYamlFully(input: string | Uint8Array): YamlReadResult {
  return readPrepared(prepare(input))
}

function readPrepared(prepared: Prepared): YamlReadResult {
  // Reuse the idle reader; a call made while it is busy (none is, today) gets its own.
  const reader = idle ?? new Reader(new Scanner())
  idle = undefined
  reader.reset(prepared)
  try {
    reader.readFirstDocument()
    const root = reader.root
    return {root, singleDocument: reader.restIsEmpty(), text: prepared.text}
  } catch (error) {
    if (!(error instanceof YamlFault)) throw error
    return {error: {goLine: error.goLine, message: error.message, offset: error.offset}, singleDocument: false, text: prepared.text}
  } finally {
    reader.release()
    idle = reader
  }
}

let idle: Reader | undefined

// Parser states (libyaml's).
const S_STREAM_START = 0
const S_IMPLICIT_DOCUMENT_START = 1
const S_DOCUMENT_START = 2
const S_DOCUMENT_CONTENT = 3
const S_DOCUMENT_END = 4
const S_BLOCK_NODE = 5
const S_BLOCK_NODE_OR_INDENTLESS_SEQUENCE = 6
const S_FLOW_NODE = 7
const S_BLOCK_SEQUENCE_FIRST_ENTRY = 8
const S_BLOCK_SEQUENCE_ENTRY = 9
const S_INDENTLESS_SEQUENCE_ENTRY = 10
const S_BLOCK_MAPPING_FIRST_KEY = 11
const S_BLOCK_MAPPING_KEY = 12
const S_BLOCK_MAPPING_VALUE = 13
const S_FLOW_SEQUENCE_FIRST_ENTRY = 14
const S_FLOW_SEQUENCE_ENTRY = 15
const S_FLOW_SEQUENCE_ENTRY_MAPPING_KEY = 16
const S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE = 17
const S_FLOW_SEQUENCE_ENTRY_MAPPING_END = 18
const S_FLOW_MAPPING_FIRST_KEY = 19
const S_FLOW_MAPPING_KEY = 20
const S_FLOW_MAPPING_VALUE = 21
const S_FLOW_MAPPING_EMPTY_VALUE = 22
const S_END = 23

/** Scalar styles by the scanner's style numbers. */
const STYLES: ScalarStyle[] = ['plain', 'plain', 'single', 'double', 'literal', 'folded']

const DEFAULT_TAG_HANDLES: Array<[string, string]> = [
  ['!', '!'],
  ['!!', 'tag:yaml.org,2002:'],
]

/** A parser error: go-yaml prints the 0-based line of the token (no line on the first). */
function parseFault(message: string, token: Token): YamlFault {
  return new YamlFault(message, token.start, token.line)
}

type Collection = YamlMap | YamlSeq

class Reader {
  root: undefined | YamlNode
  private state = S_STREAM_START
  private readonly states: number[] = []
  /** %TAG handles of the current document, defaults included. */
  private tagHandles: Array<[string, string]> = []
  /** Event seen: 1 document start, 2 document end, 3 stream end. */
  private event = 0

  // Node building (go-yaml's parser in decode.go).
  private readonly open: Collection[] = []
  /** Per open collection: a mapping key waiting for its value. */
  private readonly pendingKeys: Array<undefined | YamlNode> = []
  /** Anchors defined so far (made on the first one). */
  private anchors: Map<string, YamlNode> | undefined
  private lastEnd = 0

  constructor(private readonly scanner: Scanner) {}

  reset(input: Prepared): void {
    this.scanner.reset(input)
    this.root = undefined
    this.state = S_STREAM_START
    clear(this.states)
    this.tagHandles = []
    this.event = 0
    clear(this.open)
    clear(this.pendingKeys)
    this.anchors = undefined
    this.lastEnd = 0
  }

  /** Drops every reference to the document just read. */
  release(): void {
    this.scanner.release()
    this.root = undefined
    clear(this.open)
    clear(this.pendingKeys)
    this.anchors = undefined
  }

  /** STREAM-START, then the first document (or the end of an empty stream). */
  readFirstDocument(): void {
    this.step() // stream start
    this.event = 0
    this.step()
    if (this.event === 3) return // empty stream
    while (this.event !== 2) this.step()
  }

  /**
   * True when nothing but the end of the stream follows the first document: what a reader of the
   * whole stream sees as exactly one document.
   */
  restIsEmpty(): boolean {
    if (this.state === S_END) return true
    try {
      this.event = 0
      this.step()
      return this.event === 3
    } catch (error) {
      if (error instanceof YamlFault) return false
      throw error
    }
  }

  // ---- node building -------------------------------------------------------------------------

  private add(node: YamlNode): void {
    const depth = this.open.length
    if (depth === 0) {
      this.root = node
      return
    }

    const parent = this.open[depth - 1]
    if (parent.kind === 'seq') {
      parent.items.push(node)
    } else {
      const key = this.pendingKeys[depth - 1]
      if (key === undefined) {
        this.pendingKeys[depth - 1] = node
      } else {
        parent.pairs.push({key, value: node})
        this.pendingKeys[depth - 1] = undefined
      }
    }
  }

  private scalar(start: number, end: number, value: string, style: ScalarStyle, anchor: string | undefined, tag: string | undefined): void {
    const node: YamlScalar = {end, kind: 'scalar', start, style, value}
    if (anchor !== undefined) {
      node.anchor = anchor
      ;(this.anchors ??= new Map()).set(anchor, node)
    }

    if (tag !== undefined) node.tag = tag
    this.lastEnd = end
    this.add(node)
  }

  private emptyScalar(offset: number): void {
    this.scalar(offset, offset, '', 'plain', undefined, undefined)
  }

  private alias(token: Token): void {
    const target = this.anchors?.get(token.value)
    if (target === undefined) throw new YamlFault(`unknown anchor '${token.value}' referenced`, token.start, 0)
    const node: YamlAlias = {end: token.end, kind: 'alias', name: token.value, start: token.start, target}
    this.lastEnd = token.end
    this.add(node)
  }

  private startCollection(node: Collection, anchor: string | undefined, tag: string | undefined): void {
    if (anchor !== undefined) {
      node.anchor = anchor
      ;(this.anchors ??= new Map()).set(anchor, node)
    }

    if (tag !== undefined) node.tag = tag
    this.add(node)
    this.open.push(node)
    this.pendingKeys.push(undefined)
  }

  /** Closes the innermost collection; `end` is the closing bracket's end, or -1 (block, implicit). */
  private endCollection(end: number): void {
    const node = this.open.pop()!
    this.pendingKeys.pop()
    node.end = end === -1 ? this.lastEnd : end
    this.lastEnd = node.end
  }

  // ---- the state machine ---------------------------------------------------------------------

  private pop(): void {
    this.state = this.states.pop()!
  }

  /** Produces one event (libyaml's yaml_parser_parse). */
  private step(): void {
    const s = this.scanner
    switch (this.state) {
      case S_STREAM_START: {
        const token = s.peek()
        if (token.type !== T_STREAM_START) throw parseFault('did not find expected <stream-start>', token)
        this.state = S_IMPLICIT_DOCUMENT_START
        s.skip()
        return
      }

      case S_IMPLICIT_DOCUMENT_START: {
        return this.documentStart(true)
      }

      case S_DOCUMENT_START: {
        return this.documentStart(false)
      }

      case S_DOCUMENT_CONTENT: {
        const token = s.peek()
        const t = token.type
        if (t === T_VERSION_DIRECTIVE || t === T_TAG_DIRECTIVE || t === T_DOCUMENT_START || t === T_DOCUMENT_END || t === T_STREAM_END) {
          this.pop()
          return this.emptyScalar(token.start)
        }

        return this.node(true, false)
      }

      case S_DOCUMENT_END: {
        const token = s.peek()
        if (token.type === T_DOCUMENT_END) s.skip()
        this.tagHandles = []
        this.state = S_DOCUMENT_START
        this.event = 2
        return
      }

      case S_BLOCK_NODE: {
        return this.node(true, false)
      }

      case S_BLOCK_NODE_OR_INDENTLESS_SEQUENCE: {
        return this.node(true, true)
      }

      case S_FLOW_NODE: {
        return this.node(false, false)
      }

      case S_BLOCK_SEQUENCE_FIRST_ENTRY: {
        s.peek()
        s.skip()
        return this.blockSequenceEntry()
      }

      case S_BLOCK_SEQUENCE_ENTRY: {
        return this.blockSequenceEntry()
      }

      case S_INDENTLESS_SEQUENCE_ENTRY: {
        return this.indentlessSequenceEntry()
      }

      case S_BLOCK_MAPPING_FIRST_KEY: {
        s.peek()
        s.skip()
        return this.blockMappingKey()
      }

      case S_BLOCK_MAPPING_KEY: {
        return this.blockMappingKey()
      }

      case S_BLOCK_MAPPING_VALUE: {
        return this.blockMappingValue()
      }

      case S_FLOW_SEQUENCE_FIRST_ENTRY: {
        s.peek()
        s.skip()
        return this.flowSequenceEntry(true)
      }

      case S_FLOW_SEQUENCE_ENTRY: {
        return this.flowSequenceEntry(false)
      }

      case S_FLOW_SEQUENCE_ENTRY_MAPPING_KEY: {
        const token = s.peek()
        const t = token.type
        if (t !== T_VALUE && t !== T_FLOW_ENTRY && t !== T_FLOW_SEQUENCE_END) {
          this.states.push(S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE)
          return this.node(false, false)
        }

        // libyaml consumes the token here, whatever it is: `[? : x]` loses its ':'.
        s.skip()
        this.state = S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE
        return this.emptyScalar(token.end)
      }

      case S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE: {
        const token = s.peek()
        if (token.type === T_VALUE) {
          s.skip()
          const next = s.peek()
          if (next.type !== T_FLOW_ENTRY && next.type !== T_FLOW_SEQUENCE_END) {
            this.states.push(S_FLOW_SEQUENCE_ENTRY_MAPPING_END)
            return this.node(false, false)
          }
        }

        this.state = S_FLOW_SEQUENCE_ENTRY_MAPPING_END
        return this.emptyScalar(token.start)
      }

      case S_FLOW_SEQUENCE_ENTRY_MAPPING_END: {
        s.peek()
        this.state = S_FLOW_SEQUENCE_ENTRY
        return this.endCollection(-1)
      }

      case S_FLOW_MAPPING_FIRST_KEY: {
        s.peek()
        s.skip()
        return this.flowMappingKey(true)
      }

      case S_FLOW_MAPPING_KEY: {
        return this.flowMappingKey(false)
      }

      case S_FLOW_MAPPING_VALUE: {
        return this.flowMappingValue(false)
      }

      case S_FLOW_MAPPING_EMPTY_VALUE: {
        return this.flowMappingValue(true)
      }

      default: {
        // S_END: nothing more.
      }
    }
  }

  private documentStart(implicit: boolean): void {
    const s = this.scanner
    let token = s.peek()
    if (!implicit) {
      while (token.type === T_DOCUMENT_END) {
        s.skip()
        token = s.peek()
      }
    }

    const t = token.type
    if (implicit && t !== T_VERSION_DIRECTIVE && t !== T_TAG_DIRECTIVE && t !== T_DOCUMENT_START && t !== T_STREAM_END) {
      this.directives()
      this.states.push(S_DOCUMENT_END)
      this.state = S_BLOCK_NODE
      this.event = 1
    } else if (t === T_STREAM_END) {
      this.state = S_END
      this.event = 3
      s.skip()
    } else {
      this.directives()
      token = s.peek()
      if (token.type !== T_DOCUMENT_START) throw parseFault('did not find expected <document start>', token)
      this.states.push(S_DOCUMENT_END)
      this.state = S_DOCUMENT_CONTENT
      this.event = 1
      s.skip()
    }
  }

  /** %YAML and %TAG directives before a document; the default handles are added after them. */
  private directives(): void {
    const s = this.scanner
    let version = false
    let token = s.peek()
    while (token.type === T_VERSION_DIRECTIVE || token.type === T_TAG_DIRECTIVE) {
      if (token.type === T_VERSION_DIRECTIVE) {
        if (version) throw parseFault('found duplicate %YAML directive', token)
        // go-yaml v2 reads YAML 1.1 only.
        if (token.style !== 1 || token.minor !== 1) throw parseFault('found incompatible YAML document', token)
        version = true
      } else {
        if (this.tagHandles.some(([handle]) => handle === token.value)) throw parseFault('found duplicate %TAG directive', token)
        this.tagHandles.push([token.value, token.suffix])
      }

      s.skip()
      token = s.peek()
    }

    for (const entry of DEFAULT_TAG_HANDLES) if (!this.tagHandles.some(([handle]) => handle === entry[0])) this.tagHandles.push(entry)
  }

  /** A node: alias, or optional anchor and tag (either order) and then content. */
  private node(block: boolean, indentless: boolean): void {
    const s = this.scanner
    let token = s.peek()
    if (token.type === T_SCALAR) {
      // The usual case, no properties.
      this.pop()
      this.scalar(token.start, token.end, token.value, STYLES[token.style], undefined, undefined)
      s.skip()
      return
    }

    if (token.type === T_ALIAS) {
      this.pop()
      this.alias(token)
      s.skip()
      return
    }

    const start = token.start
    let end = token.start
    let anchor: string | undefined
    let tagToken: Token | undefined
    if (token.type === T_ANCHOR) {
      anchor = token.value
      end = token.end
      s.skip()
      token = s.peek()
      if (token.type === T_TAG) {
        tagToken = token
        end = token.end
        s.skip()
        token = s.peek()
      }
    } else if (token.type === T_TAG) {
      tagToken = token
      end = token.end
      s.skip()
      token = s.peek()
      if (token.type === T_ANCHOR) {
        anchor = token.value
        end = token.end
        s.skip()
        token = s.peek()
      }
    }

    let tag: string | undefined
    if (tagToken !== undefined) {
      if (tagToken.value === '') {
        tag = tagToken.suffix
      } else {
        const handle = this.tagHandles.find(([h]) => h === tagToken.value)
        if (handle === undefined) throw parseFault('found undefined tag handle', tagToken)
        tag = handle[1] + tagToken.suffix
      }
    }

    const t = token.type
    if (indentless && t === T_BLOCK_ENTRY) {
      this.state = S_INDENTLESS_SEQUENCE_ENTRY
      const seq: YamlSeq = {end: token.end, flow: false, items: [], kind: 'seq', start}
      return this.startCollection(seq, anchor, tag)
    }

    if (t === T_SCALAR) {
      this.pop()
      this.scalar(start, token.end, token.value, STYLES[token.style], anchor, tag)
      s.skip()
      return
    }

    if (t === T_FLOW_SEQUENCE_START || (block && t === T_BLOCK_SEQUENCE_START)) {
      this.state = t === T_FLOW_SEQUENCE_START ? S_FLOW_SEQUENCE_FIRST_ENTRY : S_BLOCK_SEQUENCE_FIRST_ENTRY
      const seq: YamlSeq = {end: token.end, flow: t === T_FLOW_SEQUENCE_START, items: [], kind: 'seq', start}
      return this.startCollection(seq, anchor, tag)
    }

    if (t === T_FLOW_MAPPING_START || (block && t === T_BLOCK_MAPPING_START)) {
      this.state = t === T_FLOW_MAPPING_START ? S_FLOW_MAPPING_FIRST_KEY : S_BLOCK_MAPPING_FIRST_KEY
      const map: YamlMap = {end: token.end, flow: t === T_FLOW_MAPPING_START, kind: 'map', pairs: [], start}
      return this.startCollection(map, anchor, tag)
    }

    if (anchor !== undefined || tag !== undefined) {
      // Properties with no content: an empty plain scalar carrying them.
      this.pop()
      return this.scalar(start, end, '', 'plain', anchor, tag)
    }

    throw parseFault('did not find expected node content', token)
  }

  private blockSequenceEntry(): void {
    const s = this.scanner
    const token = s.peek()
    if (token.type === T_BLOCK_ENTRY) {
      const mark = token.end
      s.skip()
      const next = s.peek()
      if (next.type !== T_BLOCK_ENTRY && next.type !== T_BLOCK_END) {
        this.states.push(S_BLOCK_SEQUENCE_ENTRY)
        return this.node(true, false)
      }

      this.state = S_BLOCK_SEQUENCE_ENTRY
      return this.emptyScalar(mark)
    }

    if (token.type === T_BLOCK_END) {
      this.pop()
      this.endCollection(-1)
      s.skip()
      return
    }

    throw parseFault("did not find expected '-' indicator", token)
  }

  private indentlessSequenceEntry(): void {
    const s = this.scanner
    const token = s.peek()
    if (token.type === T_BLOCK_ENTRY) {
      const mark = token.end
      s.skip()
      const t = s.peek().type
      if (t !== T_BLOCK_ENTRY && t !== T_KEY && t !== T_VALUE && t !== T_BLOCK_END) {
        this.states.push(S_INDENTLESS_SEQUENCE_ENTRY)
        return this.node(true, false)
      }

      this.state = S_INDENTLESS_SEQUENCE_ENTRY
      return this.emptyScalar(mark)
    }

    this.pop()
    this.endCollection(-1)
  }

  private blockMappingKey(): void {
    const s = this.scanner
    const token = s.peek()
    if (token.type === T_KEY) {
      const mark = token.end
      s.skip()
      const t = s.peek().type
      if (t !== T_KEY && t !== T_VALUE && t !== T_BLOCK_END) {
        this.states.push(S_BLOCK_MAPPING_VALUE)
        return this.node(true, true)
      }

      this.state = S_BLOCK_MAPPING_VALUE
      return this.emptyScalar(mark)
    }

    if (token.type === T_BLOCK_END) {
      this.pop()
      this.endCollection(-1)
      s.skip()
      return
    }

    throw parseFault('did not find expected key', token)
  }

  private blockMappingValue(): void {
    const s = this.scanner
    const token = s.peek()
    if (token.type === T_VALUE) {
      const mark = token.end
      s.skip()
      const t = s.peek().type
      if (t !== T_KEY && t !== T_VALUE && t !== T_BLOCK_END) {
        this.states.push(S_BLOCK_MAPPING_KEY)
        return this.node(true, true)
      }

      this.state = S_BLOCK_MAPPING_KEY
      return this.emptyScalar(mark)
    }

    this.state = S_BLOCK_MAPPING_KEY
    return this.emptyScalar(token.start)
  }

  private flowSequenceEntry(first: boolean): void {
    const s = this.scanner
    let token = s.peek()
    if (token.type !== T_FLOW_SEQUENCE_END) {
      if (!first) {
        if (token.type !== T_FLOW_ENTRY) throw parseFault("did not find expected ',' or ']'", token)
        s.skip()
        token = s.peek()
      }

      if (token.type === T_KEY) {
        // `[a: b]`: a single-pair flow mapping inside the sequence.
        this.state = S_FLOW_SEQUENCE_ENTRY_MAPPING_KEY
        const map: YamlMap = {end: token.end, flow: true, kind: 'map', pairs: [], start: token.start}
        this.startCollection(map, undefined, undefined)
        s.skip()
        return
      }

      if (token.type !== T_FLOW_SEQUENCE_END) {
        this.states.push(S_FLOW_SEQUENCE_ENTRY)
        return this.node(false, false)
      }
    }

    this.pop()
    this.endCollection(token.end)
    s.skip()
  }

  private flowMappingKey(first: boolean): void {
    const s = this.scanner
    let token = s.peek()
    if (token.type !== T_FLOW_MAPPING_END) {
      if (!first) {
        if (token.type !== T_FLOW_ENTRY) throw parseFault("did not find expected ',' or '}'", token)
        s.skip()
        token = s.peek()
      }

      if (token.type === T_KEY) {
        s.skip()
        token = s.peek()
        const t = token.type
        if (t !== T_VALUE && t !== T_FLOW_ENTRY && t !== T_FLOW_MAPPING_END) {
          this.states.push(S_FLOW_MAPPING_VALUE)
          return this.node(false, false)
        }

        this.state = S_FLOW_MAPPING_VALUE
        return this.emptyScalar(token.start)
      }

      if (token.type !== T_FLOW_MAPPING_END) {
        this.states.push(S_FLOW_MAPPING_EMPTY_VALUE)
        return this.node(false, false)
      }
    }

    this.pop()
    this.endCollection(token.end)
    s.skip()
  }

  private flowMappingValue(empty: boolean): void {
    const s = this.scanner
    let token = s.peek()
    if (empty) {
      this.state = S_FLOW_MAPPING_KEY
      return this.emptyScalar(token.start)
    }

    if (token.type === T_VALUE) {
      s.skip()
      token = s.peek()
      if (token.type !== T_FLOW_ENTRY && token.type !== T_FLOW_MAPPING_END) {
        this.states.push(S_FLOW_MAPPING_KEY)
        return this.node(false, false)
      }
    }

    this.state = S_FLOW_MAPPING_KEY
    return this.emptyScalar(token.start)
  }
}
