/**
 * Checking a registration body's identity proof-of-possession, with tweetnacl: an Ed25519
 * implementation independent of the node:crypto one the device signs with.
 */
import nacl from 'tweetnacl'

import {UserError} from '../errors.js'
import {type BodyFields, fromBase64Url, IDENTITY_SCHEME, IdentityField, identitySigningInput, isPlainObject, PUBLIC_KEY_BYTES, SIGNATURE_BYTES} from './key.js'

export interface IdentityVerification {
  valid: boolean
  scheme?: string
  /** The identity public key (unpadded base64url), when the body has a well-formed one. */
  publicKey?: string
  /** The body fields the signature covers, sorted. */
  signedFields: string[]
  /** Why the identity is not valid: a stable code and a sentence. */
  failure?: {code: string; message: string}
}

/** Checks the identity proof-of-possession in the registration body `fields` (parsed YAML). */
export function verifyIdentity(fields: unknown): IdentityVerification {
  const fail = (code: string, message: string, extra: Partial<IdentityVerification> = {}): IdentityVerification => ({
    signedFields: [],
    ...extra,
    failure: {code, message},
    valid: false,
  })
  if (!isPlainObject(fields)) return fail('E_IDENTITY_FIELDS', 'the registration body is not a map of fields')

  const present = Object.values(IdentityField).filter((name) => Object.hasOwn(fields, name))
  if (present.length === 0) {
    return fail('E_IDENTITY_MISSING', 'the registration body has no identity fields (identity-scheme, identity-key, identity-signature)')
  }

  const missing = Object.values(IdentityField).filter((name) => !present.includes(name))
  if (missing.length > 0) return fail('E_IDENTITY_MISSING', `the registration body lacks ${missing.join(' and ')}`)

  const scheme = fields[IdentityField.scheme]
  if (scheme !== IDENTITY_SCHEME) {
    return fail('E_IDENTITY_SCHEME', `unknown identity scheme ${JSON.stringify(scheme)} (this version knows ${IDENTITY_SCHEME})`)
  }

  const publicKey = fromBase64Url(fields[IdentityField.key], PUBLIC_KEY_BYTES)
  if (!publicKey) return fail('E_IDENTITY_ENCODING', `identity-key is not ${PUBLIC_KEY_BYTES} bytes of unpadded base64url`, {scheme})
  const publicKeyText = fields[IdentityField.key] as string
  const signature = fromBase64Url(fields[IdentityField.signature], SIGNATURE_BYTES)
  if (!signature) return fail('E_IDENTITY_ENCODING', `identity-signature is not ${SIGNATURE_BYTES} bytes of unpadded base64url`, {publicKey: publicKeyText, scheme})

  let input: Uint8Array
  try {
    input = identitySigningInput(fields as BodyFields)
  } catch (error) {
    if (error instanceof UserError) return fail(error.code, error.message, {publicKey: publicKeyText, scheme})
    throw error
  }

  const signedFields = Object.keys(fields)
    .filter((name) => name !== IdentityField.signature)
    .sort()
  if (!nacl.sign.detached.verify(input, signature, publicKey)) {
    return fail('E_IDENTITY_SIGNATURE', 'the identity signature does not match: the body fields were changed after signing, or signed with another key', {
      publicKey: publicKeyText,
      scheme,
      signedFields,
    })
  }

  return {publicKey: publicKeyText, scheme, signedFields, valid: true}
}
