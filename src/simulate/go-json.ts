/**
 * JSON as Go's encoding/json reads and writes it, where snapd's behaviour depends on it: numbers
 * kept as written (json.Number), one value read from a stream and the rest left unread
 * (json.Decoder), a repeated key keeping its last value, and json.Marshal's text (sorted keys,
 * <, > and & escaped) for the values snapd quotes in its messages.
 */

const MAX_NESTING = 10_000

/** A number as snapd keeps it: the text the hook wrote (json.Number). */
export class GoNumber {
  constructor(readonly text: string) {}
}

/** A JSON value as Go decodes it with UseNumber: what snapd stores for an option. */
export type GoJsonValue = boolean | GoNumber | null | GoJsonValue[] | string | {[key: string]: GoJsonValue}

/**
 * The value `text` gives after `key=` (jsonutil.DecodeWithNumber): one JSON value, then nothing
 * but white space, or a `]` or `}` (Go's Decoder.More() does not count those as more input).
 * Undefined when it is not JSON.
 */
export function decodeOneJsonValue(text: string): GoJsonValue | undefined {
  const parsed = parseValue(text, skipSpace(text, 0))
  if (!parsed) return undefined
  const rest = skipSpace(text, parsed.end)
  if (rest < text.length && text[rest] !== ']' && text[rest] !== '}') return undefined
  return parsed.value
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  return i
}

/**
 * The first JSON value of `text` after white space and where it ends (Go's json.Decoder reads one
 * value and leaves the rest unread); undefined when `text` does not start with one.
 */
export function firstJsonValue(text: string): {value: GoJsonValue; end: number} | undefined {
  return parseValue(text, skipSpace(text, 0))
}

/** The JSON value starting at `i` (RFC 8259, as Go's scanner reads it) and where it ends; undefined when there is none. */
function parseValue(text: string, i: number, depth = 0): {value: GoJsonValue; end: number} | undefined {
  // Go's scanner refuses nesting deeper than this (encoding/json maxNestingDepth).
  if (depth > MAX_NESTING) return undefined
  const c = text[i]
  if (c === '"') {
    const end = scanString(text, i)
    return end < 0 ? undefined : {end, value: JSON.parse(text.slice(i, end)) as string}
  }

  if (c === '{') {
    // Go decodes into a map: a repeated key keeps its last value.
    const value: Record<string, GoJsonValue> = {}
    let j = skipSpace(text, i + 1)
    if (text[j] === '}') return {end: j + 1, value}
    for (;;) {
      if (text[j] !== '"') return undefined
      const keyEnd = scanString(text, j)
      if (keyEnd < 0) return undefined
      const key = JSON.parse(text.slice(j, keyEnd)) as string
      j = skipSpace(text, keyEnd)
      if (text[j] !== ':') return undefined
      const inner = parseValue(text, skipSpace(text, j + 1), depth + 1)
      if (!inner) return undefined
      Object.defineProperty(value, key, {configurable: true, enumerable: true, value: inner.value, writable: true})
      j = skipSpace(text, inner.end)
      if (text[j] === '}') return {end: j + 1, value}
      if (text[j] !== ',') return undefined
      j = skipSpace(text, j + 1)
    }
  }

  if (c === '[') {
    const value: GoJsonValue[] = []
    let j = skipSpace(text, i + 1)
    if (text[j] === ']') return {end: j + 1, value}
    for (;;) {
      const inner = parseValue(text, j, depth + 1)
      if (!inner) return undefined
      value.push(inner.value)
      j = skipSpace(text, inner.end)
      if (text[j] === ']') return {end: j + 1, value}
      if (text[j] !== ',') return undefined
      j = skipSpace(text, j + 1)
    }
  }

  for (const [word, value] of [
    ['true', true],
    ['false', false],
    ['null', null],
  ] as const) {
    if (text.startsWith(word, i)) return {end: i + word.length, value}
  }

  if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
    const end = scanNumber(text, i)
    return end < 0 ? undefined : {end, value: new GoNumber(text.slice(i, end))}
  }

  return undefined
}

function scanString(text: string, i: number): number {
  let j = i + 1
  while (j < text.length) {
    const c = text.charCodeAt(j)
    if (c === 0x22) return j + 1
    if (c < 0x20) return -1
    if (c === 0x5c) {
      const e = text[j + 1]
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) return -1
        j += 6
        continue
      }

      if (e === undefined || !'"\\/bfnrt'.includes(e)) return -1
      j += 2
      continue
    }

    j++
  }

  return -1
}

function scanNumber(text: string, i: number): number {
  const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 4096))
  // "-", "1.", "1e": Go's scanner fails on them.
  if (!match) return -1
  const end = i + match[0].length
  const after = text[end]
  if (after === '.' || after === 'e' || after === 'E') return -1
  return end
}

/** An option value as Go's json.Marshal writes it (snapd's error messages quote it so). */
export function goJson(value: GoJsonValue): string {
  if (value instanceof GoNumber) return value.text
  if (typeof value === 'string') return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  if (value === null || typeof value === 'boolean') return String(value)
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${goJson(k)}:${goJson(value[k])}`)
    .join(',')}}`
}

/** JSON's name of a value's kind, as Go's decoder says it ("number", "object", …). */
export function jsonKind(value: GoJsonValue): string {
  if (value instanceof GoNumber) return 'number'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'object') return 'object'
  return typeof value === 'boolean' ? 'bool' : 'string'
}
