/**
 * Checking configuration data (serial configs, board profiles, source options) with errors that
 * name the file, the place inside it and the fix. A tiny descriptor checker rather than a JSON
 * Schema validator: this code also runs inside the on-device hook, where ajv's load time and size
 * are not affordable, and each source describes its own options right next to its code.
 */
import {UserError} from '../../errors.js'
import {didYouMean} from '../../support/suggest.js'
import type {SnapInterface} from '../sources/source.js'

/** A path inside a configuration document: `['chain', 1, 'options', 'offset']`. */
export type DataPath = readonly (number | string)[]

/** Where configuration data came from, to point errors at the right line. */
export interface ConfigPlace {
  /** The file, as the user named it. */
  file?: string
  /** The directory relative paths in the data (plugin modules) are resolved against. */
  baseDir?: string
  /** Line and column of the value (or the key) at `path`, when the source text is known. */
  locate?(path: DataPath, at?: 'key' | 'value'): undefined | {column: number; line: number}
  /** The code of its mistakes: E_SERIAL_CONFIG (a serial configuration, a board profile), E_REGISTRATION_CONFIG (the registration config, its serial section included). */
  code?: 'E_REGISTRATION_CONFIG' | 'E_SERIAL_CONFIG'
}

export const SNAP_INTERFACES: readonly SnapInterface[] = ['hardware-observe', 'network-observe', 'i2c']

/** `chain[1].options.offset` */
export function formatPath(path: DataPath): string {
  let text = ''
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text ? `.${part}` : part
  return text || '(top level)'
}

/** A configuration mistake, located. */
export function configError(place: ConfigPlace, path: DataPath, message: string, hint: string, pointAt: 'key' | 'value' = 'value'): UserError {
  const at = place.locate?.(path, pointAt)
  return new UserError(place.code ?? 'E_SERIAL_CONFIG', `${formatPath(path)}: ${message}`, {
    column: at?.column,
    file: place.file,
    hint,
    kind: 'usage',
    line: at?.line,
  })
}

interface Common {
  /** One line: what the option does (shown in errors and docs). */
  doc: string
  required?: boolean
}

/** What one option accepts. `strings` also accepts a single string; `integer` accepts "0x10". */
type OptionSpec =
  | (Common & {default?: boolean; type: 'boolean'})
  | (Common & {default?: number; max?: number; min?: number; type: 'integer'})
  | (Common & {default?: readonly string[]; type: 'strings'})
  | (Common & {default?: string; enum?: readonly string[]; pattern?: RegExp; type: 'string'})
  | (Common & {max?: number; min?: number; type: 'integers'})
  | (Common & {type: 'object'})
  | (Common & {type: 'plugs'})
  | (Common & {type: 'regex'})

export type OptionSpecs = Readonly<Record<string, OptionSpec>>

type Parsed = boolean | number | Readonly<Record<string, unknown>> | readonly number[] | readonly SnapInterface[] | readonly string[] | RegExp | string

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return `${typeof value} ${JSON.stringify(value)}`
}

/** Closest known name, for "did you mean" hints. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  return didYouMean(name, known, Math.max(2, Math.floor(name.length / 3)))
}

/** Rejects keys a mapping may not have, suggesting the nearest allowed one. */
export function checkKeys(value: Record<string, unknown>, allowed: readonly string[], place: ConfigPlace, path: DataPath, what: string): void {
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue
    const guess = closest(key, allowed)
    throw configError(place, [...path, key], `unknown key "${key}" in ${what}`, guess ? `did you mean "${guess}"?` : `allowed keys: ${allowed.join(', ') || '(none)'}`, 'key')
  }
}

/**
 * Checks `raw` against `specs` and returns the parsed options with defaults filled in. Unknown
 * keys are errors (a typo must not silently fall back to a default).
 */
export function checkOptions<T>(owner: string, raw: unknown, specs: OptionSpecs, place: ConfigPlace, path: DataPath): T {
  if (raw !== undefined && !isRecord(raw)) {
    throw configError(place, path, `options of ${owner} must be a mapping, not ${describeValue(raw)}`, `write options as key: value pairs (${Object.keys(specs).join(', ')})`)
  }

  const input = raw ?? {}
  checkKeys(input, Object.keys(specs), place, path, `the options of ${owner}`)
  const result: Record<string, Parsed> = {}
  for (const [name, spec] of Object.entries(specs)) {
    const value = input[name]
    const at = [...path, name]
    if (value === undefined) {
      if (spec.required) throw configError(place, path, `${owner} needs the option "${name}"`, `add ${name}: ${spec.doc}`)
      if ('default' in spec && spec.default !== undefined) result[name] = spec.default
      continue
    }

    result[name] = parseOption(owner, name, value, spec, place, at)
  }

  return result as T
}

function parseOption(owner: string, name: string, value: unknown, spec: OptionSpec, place: ConfigPlace, at: DataPath): Parsed {
  const fail = (expected: string): never => {
    throw configError(place, at, `${owner} option "${name}" must be ${expected}, not ${describeValue(value)}`, `${name}: ${spec.doc}`)
  }

  switch (spec.type) {
    case 'boolean': {
      return typeof value === 'boolean' ? value : fail('true or false')
    }

    case 'integer': {
      const n = toInteger(value)
      if (n === undefined) return fail('an integer (decimal or 0x hex)')
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        return fail(`an integer from ${spec.min ?? '-∞'} to ${spec.max ?? '∞'}`)
      }

      return n
    }

    case 'integers': {
      const list = Array.isArray(value) ? value : [value]
      const numbers = list.map(toInteger)
      if (list.length === 0 || numbers.some((n) => n === undefined || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))) {
        return fail(`a list of integers${spec.max === undefined ? '' : ` from ${spec.min ?? 0} to ${spec.max}`}`)
      }

      return numbers as number[]
    }

    case 'object': {
      return isRecord(value) ? value : fail('a mapping')
    }

    case 'plugs': {
      const list = Array.isArray(value) ? value : [value]
      if (!list.every((p): p is SnapInterface => SNAP_INTERFACES.includes(p as SnapInterface))) return fail(`a list of snap interfaces (${SNAP_INTERFACES.join(', ')})`)
      return list
    }

    case 'regex': {
      if (typeof value !== 'string') return fail('a regular expression (a string)')
      try {
        return new RegExp(value, 'm')
      } catch (error) {
        throw configError(place, at, `${owner} option "${name}" is not a valid regular expression: ${(error as Error).message}`, 'check the brackets and escapes (JavaScript syntax)')
      }
    }

    case 'string': {
      if (typeof value !== 'string' || value === '') return fail('a non-empty string')
      if (spec.enum && !spec.enum.includes(value)) return fail(`one of ${spec.enum.join(', ')}`)
      if (spec.pattern && !spec.pattern.test(value)) return fail(`a string matching ${spec.pattern}`)
      return value
    }

    case 'strings': {
      const list = typeof value === 'string' ? [value] : value
      if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s !== '')) return fail('a string or a list of strings')
      return list as string[]
    }
  }
}

function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined
  if (typeof value === 'string' && /^(0x[\da-f]+|\d+)$/i.test(value.trim())) return Number(value.trim())
  return undefined
}
