/**
 * Plain-scalar resolution as go-yaml v2 does it (resolve.go): YAML 1.1 booleans (yes/no/on/off/y/n),
 * nulls, Go's integer syntax (0x, 0o, 0b, leading-zero octal, underscores), floats, timestamps
 * and the merge key. snapd decodes gadget.yaml with this, so a scalar's kind here is the kind
 * snapd sees.
 */

export const Tag = {
  binary: 'tag:yaml.org,2002:binary',
  bool: 'tag:yaml.org,2002:bool',
  float: 'tag:yaml.org,2002:float',
  int: 'tag:yaml.org,2002:int',
  map: 'tag:yaml.org,2002:map',
  merge: 'tag:yaml.org,2002:merge',
  null: 'tag:yaml.org,2002:null',
  seq: 'tag:yaml.org,2002:seq',
  str: 'tag:yaml.org,2002:str',
  timestamp: 'tag:yaml.org,2002:timestamp',
} as const

/** A resolved scalar value: go's int/int64/uint64 are kept apart because snapd treats them apart. */
export type ResolvedValue =
  | {kind: 'bool'; value: boolean}
  | {kind: 'float'; value: number}
  | {kind: 'int'; value: bigint}
  | {kind: 'merge'}
  | {kind: 'null'}
  | {kind: 'str'; value: string}
  | {kind: 'timestamp'; value: string}
  | {kind: 'uint64'; value: bigint}

export class ResolveError extends Error {}

const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n
const UINT64_MAX = (1n << 64n) - 1n

const fixed = new Map<string, ResolvedValue>()
for (const s of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']) fixed.set(s, {kind: 'bool', value: true})
for (const s of ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']) fixed.set(s, {kind: 'bool', value: false})
for (const s of ['', '~', 'null', 'Null', 'NULL']) fixed.set(s, {kind: 'null'})
for (const s of ['.nan', '.NaN', '.NAN']) fixed.set(s, {kind: 'float', value: Number.NaN})
for (const s of ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']) fixed.set(s, {kind: 'float', value: Infinity})
for (const s of ['-.inf', '-.Inf', '-.INF']) fixed.set(s, {kind: 'float', value: -Infinity})
fixed.set('<<', {kind: 'merge'})

const yamlStyleFloat = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/

function tagOf(value: ResolvedValue): string {
  return value.kind === 'uint64' ? Tag.int : Tag[value.kind]
}

function shortTag(tag: string): string {
  return tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice('tag:yaml.org,2002:'.length)}` : tag
}

const resolvableTags = new Set<string>(['', Tag.str, Tag.bool, Tag.int, Tag.float, Tag.null, Tag.timestamp])

/**
 * go-yaml's resolve(tag, in). `tag` is '' for an untagged plain scalar, or the explicit tag.
 * Returns the resolved tag and value; a value that contradicts an explicit tag throws
 * ResolveError with go-yaml's message.
 */
export function resolve(tag: string, text: string): {tag: string; value: ResolvedValue | {kind: 'other'; value: string}} {
  if (!resolvableTags.has(tag)) return {tag, value: {kind: 'other', value: text}}
  const value = resolveUntyped(tag, text)
  const rtag = tagOf(value)
  if (tag === '' || tag === rtag || tag === Tag.str || tag === Tag.binary) return {tag: rtag, value}
  if (tag === Tag.float && (value.kind === 'int' || value.kind === 'uint64')) {
    return {tag: Tag.float, value: {kind: 'float', value: Number(value.value)}}
  }

  throw new ResolveError(`cannot decode ${shortTag(rtag)} \`${text}\` as a ${shortTag(tag)}`)
}

function resolveUntyped(tag: string, text: string): ResolvedValue {
  if (tag === Tag.str || tag === Tag.binary) return {kind: 'str', value: text}
  const hint = text === '' ? 'N' : hintOf(text.charCodeAt(0))
  if (!hint) return {kind: 'str', value: text}
  const known = fixed.get(text)
  if (known) return known
  if (hint === '.') {
    const f = parseGoFloat(text)
    if (f !== undefined) return {kind: 'float', value: f}
  } else if (hint === 'D' || hint === 'S') {
    if ((tag === '' || tag === Tag.timestamp) && isTimestamp(text)) return {kind: 'timestamp', value: text}
    const plain = text.replaceAll('_', '')
    const int = parseGoInt(plain)
    if (int !== undefined) {
      if (int >= INT64_MIN && int <= INT64_MAX) return {kind: 'int', value: int}
      if (int >= 0n && int <= UINT64_MAX && !/^[+-]/.test(plain)) return {kind: 'uint64', value: int}
    }

    if (yamlStyleFloat.test(plain)) {
      const f = parseGoFloat(plain)
      if (f !== undefined) return {kind: 'float', value: f}
    }

    if (plain.startsWith('0b') || plain.startsWith('-0b')) {
      const negative = plain.startsWith('-')
      const digits = plain.slice(negative ? 3 : 2)
      if (/^[01]+$/.test(digits)) {
        const v = BigInt(`0b${digits}`) * (negative ? -1n : 1n)
        if (v >= INT64_MIN && v <= INT64_MAX) return {kind: 'int', value: v}
        if (!negative && v <= UINT64_MAX) return {kind: 'uint64', value: v}
      }
    }
  }

  return {kind: 'str', value: text}
}

function hintOf(c: number): '' | '.' | 'D' | 'M' | 'S' {
  if (c === 0x2b || c === 0x2d) return 'S'
  if (c >= 0x30 && c <= 0x39) return 'D'
  if (c === 0x2e) return '.'
  // y Y n N t T f F o O ~
  if ('yYnNtTfFoO~'.includes(String.fromCharCode(c))) return 'M'
  return ''
}

/** strconv.ParseInt(s, 0, 64)'s syntax, with the range checked by the caller. */
function parseGoInt(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s)
  if (!m) return undefined
  const [, sign, body] = m
  let v: bigint
  if (/^0[oO]/.test(body)) v = BigInt(`0o${body.slice(2)}`)
  else if (/^0[xXbB]/.test(body)) v = BigInt(body.toLowerCase())
  else if (body.length > 1 && body.startsWith('0')) v = BigInt(`0o${body.slice(1)}`)
  else v = BigInt(body)
  if (sign === '-') v = -v
  if (v < INT64_MIN || v > UINT64_MAX) return undefined
  // ParseInt rejects a sign on values beyond int64; ParseUint rejects any sign.
  if (v > INT64_MAX && sign) return undefined
  return v
}

/** strconv.ParseFloat(s, 64) for the decimal forms go-yaml lets through. */
function parseGoFloat(s: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    if (/^[+-]?(inf|infinity|nan)$/i.test(s)) return s.toLowerCase().includes('nan') ? Number.NaN : s.startsWith('-') ? -Infinity : Infinity
    return undefined
  }

  const f = Number(s)
  // Go reports a range error (and go-yaml then falls back to a string) for overflowing values.
  return Number.isFinite(f) ? f : undefined
}

/** The subset of http://yaml.org/type/timestamp.html that go-yaml v2 accepts. */
function isTimestamp(s: string): boolean {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt ])(\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(s)
  if (!m) return false
  const [, y, mo, d, sep, h, mi, sec, , zone] = m
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1) return false
  const daysIn = new Date(Date.UTC(Number(y), month, 0)).getUTCDate()
  if (day > daysIn) return false
  if (sep === undefined) return true
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return false
  // "2006-1-2 15:4:5" has no zone; the T forms require one.
  return sep === ' ' ? zone === undefined : zone !== undefined
}
