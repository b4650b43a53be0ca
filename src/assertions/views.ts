/**
 * Typed views of the assertions snap-gadget reads: the headers a use needs, each read once and
 * checked for presence and type, with the file and line of the assertion when one is missing.
 * They check the shape only; signatures are verify.ts's, and what a header must mean is the
 * caller's (the service, the simulator).
 */
import type {KeyObject} from 'node:crypto'

import {UserError} from '../errors.js'
import type {Assertion, HeaderValue} from './decode.js'
import {HARDWARE_NAME, hardwareIdKeyDigest, ISSUER_ID, parseHeaderKey} from './hardware-identity.js'

export interface ModelView {
  authorityId: string
  brandId: string
  model: string
  signKeyId: string
  timestamp: string
  /** Accounts besides the brand that may sign the model's serials (snapd's serial-authority). */
  serialAuthority: string[]
  grade?: string
  base?: string
  architecture?: string
  store?: string
}

export interface SerialRequestView {
  brandId: string
  model: string
  requestId: string
  /** The device's public key, in snapd's encoding. */
  deviceKey: string
  serial?: string
  body: string
  /** Set when a remodel re-registers the device under another brand or model. */
  original?: {brandId?: string; model?: string; serial?: string}
}

export interface SerialView {
  authorityId: string
  brandId: string
  model: string
  serial: string
  deviceKey: string
  deviceKeyId: string
  revision: number
  timestamp: string
  signKeyId: string
  body: string
}

export interface AccountView {
  authorityId: string
  accountId: string
  displayName: string
  validation: string
}

export interface AccountKeyView {
  authorityId: string
  accountId: string
  name: string
  publicKeyId: string
  since: string
  until?: string
  /** The key in snapd's encoding (the body). */
  publicKey: string
}

/** A hardware-identity assertion (snapd 2.73): an issuer certifies the key of one piece of hardware. */
export interface HardwareIdentityView {
  authorityId: string
  issuerId: string
  manufacturer: string
  hardwareName: string
  hardwareId: string
  /** The hardware-id-key header's text as written: its digest is over these bytes. */
  hardwareIdKey: string
  hardwareIdKeyDigest: string
  /** The key as snapd's assembler parses it (any key Go's x509 reads, not only those it verifies with). */
  publicKey: KeyObject
  signKeyId: string
  timestamp?: string
}

export function modelView(assertion: Assertion, file?: string): ModelView {
  const read = reader(assertion, 'model', file)
  return {
    authorityId: read.text('authority-id'),
    brandId: read.text('brand-id'),
    model: read.text('model'),
    serialAuthority: read.list('serial-authority'),
    signKeyId: read.text('sign-key-sha3-384'),
    timestamp: read.text('timestamp'),
    ...optional({architecture: read.optionalText('architecture'), base: read.optionalText('base'), grade: read.optionalText('grade'), store: read.optionalText('store')}),
  }
}

export function serialRequestView(assertion: Assertion, file?: string): SerialRequestView {
  const read = reader(assertion, 'serial-request', file)
  const original = optional({brandId: read.optionalText('original-brand-id'), model: read.optionalText('original-model'), serial: read.optionalText('original-serial')})
  return {
    body: assertion.body,
    brandId: read.text('brand-id'),
    deviceKey: read.text('device-key'),
    model: read.text('model'),
    requestId: read.text('request-id'),
    ...optional({serial: read.optionalText('serial')}),
    ...(Object.keys(original).length > 0 ? {original} : {}),
  }
}

export function serialView(assertion: Assertion, file?: string): SerialView {
  const read = reader(assertion, 'serial', file)
  const revision = read.optionalText('revision') ?? '0'
  if (!/^(0|[1-9]\d{0,8})$/.test(revision)) throw read.fail(`its revision "${revision}" is not a whole number`)
  return {
    authorityId: read.text('authority-id'),
    body: assertion.body,
    brandId: read.text('brand-id'),
    deviceKey: read.text('device-key'),
    deviceKeyId: read.text('device-key-sha3-384'),
    model: read.text('model'),
    revision: Number(revision),
    serial: read.text('serial'),
    signKeyId: read.text('sign-key-sha3-384'),
    timestamp: read.text('timestamp'),
  }
}

export function accountView(assertion: Assertion, file?: string): AccountView {
  const read = reader(assertion, 'account', file)
  return {accountId: read.text('account-id'), authorityId: read.text('authority-id'), displayName: read.text('display-name'), validation: read.text('validation')}
}

export function accountKeyView(assertion: Assertion, file?: string): AccountKeyView {
  const read = reader(assertion, 'account-key', file)
  return {
    accountId: read.text('account-id'),
    authorityId: read.text('authority-id'),
    name: read.text('name'),
    publicKey: assertion.body,
    publicKeyId: read.text('public-key-sha3-384'),
    since: read.text('since'),
    ...optional({until: read.optionalText('until')}),
  }
}

/**
 * A hardware-identity assertion, checked as snapd's assembler checks it (asserts/hardware_identity.go
 * assembleHardwareIdentity): what snapd would not decode is refused here, with snapd's reason.
 */
export function hardwareIdentityView(assertion: Assertion, file?: string): HardwareIdentityView {
  const read = reader(assertion, 'hardware-identity', file)
  const matching = (name: string, pattern: RegExp): string => {
    const value = read.text(name)
    if (!pattern.test(value)) throw read.fail(`has a ${name} header that contains invalid characters: ${JSON.stringify(value)}`)
    return value
  }

  const issuerId = matching('issuer-id', ISSUER_ID)
  const authorityId = read.text('authority-id')
  if (authorityId !== issuerId) throw read.fail(`is signed for ${authorityId}, not for its issuer ${issuerId} (issuer id must match authority id)`)
  const manufacturer = read.text('manufacturer')
  const hardwareName = matching('hardware-name', HARDWARE_NAME)
  const hardwareId = read.text('hardware-id')
  const hardwareIdKey = read.text('hardware-id-key')
  let publicKey: KeyObject
  try {
    publicKey = parseHeaderKey(hardwareIdKey)
  } catch (error) {
    throw read.fail(`has a hardware-id-key that is not a public key: ${(error as Error).message}`)
  }

  const digest = read.text('hardware-id-key-sha3-384')
  if (digest !== hardwareIdKeyDigest(hardwareIdKey)) throw read.fail('has a hardware-id-key-sha3-384 that is not the digest of its hardware-id-key (hardware id key does not match provided hash)')
  return {
    authorityId,
    hardwareId,
    hardwareIdKey,
    hardwareIdKeyDigest: digest,
    hardwareName,
    issuerId,
    manufacturer,
    publicKey,
    signKeyId: read.text('sign-key-sha3-384'),
    ...optional({timestamp: read.optionalText('timestamp')}),
  }
}

/** Whether an account-key is valid at `time` (since ≤ time < until), as snapd judges a signing key. */
export function accountKeyValidAt(key: Pick<AccountKeyView, 'since' | 'until'>, time: Date): boolean {
  return Date.parse(key.since) <= time.getTime() && (key.until === undefined || time.getTime() < Date.parse(key.until))
}

function reader(assertion: Assertion, type: string, file: string | undefined) {
  const fail = (why: string): UserError => new UserError('E_ASSERTION_HEADER', `the ${type} assertion ${why}`, {file, hint: `give the ${type} assertion as snapd signs it`, line: assertion.line})
  if (assertion.type !== type) throw fail(`is a ${assertion.type} assertion`)
  const value = (name: string): HeaderValue | undefined => assertion.headers[name]
  const optionalText = (name: string): string | undefined => {
    const found = value(name)
    if (found === undefined) return undefined
    if (typeof found !== 'string') throw fail(`has a ${name} header that is a ${Array.isArray(found) ? 'list' : 'map'}, not a string`)
    return found
  }

  return {
    fail,
    list(name: string): string[] {
      const found = value(name)
      if (found === undefined) return []
      if (!Array.isArray(found) || found.some((item) => typeof item !== 'string')) throw fail(`has a ${name} header that is not a list of strings`)
      return found as string[]
    },
    optionalText,
    text(name: string): string {
      const found = optionalText(name)
      if (found === undefined || found === '') throw fail(`has no ${name} header`)
      return found
    },
  }
}

/** The entries whose value is defined: optional fields stay absent rather than undefined. */
function optional<T extends Record<string, string | undefined>>(fields: T): {[K in keyof T]?: string} {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as {[K in keyof T]?: string}
}
