/**
 * A port of go-yaml v2's decoder (decode.go) over eemeli/yaml's syntax tree.
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
import {Alias, isAlias, isMap, isScalar, isSeq, type Document, type Node, Scalar, type YAMLMap, type YAMLSeq} from 'yaml'

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
export type IfaceValue =
  | ResolvedValue
  | {entries: Array<[IfaceValue, IfaceValue]>; kind: 'map'}
  | {items: IfaceValue[]; kind: 'seq'}
  | {kind: 'other'; value: string}

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

export interface DecodeResult<T> {
  value: T
  issues: DecodeIssue[]
  /** True when decoding stopped early (excessive aliasing): the value is incomplete. */
  aborted: boolean
  origins: WeakMap<object, Origin>
}

class Abort extends Error {}

const mergeKey = '<<'

/**
 * Decodes `doc` into `type`.
 */
export function decodeDocument<T>(
  doc: Document,
  aliasTargets: ReadonlyMap<Alias, Node>,
  type: GoType,
  lineOf: (offset: number) => number,
): DecodeResult<T> {
  return new Decoder(doc, aliasTargets, lineOf).run(type) as DecodeResult<T>
}

export class Decoder {
  private readonly activeAliases = new Set<Alias>()
  private aliasDepth = 0
  private aliasCount = 0
  private decodeCount = 0
  private readonly issues: DecodeIssue[] = []
  private readonly origins = new WeakMap<object, Origin>()
  private readonly path: Array<number | string> = []

  /** `lineOf` maps a character offset to its 1-based line, for go-yaml's "line N:" messages. */
  constructor(
    private readonly doc: Document,
    private readonly aliasTargets: ReadonlyMap<Alias, Node>,
    private readonly lineOf: (offset: number) => number,
  ) {}

  run(type: GoType): DecodeResult<unknown> {
    let value = zero(type)
    let aborted = false
    try {
      const root = this.doc.contents as Node | null
      if (root) {
        const r = this.unmarshal(root, type, value)
        if (r.ok) value = r.value
      }
    } catch (error) {
      if (!(error instanceof Abort)) throw error
      aborted = true
    }

    return {aborted, issues: this.issues, origins: this.origins, value}
  }

  originOf(value: object): Origin | undefined {
    return this.origins.get(value)
  }

  /** A go-yaml failf (message printed with a "yaml: " prefix) or, with `fromType`, an UnmarshalYAML error. */
  private fatal(message: string, node?: Node, fromType = false): void {
    this.issues.push({goYaml: !fromType, message, node, path: [...this.path], severity: 'fatal'})
  }

  private terror(node: Node, tag: string, type: GoType): void {
    const explicit = isScalar(node) || isMap(node) || isSeq(node) ? node.tag : undefined
    const t = explicit && explicit !== '!' ? explicit : tag
    let value = ''
    if (t !== Tag.seq && t !== Tag.map) {
      const text = isScalar(node) ? String(node.value) : ''
      value = text.length > 10 ? ` \`${text.slice(0, 7)}...\`` : ` \`${text}\``
    }

    this.issues.push({
      goYaml: true,
      message: `line ${this.lineOf(node.range?.[0] ?? 0)}: cannot unmarshal ${shortTag(t)}${value} into ${goTypeName(type)}`,
      node,
      path: [...this.path],
      severity: 'type',
    })
  }

  /** go-yaml's d.unmarshal: returns ok=false when the value was not set. */
  private unmarshal(node: Node, type: GoType, current: unknown): {ok: boolean; value: unknown} {
    this.decodeCount++
    if (this.aliasDepth > 0) this.aliasCount++
    if (this.aliasCount > 100 && this.decodeCount > 1000 && this.aliasCount / this.decodeCount > allowedAliasRatio(this.decodeCount)) {
      this.fatal('document contains excessive aliasing', node)
      throw new Abort()
    }

    if (isAlias(node)) return this.alias(node, type, current)

    // prepare(): a null leaves pointers nil and skips UnmarshalYAML.
    if (isNullForPrepare(node)) return this.decodeNode(node, type, current)
    let target = type
    while (target.kind === 'ptr') target = target.elem
    if (target.kind === 'unmarshaler') return this.callUnmarshaler(node, target)
    return this.decodeNode(node, target, type.kind === 'ptr' ? (current ?? undefined) : current)
  }

  private decodeNode(node: Node, type: GoType, current: unknown): {ok: boolean; value: unknown} {
    if (isScalar(node)) return this.scalar(node, type, current)
    if (isMap(node)) return this.mapping(node, type, current)
    if (isSeq(node)) return this.sequence(node, type)
    return {ok: false, value: current}
  }

  private alias(node: Alias, type: GoType, current: unknown): {ok: boolean; value: unknown} {
    const target = this.aliasTargets.get(node)
    if (!target) {
      this.fatal(`unknown anchor '${node.source}' referenced`, node)
      throw new Abort()
    }

    if (this.activeAliases.has(node)) {
      this.fatal(`anchor '${node.source}' value contains itself`, node)
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

  private callUnmarshaler(node: Node, type: Extract<GoType, {kind: 'unmarshaler'}>): {ok: boolean; value: unknown} {
    // UnmarshalYAML's unmarshal(&s): decode into a string, capturing type errors.
    const mark = this.issues.length
    const s = this.unmarshal(node, {kind: 'string'}, '')
    const inner = this.issues.splice(mark)
    const fatalInner = inner.find((i) => i.severity === 'fatal')
    if (fatalInner) {
      // unmarshal(&s) turns go-yaml's failure into an error the type replaces with its own.
      if (typeof type.onNotString === 'string') this.fatal(type.onNotString, node, true)
      else this.issues.push(fatalInner)
      return {ok: false, value: undefined}
    }

    if (inner.length > 0) {
      if (typeof type.onNotString === 'string') this.fatal(type.onNotString, node, true)
      else this.issues.push(...inner)
      return {ok: false, value: undefined}
    }

    try {
      return {ok: true, value: type.parse(s.value as string, node)}
    } catch (error) {
      if (!(error instanceof UnmarshalError)) throw error
      this.fatal(error.message, node, true)
      return {ok: false, value: undefined}
    }
  }

  private scalar(node: Scalar, type: GoType, current: unknown): {ok: boolean; value: unknown} {
    const text = String(node.value ?? '')
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
        return {ok: false, value: current}
      }

      if (tag === Tag.binary) {
        const decoded = decodeBase64(text)
        if (decoded === undefined) {
          this.fatal('!!binary value contains invalid base64 data', node)
          return {ok: false, value: current}
        }

        resolved = {kind: 'str', value: decoded}
      }
    }

    if (resolved.kind === 'null') return {ok: true, value: zero(type)}
    switch (type.kind) {
      case 'string': {
        return {ok: true, value: tag === Tag.binary && resolved.kind === 'str' ? resolved.value : text}
      }

      case 'iface': {
        return {ok: true, value: resolved.kind === 'timestamp' ? {kind: 'str', value: text} : resolved}
      }

      case 'bool': {
        if (resolved.kind === 'bool') return {ok: true, value: resolved.value}
        break
      }

      default:
    }

    this.terror(node, tag, type)
    return {ok: false, value: current}
  }

  private sequence(node: YAMLSeq, type: GoType): {ok: boolean; value: unknown} {
    if (type.kind === 'slice') {
      const out: unknown[] = []
      const items: Node[] = []
      node.items.forEach((item, i) => {
        this.path.push(i)
        const r = this.unmarshal(item as Node, type.elem, zero(type.elem))
        this.path.pop()
        if (r.ok) {
          // A null item decodes to a zero struct: it still came from this node.
          if (r.value && typeof r.value === 'object' && !this.origins.has(r.value)) this.originFor(r.value, item as Node)
          out.push(r.value)
          items.push(item as Node)
        }
      })
      this.origins.set(out, {fields: new Map(), items, node, unknown: []})
      return {ok: true, value: out}
    }

    if (type.kind === 'iface') {
      const items: IfaceValue[] = []
      for (const item of node.items) {
        const r = this.unmarshal(item as Node, type, undefined)
        if (r.ok) items.push((r.value ?? {kind: 'null'}) as IfaceValue)
      }

      return {ok: true, value: {items, kind: 'seq'} satisfies IfaceValue}
    }

    this.terror(node, Tag.seq, type)
    return {ok: false, value: undefined}
  }

  private mapping(node: YAMLMap, type: GoType, current: unknown): {ok: boolean; value: unknown} {
    switch (type.kind) {
      case 'struct': {
        return {ok: true, value: this.mappingStruct(node, type, current as Record<string, unknown> | undefined)}
      }

      case 'map': {
        return {ok: true, value: this.mappingMap(node, type, current as Map<string, unknown> | undefined)}
      }

      case 'iface': {
        return {ok: true, value: this.mappingIface(node, current as IfaceValue | undefined)}
      }

      default: {
        this.terror(node, Tag.map, type)
        return {ok: false, value: current}
      }
    }
  }

  private mappingStruct(node: YAMLMap, type: Extract<GoType, {kind: 'struct'}>, current: Record<string, unknown> | undefined) {
    const out = current && typeof current === 'object' ? current : (zero(type) as Record<string, unknown>)
    const origin = this.originFor(out, node)
    for (const pair of node.items) {
      const key = pair.key as Node
      const value = (pair.value ?? emptyScalar(key)) as Node
      if (isMergeKey(key)) {
        this.merge(value, type, out)
        continue
      }

      const name = this.unmarshal(key, {kind: 'string'}, '')
      if (!name.ok) continue
      const field = type.fields[name.value as string]
      if (!field) {
        origin.unknown.push({key, value})
        continue
      }

      this.path.push(name.value as string)
      const r = this.unmarshal(value, field, out[name.value as string])
      this.path.pop()
      if (r.ok) out[name.value as string] = r.value
      origin.fields.set(name.value as string, {key, value})
    }

    return out
  }

  private mappingMap(node: YAMLMap, type: Extract<GoType, {kind: 'map'}>, current: Map<string, unknown> | undefined) {
    const out = current instanceof Map ? current : new Map<string, unknown>()
    const origin = this.originFor(out, node)
    for (const pair of node.items) {
      const key = pair.key as Node
      const value = (pair.value ?? emptyScalar(key)) as Node
      if (isMergeKey(key)) {
        this.merge(value, type, out)
        continue
      }

      const k = this.unmarshal(key, {kind: 'string'}, '')
      if (!k.ok) continue
      this.path.push(k.value as string)
      const r = this.unmarshal(value, type.elem, zero(type.elem))
      this.path.pop()
      if (r.ok) {
        out.set(k.value as string, r.value)
        origin.fields.set(k.value as string, {key, value})
      }
    }

    return out
  }

  private mappingIface(node: YAMLMap, current: IfaceValue | undefined): IfaceValue {
    const out: IfaceValue = current && current.kind === 'map' ? current : {entries: [], kind: 'map'}
    for (const pair of node.items) {
      const key = pair.key as Node
      const value = (pair.value ?? emptyScalar(key)) as Node
      if (isMergeKey(key)) {
        this.merge(value, {kind: 'iface'}, out)
        continue
      }

      const k = this.unmarshal(key, {kind: 'iface'}, undefined)
      if (!k.ok) continue
      const kv = (k.value ?? {kind: 'null'}) as IfaceValue
      if (kv.kind === 'map' || kv.kind === 'seq') {
        this.fatal(`invalid map key: ${describeIface(kv)}`, key)
        continue
      }

      const v = this.unmarshal(value, {kind: 'iface'}, undefined)
      if (!v.ok) continue
      const existing = out.entries.findIndex(([ek]) => sameKey(ek, kv))
      const entry: [IfaceValue, IfaceValue] = [kv, (v.value ?? {kind: 'null'}) as IfaceValue]
      if (existing === -1) out.entries.push(entry)
      else out.entries[existing] = entry
    }

    return out
  }

  private merge(node: Node, type: GoType, out: unknown): void {
    const wantMap = () => this.fatal('map merge requires map or sequence of maps as the value', node)
    const target = isAlias(node) ? this.aliasTargets.get(node) : node
    if (isMap(node) || (isAlias(node) && (!target || isMap(target)))) {
      this.unmarshal(node, type, out)
      return
    }

    if (isSeq(node)) {
      // Earlier maps take precedence, so they are decoded last.
      for (let i = node.items.length - 1; i >= 0; i--) {
        const item = node.items[i] as Node
        const resolved = isAlias(item) ? this.aliasTargets.get(item) : item
        if (!(isMap(item) || (isAlias(item) && (!resolved || isMap(resolved))))) {
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
      const out: Record<string, unknown> = {}
      for (const [name, field] of Object.entries(type.fields)) {
        if (field.kind === 'struct') out[name] = zero(field)
        else if (field.kind === 'string' || field.kind === 'bool') out[name] = zero(field)
      }

      return out
    }

    default: {
      return undefined
    }
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
function isImplicit(node: Scalar): boolean {
  return node.type === Scalar.PLAIN || node.type === undefined
}

/** prepare()'s null test: explicit !!null, or a plain `null`, `~` or empty scalar (not `Null`!). */
function isNullForPrepare(node: Node): boolean {
  if (!isScalar(node)) return false
  if (node.tag === Tag.null) return true
  if (node.tag && node.tag !== '!') return false
  const text = String(node.value ?? '')
  return isImplicit(node) && (text === 'null' || text === '~' || text === '')
}

function isMergeKey(node: Node): boolean {
  return isScalar(node) && String(node.value) === mergeKey && ((isImplicit(node) && !node.tag) || node.tag === Tag.merge)
}

function emptyScalar(near: Node): Node {
  const s = new Scalar('')
  s.type = Scalar.PLAIN
  const end = near.range?.[2] ?? 0
  s.range = [end, end, end]
  return s as Node
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
