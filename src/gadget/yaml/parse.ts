/**
 * Parses gadget.yaml text into a syntax tree the way snapd's go-yaml v2 reads it: YAML 1.1,
 * every scalar kept as its source text (the decoder resolves it per Go type), duplicate keys
 * kept (the decoder lets the last one win), only the first document read, and go-yaml's limits
 * on nesting depth.
 */
import {type Alias, Composer, type Document, LineCounter, type Node, Parser, visit} from 'yaml'
import type {CST} from 'yaml'

import {decodeYamlBytes, firstDisallowedChar} from './text.js'

export interface YamlProblem {
  message: string
  /** Character offset into `text`. */
  offset: number
  /** Set when the position came from a byte-level check before the text existed. */
  line?: number
  column?: number
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
}

/** go-yaml's scanner limits (max_flow_level, max_indents). */
export const GO_YAML_MAX_DEPTH = 10_000
/**
 * The deepest nesting we compose: the composer recurses, and real gadget.yaml files nest under
 * ten levels. Deeper documents get a clear error instead of a stack overflow.
 */
export const MAX_DEPTH = 256

export function parseYaml(input: string | Uint8Array): ParsedYaml {
  const lineCounter = new LineCounter()
  let text: string
  if (typeof input === 'string') {
    text = input
    const bad = firstDisallowedChar(text)
    if (bad !== -1) return {aliasTargets: new Map(), lineCounter, problem: {message: 'control characters are not allowed', offset: bad}, text}
  } else {
    const decoded = decodeYamlBytes(input)
    if ('message' in decoded) {
      return {aliasTargets: new Map(), lineCounter, problem: {column: decoded.column, line: decoded.line, message: decoded.message, offset: 0}, text: ''}
    }

    text = decoded.text
  }

  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text))
  const depth = maxDepth(tokens)
  if (depth > GO_YAML_MAX_DEPTH) return {aliasTargets: new Map(), lineCounter, problem: {message: `exceeded max depth of ${GO_YAML_MAX_DEPTH}`, offset: 0}, text}
  if (depth > MAX_DEPTH) {
    return {aliasTargets: new Map(), lineCounter, problem: {message: `the document is nested ${depth} levels deep; snap-gadget reads at most ${MAX_DEPTH}`, offset: 0}, text}
  }

  // Like parseAllDocuments, but go-yaml reads only the first document: compose that one alone.
  const composer = new Composer({merge: false, schema: 'failsafe', strict: false, uniqueKeys: false, version: '1.1'})
  let doc: Document | undefined
  for (const composed of composer.compose(tokens, false, text.length)) {
    doc = composed as Document
    break
  }

  if (!doc) return {aliasTargets: new Map(), lineCounter, text}
  const error = doc.errors[0]
  const aliasTargets = new Map<Alias, Node>()
  const unknown = indexAnchors(doc.contents as Node | null, aliasTargets)
  if (error) return {aliasTargets, doc, lineCounter, problem: {message: describeSyntaxError(error.code, error.message), offset: error.pos[0]}, text}
  if (unknown) {
    return {aliasTargets, doc, lineCounter, problem: {message: `unknown anchor '${unknown.source}' referenced`, offset: unknown.range?.[0] ?? 0}, text}
  }

  return {aliasTargets, doc, lineCounter, text}
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
