/**
 * The system-user assertion: a local user a device creates from a brand-signed assertion (a USB
 * stick's auto-import.assert, `snap create-user --known`). Its headers are checked here as snapd's
 * assembler checks them (asserts/system_user.go in 2.57.6 and 2.77.1), strictly enough for every
 * snapd since 2.46, and each feature carries the first snapd that honours it, so a caller can say
 * which device refuses what.
 */
import {UserError} from '../errors.js'
import type {Assertion, HeaderMap} from './decode.js'
import {rfc3339} from '../support/rfc3339.js'

/** snapd 2.62+ (asserts/system_user.go validSystemUserUsernames); 2.57 also took "+", which later releases refuse. */
const SYSTEM_USER_USERNAME = /^[a-z0-9][-a-z0-9._]*$/
/** useradd's limit; snapd passes the name on. */
const MAX_USERNAME = 32
/** Without `models`, snapd refuses an `until` more than this after `since`. */
const SYSTEM_USER_MAX_DAYS_WITHOUT_MODELS = 365
const DAY_MS = 24 * 60 * 60 * 1000
/** crypt(3) `$id$[rounds=N$]salt$hash` with id 6 (SHA-512) or higher, as snapd accepts it. */
const PASSWORD_HASH = /^\$([0-9]+)\$(?:rounds=([0-9]+)\$)?([a-zA-Z0-9./]+)\$([a-zA-Z0-9./]+)$/
/** An OpenSSH public key line: type, base64, optional comment. */
const SSH_KEY = /^(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}(?: [^\n]*)?$/
/** A dot-atom addr-spec: a subset of what Go's net/mail takes (snapd's check), without "/" (a primary key cannot hold one). */
const EMAIL = /^[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/u

export interface SystemUserInput {
  brandId: string
  /** The account that signs; the brand by default. Another one must be in the model's system-user-authority. */
  authorityId?: string
  email: string
  username: string
  /** The user's full name. */
  name?: string
  /** A crypt(3) hash ($6$…), never the password itself. */
  passwordHash?: string
  forcePasswordChange?: boolean
  sshKeys?: readonly string[]
  models?: readonly string[]
  /** Bind the user to these devices' serials (format 1: exactly one model). */
  serials?: readonly string[]
  series?: readonly string[]
  since: Date
  until: Date
  /** Remove the user when the assertion expires (format 2). */
  expireUser?: boolean
  revision?: number
}

/** A feature of the assertion that not every snapd honours. */
export interface SystemUserFeature {
  feature: string
  /** The first snapd release that honours it. */
  since: string
  /** What an older snapd does with it. */
  older: string
}

/** The `format` snapd computes for these headers (systemUserFormatAnalyze): 2 for user-presence, 1 for serials. */
export function systemUserFormat(input: Pick<SystemUserInput, 'expireUser' | 'serials'>): number {
  if (input.expireUser) return 2
  return input.serials && input.serials.length > 0 ? 1 : 0
}

/**
 * The headers of a system-user assertion for `input`, refused (UserError E_SYSTEM_USER, naming
 * the field and the fix) wherever snapd's assembler would refuse them, or a snapd since 2.46 would.
 */
export function systemUserHeaders(input: SystemUserInput): HeaderMap {
  const refuse = (message: string, hint: string): UserError => new UserError('E_SYSTEM_USER', message, {hint, kind: 'usage'})
  const line = (what: string, value: string): string => {
    if (value === '' || UNPRINTABLE.test(value)) throw refuse(`the ${what} ${JSON.stringify(value)} is empty or holds control or formatting characters`, `give the ${what} as one line of printable text`)
    return value
  }

  line('brand id', input.brandId)
  if (input.authorityId !== undefined) line('authority id', input.authorityId)
  if (!EMAIL.test(input.email) || input.email.length > 254)
    throw refuse(`the email ${JSON.stringify(input.email)} is not an address snapd takes`, 'give a plain address such as ops@example.com (snapd reads it as RFC 5322; it identifies the user with the brand)')
  if (!SYSTEM_USER_USERNAME.test(input.username) || input.username.length > MAX_USERNAME) {
    throw refuse(
      `the username ${JSON.stringify(input.username)} is not one snapd takes`,
      `start with a lower-case letter or digit, then lower-case letters, digits, ".", "_" or "-", at most ${MAX_USERNAME} characters (snapd 2.62+ refuses "+")`,
    )
  }

  if (input.name !== undefined) line('name', input.name)
  if (input.passwordHash !== undefined) checkPasswordHash(input.passwordHash, refuse)
  if (input.forcePasswordChange && !input.passwordHash) throw refuse('a forced password change needs a password', 'give a password, or leave --force-password-change out')
  const sshKeys = [...(input.sshKeys ?? [])]
  for (const key of sshKeys)
    if (!SSH_KEY.test(key) || UNPRINTABLE.test(key)) throw refuse(`${JSON.stringify(key.slice(0, 40))}… is not an OpenSSH public key line`, 'give the .pub file ssh-keygen writes (type, base64, comment on one line)')
  if (!input.passwordHash && sshKeys.length === 0) throw refuse('the user would have neither a password nor an ssh key, and could not log in', 'give a password (--password-file or --ask-password) or --ssh-key')

  const models = [...(input.models ?? [])]
  for (const model of models) line('model', model)
  const serials = [...(input.serials ?? [])]
  for (const serial of serials) line('serial', serial)
  if (serials.length > 0 && models.length !== 1)
    throw refuse(
      `serials bind the user to devices of exactly one model, and ${models.length} are given`,
      'give exactly one --model with --serial (snapd: in the presence of the "serials" header "models" must specify exactly one model)',
    )
  for (const series of input.series ?? []) line('series', series)

  if (Number.isNaN(input.since.getTime()) || Number.isNaN(input.until.getTime())) throw refuse('since or until is not a time', 'give times as RFC 3339, e.g. 2026-12-07T08:00:00Z')
  if (input.until.getTime() <= input.since.getTime()) throw refuse(`until (${rfc3339(input.until)}) is not after since (${rfc3339(input.since)})`, 'give an until after since')
  if (models.length === 0 && input.until.getTime() - input.since.getTime() > SYSTEM_USER_MAX_DAYS_WITHOUT_MODELS * DAY_MS) {
    throw refuse(`without models the assertion may be valid for at most ${SYSTEM_USER_MAX_DAYS_WITHOUT_MODELS} days`, 'give --model, or a shorter validity')
  }

  const format = systemUserFormat(input)
  return {
    'authority-id': input.authorityId ?? input.brandId,
    'brand-id': input.brandId,
    email: input.email,
    ...(format > 0 ? {format: String(format)} : {}),
    ...(input.forcePasswordChange ? {'force-password-change': 'true'} : {}),
    ...(models.length > 0 ? {models} : {}),
    ...(input.name === undefined ? {} : {name: input.name}),
    ...(input.passwordHash === undefined ? {} : {password: input.passwordHash}),
    ...(input.revision ? {revision: String(input.revision)} : {}),
    ...(serials.length > 0 ? {serials} : {}),
    ...(input.series && input.series.length > 0 ? {series: [...input.series]} : {}),
    since: rfc3339(input.since),
    ...(sshKeys.length > 0 ? {'ssh-keys': sshKeys} : {}),
    until: rfc3339(input.until),
    ...(input.expireUser ? {'user-presence': 'until-expiration'} : {}),
    username: input.username,
  }
}

/** The features of `input` some snapd releases do not honour, with what those do instead. */
export function systemUserFeatures(input: Pick<SystemUserInput, 'expireUser' | 'serials'>): SystemUserFeature[] {
  const features: SystemUserFeature[] = []
  if (input.serials && input.serials.length > 0) {
    features.push(
      {feature: 'serials (format 1)', older: 'refuses the assertion (format 1 is newer than it knows)', since: '2.46'},
      {
        feature: 'a user bound to serials, imported before the device has its serial',
        older: 'skips it ("bound to serial assertion but device not yet registered"): import it after registration',
        since: '2.64',
      },
    )
  }

  if (input.expireUser) features.push({feature: 'user-presence: until-expiration (format 2)', older: 'refuses the assertion (format 2 is newer than it knows)', since: '2.58'})
  return features
}

function checkPasswordHash(hash: string, refuse: (message: string, hint: string) => UserError): void {
  const match = PASSWORD_HASH.exec(hash)
  const hint = 'the password header holds a SHA-512 crypt(3) hash ($6$salt$hash); snap-gadget makes it from the password you give'
  if (!match) throw refuse('the password is not a crypt(3) hash', hint)
  if (Number(match[1]) < 6) throw refuse(`the password hash is of kind $${match[1]}$; snapd takes only $6$ (SHA-512) or higher`, hint)
  if (match[2] !== undefined && (Number(match[2]) < 5000 || Number(match[2]) > 999_999_999)) throw refuse(`the password hash has rounds=${match[2]}; snapd takes 5000 to 999999999`, hint)
}

export interface SystemUserView {
  authorityId: string
  brandId: string
  email: string
  username: string
  name?: string
  format: number
  models: string[]
  serials: string[]
  series: string[]
  sshKeys: string[]
  hasPassword: boolean
  since: string
  until: string
  signKeyId: string
}

/** The headers of a system-user assertion a device would read; shape only (see views.ts). */
export function systemUserView(assertion: Assertion, file?: string): SystemUserView {
  const fail = (why: string): UserError => new UserError('E_ASSERTION_HEADER', `the system-user assertion ${why}`, {file, hint: 'give the system-user assertion as snapd signs it', line: assertion.line})
  if (assertion.type !== 'system-user') throw fail(`is a ${assertion.type} assertion`)
  const text = (name: string, required = true): string | undefined => {
    const value = assertion.headers[name]
    if (value === undefined && !required) return undefined
    if (typeof value !== 'string' || (required && value === '')) throw fail(`has no ${name} header`)
    return value
  }

  const list = (name: string): string[] => {
    const value = assertion.headers[name]
    if (value === undefined) return []
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw fail(`has a ${name} header that is not a list of strings`)
    return value as string[]
  }

  const name = text('name', false)
  return {
    authorityId: text('authority-id')!,
    brandId: text('brand-id')!,
    email: text('email')!,
    format: Number(text('format', false) ?? '0'),
    hasPassword: Boolean(text('password', false)),
    models: list('models'),
    ...(name === undefined ? {} : {name}),
    serials: list('serials'),
    series: list('series'),
    signKeyId: text('sign-key-sha3-384')!,
    since: text('since')!,
    sshKeys: list('ssh-keys'),
    until: text('until')!,
    username: text('username')!,
  }
}
