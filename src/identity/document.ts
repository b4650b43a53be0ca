/**
 * Verifies the device identity carried by a serial assertion, a serial-request, or a bare
 * registration body (UTF-8 YAML): the proof-of-possession signature, that the body's serial is the
 * assertion's, and the assertion's own signature when a key for it is known.
 */
import {isMap, parseDocument} from 'yaml'

import {type Assertion, headerText, parseAssertions} from '../assertions/decode.js'
import {type AssertionPublicKey, decodeAssertionPublicKey, verifyAssertionSignature} from '../assertions/verify.js'
import {UserError} from '../errors.js'
import {readPublicKeys} from '../keys/read-key.js'
import {type IdentityVerification, verifyIdentity} from './verify.js'

export type IdentityDocumentKind = 'registration-body' | 'serial' | 'serial-request'

export interface IdentityCheck {
  name: 'assertion-signature' | 'identity-signature' | 'serial'
  status: 'failed' | 'ok' | 'skipped'
  message: string
}

export interface IdentityDocumentReport {
  file?: string
  kind: IdentityDocumentKind
  /** True when no check failed. */
  valid: boolean
  identity: IdentityVerification
  /** The assertion's main headers, for assertion input. */
  assertion?: {brandId?: string; model?: string; serial?: string; signKeyId: string; type: string}
  checks: IdentityCheck[]
  /** Portability notes that do not make the identity invalid. */
  warnings: string[]
}

export interface VerifyIdentityDocumentOptions {
  /** The name errors and the report use for the input. */
  file?: string
  /** How to read the input; by default assertion text is recognised by its headers. */
  as?: 'assertion' | 'auto' | 'body'
  /**
   * The key the serial assertion is signed with (the brand's), in any form keys/read-key.ts reads:
   * a PEM key (public or private), `snap export-key` output, an account-key(-request) assertion, a
   * chain of assertions (the account-key whose id the serial names is taken), a GnuPG export.
   * Without it the assertion signature is skipped.
   */
  brandKey?: string | Uint8Array
  /** The name messages use for the brand key ("brand.pem"); "the brand key" by default. */
  brandKeyFile?: string
}

export interface ParsedRegistrationBody {
  fields: Record<string, unknown>
  warnings: string[]
}

/** Verifies the identity in a serial assertion, serial-request or registration body. */
export function verifyIdentityDocument(input: string | Uint8Array, options: VerifyIdentityDocumentOptions = {}): IdentityDocumentReport {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8')
  const asAssertion = options.as === 'assertion' || ((options.as ?? 'auto') === 'auto' && looksLikeAssertion(text))
  if (!asAssertion) {
    const body = parseRegistrationBody(text, {file: options.file})
    return report({checks: [], file: options.file, kind: 'registration-body', warnings: body.warnings}, verifyIdentity(body.fields))
  }

  const assertions = parseAssertions(input, {file: options.file})
  const assertion = assertions.find((a) => a.type === 'serial') ?? assertions.find((a) => a.type === 'serial-request')
  if (!assertion) {
    throw new UserError('E_IDENTITY_NO_SERIAL', `no serial or serial-request assertion in the input (found ${assertions.map((a) => a.type).join(', ')})`, {
      file: options.file,
      hint: 'give the serial assertion (`snap model --serial --assertion` on the device) or the registration body',
      kind: 'failed',
    })
  }

  const kind = assertion.type as 'serial' | 'serial-request'
  const header = (name: string): string | undefined => headerText(assertion, name, {file: options.file})
  const base = {
    assertion: {brandId: header('brand-id'), model: header('model'), serial: header('serial'), signKeyId: header('sign-key-sha3-384') ?? '', type: kind},
    file: options.file,
    kind,
  }
  const checks = [assertionSignatureCheck(assertion, options)]
  if (assertion.body === '') {
    return report({...base, checks, warnings: []}, verifyIdentity({}), `the ${kind} assertion has no body, so no identity fields`)
  }

  const body = parseRegistrationBody(assertion.body, {file: options.file, firstLine: assertion.bodyLine})
  const bodySerial = body.fields.serial
  if (base.assertion.serial !== undefined && bodySerial !== undefined) {
    checks.unshift(
      bodySerial === base.assertion.serial
        ? {message: 'the body serial is the assertion serial', name: 'serial', status: 'ok'}
        : {message: `the body serial ${JSON.stringify(bodySerial)} differs from the assertion serial ${JSON.stringify(base.assertion.serial)}`, name: 'serial', status: 'failed'},
    )
  }

  return report({...base, checks, warnings: body.warnings}, verifyIdentity(body.fields))
}

/**
 * Parses a registration body: one YAML document whose top level is a map. `firstLine` is the line
 * the body starts on in its file, so errors point into the file.
 */
export function parseRegistrationBody(text: string, options: {file?: string; firstLine?: number} = {}): ParsedRegistrationBody {
  const lineOffset = (options.firstLine ?? 1) - 1
  const doc = parseDocument(text, {uniqueKeys: true})
  const error = doc.errors[0]
  if (error) {
    const at = error.linePos?.[0]
    // The message's own "at line L, column C" counts from the body; ours counts from the file.
    const reason = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
    throw new UserError('E_BODY_YAML', `the registration body is not valid YAML: ${reason}`, {
      column: at?.col,
      file: options.file,
      hint: 'the registration body is UTF-8 YAML: one map of fields',
      line: at ? at.line + lineOffset : undefined,
    })
  }

  if (!isMap(doc.contents)) {
    throw new UserError('E_BODY_NOT_MAP', doc.contents === null ? 'the registration body is empty' : 'the registration body is not a map of fields', {
      file: options.file,
      hint: 'write the body as "name: value" lines',
      line: lineOffset + 1,
    })
  }

  const fields = doc.toJS() as Record<string, unknown>
  return {fields, warnings: yaml11Differences(text, fields)}
}

function report(partial: Omit<IdentityDocumentReport, 'identity' | 'valid'>, identity: IdentityVerification, reason?: string): IdentityDocumentReport {
  const identityCheck: IdentityCheck = identity.valid
    ? {message: `signed by identity key ${identity.publicKey} (${identity.scheme})`, name: 'identity-signature', status: 'ok'}
    : {message: reason ?? identity.failure?.message ?? 'not valid', name: 'identity-signature', status: 'failed'}
  const checks = [identityCheck, ...partial.checks]
  return {...partial, checks, identity, valid: checks.every((c) => c.status !== 'failed')}
}

function assertionSignatureCheck(assertion: Assertion, options: VerifyIdentityDocumentOptions): IdentityCheck {
  const name = 'assertion-signature'
  let key: AssertionPublicKey
  let whose: string
  let from = ''
  if (assertion.type === 'serial-request') {
    // Self-signed: the device key it carries must have signed it.
    const deviceKey = headerText(assertion, 'device-key', {file: options.file}) ?? ''
    if (!deviceKey) return {message: 'the serial-request has no device-key header', name, status: 'failed'}
    key = decodeAssertionPublicKey(deviceKey, 'the device-key header')
    whose = 'its device-key'
  } else if (options.brandKey === undefined) {
    return {message: 'the brand signature was not checked: no brand key was given', name, status: 'skipped'}
  } else {
    const source = options.brandKeyFile ?? 'the brand key'
    const signedBy = headerText(assertion, 'sign-key-sha3-384', {file: options.file})
    const keys = readPublicKeys(options.brandKey, source)
    const brandKey = keys.find((k) => k.keyId === signedBy) ?? (keys.length === 1 ? keys[0] : undefined)
    if (!brandKey) {
      const held = keys.map((k) => `${k.keyId}${k.name ? ` ("${k.name}" of ${k.accountId ?? '?'})` : ''}`).join(', ')
      return {message: `none of the ${keys.length} account-keys in ${source} is the key that signed the ${assertion.type} (${String(signedBy)}); it holds ${held}`, name, status: 'failed'}
    }

    key = {bits: brandKey.bits, id: brandKey.keyId, key: brandKey.publicKey}
    whose = 'the brand key'
    if (brandKey.form === 'account-key') from = ` (account-key "${brandKey.name ?? ''}" of ${brandKey.accountId ?? '?'})`
  }

  const result = verifyAssertionSignature(assertion, key)
  return result.valid
    ? {message: `the ${assertion.type} assertion is signed by ${whose} ${result.keyId}${from}`, name, status: 'ok'}
    : {message: `the ${assertion.type} assertion signature is not valid: ${result.reason}`, name, status: 'failed'}
}

function looksLikeAssertion(text: string): boolean {
  return /^type: [a-z][a-z0-9-]*\n/.test(text) && /\nsign-key-sha3-384: /.test(text)
}

/**
 * Field paths whose plain (unquoted) value reads as a string in YAML 1.2 but as something else in
 * YAML 1.1 (yes/no, 012, 1:30, dates…): a backend with a YAML 1.1 parser would see other values and
 * fail to verify the signature.
 */
function yaml11Differences(text: string, fields: Record<string, unknown>): string[] {
  const old = parseDocument(text, {uniqueKeys: true, version: '1.1'})
  if (old.errors.length > 0) return ['the body does not parse as YAML 1.1; a backend using a YAML 1.1 parser cannot verify it']
  const paths: string[] = []
  compareYaml(fields, old.toJS() as unknown, '', paths)
  if (paths.length === 0) return []
  return [`YAML 1.1 parsers read ${paths.join(', ')} differently (not as the same string); quote these values so every backend verifies the same fields`]
}

function compareYaml(current: unknown, old: unknown, path: string, out: string[]): void {
  if (typeof current === 'string') {
    if (old !== current) out.push(path || '(top level)')
    return
  }

  if (Array.isArray(current)) {
    current.forEach((item, i) => compareYaml(item, Array.isArray(old) ? old[i] : undefined, `${path}[${i}]`, out))
    return
  }

  if (current !== null && typeof current === 'object') {
    const oldMap = old !== null && typeof old === 'object' ? (old as Record<string, unknown>) : {}
    for (const [key, value] of Object.entries(current)) compareYaml(value, oldMap[key], path ? `${path}.${key}` : key, out)
  }
}
