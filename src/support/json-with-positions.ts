/**
 * Strict JSON with the line and column of every key and value, for configs whose errors point
 * into the file. Lines and columns are the line index's (support/line-index.ts), so a lone CR
 * ends a line too, as editors show it.
 */
import {type ErrorCode, UserError} from '../errors.js'
import {type LinePosition, lineStarts, position} from './line-index.js'

/** A path inside a document: `['headers', 'api-key', 'env']`. */
type JsonPath = readonly (number | string)[]

interface JsonDocument {
  value: unknown
  /** Where the value (or the key) at `path` starts; the closest enclosing one's place otherwise. */
  locate(path: JsonPath, at?: 'key' | 'value'): LinePosition | undefined
}

const MAX_JSON_DEPTH = 64
const JSON_STRING = /"(?:[^"\\\u0000-\u001F]|\\(?:["/\\bfnrt]|u[\dA-Fa-f]{4}))*"/y
const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[Ee][+-]?\d+)?/y

/** How a syntax error is reported: the file it names, and the code and hint of the caller's format. */
interface JsonDocumentOptions {
  file?: string
  /** The UserError code (default E_JSON_SYNTAX). */
  code?: ErrorCode
  /** The fix shown under the error (default: what strict JSON allows). */
  hint?: string
}

/**
 * Strict JSON (RFC 8259) that remembers where each key and value starts, so errors can point at
 * a line and column, and that refuses duplicate keys (JSON.parse silently keeps the last).
 */
export function parseJsonDocument(text: string, {code = 'E_JSON_SYNTAX', file, hint = 'plain JSON: keys in double quotes, no comments, no trailing commas'}: JsonDocumentOptions = {}): JsonDocument {
  const keys = new Map<string, number>()
  const values = new Map<string, number>()
  // Only an error or a located config problem needs the lines: a valid config is never indexed.
  let starts: number[] | undefined
  const positionOf = (offset: number) => position((starts ??= lineStarts(text)), offset)

  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  const fail = (message: string, at = i): never => {
    const {column, line} = positionOf(at)
    throw new UserError(code, `not valid JSON: ${message}`, {column, file, hint, kind: 'usage', line})
  }

  const describeAt = () => (i >= text.length ? 'end of file' : JSON.stringify(text[i]))
  const space = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  }

  const string = (): string => {
    JSON_STRING.lastIndex = i
    const match = JSON_STRING.exec(text)
    if (!match) fail(text[i] === '"' ? 'a string with a control character, a bad escape or no closing quote' : `expected a string, found ${describeAt()}`)
    i += match![0].length
    return JSON.parse(match![0]) as string
  }

  const value = (path: JsonPath, depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) fail(`nested more than ${MAX_JSON_DEPTH} levels deep`)
    space()
    values.set(JSON.stringify(path), i)
    const char = text[i]
    if (char === '{') {
      i++
      const object: Record<string, unknown> = {}
      space()
      if (text[i] === '}') {
        i++
        return object
      }

      for (;;) {
        space()
        const keyAt = i
        if (text[i] !== '"') fail(`expected a key in double quotes, found ${describeAt()}`)
        const key = string()
        if (Object.hasOwn(object, key)) fail(`duplicate key ${JSON.stringify(key)}`, keyAt)
        keys.set(JSON.stringify([...path, key]), keyAt)
        space()
        if (text[i] !== ':') fail(`expected ":" after the key, found ${describeAt()}`)
        i++
        // defineProperty: a "__proto__" key is data, not the object's prototype.
        Object.defineProperty(object, key, {configurable: true, enumerable: true, value: value([...path, key], depth + 1), writable: true})
        space()
        if (text[i] === ',') {
          i++
          continue
        }

        if (text[i] === '}') {
          i++
          return object
        }

        fail(`expected "," or "}", found ${describeAt()}`)
      }
    }

    if (char === '[') {
      i++
      const list: unknown[] = []
      space()
      if (text[i] === ']') {
        i++
        return list
      }

      for (;;) {
        list.push(value([...path, list.length], depth + 1))
        space()
        if (text[i] === ',') {
          i++
          continue
        }

        if (text[i] === ']') {
          i++
          return list
        }

        fail(`expected "," or "]", found ${describeAt()}`)
      }
    }

    if (char === '"') return string()
    for (const [word, literal] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length
        return literal
      }
    }

    JSON_NUMBER.lastIndex = i
    const number = JSON_NUMBER.exec(text)
    if (number) {
      i += number[0].length
      return Number(number[0])
    }

    return fail(`unexpected ${describeAt()}`)
  }

  const result = value([], 0)
  space()
  if (i < text.length) fail(`unexpected ${describeAt()} after the end of the document`)
  return {
    locate(path, at = 'value') {
      for (let n = path.length; n >= 0; n--) {
        const id = JSON.stringify(path.slice(0, n))
        const offset = (at === 'key' && n === path.length ? keys.get(id) : undefined) ?? values.get(id) ?? keys.get(id)
        if (offset !== undefined) return positionOf(offset)
      }

      return undefined
    },
    value: result,
  }
}
