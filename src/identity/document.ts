/**
 * Verifies the device identity carried by a serial assertion, a serial-request, or a bare
 * registration body (UTF-8 YAML): the proof-of-possession signature, that the body's serial is the
 * assertion's, and the assertion's own signature when a key for it is known.
 */
import {type Assertion, headerText, parseAssertions} from '../assertions/decode.js'
import {serialRequestView, serialView} from '../assertions/views.js'
import {type AssertionPublicKey, decodeAssertionPublicKey, verifyAssertionSignature} from '../assertions/verify.js'
import {UserError} from '../errors.js'
import {plainScalarsYaml11ReadsOtherwise, readUntrustedYaml} from '../go-yaml/untrusted.js'
import {readPublicKeys} from '../keys/read-key.js'
import {type IdentityVerification, verifyIdentity} from './verify.js'

type IdentityDocumentKind = 'registration-body' | 'serial' | 'serial-request'

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

interface ParsedRegistrationBody {
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
  const view = kind === 'serial' ? serialView(assertion, options.file) : serialRequestView(assertion, options.file)
  const base = {
    assertion: {brandId: view.brandId, model: view.model, serial: view.serial, signKeyId: headerText(assertion, 'sign-key-sha3-384', {file: options.file}) ?? '', type: kind},
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
 * Parses a registration body: one YAML document whose top level is a map, read within the limits
 * of untrusted YAML (a body comes from a device). `firstLine` is the line the body starts on in
 * its file, so errors point into the file.
 */
export function parseRegistrationBody(text: string, options: {file?: string; firstLine?: number} = {}): ParsedRegistrationBody {
  const lineOffset = (options.firstLine ?? 1) - 1
  const read = readUntrustedYaml(text)
  if (!read.ok) {
    throw new UserError('E_BODY_YAML', `the registration body ${read.kind === 'limit' ? 'is refused' : 'is not valid YAML'}: ${read.message}`, {
      column: read.column,
      file: options.file,
      hint: 'the registration body is UTF-8 YAML: one map of fields',
      line: read.line === undefined ? undefined : read.line + lineOffset,
    })
  }

  const fields = read.value
  if (fields === null || fields === undefined || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new UserError('E_BODY_NOT_MAP', fields === null || fields === undefined ? 'the registration body is empty' : 'the registration body is not a map of fields', {
      file: options.file,
      hint: 'write the body as "name: value" lines',
      line: lineOffset + 1,
    })
  }

  return {fields, warnings: yaml11Differences(text)}
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

    // Through snapd's encoding: the checks every verified key gets (exponent, size) apply here too.
    key = decodeAssertionPublicKey(brandKey.encodedPublicKey, source)
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
function yaml11Differences(text: string): string[] {
  const paths = plainScalarsYaml11ReadsOtherwise(text)
  if (paths === undefined) return ['the body does not parse as YAML 1.1; a backend using a YAML 1.1 parser cannot verify it']
  if (paths.length === 0) return []
  return [`YAML 1.1 parsers read ${paths.join(', ')} differently (not as the same string); quote these values so every backend verifies the same fields`]
}
