/**
 * What PyYAML's SafeLoader (YAML 1.1) makes of a document libyaml reads. The conformance oracle
 * loads gadget.yaml with PyYAML to create content placeholders: a path is created as `str(value)`
 * (so `image: 0x10` becomes "16"), and when PyYAML cannot construct the document at all
 * (`image: 0x_`, `a: =`, a bad date, an unknown tag, a list as a key, a duplicate anchor) no
 * placeholder is created. This module answers both questions on our syntax tree.
 */
import type {YamlMap, YamlNode, YamlScalar} from '../../src/go-yaml/read/ast.js'

const TAG = 'tag:yaml.org,2002:'
const STR = `${TAG}str`
const BOOL_TAG = `${TAG}bool`
const FLOAT_TAG = `${TAG}float`
const INT_TAG = `${TAG}int`
const MERGE_TAG = `${TAG}merge`
const NULL_TAG = `${TAG}null`
const TIMESTAMP_TAG = `${TAG}timestamp`
const VALUE_TAG = `${TAG}value`
const SEQ_TAG = `${TAG}seq`
const OMAP_TAG = `${TAG}omap`
const PAIRS_TAG = `${TAG}pairs`
const MAP_TAG = `${TAG}map`
const SET_TAG = `${TAG}set`
const BINARY_TAG = `${TAG}binary`

/** The value PyYAML constructs from a scalar: `str` holds `str(value)` for str, int and float. */
type ScalarValue = {ok: false} | {ok: true; str?: string}

const FAILS: ScalarValue = {ok: false}
const NOT_TEXT: ScalarValue = {ok: true}

/**
 * The text the oracle creates a placeholder for, when `node` is a content path's value: undefined
 * for values it skips (null, booleans, dates, bytes, collections) or cannot construct.
 */
export function pyyamlPathText(node: YamlNode): string | undefined {
  const target = node.kind === 'alias' ? node.target : node
  if (target.kind !== 'scalar') return undefined
  const value = constructScalar(target)
  return value.ok ? value.str : undefined
}

/** Why PyYAML's SafeLoader cannot construct a document libyaml reads, and where. */
export interface PyyamlProblem {
  message: string
  node: YamlNode
}

/** Whether PyYAML's SafeLoader constructs this document (parsing aside: libyaml reads it). */
export function pyyamlLoads(root: YamlNode | undefined): boolean {
  return pyyamlProblem(root) === undefined
}

/** The first thing in the document PyYAML's SafeLoader cannot construct, if any. */
export function pyyamlProblem(root: YamlNode | undefined): PyyamlProblem | undefined {
  if (!root) return undefined
  const anchors = new Set<string>()
  // Nodes in document order; keys are marked, since flatten_mapping turns a key `=` into a string.
  const pending: YamlNode[] = [root]
  const pendingIsKey: boolean[] = [false]
  while (pending.length > 0) {
    const node = pending.pop()!
    const isKey = pendingIsKey.pop()!
    if (node.kind === 'alias') continue
    if (node.anchor !== undefined) {
      if (anchors.has(node.anchor)) return {message: `the anchor &${node.anchor} is defined twice`, node}
      anchors.add(node.anchor)
    }

    if (node.kind === 'scalar') {
      if (isKey && (isValueKey(node) || isMergeKey(node))) continue
      if (node.tag === undefined || node.tag === '!') {
        // Resolved implicitly: the resolvers' patterns already rule out every failure but an int
        // with no digits (0x_, 0b_) and a date the calendar does not have.
        const tag = scalarTag(node)
        if (tag === STR || tag === NULL_TAG || tag === BOOL_TAG || tag === FLOAT_TAG) continue
        if (tag === INT_TAG && !/^[-+]?0[bx]_*$/.test(node.value)) continue
      }

      if (!constructScalar(node).ok) return {message: scalarProblem(node), node}
      continue
    }

    const tag = node.tag === undefined || node.tag === '!' ? undefined : node.tag
    if (node.kind === 'seq') {
      if (tag !== undefined && tag !== SEQ_TAG && tag !== OMAP_TAG && tag !== PAIRS_TAG) return {message: `it has no constructor for the tag ${shortTag(tag)} on a sequence`, node}
      if (tag !== undefined && tag !== SEQ_TAG && !node.items.every((item) => resolve(item).kind === 'map' && (resolve(item) as YamlMap).pairs.length === 1)) {
        return {message: `${shortTag(tag)} wants a sequence of one-key mappings`, node}
      }

      for (let i = node.items.length - 1; i >= 0; i--) {
        pending.push(node.items[i])
        pendingIsKey.push(false)
      }

      continue
    }

    if (tag !== undefined && tag !== MAP_TAG && tag !== SET_TAG) return {message: `it has no constructor for the tag ${shortTag(tag)} on a mapping`, node}
    const problem = mappingProblem(node)
    if (problem) return problem
    for (let i = node.pairs.length - 1; i >= 0; i--) {
      pending.push(node.pairs[i].value, node.pairs[i].key)
      pendingIsKey.push(false, true)
    }
  }

  return undefined
}

function scalarProblem(node: YamlScalar): string {
  const tag = node.tag === undefined || node.tag === '!' ? implicitTag(node.value) : node.tag
  const shown = JSON.stringify(node.value)
  switch (tag) {
    case INT_TAG:
    case FLOAT_TAG:
    case TIMESTAMP_TAG:
    case BOOL_TAG: {
      return `${shown} reads as ${shortTag(tag)} in YAML 1.1, and is not a valid one`
    }

    case BINARY_TAG: {
      return `${shown} is not valid base64 for !!binary`
    }

    case VALUE_TAG: {
      return `${shown} is YAML 1.1's value tag, which it cannot construct`
    }

    default: {
      return `it has no constructor for the tag ${shortTag(tag)}`
    }
  }
}

function shortTag(tag: string): string {
  return tag.startsWith(TAG) ? `!!${tag.slice(TAG.length)}` : tag
}

function resolve(node: YamlNode): YamlNode {
  return node.kind === 'alias' ? node.target : node
}

/** flatten_mapping's merge rules, and construct_mapping's "found unhashable key". */
function mappingProblem(node: YamlMap): PyyamlProblem | undefined {
  for (const {key, value} of node.pairs) {
    const k = resolve(key)
    if (isMergeKey(k)) {
      const v = resolve(value)
      if (v.kind === 'map') continue
      if (v.kind === 'seq' && v.items.every((item) => resolve(item).kind === 'map')) continue
      return {message: 'a merge key (<<) takes a mapping or a list of mappings', node: value}
    }

    // Lists, dicts and sets are unhashable.
    if (k.kind !== 'scalar') return {message: 'a mapping key is a collection, which Python cannot hash', node: key}
  }

  return undefined
}

function isValueKey(node: YamlScalar): boolean {
  return node.value === '=' && (node.tag === undefined ? node.style === 'plain' : node.tag === '!' || node.tag === VALUE_TAG)
}

function isMergeKey(node: YamlNode): boolean {
  if (node.kind !== 'scalar') return false
  if (node.tag === MERGE_TAG) return true
  return node.value === '<<' && (node.tag === undefined ? node.style === 'plain' : node.tag === '!')
}

/** The tag PyYAML's C loader gives a scalar. */
function scalarTag(node: YamlScalar): string {
  // libyaml marks a scalar with the non-specific tag `!` "plain implicit", whatever its style, and
  // PyYAML's C loader then resolves it like an untagged plain scalar: `! "0x10"` is 16. A node
  // that is only a tag (`k: !`) has no scalar to be implicit about: it is the empty string.
  if (node.tag === '!') return node.style === 'plain' && node.value === '' ? STR : implicitTag(node.value)
  return node.tag ?? (node.style === 'plain' ? implicitTag(node.value) : STR)
}

/** construct_object for a scalar node. */
function constructScalar(node: YamlScalar): ScalarValue {
  const text = node.value
  const tag = scalarTag(node)
  switch (tag) {
    case STR: {
      return {ok: true, str: text}
    }

    case INT_TAG: {
      const value = constructInt(text)
      return value === undefined ? FAILS : {ok: true, str: value}
    }

    case FLOAT_TAG: {
      const value = constructFloat(text)
      return value === undefined ? FAILS : {ok: true, str: value}
    }

    case BOOL_TAG: {
      return /^(yes|no|true|false|on|off)$/i.test(text) ? NOT_TEXT : FAILS
    }

    case NULL_TAG: {
      return NOT_TEXT
    }

    case TIMESTAMP_TAG: {
      return timestampConstructs(text) ? NOT_TEXT : FAILS
    }

    case BINARY_TAG: {
      return base64Decodes(text) ? NOT_TEXT : FAILS
    }

    // No constructor: `=` (the value tag), `!!merge` on a value, local and unknown tags.
    default: {
      return FAILS
    }
  }
}

const BOOL = /^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/
const FLOAT = /^([-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?|\.[0-9][0-9_]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/
const INT = /^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$/
const NULL = /^(~|null|Null|NULL|)$/
const TIMESTAMP = /^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)$/

/** PyYAML's implicit resolvers, tried in the order it registers them for the first character. */
function implicitTag(text: string): string {
  if (text === '') return NULL_TAG
  const first = text.charCodeAt(0)
  switch (first) {
    // y Y t T f F o O: booleans only.
    case 0x79:
    case 0x59:
    case 0x74:
    case 0x54:
    case 0x66:
    case 0x46:
    case 0x6f:
    case 0x4f: {
      return BOOL.test(text) ? BOOL_TAG : STR
    }

    // n N: booleans, then null.
    case 0x6e:
    case 0x4e: {
      return BOOL.test(text) ? BOOL_TAG : NULL.test(text) ? NULL_TAG : STR
    }

    case 0x7e: {
      return text === '~' ? NULL_TAG : STR
    }

    case 0x3c: {
      return text === '<<' ? MERGE_TAG : STR
    }

    case 0x3d: {
      return text === '=' ? VALUE_TAG : STR
    }

    // - + . and digits: float, then int, then (digits only) timestamp.
    case 0x2d:
    case 0x2b:
    case 0x2e: {
      return FLOAT.test(text) ? FLOAT_TAG : first !== 0x2e && INT.test(text) ? INT_TAG : STR
    }

    default: {
      if (first < 0x30 || first > 0x39) return STR
      // Numbers and dates starting with a digit end in a digit, "_", ".", a hex digit or "Z".
      if (!/[\d_.a-fA-FZ]$/.test(text)) return STR
      if (FLOAT.test(text)) return FLOAT_TAG
      if (INT.test(text)) return INT_TAG
      return TIMESTAMP.test(text) ? TIMESTAMP_TAG : STR
    }
  }
}

/** construct_yaml_int, then str(): undefined where Python's int() raises. */
function constructInt(text: string): string | undefined {
  let value = text.replaceAll('_', '')
  let sign = 1n
  if (value.startsWith('-')) sign = -1n
  if (value.startsWith('-') || value.startsWith('+')) value = value.slice(1)
  const parse = (digits: string, base: 2 | 8 | 10 | 16): bigint | undefined => {
    const prefix = {2: '0b', 8: '0o', 10: '', 16: '0x'}[base]
    const pattern = {2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/}[base]
    // Python's int(s, base) allows surrounding whitespace, one sign and the base's own prefix.
    let s = digits.trim()
    let own = 1n
    if (s.startsWith('-')) own = -1n
    if (s.startsWith('-') || s.startsWith('+')) s = s.slice(1)
    if (prefix && s.toLowerCase().startsWith(prefix)) s = s.slice(2)
    return pattern.test(s) ? own * BigInt(`${prefix}${s}`) : undefined
  }

  let result: bigint | undefined
  if (value === '0') result = 0n
  else if (value.startsWith('0b')) result = parse(value.slice(2), 2)
  else if (value.startsWith('0x')) result = parse(value.slice(2), 16)
  else if (value.startsWith('0')) result = parse(value, 8)
  else if (value.includes(':')) {
    result = 0n
    for (const part of value.split(':')) {
      const digit = parse(part, 10)
      if (digit === undefined) return undefined
      result = result * 60n + digit
    }
  } else result = parse(value, 10)

  return result === undefined ? undefined : String(sign * result)
}

/** construct_yaml_float, then str(): undefined where Python's float() raises. */
function constructFloat(text: string): string | undefined {
  let value = text.replaceAll('_', '').toLowerCase()
  let sign = 1
  if (value.startsWith('-')) sign = -1
  if (value.startsWith('-') || value.startsWith('+')) value = value.slice(1)
  if (value === '.inf') return pythonFloat(sign * Number.POSITIVE_INFINITY)
  if (value === '.nan') return 'nan'
  const float = (s: string): number | undefined => {
    const t = s.trim()
    if (/^[-+]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
    if (/^[-+]?nan$/.test(t)) return Number.NaN
    return /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)(e[-+]?[0-9]+)?$/.test(t) ? Number(t) : undefined
  }

  if (value.includes(':')) {
    let result = 0
    let base = 1
    for (const part of value.split(':').reverse()) {
      const digit = float(part)
      if (digit === undefined) return undefined
      result += digit * base
      base *= 60
    }

    return pythonFloat(sign * result)
  }

  const result = float(value)
  return result === undefined ? undefined : pythonFloat(sign * result)
}

/** Python's str() of a float. */
export function pythonFloat(f: number): string {
  if (!Number.isFinite(f)) return Number.isNaN(f) ? 'nan' : f > 0 ? 'inf' : '-inf'
  const abs = Math.abs(f)
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    return f.toExponential().replace(/e([+-])(\d)$/, 'e$10$2')
  }

  const s = Object.is(f, -0) ? '-0' : String(f)
  return s.includes('.') || s.includes('e') ? s : `${s}.0`
}

const TIMESTAMP_PARTS = /^(\d{4})-(\d\d?)-(\d\d?)(?:(?:[Tt]|[ \t]+)(\d\d?):(\d\d):(\d\d)(?:\.\d*)?(?:[ \t]*(Z|([-+])(\d\d?)(?::(\d\d))?))?)?$/

/** construct_yaml_timestamp: whether datetime.date / datetime.datetime / timezone accept the parts. */
function timestampConstructs(text: string): boolean {
  const m = TIMESTAMP_PARTS.exec(text)
  if (!m) return false
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (year < 1 || month < 1 || month > 12) return false
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
  if (day < 1 || day > days) return false
  if (m[4] === undefined) return true
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return false
  // timezone() wants an offset strictly inside ±24 hours.
  return m[8] === undefined || Number(m[9]) * 60 + Number(m[10] ?? 0) < 24 * 60
}

/** base64.decodebytes (binascii.a2b_base64, non-strict): skips other characters, checks padding. */
function base64Decodes(text: string): boolean {
  if (/[^\u0000-\u007F]/.test(text)) return false // value.encode('ascii') raises
  let quad = 0
  let pads = 0
  for (const c of text) {
    if (c === '=') {
      if (quad >= 2 && quad + ++pads >= 4) return true
      continue
    }

    if (!/[A-Za-z0-9+/]/.test(c)) continue
    pads = 0
    quad = (quad + 1) % 4
  }

  return quad === 0
}
