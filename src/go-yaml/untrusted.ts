/**
 * YAML from someone who may be hostile (a device's registration body, a file a user was handed),
 * read into plain values within limits: its size, its nesting depth and how many nodes it holds
 * once aliases are expanded (a "billion laughs" document expands a few lines into billions). The
 * reader is libyaml's state machine with an explicit stack, and the limits are measured on its
 * tree without recursion, so no input can exhaust the call stack or leave the process in a state
 * where the next parse fails; values are built only once the tree is known to be within them.
 *
 * Scalars resolve as YAML 1.1 does (go-yaml v2: what a Go device service reads) or as YAML 1.2's
 * core schema does (most other readers); keys are strings, and a key given twice is refused.
 */
import {lineStarts, position} from '../support/line-index.js'
import {resolve, Tag} from './decode/resolve.js'
import type {YamlNode} from './read/ast.js'
import {readYaml} from './read/parser.js'

interface UntrustedYamlLimits {
  /** Bytes of input (UTF-8). */
  maxBytes: number
  /** Collections inside collections, aliases followed. */
  maxDepth: number
  /** Nodes once every alias is expanded: what building the values would make. */
  maxNodes: number
}

const UNTRUSTED_YAML_LIMITS: UntrustedYamlLimits = {maxBytes: 2 * 1024 * 1024, maxDepth: 32, maxNodes: 20_000}

type YamlSchema = 'yaml-1.1' | 'yaml-1.2'

interface UntrustedYamlOptions extends Partial<UntrustedYamlLimits> {
  schema?: YamlSchema
}

/** Plain data: strings, numbers, booleans, null, arrays and objects with a null prototype. */
export type PlainValue = boolean | null | number | PlainValue[] | string | {[key: string]: PlainValue}

/** Why a text was refused: `limit`: over one of the limits; `syntax`: not YAML; `shape`: YAML, but not plain data. */
interface UntrustedYamlFailure {
  ok: false
  kind: 'limit' | 'shape' | 'syntax'
  message: string
  line?: number
  column?: number
}

type UntrustedYaml = {ok: true; value: PlainValue | undefined} | UntrustedYamlFailure

/** A path inside a document: `['models', 1, 'api-key']`. */
export type DocumentPath = readonly (number | string)[]

interface UntrustedYamlDocument {
  value: PlainValue | undefined
  /** Line and column of the value (or the key) at `path`; of the closest existing parent otherwise. */
  locate(path: DocumentPath, at?: 'key' | 'value'): undefined | {column: number; line: number}
}

/** Reads the first document of `input` within the limits; never throws for anything in the input. */
export function readUntrustedYaml(input: string | Uint8Array, options: UntrustedYamlOptions = {}): UntrustedYaml {
  const read = readUntrustedYamlDocument(input, options)
  return read.ok ? {ok: true, value: read.document.value} : read
}

/** readUntrustedYaml, keeping where each key and value stands, for messages about them. */
export function readUntrustedYamlDocument(input: string | Uint8Array, options: UntrustedYamlOptions = {}): UntrustedYamlFailure | {ok: true; document: UntrustedYamlDocument} {
  const limits = {...UNTRUSTED_YAML_LIMITS, ...options}
  const bytes = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length
  if (bytes > limits.maxBytes) return {kind: 'limit', message: `it is ${bytes} bytes, more than the ${limits.maxBytes} allowed`, ok: false}

  const read = readYaml(input)
  let starts: number[] | undefined
  const at = (offset: number): {column: number; line: number} => position((starts ??= lineStarts(read.text)), offset)
  if (read.error) return {...at(read.error.offset), kind: 'syntax', message: read.error.message, ok: false}
  // go-yaml reads the first document and ignores the rest; another reader might not: refused.
  if (!read.singleDocument) return {kind: 'shape', message: 'it holds more than one YAML document', ok: false}
  const root = read.root
  if (!root) return {document: {locate: () => undefined, value: undefined}, ok: true}

  const measured = measure(root, limits)
  if (measured) return {...at(measured.offset), kind: 'limit', message: measured.message, ok: false}
  let value: PlainValue
  try {
    value = toPlain(root, options.schema ?? 'yaml-1.2')
  } catch (error) {
    if (!(error instanceof ShapeError)) throw error
    return {...at(error.offset), kind: 'shape', message: error.message, ok: false}
  }

  const locate = (path: DocumentPath, where: 'key' | 'value' = 'value'): {column: number; line: number} => {
    let node: YamlNode = root
    let keyStart: number | undefined
    for (const step of path) {
      const target: YamlNode = node.kind === 'alias' ? node.target : node
      keyStart = undefined
      let next: YamlNode | undefined
      if (target.kind === 'map' && typeof step === 'string') {
        const pair = target.pairs.find((p) => (p.key.kind === 'alias' ? p.key.target : p.key).kind === 'scalar' && ((p.key.kind === 'alias' ? p.key.target : p.key) as {value: string}).value === step)
        if (pair) {
          keyStart = pair.key.start
          next = pair.value
        }
      } else if (target.kind === 'seq' && typeof step === 'number') {
        next = target.items[step]
      }

      if (!next) return at(node.start)
      node = next
    }

    return at(where === 'key' && keyStart !== undefined ? keyStart : node.start)
  }

  return {document: {locate, value}, ok: true}
}

/**
 * Depth and expanded size of the tree, aliases followed, by an iterative post-order walk that
 * remembers each node's figures (an alias costs what its target costs, without walking it again).
 * Returns the first limit crossed, or undefined.
 */
function measure(root: YamlNode, limits: UntrustedYamlLimits): undefined | {message: string; offset: number} {
  const tooDeep = (node: YamlNode) => ({message: `it nests more than ${limits.maxDepth} levels deep`, offset: node.start})
  const figures = new Map<YamlNode, {depth: number; nodes: number}>()
  // The nodes on the path from the root to the one being walked, and how many are collections.
  const path = new Set<YamlNode>()
  let collectionsOnPath = 0
  const stack: {node: YamlNode; expanded: boolean}[] = [{expanded: false, node: root}]
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    const node = top.node
    if (figures.has(node)) {
      stack.pop()
      continue
    }

    const children = childrenOf(node)
    const collection = node.kind === 'map' || node.kind === 'seq'
    if (!top.expanded) {
      top.expanded = true
      path.add(node)
      if (collection && ++collectionsOnPath > limits.maxDepth) return tooDeep(node)
      for (const child of children) {
        // An alias may name a collection that holds it: expanding it would never end.
        if (path.has(child)) return {message: 'an alias refers to a collection that contains it', offset: node.start}
        if (!figures.has(child)) stack.push({expanded: false, node: child})
      }

      continue
    }

    stack.pop()
    path.delete(node)
    if (collection) collectionsOnPath--
    let depth = 0
    let nodes = node.kind === 'alias' ? 0 : 1
    for (const child of children) {
      const f = figures.get(child)!
      depth = Math.max(depth, f.depth)
      nodes += f.nodes
    }

    if (collection) depth += 1
    if (depth > limits.maxDepth) return tooDeep(node)
    if (nodes > limits.maxNodes) return {message: `it holds more than ${limits.maxNodes} values once its aliases are expanded`, offset: node.start}
    figures.set(node, {depth, nodes})
  }

  return undefined
}

function childrenOf(node: YamlNode): YamlNode[] {
  switch (node.kind) {
    case 'alias': {
      return [node.target]
    }

    case 'map': {
      return node.pairs.flatMap((p) => [p.key, p.value])
    }

    case 'seq': {
      return node.items
    }

    default: {
      return []
    }
  }
}

class ShapeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
  }
}

/** The values of a tree already measured: its depth is bounded, so recursion is safe here. */
function toPlain(node: YamlNode, schema: YamlSchema): PlainValue {
  const target = node.kind === 'alias' ? node.target : node
  switch (target.kind) {
    case 'scalar': {
      if (target.style !== 'plain' || (target.tag !== undefined && target.tag !== '!')) {
        if (target.tag !== undefined && target.tag !== '!' && target.tag !== Tag.str) throw new ShapeError(`the tag ${target.tag} is not plain data`, target.start)
        return target.value
      }

      return schema === 'yaml-1.1' ? yaml11Scalar(target.value) : yaml12Scalar(target.value)
    }

    case 'seq': {
      return target.items.map((item) => toPlain(item, schema))
    }

    case 'map': {
      const out: {[key: string]: PlainValue} = {}
      for (const pair of target.pairs) {
        const key = pair.key.kind === 'alias' ? pair.key.target : pair.key
        if (key.kind !== 'scalar') throw new ShapeError('a key is a collection, not a name', key.start)
        if (key.style === 'plain' && key.value === '<<') throw new ShapeError('merge keys (<<) are not plain data', key.start)
        if (Object.hasOwn(out, key.value)) throw new ShapeError(`the key "${key.value}" is given twice`, key.start)
        // Defined, not assigned: a key named __proto__ is a key like any other, not the object's prototype.
        Object.defineProperty(out, key.value, {configurable: true, enumerable: true, value: toPlain(pair.value, schema), writable: true})
      }

      return out
    }

    default: {
      throw new ShapeError('an alias refers to nothing', target.start)
    }
  }
}

/** A plain scalar as go-yaml v2 resolves it (YAML 1.1: yes/no, 0x, 017, 1_000, timestamps as text). */
function yaml11Scalar(text: string): PlainValue {
  const {value} = resolve('', text)
  switch (value.kind) {
    case 'bool':
    case 'float': {
      return value.value
    }

    case 'int':
    case 'uint64': {
      return Number(value.value)
    }

    case 'null': {
      return null
    }

    case 'str':
    case 'other':
    case 'timestamp': {
      return value.value
    }

    default: {
      return text
    }
  }
}

/** A plain scalar as YAML 1.2's core schema resolves it. */
function yaml12Scalar(text: string): PlainValue {
  if (/^(?:null|Null|NULL|~|)$/.test(text)) return null
  if (/^(?:true|True|TRUE)$/.test(text)) return true
  if (/^(?:false|False|FALSE)$/.test(text)) return false
  if (/^[-+]?[0-9]+$/.test(text)) return Number(text)
  if (/^0o[0-7]+$/.test(text)) return Number.parseInt(text.slice(2), 8)
  if (/^0x[0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16)
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(text)) return Number(text)
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity
  if (/^\.(?:nan|NaN|NAN)$/.test(text)) return Number.NaN
  return text
}

/**
 * The paths (`a.b[2]`) of plain scalars that YAML 1.2 reads as text but a YAML 1.1 reader reads as
 * something else: go-yaml's booleans and numbers (yes, off, 017, 1_000), and what the YAML 1.1
 * spec adds and readers such as PyYAML follow (sexagesimal 1:30, timestamps). Undefined when the
 * text is not YAML within the limits.
 */
export function plainScalarsYaml11ReadsOtherwise(input: string | Uint8Array, options: Partial<UntrustedYamlLimits> = {}): string[] | undefined {
  const limits = {...UNTRUSTED_YAML_LIMITS, ...options}
  const bytes = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length
  if (bytes > limits.maxBytes) return undefined
  const read = readYaml(input)
  if (read.error || !read.root || measure(read.root, limits)) return read.error || read.root ? undefined : []
  const paths: string[] = []
  const visit = (node: YamlNode, path: string): void => {
    const target = node.kind === 'alias' ? node.target : node
    if (target.kind === 'scalar') {
      if (target.style !== 'plain' || target.tag !== undefined) return
      const text = target.value
      if (typeof yaml12Scalar(text) !== 'string') return
      if (yaml11Scalar(text) !== text || SEXAGESIMAL.test(text) || TIMESTAMP.test(text)) paths.push(path || '(top level)')
    } else if (target.kind === 'seq') {
      target.items.forEach((item, i) => visit(item, `${path}[${i}]`))
    } else if (target.kind === 'map') {
      for (const pair of target.pairs) {
        const key = pair.key.kind === 'alias' ? pair.key.target : pair.key
        if (key.kind === 'scalar') visit(pair.value, path ? `${path}.${key.value}` : key.value)
      }
    }
  }

  visit(read.root, '')
  return paths
}

/** YAML 1.1's base-60 integers and floats (http://yaml.org/type/int.html, float.html). */
const SEXAGESIMAL = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/
/** YAML 1.1's timestamps (http://yaml.org/type/timestamp.html). */
const TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/
