/**
 * Writes an assertion's content (headers, plus an empty line and the body when there is one)
 * exactly as snapd 2.57.6's signer does (asserts/asserts.go assembleAndSign, asserts/headers.go
 * appendEntry), so that what we sign is byte for byte what `snap sign` signs.
 *
 * Header order: `type`, `format` (when not 0), `authority-id` (and `signatory-id` when it differs),
 * `revision` (when not 0), the type's primary-key headers in their defined order, every other
 * header sorted by name, `body-length` (only for a non-empty body), `sign-key-sha3-384`.
 *
 * Values: a string without "\n" is `name: value` (an empty string leaves `name: `); a string with
 * "\n" is `name:` then each line indented by 4 more spaces than the entry; a list is `name:` then
 * `  - item` entries; a map is `name:` then `  key: value` entries sorted by key; nested values sit
 * one level deeper. Empty lists and maps are left out.
 *
 * Everything snapd would refuse, or would write in a form its decoder cannot read back, is a
 * UserError (code E_ASSERTION_INPUT) naming the header: the headers usually carry what a device
 * or a configuration file said.
 */
import {UserError} from '../errors.js'
import {ASSERTION_LIMITS, type HeaderMap, type HeaderValue} from './decode.js'

/** What to sign: the headers (any order; one whose value is undefined is left out) and an optional body. */
export interface AssertionInput {
  type: string
  headers: HeaderMap
  body?: string
}

interface AssertionTypeInfo {
  primaryKey: readonly string[]
  /** Primary-key headers that may be left out, with the value they then have (not written). */
  primaryKeyDefaults?: Readonly<Record<string, string>>
  /** serial-request and friends are self-signed: no authority-id. */
  noAuthority?: boolean
  /** Highest `format` snapd signs (2.57.6's, unless noted; 0 when the type has no format iterations). */
  maxFormat?: number
}

/** snapd 2.57.6's assertion types (asserts/asserts.go typeRegistry), and hardware-identity (snapd 2.73). */
export const ASSERTION_TYPES: Readonly<Record<string, AssertionTypeInfo>> = {
  account: {primaryKey: ['account-id']},
  'account-key': {primaryKey: ['public-key-sha3-384']},
  'account-key-request': {noAuthority: true, primaryKey: ['public-key-sha3-384']},
  'base-declaration': {primaryKey: ['series']},
  'device-session-request': {noAuthority: true, primaryKey: ['brand-id', 'model', 'serial']},
  'hardware-identity': {primaryKey: ['issuer-id', 'hardware-id-key-sha3-384']},
  model: {primaryKey: ['series', 'brand-id', 'model']},
  preseed: {primaryKey: ['series', 'brand-id', 'model', 'system-label']},
  repair: {primaryKey: ['brand-id', 'repair-id']},
  serial: {primaryKey: ['brand-id', 'model', 'serial']},
  'serial-request': {noAuthority: true, primaryKey: []},
  'snap-build': {primaryKey: ['snap-sha3-384']},
  'snap-declaration': {maxFormat: 5, primaryKey: ['series', 'snap-id']},
  'snap-developer': {primaryKey: ['snap-id', 'publisher-id']},
  'snap-revision': {primaryKey: ['snap-sha3-384', 'provenance'], primaryKeyDefaults: {provenance: 'global-upload'}},
  store: {primaryKey: ['store']},
  // Format 2 (user-presence) since snapd 2.58: older ones refuse it, as the caller is told.
  'system-user': {maxFormat: 2, primaryKey: ['brand-id', 'email']},
  validation: {primaryKey: ['series', 'snap-id', 'approved-snap-id', 'approved-snap-revision']},
  'validation-set': {primaryKey: ['series', 'account-id', 'name', 'sequence']},
}

/** Headers the signer fills in itself. */
const SIGNER_HEADERS = new Set(['body-length', 'sign-key-sha3-384'])
const HEADER_NAME = /^[a-z](?:-?[a-z0-9])*$/
const INTEGER = /^(?:0|[1-9][0-9]*)$/
const LONE_SURROGATE = /\p{Cs}/u
const LIST_PREFIX = '  -'
const MAP_PREFIX = '  '
const MULTILINE_PREFIX = '    '

/** The content snapd signs for `input` with the key `keyId`, and its headers in written order. */
export function assertionContent(input: AssertionInput, keyId: string): {content: string; headers: HeaderMap} {
  const {type} = input
  const info = Object.hasOwn(ASSERTION_TYPES, type) ? ASSERTION_TYPES[type] : undefined
  if (info === undefined) {
    throw inputError(`unknown assertion type ${JSON.stringify(type)}`, `snapd signs these types: ${Object.keys(ASSERTION_TYPES).join(', ')}`)
  }

  const given = new Map<string, HeaderValue>()
  for (const [name, value] of Object.entries(input.headers)) {
    if (value === undefined) continue // an optional header left unset
    if (!HEADER_NAME.test(name)) throw inputError(`invalid header name ${JSON.stringify(name)}`, 'header names are lower-case letters, digits and single dashes, starting with a letter')
    if (SIGNER_HEADERS.has(name)) throw inputError(`the "${name}" header is written by the signer`, `leave "${name}" out: it is computed from the body and the key`)
    checkValue(value, name)
    given.set(name, value)
  }

  if (given.has('type') && given.get('type') !== type) throw inputError(`the "type" header (${JSON.stringify(given.get('type'))}) differs from the type to sign (${type})`, 'leave "type" out of the headers')
  given.delete('type')
  const body = input.body ?? ''
  if (LONE_SURROGATE.test(body)) throw inputError('the body is not valid Unicode (it has a lone surrogate)', 'assertion bodies are UTF-8 text')
  const bodyLength = Buffer.byteLength(body)
  if (bodyLength > ASSERTION_LIMITS.body) throw inputError(`the body is ${bodyLength} bytes, more than snapd's limit of ${ASSERTION_LIMITS.body}`, 'keep assertion bodies small')

  const ordered: [string, HeaderValue][] = [['type', type]]
  const take = (name: string): void => {
    ordered.push([name, given.get(name)!])
    given.delete(name)
  }

  // 1. format and revision: integers, written only when not 0.
  const format = iteration(given, 'format')
  if (format > (info.maxFormat ?? 0)) throw inputError(`snapd signs ${type} assertions up to format ${info.maxFormat ?? 0}, not ${format}`, 'use a format snapd knows, or leave "format" out')
  if (format > 0) take('format')
  else given.delete('format')

  // 2. authority.
  if (info.noAuthority) {
    for (const name of ['authority-id', 'signatory-id']) {
      if (given.has(name)) throw inputError(`a ${type} assertion cannot have ${name}`, `${type} assertions are signed by the key they carry; leave "${name}" out`)
    }
  } else {
    const authority = given.get('authority-id')
    if (typeof authority !== 'string' || authority === '') throw inputError(`a ${type} assertion needs a non-empty "authority-id" header`, 'set authority-id to the account whose key signs it')
    take('authority-id')
    if (given.has('signatory-id')) {
      const signatory = given.get('signatory-id')
      if (typeof signatory !== 'string' || signatory === '') throw inputError('"signatory-id" must be a non-empty string', 'leave it out unless another account signs for the authority')
      if (signatory === authority)
        given.delete('signatory-id') // snapd does not write it then
      else take('signatory-id')
    }
  }

  const revision = iteration(given, 'revision')
  if (revision > 0) take('revision')
  else given.delete('revision')

  // 3. primary key, in its defined order.
  for (const name of info.primaryKey) {
    const fallback = info.primaryKeyDefaults?.[name]
    const value = given.get(name)
    if (value === undefined && fallback !== undefined) continue
    if (typeof value !== 'string' || value === '')
      throw inputError(`the ${type} primary-key header "${name}" must be a non-empty string`, `set "${name}"; ${type} assertions are identified by ${info.primaryKey.join(', ')}`)
    if (value.includes('/')) throw inputError(`the ${type} primary-key header "${name}" cannot contain "/": ${JSON.stringify(value)}`, `snapd refuses "/" in ${info.primaryKey.join(', ')}`)
    if (value === fallback) given.delete(name)
    else take(name)
  }

  // 4. the rest by name, then what the signer adds.
  for (const name of [...given.keys()].sort()) take(name)
  if (bodyLength > 0) ordered.push(['body-length', String(bodyLength)])
  ordered.push(['sign-key-sha3-384', keyId])

  const headers: HeaderMap = {}
  for (const [name, value] of ordered) headers[name] = value
  const head = encodeHeaders(headers)
  if (Buffer.byteLength(head) > ASSERTION_LIMITS.headers) throw inputError(`the headers are larger than snapd's limit of ${ASSERTION_LIMITS.headers} bytes`, 'keep large data in the body')
  return {content: bodyLength > 0 ? `${head}\n\n${body}` : head, headers}
}

/**
 * The header text for `headers` in their own order (no checks, no reordering: see
 * {@link assertionContent}), as snapd's appendEntry writes each entry.
 */
export function encodeHeaders(headers: HeaderMap): string {
  const out: string[] = []
  for (const [name, value] of Object.entries(headers)) appendEntry(out, `${name}:`, value, 0)
  // appendEntry starts every entry with "\n"; snapd's buffer starts right after "type: …".
  return out.join('').slice(1)
}

function appendEntry(out: string[], intro: string, value: HeaderValue, baseIndent: number): void {
  if (typeof value === 'string') {
    if (value.includes('\n')) {
      const prefix = ' '.repeat(baseIndent) + MULTILINE_PREFIX
      out.push('\n', intro, '\n', prefix, value.replaceAll('\n', `\n${prefix}`))
    } else {
      out.push('\n', intro, ' ', value)
    }
  } else if (Array.isArray(value)) {
    if (value.length === 0) return
    out.push('\n', intro)
    const prefix = ' '.repeat(baseIndent) + LIST_PREFIX
    for (const item of value) appendEntry(out, prefix, item, baseIndent + LIST_PREFIX.length - 1)
  } else {
    const keys = Object.keys(value).filter((key) => value[key] !== undefined)
    if (keys.length === 0) return
    out.push('\n', intro)
    const prefix = ' '.repeat(baseIndent) + MAP_PREFIX
    for (const key of keys.sort()) appendEntry(out, `${prefix}${key}:`, value[key], prefix.length)
  }
}

/** Strings, lists and maps only; what the decoder could not read back is refused too. */
function checkValue(value: unknown, path: string): void {
  if (typeof value === 'string') {
    checkText(value, `header ${path}`)
    return
  }

  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const itemPath = `${path}[${index}]`
      if (item === undefined) throw inputError(`header ${itemPath} is undefined`, 'give every list item a value')
      // snapd drops an empty list or map inside a list, which shifts the items after it.
      if (typeof item === 'object' && item !== null && (Array.isArray(item) ? item.length : Object.keys(item).length) === 0) {
        throw inputError(`header ${itemPath} is an empty ${Array.isArray(item) ? 'list' : 'map'}, which snapd would drop from the list`, 'leave the item out')
      }

      checkValue(item, itemPath)
    }

    return
  }

  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue
      if (!HEADER_NAME.test(key)) throw inputError(`invalid map key ${JSON.stringify(key)} in header ${path}`, 'map keys follow the header-name rule: lower-case letters, digits and single dashes, starting with a letter')
      checkValue(item, `${path}.${key}`)
    }

    return
  }

  const what = value === null ? 'null' : value instanceof Date ? 'a Date' : typeof value === 'object' ? `a ${value.constructor?.name ?? 'non-plain'} object` : `a ${typeof value} (${String(value)})`
  throw inputError(`header ${path} is ${what}; assertion headers hold only strings, lists and maps`, `write it as a string, e.g. ${JSON.stringify(String(value instanceof Date ? value.toISOString() : value))}`)
}

function checkText(text: string, what: string): void {
  if (LONE_SURROGATE.test(text)) throw inputError(`${what} is not valid Unicode (it has a lone surrogate)`, 'assertions are UTF-8 text')
  // snapd would write it, but parseAssertion refuses CR in headers: it is what Windows line endings leave.
  if (text.includes('\r')) throw inputError(`${what} contains a carriage return`, 'assertion headers use LF line endings only')
}

function iteration(given: Map<string, HeaderValue>, name: string): number {
  const value = given.get(name)
  if (value === undefined) return 0
  if (typeof value !== 'string' || !INTEGER.test(value)) throw inputError(`"${name}" must be a decimal integer string without leading zeros, not ${JSON.stringify(value)}`, `write "${name}" as a string like "1"`)
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number > 2 ** 31 - 1) throw inputError(`"${name}" is out of range: ${value}`, `keep "${name}" small`)
  return number
}

function inputError(message: string, hint: string): UserError {
  return new UserError('E_ASSERTION_INPUT', `cannot sign the assertion: ${message}`, {hint})
}
