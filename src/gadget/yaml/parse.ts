/**
 * Parses gadget.yaml text into a syntax tree the way snapd's go-yaml v2 reads it: YAML 1.1,
 * every scalar kept as its source text (the decoder resolves it per Go type), duplicate keys
 * kept (the decoder lets the last one win), only the first document read, and go-yaml's limits
 * on nesting depth.
 */
import {type Alias, Composer, type Document, isMap, isScalar, isSeq, LineCounter, type Node, Parser, visit} from 'yaml'
import type {CST} from 'yaml'

import {decodeYamlBytes, firstDisallowedChar} from './text.js'

export interface YamlProblem {
  message: string
  /** Character offset into `text`. */
  offset: number
}

export interface ParsedYaml {
  text: string
  /** Each alias of the first document and the node it stands for. */
  aliasTargets: Map<Alias, Node>
  /** The first document, or undefined when the stream is empty or unreadable. */
  doc?: Document
  lineCounter: LineCounter
  /** A syntax or encoding error: snapd's "cannot parse gadget metadata: yaml: …". */
  problem?: YamlProblem
  /**
   * True when the whole stream is one clean document (nothing unread after it). Tools that read
   * the whole file, like PyYAML's yaml.load, fail on anything else.
   */
  singleDocument: boolean
}

/** go-yaml's scanner limits (max_flow_level, max_indents). */
export const GO_YAML_MAX_DEPTH = 10_000
/**
 * The deepest nesting we compose: the composer recurses, and real gadget.yaml files nest under
 * ten levels. Deeper documents get a clear error instead of a stack overflow.
 */
export const MAX_DEPTH = 256

/** go-yaml's reader decodes and checks its input 512 bytes at a time (input_raw_buffer_size). */
const READ_CHUNK = 512

export function parseYaml(input: string | Uint8Array): ParsedYaml {
  const lineCounter = new LineCounter()
  const decoded = typeof input === 'string' ? {bytes: Buffer.from(input, 'utf8'), text: input} : decodeYamlBytes(input)
  const {text} = decoded
  lineCounter.addNewLine(0)
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineCounter.addNewLine(i + 1)
  const none = new Map<Alias, Node>()
  // A directive line in the middle of the first document ends it for libyaml (it unrolls every
  // indentation level); eemeli/yaml would call the rest an error, so it only sees the part before.
  const cut = directiveCut(text)
  if (cut !== undefined && !/^%(YAML|TAG)(\s|$)/.test(text.slice(cut))) {
    return {aliasTargets: none, lineCounter, problem: {message: 'found unknown directive name', offset: cut}, singleDocument: false, text}
  }

  const source = cut === undefined ? text : text.slice(0, cut)
  const tokens = Array.from(new Parser().parse(source))
  const depth = maxDepth(tokens)
  if (depth > GO_YAML_MAX_DEPTH) return {aliasTargets: none, lineCounter, problem: {message: `exceeded max depth of ${GO_YAML_MAX_DEPTH}`, offset: 0}, singleDocument: false, text}
  if (depth > MAX_DEPTH) {
    return {aliasTargets: none, lineCounter, problem: {message: `the document is nested ${depth} levels deep; snap-gadget reads at most ${MAX_DEPTH}`, offset: 0}, singleDocument: false, text}
  }

  // Like parseAllDocuments, but go-yaml reads only the first document: compose that one alone.
  const composer = new Composer({merge: false, schema: 'failsafe', strict: false, uniqueKeys: false, version: '1.1'})
  const docs: Document[] = []
  for (const composed of composer.compose(tokens, false, source.length)) {
    docs.push(composed as Document)
    if (docs.length === 2) break
  }

  const [doc, next] = docs
  const singleDocument =
    cut === undefined && next === undefined && (doc?.errors.length ?? 0) === 0 && firstDisallowedChar(text) === -1 && !('invalid' in decoded && decoded.invalid)
  const rootEnd = (doc?.contents as Node | null | undefined)?.range?.[1] ?? source.length
  const extent = cut === undefined ? readExtent(text, doc, next) : text.indexOf('\n', cut) === -1 ? text.length : text.indexOf('\n', cut) + 1
  const charProblem = readerProblem(decoded, extent)
  if (charProblem) return {aliasTargets: none, doc, lineCounter, problem: charProblem, singleDocument, text}
  // go-yaml v2 reads YAML 1.1 only: a %YAML directive for any other version is refused.
  const version = /^(?:(?:[ \t]*(?:#[^\n]*)?|%[^\n]*)\n)*?%YAML[ \t]+(\d+)\.(\d+)/.exec(text)
  if (version && (version[1] !== '1' || version[2] !== '1')) {
    const at = version[0].lastIndexOf('%YAML')
    const nextLine = text.indexOf('\n', at)
    return {aliasTargets: none, doc, lineCounter, problem: {message: 'found incompatible YAML document', offset: nextLine === -1 ? at : nextLine + 1}, singleDocument, text}
  }

  const leadingEnd = /^(?:[ \t]*(?:#[^\n]*)?\n)*\.\.\.(?=\s|$)/.exec(text)
  if (leadingEnd) return {aliasTargets: none, doc, lineCounter, problem: {message: 'did not find expected node content', offset: leadingEnd[0].length - 3}, singleDocument, text}
  if (!doc) return {aliasTargets: none, lineCounter, singleDocument, text}
  // Errors past a root node that has ended are about what go-yaml never reads. A block root at
  // column 0 only ends at a document marker: anything before that is part of it.
  const root = doc.contents as Node | null
  const rootColumn = root?.range ? lineCounter.linePos(root.range[0]).col : 1
  const openEnded = (isMap(root) || isSeq(root)) && !root.flow && rootColumn === 1
  const error = doc.errors.find((e) => openEnded || e.pos[0] < rootEnd || (e.pos[0] === rootEnd && e.code !== 'UNEXPECTED_TOKEN'))
  const tab = error ? undefined : tabProblem(text, doc, extent)
  if (tab) return {aliasTargets: none, doc, lineCounter, problem: tab, singleDocument, text}
  const aliasTargets = new Map<Alias, Node>()
  const unknown = indexAnchors(doc.contents as Node | null, aliasTargets)
  if (error) return {aliasTargets, doc, lineCounter, problem: {message: describeSyntaxError(error.code, error.message), offset: error.pos[0]}, singleDocument, text}
  if (unknown) {
    return {aliasTargets, doc, lineCounter, problem: {message: `unknown anchor '${unknown.source}' referenced`, offset: unknown.range?.[0] ?? 0}, singleDocument, text}
  }

  return {aliasTargets, doc, lineCounter, singleDocument, text}
}

/**
 * The first encoding error or control character go-yaml's reader meets: it checks whole 512-byte
 * chunks, so a bad byte shortly after the last token it needs still fails the file.
 */
function readerProblem(decoded: {bytes: Uint8Array; invalid?: {byteOffset: number; message: string; offset: number}; text: string}, extent: number): undefined | YamlProblem {
  const {bytes, text} = decoded
  const neededBytes = Buffer.byteLength(text.slice(0, extent), 'utf8')
  const limit = Math.min(bytes.length, Math.max(READ_CHUNK, Math.ceil(neededBytes / READ_CHUNK) * READ_CHUNK))
  const bad = firstDisallowedChar(text)
  const badByte = bad === -1 ? Infinity : Buffer.byteLength(text.slice(0, bad), 'utf8')
  const invalidByte = decoded.invalid?.byteOffset ?? Infinity
  if (Math.min(badByte, invalidByte) >= limit) return undefined
  if (invalidByte <= badByte) return {message: decoded.invalid!.message, offset: decoded.invalid!.offset}
  return {message: 'control characters are not allowed', offset: bad}
}

/** The offset of a `%` directive line that interrupts the first document, if any. */
function directiveCut(text: string): number | undefined {
  if (!text.includes('\n%')) return undefined
  let started = false
  let offset = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('---') || line.startsWith('...')) return undefined
    if (line.startsWith('%')) {
      if (started) return offset
    } else if (/^\s*[^\s#]/.test(line)) {
      started = true
    }

    offset += line.length + 1
  }

  return undefined
}

/**
 * How far go-yaml reads: to the end of the first document's root node, and one token past it
 * (to see whether the document ends there). Anything after that is never read, so junk there is
 * no error to snapd; a root that ends early (a flow collection, a scalar, or a block mapping
 * followed by a less indented line) leaves the rest of the file unread.
 */
function readExtent(text: string, doc: Document | undefined, next: Document | undefined): number {
  if (!doc) return text.length
  const root = doc.contents as Node | null
  const end = root?.range?.[1]
  if (end === undefined) return next?.range ? Math.min(text.length, next.range[0] + 3) : text.length
  const after = /^(?:\s|#[^\n]*)*\S*[^\n]*/.exec(text.slice(end))
  return end + (after?.[0].length ?? 0)
}

/**
 * go-yaml's scanner refuses a tab where it expects indentation: on a blank line after a plain
 * scalar when the tab sits left of the block's indentation ("found a tab character that violates
 * indentation"), and on a blank line after any other token ("found character that cannot start
 * any token"). eemeli/yaml accepts both, so they are checked here.
 */
function tabProblem(text: string, doc: Document, extent: number): undefined | YamlProblem {
  if (!text.includes('\t')) return undefined
  const root = doc.contents as Node | null
  const opaque: Array<[number, number]> = []
  const plainEnds = new Map<number, number>()
  const walk = (node: Node | null | undefined, indent: number, inFlow: boolean): void => {
    if (!node?.range) return
    if (isScalar(node)) {
      if (node.type === 'PLAIN') {
        if (!inFlow) plainEnds.set(node.range[1], indent)
      } else if (!inFlow) {
        opaque.push([node.range[0], node.range[1]])
      }

      return
    }

    if ((isMap(node) || isSeq(node)) && node.flow) {
      opaque.push([node.range[0], node.range[1]])
      return
    }

    const column = (offset: number) => offset - (text.lastIndexOf('\n', offset - 1) + 1)
    if (isMap(node)) {
      const first = node.items[0]?.key as Node | undefined
      const inner = first?.range ? column(first.range[0]) + 1 : indent
      for (const pair of node.items) {
        walk(pair.key as Node, inner, inFlow)
        walk(pair.value as Node, inner, inFlow)
      }
    } else if (isSeq(node)) {
      const inner = column(node.range[0]) + 1
      for (const item of node.items) walk(item as Node, inner, inFlow)
    }
  }

  walk(root, 0, false)
  const lines = text.slice(0, extent).split('\n')
  let offset = 0
  let previousEnd = -1
  for (const line of lines) {
    const lineStart = offset
    offset += line.length + 1
    const tab = line.indexOf('\t')
    if (tab === -1 || /\S/.test(line.slice(0, tab)) || opaque.some(([a, b]) => lineStart > a && lineStart < b)) {
      if (/\S/.test(line)) previousEnd = lineStart + line.trimEnd().length
      continue
    }

    if (!/^[ \t]*$/.test(line) && !/^[ \t]*#/.test(line)) continue // tab indentation before content: eemeli reports it
    const plainIndent = plainEnds.get(previousEnd)
    if (plainIndent === undefined) return {message: 'found character that cannot start any token', offset: lineStart + tab}
    if (tab < plainIndent) return {message: 'found a tab character that violates indentation', offset: lineStart + tab}
  }

  return undefined
}

/**
 * Maps each alias to the node its anchor named at that point of the document (go-yaml's parser
 * does this as it reads), and returns the first alias whose anchor is not defined before it.
 */
function indexAnchors(root: Node | null, targets: Map<Alias, Node>): Alias | undefined {
  const anchors = new Map<string, Node>()
  let unknown: Alias | undefined
  visit(root, {
    Alias(_, alias) {
      const target = anchors.get(alias.source)
      if (target) targets.set(alias, target)
      else unknown ??= alias
    },
    Node(_, node) {
      if (node.anchor) anchors.set(node.anchor, node)
    },
  })
  return unknown
}

/** Maps eemeli/yaml's error codes onto the wording libyaml uses for the same mistake. */
function describeSyntaxError(code: string, message: string): string {
  switch (code) {
    case 'TAB_AS_INDENT': {
      return 'found character that cannot start any token'
    }

    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'MULTILINE_IMPLICIT_KEY':
    case 'KEY_OVER_1024_CHARS': {
      return 'could not find expected \':\''
    }

    case 'RESOURCE_EXHAUSTION': {
      return 'the document is nested too deeply to be read'
    }

    default: {
      return message.replace(/ at line \d+, column \d+.*$/s, '').replace(/\.$/, '')
    }
  }
}

/** The deepest nesting of collections in the concrete syntax tree (iteratively: it may be deep). */
function maxDepth(tokens: CST.Token[]): number {
  let max = 0
  const stack: Array<[unknown, number]> = tokens.map((t) => [t, 0])
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!
    if (!token || typeof token !== 'object') continue
    const t = token as {items?: Array<Record<string, unknown>>; key?: unknown; type?: string; value?: unknown}
    const d = t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection' ? depth + 1 : depth
    if (d > max) max = d
    if (t.key) stack.push([t.key, d])
    if (t.value) stack.push([t.value, d])
    if (t.items) for (const item of t.items) stack.push([item.type ? item : {key: item.key, value: item.value}, d])
  }

  return max
}
