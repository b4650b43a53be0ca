/**
 * A port of go-yaml v2's decoder (decode.go) over the syntax tree go-yaml/read builds.
 *
 * snapd unmarshals gadget.yaml into Go structs with `yaml.Unmarshal` (go-yaml v2). What a field
 * ends up holding depends on the Go type it is decoded into, not on the YAML alone: a string field
 * takes a scalar's source text (`type: 07` is "07"), a bool field only a YAML 1.1 boolean,
 * unknown keys are dropped, duplicate keys overwrite (and merge into structs and maps), a null
 * zeroes the field, and a custom UnmarshalYAML (sizes, offsets, edition, connections) sees the
 * scalar as a string first. This module reproduces those rules for a type description
 * ({@link GoType}) and records where every decoded value came from, so findings can point at
 * the exact line and column.
 */
import type {YamlAlias, YamlMap, YamlNode, YamlScalar, YamlSeq} from '../read/ast.js'

import {resolve, ResolveError, type ResolvedValue, Tag} from './resolve.js'

/** A Go type, as far as go-yaml's decoder cares. */
export type GoType =
  | {kind: 'bool'}
  | {kind: 'iface'}
  | {kind: 'map'; name: string; elem: GoType}
  | {kind: 'ptr'; elem: GoType; name: string}
  | {kind: 'slice'; elem: GoType; name: string}
  | {kind: 'string'}
  | {fields: Record<string, GoType>; kind: 'struct'; name: string}
  | {
      kind: 'unmarshaler'
      name: string
      /**
       * Called with the scalar decoded as a Go string (UnmarshalYAML's `unmarshal(&s)`); returns
       * the value or throws {@link UnmarshalError}. `onNotString` is the error the type returns
       * when the node is not a scalar; `soft` means it returns go-yaml's own TypeError.
       */
      parse: (text: string, node: Node) => unknown
      onNotString: string | {soft: true}
    }

/** An error a custom UnmarshalYAML returns: go-yaml aborts the whole decode with it. */
export class UnmarshalError extends Error {}

/** A value decoded into interface{}: what go-yaml hands to snapd for `defaults`. */
export type IfaceValue = ResolvedValue | {entries: Array<[IfaceValue, IfaceValue]>; kind: 'map'} | {items: IfaceValue[]; kind: 'seq'} | {kind: 'other'; value: string}

export interface FieldSource {
  key: Node
  value: Node
}

/** Where a decoded struct, map or slice came from. */
export interface Origin {
  node: Node
  /** struct fields and map entries, by key: the occurrence that won. */
  fields: Map<string, FieldSource>
  /** Keys the Go type does not have (dropped by go-yaml, reported by our lint). */
  unknown: FieldSource[]
  /** slice elements that decoded, in order. */
  items: Node[]
}

export interface DecodeIssue {
  /** go-yaml's message, without the "yaml: " / "unmarshal errors" framing. */
  message: string
  node?: Node
  /**
   * 'fatal': go-yaml aborts here (a failf or an UnmarshalYAML error); 'type': a type mismatch,
   * collected and reported together at the end.
   */
  severity: 'fatal' | 'type'
  /** True for go-yaml's own errors, which snapd prints with a "yaml: " prefix. */
  goYaml: boolean
  /** Which field path was being decoded (YAML keys and indexes). */
  path: Array<number | string>
}

interface DecodeResult<T> {
  value: T
  issues: DecodeIssue[]
  /** True when decoding stopped early (excessive aliasing): the value is incomplete. */
  aborted: boolean
  origins: Map<object, Origin>
  /** Every key a struct did not have (go-yaml drops them), where it was met. */
  unknown: Array<FieldSource & {path: Array<number | string>}>
}

type Node = YamlNode

const STRING: GoType = {kind: 'string'}
/** Plain scalars YAML 1.1 reads as null (go-yaml's resolve table). */
const NULLS = new Set(['', '~', 'null', 'Null', 'NULL'])
const IFACE: GoType = {kind: 'iface'}

/** What a decode step returns when it sets nothing (go-yaml's good=false). */
const FAIL = Symbol('not set')

class Abort extends Error {}

const mergeKey = '<<'
const NO_ISSUES: readonly DecodeIssue[] = []

/** Decodes the document whose root is `root` into `type`. */
export function decodeDocument<T>(root: YamlNode | undefined, type: GoType, lineOf: (offset: number) => number): DecodeResult<T> {
  return new Decoder(root, lineOf).run(type) as DecodeResult<T>
}

export class Decoder {
  private readonly activeAliases = new Set<YamlAlias>()
  private aliasDepth = 0
  private aliasCount = 0
  private decodeCount = 0
  private readonly issues: DecodeIssue[] = []
  private readonly origins = new Map<object, Origin>()
  private readonly path: Array<number | string> = []
  private readonly unknown: DecodeResult<unknown>['unknown'] = []

  /** `lineOf` maps a character offset to its 1-based line, for go-yaml's "line N:" messages. */
  constructor(
    private readonly root: YamlNode | undefined,
    private readonly lineOf: (offset: number) => number,
  ) {}

  run(type: GoType): DecodeResult<unknown> {
    let value = zero(type)
    let aborted = false
    try {
      const {root} = this
      if (root) {
        const r = this.unmarshal(root, type, value)
        if (r !== FAIL) value = r
      }
    } catch (error) {
      if (!(error instanceof Abort)) throw error
      aborted = true
    }

    return {aborted, issues: this.issues, origins: this.origins, unknown: this.unknown, value}
  }

  originOf(value: object): Origin | undefined {
    return this.origins.get(value)
  }

  /** A go-yaml failf (message printed with a "yaml: " prefix) or, with `fromType`, an UnmarshalYAML error. */
  private fatal(message: string, node?: Node, fromType = false): void {
    this.issues.push({goYaml: !fromType, message, node, path: [...this.path], severity: 'fatal'})
  }

  private terror(node: Node, tag: string, type: GoType): void {
    const explicit = node.kind === 'alias' ? undefined : node.tag
    const t = explicit && explicit !== '!' ? explicit : tag
    let value = ''
    if (t !== Tag.seq && t !== Tag.map) {
      const text = node.kind === 'scalar' ? node.value : ''
      value = text.length > 10 ? ` \`${text.slice(0, 7)}...\`` : ` \`${text}\``
    }

    this.issues.push({
      goYaml: true,
      message: `line ${this.lineOf(node.start)}: cannot unmarshal ${shortTag(t)}${value} into ${goTypeName(type)}`,
      node,
      path: [...this.path],
      severity: 'type',
    })
  }

  /** go-yaml's d.unmarshal: the decoded value, or FAIL when nothing was set. */
  private unmarshal(node: Node, type: GoType, current: unknown): unknown {
    this.decodeCount++
    if (this.aliasDepth > 0) this.aliasCount++
    if (this.aliasCount > 100 && this.decodeCount > 1000 && this.aliasCount / this.decodeCount > allowedAliasRatio(this.decodeCount)) {
      this.fatal('document contains excessive aliasing', node)
      throw new Abort()
    }

    if (node.kind === 'alias') return this.alias(node, type, current)
    // The common case, decided without resolving: an untagged scalar into a Go string is its text,
    // or "" when YAML reads it as null.
    if (type.kind === 'string' && node.kind === 'scalar' && node.tag === undefined) {
      const text = node.value
      // Null spellings are at most 4 characters: most values skip the set lookup.
      return node.style === 'plain' && text.length <= 4 && NULLS.has(text) ? '' : text
    }

    // prepare(): a null leaves pointers nil and skips UnmarshalYAML.
    if (isNullForPrepare(node)) return this.decodeNode(node, type, current)
    let target = type
    while (target.kind === 'ptr') target = target.elem
    if (target.kind === 'unmarshaler') return this.callUnmarshaler(node, target)
    return this.decodeNode(node, target, type.kind === 'ptr' ? (current ?? undefined) : current)
  }

  private decodeNode(node: Node, type: GoType, current: unknown): unknown {
    if (node.kind === 'scalar') return this.scalar(node, type)
    if (node.kind === 'map') return this.mapping(node, type, current)
    if (node.kind === 'seq') return this.sequence(node, type)
    return FAIL
  }

  private alias(node: YamlAlias, type: GoType, current: unknown): unknown {
    const {target} = node
    if (this.activeAliases.has(node)) {
      this.fatal(`anchor '${node.name}' value contains itself`, node)
      throw new Abort()
    }

    this.activeAliases.add(node)
    this.aliasDepth++
    try {
      return this.unmarshal(target, type, current)
    } finally {
      this.aliasDepth--
      this.activeAliases.delete(node)
    }
  }

  private callUnmarshaler(node: Node, type: Extract<GoType, {kind: 'unmarshaler'}>): unknown {
    // UnmarshalYAML's unmarshal(&s): decode into a string, capturing type errors.
    const mark = this.issues.length
    const s = this.unmarshal(node, STRING, '')
    const inner = this.issues.length === mark ? NO_ISSUES : this.issues.splice(mark)
    const fatalInner = inner.find((i) => i.severity === 'fatal')
    if (fatalInner) {
      // unmarshal(&s) turns go-yaml's failure into an error the type replaces with its own.
      if (typeof type.onNotString === 'string') this.fatal(type.onNotString, node, true)
      else this.issues.push(fatalInner)
      return FAIL
    }

    if (inner.length > 0) {
      if (typeof type.onNotString === 'string') this.fatal(type.onNotString, node, true)
      else this.issues.push(...inner)
      return FAIL
    }

    try {
      return type.parse(s as string, node)
    } catch (error) {
      if (!(error instanceof UnmarshalError)) throw error
      this.fatal(error.message, node, true)
      return FAIL
    }
  }

  private scalar(node: YamlScalar, type: GoType): unknown {
    const text = node.value
    let tag: string
    let resolved: IfaceValue
    if (!isImplicit(node) && !node.tag) {
      tag = Tag.str
      resolved = {kind: 'str', value: text}
    } else {
      try {
        const r = resolve(node.tag && node.tag !== '!' ? node.tag : node.tag === '!' ? '!' : '', text)
        tag = r.tag
        resolved = r.value
      } catch (error) {
        if (!(error instanceof ResolveError)) throw error
        this.fatal(error.message, node)
        return FAIL
      }

      if (tag === Tag.binary) {
        const decoded = decodeBase64(text)
        if (decoded === undefined) {
          this.fatal('!!binary value contains invalid base64 data', node)
          return FAIL
        }

        resolved = {kind: 'str', value: decoded}
      }
    }

    if (resolved.kind === 'null') return zero(type)
    switch (type.kind) {
      case 'string': {
        return tag === Tag.binary && resolved.kind === 'str' ? resolved.value : text
      }

      case 'iface': {
        return resolved.kind === 'timestamp' ? {kind: 'str', value: text} : resolved
      }

      case 'bool': {
        if (resolved.kind === 'bool') return resolved.value
        break
      }

      default:
    }

    this.terror(node, tag, type)
    return FAIL
  }

  private sequence(node: YamlSeq, type: GoType): unknown {
    if (type.kind === 'slice') {
      const out: unknown[] = []
      const items: Node[] = []
      node.items.forEach((item, i) => {
        this.path.push(i)
        const r = this.unmarshal(item, type.elem, zero(type.elem))
        this.path.pop()
        if (r !== FAIL) {
          // A null item decodes to a zero struct: it still came from this node.
          if (r && typeof r === 'object' && !this.origins.has(r)) this.originFor(r, item)
          out.push(r)
          items.push(item)
        }
      })
      this.origins.set(out, {fields: new Map(), items, node, unknown: []})
      return out
    }

    if (type.kind === 'iface') {
      const items: IfaceValue[] = []
      for (const item of node.items) {
        const r = this.unmarshal(item, type, undefined)
        if (r !== FAIL) items.push((r ?? {kind: 'null'}) as IfaceValue)
      }

      return {items, kind: 'seq'} satisfies IfaceValue
    }

    this.terror(node, Tag.seq, type)
    return FAIL
  }

  private mapping(node: YamlMap, type: GoType, current: unknown): unknown {
    switch (type.kind) {
      case 'struct': {
        return this.mappingStruct(node, type, current as Record<string, unknown> | undefined)
      }

      case 'map': {
        return this.mappingMap(node, type, current as Map<string, unknown> | undefined)
      }

      case 'iface': {
        return this.mappingIface(node, current as IfaceValue | undefined)
      }

      default: {
        this.terror(node, Tag.map, type)
        return FAIL
      }
    }
  }

  private mappingStruct(node: YamlMap, type: Extract<GoType, {kind: 'struct'}>, current: Record<string, unknown> | undefined) {
    const out = current && typeof current === 'object' ? current : (zero(type) as Record<string, unknown>)
    const origin = this.originFor(out, node)
    const fields = fieldMap(type)
    for (const pair of node.pairs) {
      const {key, value} = pair
      if (isMergeKey(key)) {
        this.merge(value, type, out)
        continue
      }

      const text = this.unmarshal(key, STRING, '')
      if (text === FAIL) continue
      const field = fields.get(text as string)
      if (!field) {
        origin.unknown.push({key, value})
        this.unknown.push({key, path: [...this.path], value})
        continue
      }

      // The field's own name: a constant string, so property accesses with it take V8's fast path
      // (the key's text is a fresh slice of the document).
      const {name} = field
      this.path.push(name)
      const r = this.unmarshal(value, field.type, out[name])
      this.path.pop()
      if (r !== FAIL) out[name] = r
      origin.fields.set(name, pair)
    }

    return out
  }

  private mappingMap(node: YamlMap, type: Extract<GoType, {kind: 'map'}>, current: Map<string, unknown> | undefined) {
    const out = current instanceof Map ? current : new Map<string, unknown>()
    const origin = this.originFor(out, node)
    for (const pair of node.pairs) {
      const {key, value} = pair
      if (isMergeKey(key)) {
        this.merge(value, type, out)
        continue
      }

      const k = this.unmarshal(key, STRING, '')
      if (k === FAIL) continue
      this.path.push(k as string)
      const r = this.unmarshal(value, type.elem, zero(type.elem))
      this.path.pop()
      if (r !== FAIL) {
        out.set(k as string, r)
        origin.fields.set(k as string, pair)
      }
    }

    return out
  }

  private mappingIface(node: YamlMap, current: IfaceValue | undefined): IfaceValue {
    const out: IfaceValue = current && current.kind === 'map' ? current : {entries: [], kind: 'map'}
    for (const {key, value} of node.pairs) {
      if (isMergeKey(key)) {
        this.merge(value, IFACE, out)
        continue
      }

      const k = this.unmarshal(key, IFACE, undefined)
      if (k === FAIL) continue
      const kv = (k ?? {kind: 'null'}) as IfaceValue
      if (kv.kind === 'map' || kv.kind === 'seq') {
        this.fatal(`invalid map key: ${describeIface(kv)}`, key)
        continue
      }

      const v = this.unmarshal(value, IFACE, undefined)
      if (v === FAIL) continue
      const existing = out.entries.findIndex(([ek]) => sameKey(ek, kv))
      const entry: [IfaceValue, IfaceValue] = [kv, (v ?? {kind: 'null'}) as IfaceValue]
      if (existing === -1) out.entries.push(entry)
      else out.entries[existing] = entry
    }

    return out
  }

  private merge(node: Node, type: GoType, out: unknown): void {
    const wantMap = () => this.fatal('map merge requires map or sequence of maps as the value', node)
    const target = node.kind === 'alias' ? node.target : node
    if (target.kind === 'map') {
      this.unmarshal(node, type, out)
      return
    }

    if (node.kind === 'seq') {
      // Earlier maps take precedence, so they are decoded last.
      for (let i = node.items.length - 1; i >= 0; i--) {
        const item = node.items[i]
        const resolved = item.kind === 'alias' ? item.target : item
        if (resolved.kind !== 'map') {
          wantMap()
          return
        }

        this.unmarshal(item, type, out)
      }

      return
    }

    wantMap()
  }

  private originFor(value: object, node: Node): Origin {
    let origin = this.origins.get(value)
    if (!origin) {
      origin = {fields: new Map(), items: [], node, unknown: []}
      this.origins.set(value, origin)
    }

    return origin
  }
}

const fieldMaps = new Map<GoType, Map<string, {name: string; type: GoType}>>()

/** A struct type's fields by YAML key (a Map: no prototype keys, fast lookups). */
function fieldMap(type: Extract<GoType, {kind: 'struct'}>): Map<string, {name: string; type: GoType}> {
  let map = fieldMaps.get(type)
  if (!map) {
    map = new Map(Object.entries(type.fields).map(([name, field]) => [name, {name, type: field}]))
    fieldMaps.set(type, map)
  }

  return map
}

/**
 * For each struct type, a function that returns its zero value as one object literal: every zero
 * value of a type gets the same shape from the start, which keeps the decoder's and the rules'
 * property accesses fast. Generated from the type description (our own constants, never input).
 */
const zeroMakers = new Map<GoType, () => Record<string, unknown>>()

/** The zero value of a Go type, as our decoded JS value. */
export function zero(type: GoType): unknown {
  switch (type.kind) {
    case 'string': {
      return ''
    }

    case 'bool': {
      return false
    }

    case 'struct': {
      let make = zeroMakers.get(type)
      if (!make) {
        make = zeroMaker(type)
        zeroMakers.set(type, make)
      }

      return make()
    }

    default: {
      return undefined
    }
  }
}

function zeroMaker(type: Extract<GoType, {kind: 'struct'}>): () => Record<string, unknown> {
  // Fields with a zero value other than undefined, in declaration order: strings and bools copied
  // from a template (one allocation, cheap even before V8 optimizes it: layout's cold start is a
  // benchmark target), nested structs made afresh in their place.
  const template: Record<string, unknown> = {}
  const structNames: string[] = []
  const structTypes: GoType[] = []
  for (const [name, field] of Object.entries(type.fields)) {
    if (field.kind === 'string' || field.kind === 'bool') {
      template[name] = zero(field)
    } else if (field.kind === 'struct') {
      template[name] = undefined
      structNames.push(name)
      structTypes.push(field)
    }
  }

  return () => {
    const out = {...template}
    for (let i = 0; i < structNames.length; i++) out[structNames[i]] = zero(structTypes[i])
    return out
  }
}

/** Go's `%v`-ish type names, as go-yaml prints them in "cannot unmarshal … into <type>". */
function goTypeName(type: GoType): string {
  switch (type.kind) {
    case 'bool':
    case 'string': {
      return type.kind
    }

    case 'iface': {
      return 'interface {}'
    }

    default: {
      return type.name
    }
  }
}

function shortTag(tag: string): string {
  return tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice('tag:yaml.org,2002:'.length)}` : tag
}

/** Plain, untagged (or `!`-tagged) scalars are "implicit" to go-yaml and get resolved. */
function isImplicit(node: YamlScalar): boolean {
  return node.style === 'plain'
}

/** prepare()'s null test: explicit !!null, or a plain `null`, `~` or empty scalar (not `Null`!). */
function isNullForPrepare(node: Node): boolean {
  if (node.kind !== 'scalar') return false
  if (node.tag === Tag.null) return true
  if (node.tag && node.tag !== '!') return false
  const text = node.value
  return isImplicit(node) && (text === 'null' || text === '~' || text === '')
}

function isMergeKey(node: Node): boolean {
  return node.kind === 'scalar' && node.value === mergeKey && ((isImplicit(node) && !node.tag) || node.tag === Tag.merge)
}

function sameKey(a: IfaceValue, b: IfaceValue): boolean {
  if (a.kind !== b.kind) return false
  if ('value' in a && 'value' in b) return Object.is(a.value, b.value) || a.value === b.value
  return a.kind === 'null'
}

function describeIface(v: IfaceValue): string {
  return v.kind === 'map' ? 'map[interface {}]interface {}{...}' : '[]interface {}{...}'
}

function decodeBase64(text: string): string | undefined {
  const clean = text.replaceAll(/\s/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) return undefined
  return Buffer.from(clean, 'base64').toString('latin1')
}

function allowedAliasRatio(decodeCount: number): number {
  const low = 400_000
  const high = 4_000_000
  if (decodeCount <= low) return 0.99
  if (decodeCount >= high) return 0.1
  return 0.99 - 0.89 * ((decodeCount - low) / (high - low))
}
