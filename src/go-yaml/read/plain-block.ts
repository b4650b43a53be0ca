/**
 * The shape nearly every real gadget.yaml has, read without libyaml's character-by-character
 * machinery: block mappings and sequences of one-line scalars, comments and blank lines, in
 * printable ASCII. A cold process spent a third of a layout's own time reading YAML (the scanner
 * runs in V8's interpreter, a character at a time); a regular expression per line does that work
 * natively.
 *
 * It returns exactly the tree `readYaml` builds (node kinds, styles and offsets), or undefined as
 * soon as a line leaves that shape: anything it is unsure of (tabs, CR, quotes with escapes, a
 * scalar that might continue on the next line, flow collections, anchors, tags, document markers,
 * an indentation libyaml might refuse) goes to the full reader, which gives snapd's verdict and
 * message. test/go-yaml/read/plain-block.test.ts compares the two on the corpus and on mutants of
 * it.
 */
import type {YamlMap, YamlNode, YamlScalar, YamlSeq} from './ast.js'

/**
 * One content line: indentation, an optional `- ` entry, an optional plain key with its `:`
 * (a plain scalar's first character is no indicator; the key holds no blank, `:` or `#`), and the
 * rest (a value, a comment or nothing), which starts at a non-blank.
 */
const LINE = /^( *)(- +)?(?:([^-?:,[\]{}#&*!|>'"%@` ][^ :#]*):(?= |$) *)?(.*)$/

/** A one-line quoted scalar without escapes, then blanks and an optional comment. */
const SINGLE_QUOTED = /^'([^']*)'(?: +(?:#.*)?)?$/
const DOUBLE_QUOTED = /^"([^"\\]*)"(?: +(?:#.*)?)?$/

/** Characters a plain scalar cannot start with (libyaml's indicators, some of which only with a blank after them). */
const NOT_PLAIN_START = /^[-?:,[\]{}#&*!|>'"%@` ]/

/** Inside a plain scalar, `: ` or a final `:` would make it a key: not a one-line value. */
const MAPPING_VALUE = /: |:$/

/** Beyond this a simple key could cross libyaml's 1024-character limit. */
const MAX_LINE = 1000

/** What the full reader must see: tabs, CR, document markers and directives at a line start. */
const FULL_READER_ONLY = /[\t\r]|^(?:---|\.\.\.|%)/m

interface Open {
  node: YamlMap | YamlSeq
  /** Column of its keys or its `-` entries. */
  indent: number
  /** A sequence at its parent key's column (`key:` then `- item` under it). */
  indentless: boolean
  /** A key whose value has not come yet, and the offset just after its `:`. */
  pendingKey?: YamlScalar
  colonEnd: number
}

/** The root node, or undefined when `text` is not in the subset (the full reader then decides). */
export function readPlainBlock(text: string): YamlNode | undefined {
  if (FULL_READER_ONLY.test(text)) return undefined
  const reader = new PlainBlockReader()
  let lineStart = 0
  while (lineStart < text.length) {
    const newline = text.indexOf('\n', lineStart)
    const lineEnd = newline === -1 ? text.length : newline
    if (lineEnd - lineStart > MAX_LINE) return undefined
    if (!reader.line(text.slice(lineStart, lineEnd), lineStart)) return undefined
    lineStart = lineEnd + 1
  }

  return reader.finish()
}

class PlainBlockReader {
  private lastEnd = 0
  private readonly open: Open[] = []
  private root?: YamlMap | YamlSeq

  finish(): YamlNode | undefined {
    while (this.open.length > 0) this.close()
    return this.root
  }

  /** Reads one line starting at `offset`; false when it leaves the subset. */
  line(line: string, offset: number): boolean {
    const match = LINE.exec(line)
    if (match === null) return false
    const [, indentText, dash, key, rest] = match
    const noValue = rest === '' || rest.startsWith('#')
    if (dash === undefined && key === undefined) return noValue // a blank or comment line is fine; a bare scalar is not
    const column = indentText.length
    const value = noValue ? undefined : scalar(rest, offset + line.length - rest.length)
    if (value === null) return false

    while (this.open.length > 0 && this.open.at(-1)!.indent > column) this.close()
    let top = this.open.at(-1)
    if (top === undefined && this.root !== undefined) return false // past the root: another document's business

    if (dash !== undefined) {
      let seq: Open
      if (top !== undefined && top.indent === column && top.node.kind === 'seq') {
        seq = top
      } else {
        if (top !== undefined && top.pendingKey === undefined) return false
        const node: YamlSeq = {end: offset + column + 1, flow: false, items: [], kind: 'seq', start: offset + column}
        seq = this.push(node, column, top !== undefined && top.indent === column)
      }

      const itemColumn = column + dash.length
      if (key !== undefined) return this.startMap(itemColumn, offset + itemColumn, key, value)
      if (value === undefined) return false // the entry's content would be on later lines
      this.add(seq, value)
      return true
    }

    if (top === undefined) return this.startMap(column, offset + column, key!, value)
    if (top.indent === column) {
      if (top.node.kind === 'seq') {
        if (!top.indentless) return false
        this.close()
        top = this.open.at(-1)!
      }

      this.addKey(top, offset + column, key!, value)
      return true
    }

    if (top.pendingKey === undefined) return false // deeper than a key that already has its value
    return this.startMap(column, offset + column, key!, value)
  }

  private startMap(column: number, start: number, key: string, value: undefined | YamlScalar): boolean {
    const node: YamlMap = {end: start, flow: false, kind: 'map', pairs: [], start}
    const map = this.push(node, column, false)
    this.addKey(map, start, key, value)
    return true
  }

  private push(node: YamlMap | YamlSeq, indent: number, indentless: boolean): Open {
    const parent = this.open.at(-1)
    if (parent === undefined) this.root = node
    else this.add(parent, node)
    const open: Open = {colonEnd: 0, indent, indentless, node}
    this.open.push(open)
    return open
  }

  private addKey(map: Open, start: number, text: string, value: undefined | YamlScalar): void {
    if (map.pendingKey !== undefined) this.add(map, emptyScalar(map.colonEnd))
    const key: YamlScalar = {end: start + text.length, kind: 'scalar', start, style: 'plain', value: text}
    this.lastEnd = key.end
    map.pendingKey = key
    map.colonEnd = key.end + 1
    if (value !== undefined) this.add(map, value)
  }

  /** Adds a value to a sequence, or as the value of its map's pending key. */
  private add(parent: Open, node: YamlNode): void {
    if (node.kind === 'scalar') this.lastEnd = node.end
    if (parent.node.kind === 'seq') {
      parent.node.items.push(node)
    } else {
      parent.node.pairs.push({key: parent.pendingKey!, value: node})
      parent.pendingKey = undefined
    }
  }

  private close(): void {
    const open = this.open.at(-1)!
    if (open.pendingKey !== undefined) this.add(open, emptyScalar(open.colonEnd))
    this.open.pop()
    open.node.end = this.lastEnd
  }
}

function emptyScalar(offset: number): YamlScalar {
  return {end: offset, kind: 'scalar', start: offset, style: 'plain', value: ''}
}

/** A one-line value starting at `offset`; null when it is not one (the full reader decides). */
function scalar(rest: string, offset: number): null | YamlScalar {
  const quote = rest.charCodeAt(0)
  if (quote === 0x27 || quote === 0x22) {
    const match = (quote === 0x27 ? SINGLE_QUOTED : DOUBLE_QUOTED).exec(rest)
    if (match === null) return null
    const value = match[1]
    return {end: offset + value.length + 2, kind: 'scalar', start: offset, style: quote === 0x27 ? 'single' : 'double', value}
  }

  if (NOT_PLAIN_START.test(rest)) return null
  const comment = rest.indexOf(' #')
  const value = (comment === -1 ? rest : rest.slice(0, comment)).trimEnd()
  if (MAPPING_VALUE.test(value)) return null
  return {end: offset + value.length, kind: 'scalar', start: offset, style: 'plain', value}
}
