/**
 * The assertions a registration exchanges (serial, account, account-key, model) assembled as
 * snapd 2.57.6's decoder assembles each type (asserts/asserts.go assemble, serial_asserts.go
 * assembleSerial, account.go, account_key.go, model.go checkModel), refused in snapd's words: a
 * device that receives a stream fails to decode it with exactly these messages. The simulator
 * needs those words; views.ts reads headers for snap-gadget's own tools, in its own.
 *
 * The wire format itself (headers, body-length, signature block) is decode.ts's.
 */
import {type Assertion, type HeaderValue} from './decode.js'
import {ASSERTION_TYPES} from './encode.js'
import {publicKeyId} from './keys.js'
import {decodeAssertionPublicKey} from './verify.js'

/** An assertion snapd's decoder would not assemble; `message` is snapd's own text. */
export class AssemblyError extends Error {
  override readonly name = 'AssemblyError'
}

interface AssembledBase {
  assertion: Assertion
  authorityId: string
  signKeyId: string
  revision: number
}

export interface AssembledSerial extends AssembledBase {
  type: 'serial'
  brandId: string
  model: string
  serial: string
  /** The device-key header (snapd's public key encoding). */
  deviceKey: string
  /** The id of the device-key, as computed from it (snapd checks it equals device-key-sha3-384). */
  deviceKeyId: string
  timestamp: Date
}

interface AssembledAccount extends AssembledBase {
  type: 'account'
  accountId: string
}

export interface AssembledAccountKey extends AssembledBase {
  type: 'account-key'
  accountId: string
  name?: string
  publicKeyId: string
  /** The public key: the body, in snapd's encoding. */
  publicKey: string
  since: Date
  until?: Date
}

export interface AssembledModel extends AssembledBase {
  type: 'model'
  series: string
  brandId: string
  model: string
  /** Accounts besides the brand that may sign the model's serials. */
  serialAuthority: string[]
}

/** Any other type snapd 2.57.6 knows: kept whole, its headers unchecked here. */
interface AssembledOther extends AssembledBase {
  type: 'other'
}

export type Assembled = AssembledAccountKey | AssembledAccount | AssembledModel | AssembledOther | AssembledSerial

/** snapd's account id rule (asserts.validAccountID). */
const VALID_ACCOUNT_ID = /^(?:[a-z0-9A-Z]{32}|[-a-z0-9]{2,28})$/
/** snapd's model name rule (asserts.validModel; upper case is refused apart). */
const VALID_MODEL = /^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$/
/** account-key names (asserts.validAccountKeyName). */
const VALID_ACCOUNT_KEY_NAME = /^(?:[a-z0-9]+-?)*[a-z](?:-?[a-z0-9])*$/
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/**
 * `assertion` as snapd assembles it, or an AssemblyError with the message snapd's decoder gives for
 * it (the message a device logs for a stream it cannot decode).
 */
export function assembleAssertion(assertion: Assertion): Assembled {
  const {headers, type} = assertion
  const info = Object.hasOwn(ASSERTION_TYPES, type) ? ASSERTION_TYPES[type] : undefined
  if (!info) throw new AssemblyError(`unknown assertion type: ${goQuote(type)}`)
  const generic = (check: () => string): string => wrap('assertion', check)
  const signKeyId = generic(() => notEmpty(headers, 'sign-key-sha3-384'))
  const authorityId = info.noAuthority ? '' : generic(() => notEmpty(headers, 'authority-id'))
  for (const name of info.primaryKey) {
    if (headers[name] === undefined && info.primaryKeyDefaults?.[name] !== undefined) continue
    wrap(`assertion ${type}`, () => {
      const value = notEmpty(headers, name)
      if (value.includes('/')) throw new AssemblyError(`${goQuote(name)} primary key header cannot contain '/'`)
      return value
    })
  }

  const revisionText = headers.revision
  const revision = revisionText === undefined ? 0 : Number(revisionText)
  if (revisionText !== undefined && (typeof revisionText !== 'string' || !/^(?:0|[1-9]\d*)$/.test(revisionText))) {
    throw new AssemblyError(`assertion: "revision" header is not an integer: ${goQuote(String(revisionText))}`)
  }

  const base = {assertion, authorityId, revision, signKeyId}
  const specific = (check: () => Assembled): Assembled => {
    try {
      return check()
    } catch (error) {
      if (error instanceof AssemblyError) throw new AssemblyError(`assertion ${type}: ${error.message}`)
      throw error
    }
  }

  switch (type) {
    case 'serial': {
      return specific(() => {
        const brandId = matches(headers, 'brand-id', VALID_ACCOUNT_ID)
        const model = modelName(headers)
        const deviceKey = notEmpty(headers, 'device-key')
        const deviceKeyId = keyIdOf(deviceKey)
        const declared = notEmpty(headers, 'device-key-sha3-384')
        if (declared !== deviceKeyId) throw new AssemblyError('device key does not match provided key id')
        const timestamp = rfc3339(headers, 'timestamp')
        return {...base, brandId, deviceKey, deviceKeyId, model, serial: String(headers.serial), timestamp, type: 'serial'}
      })
    }

    case 'account': {
      return specific(() => {
        notEmpty(headers, 'display-name')
        notEmpty(headers, 'validation')
        rfc3339(headers, 'timestamp')
        return {...base, accountId: String(headers['account-id']), type: 'account'}
      })
    }

    case 'account-key': {
      return specific(() => {
        const accountId = notEmpty(headers, 'account-id')
        const name = headers.name === undefined ? undefined : matches(headers, 'name', VALID_ACCOUNT_KEY_NAME)
        const since = rfc3339(headers, 'since')
        const until = headers.until === undefined ? undefined : rfc3339(headers, 'until')
        if (until !== undefined && until.getTime() < since.getTime()) throw new AssemblyError("'until' time cannot be before 'since' time")
        const publicKey = assertion.body
        const id = keyIdOf(publicKey)
        if (id !== String(headers['public-key-sha3-384'])) throw new AssemblyError('public key does not match provided key id')
        return {...base, accountId, name, publicKey, publicKeyId: id, since, type: 'account-key', until}
      })
    }

    case 'model': {
      return specific(() => {
        const brandId = String(headers['brand-id'])
        const model = modelName(headers)
        if (authorityId !== brandId) throw new AssemblyError(`authority-id and brand-id must match, model assertions are expected to be signed by the brand: ${goQuote(authorityId)} != ${goQuote(brandId)}`)
        const authorities = headers['serial-authority']
        if (authorities !== undefined && (!Array.isArray(authorities) || authorities.some((a) => typeof a !== 'string'))) {
          throw new AssemblyError('"serial-authority" header must be a list of account ids')
        }

        return {...base, brandId, model, serialAuthority: (authorities as string[] | undefined) ?? [], series: String(headers.series), type: 'model'}
      })
    }

    default: {
      return {...base, type: 'other'}
    }
  }
}

/** Go's %q of a string, for the ASCII text these messages carry. */
export function goQuote(text: string): string {
  return JSON.stringify(text)
}

/** Parses an RFC 3339 time as Go's time.Parse(time.RFC3339, …) does; undefined when it is not one. */
function parseRfc3339(text: string): Date | undefined {
  const match = RFC3339.exec(text)
  if (!match) return undefined
  const [, year, month, day, hour, minute, second] = match.map(Number)
  const date = new Date(text)
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate()
  if (Number.isNaN(date.getTime()) || month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined
  return date
}

function wrap<T>(prefix: string, check: () => T): T {
  try {
    return check()
  } catch (error) {
    if (error instanceof AssemblyError) throw new AssemblyError(`${prefix}: ${error.message}`)
    throw error
  }
}

function stringHeader(headers: Record<string, HeaderValue>, name: string): string {
  const value = headers[name]
  if (value === undefined) throw new AssemblyError(`${goQuote(name)} header is mandatory`)
  if (typeof value !== 'string') throw new AssemblyError(`${goQuote(name)} header must be a string`)
  return value
}

function notEmpty(headers: Record<string, HeaderValue>, name: string): string {
  const value = stringHeader(headers, name)
  if (value === '') throw new AssemblyError(`${goQuote(name)} header should not be empty`)
  return value
}

function matches(headers: Record<string, HeaderValue>, name: string, pattern: RegExp): string {
  const value = notEmpty(headers, name)
  if (!pattern.test(value)) throw new AssemblyError(`${goQuote(name)} header contains invalid characters: ${goQuote(value)}`)
  return value
}

function modelName(headers: Record<string, HeaderValue>): string {
  const value = matches(headers, 'model', VALID_MODEL)
  if (value.toLowerCase() !== value) throw new AssemblyError('"model" header cannot contain uppercase letters')
  return value
}

function rfc3339(headers: Record<string, HeaderValue>, name: string): Date {
  const value = stringHeader(headers, name)
  const date = parseRfc3339(value)
  if (!date) throw new AssemblyError(`${goQuote(name)} header is not a RFC3339 date: ${goQuote(value)} is not of the form 2006-01-02T15:04:05Z07:00`)
  return date
}

/** The id of a key in snapd's encoding, refusing text that is not one (snapd: "cannot decode public key"). */
function keyIdOf(encoded: string): string {
  try {
    decodeAssertionPublicKey(encoded, 'the public key')
    return publicKeyId(encoded)
  } catch (error) {
    throw new AssemblyError(`cannot decode public key: ${(error as Error).message}`)
  }
}
