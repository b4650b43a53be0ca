/**
 * What happens to a value between the source and the serial, configured as data: normalisation
 * (always, before placeholder checks), then prefix / suffix / hash / maximum length, then the final
 * check of the serial's characters.
 */
import {host} from '../support/host.js'

import type {ValueFormat} from './sources/source.js'

export interface NormaliseOptions {
  /** Trim whitespace at both ends (default true). */
  trim?: boolean
  /** Strip NUL and 0xFF padding at both ends: DT strings, EEPROM fields (default true). */
  stripPadding?: boolean
  /**
   * Case of hex-like values (hex, UUID, MAC formats): the kernel printed product_uuid in upper
   * case once and lower case now, i.MX prints its UID upper case (default lower).
   */
  hexCase?: 'keep' | 'lower' | 'upper'
}

interface HashOptions {
  /** Only SHA-512 (the digest tweetnacl's `nacl.hash` and node:crypto both give). */
  algorithm?: 'sha512'
  /** Salt; defaults to the brand. Hashing with a brand salt keeps raw ids private across brands. */
  salt?: string
  /** Characters of the encoded digest to keep (default 32). */
  length?: number
  encoding?: 'base32' | 'hex'
}

interface MaxLengthOptions {
  length: number
  /** What to do with a longer value: refuse it (the chain moves on; default) or cut it. */
  overflow?: 'refuse' | 'truncate'
}

/** One transform step, written as a one-key mapping in configuration. */
export type TransformSpec = {hash: HashOptions} | {maxLength: MaxLengthOptions | number} | {normalise: NormaliseOptions} | {prefix: string} | {suffix: string}

export const TRANSFORM_KINDS = ['normalise', 'prefix', 'suffix', 'hash', 'maxLength'] as const

/** What a serial may look like unless the configuration widens it. */
export const DEFAULT_SERIAL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** Never allowed, whatever the pattern: path separators, whitespace, quotes, control characters. */
const FORBIDDEN = /[\s"'/\\`\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u

const HEX_LIKE = /^[\da-f:-]+$/i

/** Trims, strips padding and folds the case of hex-like values. */
export function normalise(value: string, format: ValueFormat, options: NormaliseOptions = {}): string {
  const {hexCase = 'lower', stripPadding = true, trim = true} = options
  let result = value
  if (stripPadding && trim) result = result.replace(/^[\s\0\u00FF]+|[\s\0\u00FF]+$/g, '')
  else if (stripPadding) result = result.replace(/^[\0\u00FF]+|[\0\u00FF]+$/g, '')
  else if (trim) result = result.trim()
  if (format !== 'text' && hexCase !== 'keep' && HEX_LIKE.test(result)) {
    result = hexCase === 'lower' ? result.toLowerCase() : result.toUpperCase()
  }

  return result
}

type TransformResult = {ok: false; reason: string} | {ok: true; value: string}

interface TransformContext {
  format: ValueFormat
  /** Default salt for `hash`. */
  brand?: string
}

/** Applies `steps` in order; a step may refuse the value (a too-long serial). */
export function applyTransforms(value: string, steps: readonly TransformSpec[], context: TransformContext): TransformResult {
  let current = value
  for (const step of steps) {
    if ('normalise' in step) current = normalise(current, context.format, step.normalise)
    else if ('prefix' in step) current = step.prefix + current
    else if ('suffix' in step) current += step.suffix
    else if ('hash' in step) current = hashValue(current, step.hash, context.brand)
    else if ('maxLength' in step) {
      const {length, overflow = 'refuse'} = typeof step.maxLength === 'number' ? {length: step.maxLength} : step.maxLength
      if (current.length > length) {
        if (overflow === 'refuse') return {ok: false, reason: `${current.length} characters, more than the maximum of ${length}`}
        current = current.slice(0, length)
      }
    }
  }

  return {ok: true, value: current}
}

/**
 * SHA-512 over `salt NUL value`, encoded and cut to `length` characters. The NUL keeps
 * ("ab", "c") and ("a", "bc") apart.
 */
export function hashValue(value: string, options: HashOptions = {}, brand?: string): string {
  const {encoding = 'hex', length = 32, salt = brand ?? ''} = options
  const hashed = host().sha512(Buffer.from(`${salt}\0${value}`, 'utf8'))
  const digest = Buffer.from(hashed.buffer, hashed.byteOffset, hashed.byteLength)
  return (encoding === 'base32' ? base32(digest) : digest.toString('hex')).slice(0, length)
}

/** RFC 4648 base32, lower case, no padding (node has no base32 codec). */
export function base32(bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  let out = ''
  let bits = 0
  let buffer = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
  }

  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31]
  return out
}

/** Why `serial` may not be emitted, or undefined when it may. */
export function serialProblem(serial: string, pattern: RegExp = DEFAULT_SERIAL_PATTERN): string | undefined {
  if (serial === '') return 'empty'
  const bad = FORBIDDEN.exec(serial)
  if (bad) return `contains ${describeChar(bad[0])}, which a serial may never contain`
  if (!pattern.test(serial)) return `does not match ${pattern.source}`
  return undefined
}

function describeChar(char: string): string {
  if (char === '/' || char === '\\') return `a "${char}"`
  if (char === '"' || char === "'" || char === '`') return `a quote (${char})`
  if (/\s/.test(char)) return char === ' ' ? 'a space' : `whitespace (U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`
  return `a control character (U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`
}

/** Compiles a configured output pattern; the whole serial must match it. */
export function serialPattern(source: string): RegExp {
  return new RegExp(`^(?:${source})$`, 'u')
}
