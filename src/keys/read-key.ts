/**
 * A brand key as people have it, read for its public half and snapd's id (the SHA3-384 that
 * `sign-key-sha3-384` and `snap keys` show): a PEM private key (PKCS#8, PKCS#1) or public key
 * (SPKI, PKCS#1; SPKI also as DER, what an external key manager gives snap), `snap export-key` output, an account-key or account-key-request assertion (or a
 * file of several assertions, a chain), or a GnuPG export.
 */
import {createPublicKey, type KeyObject} from 'node:crypto'

import {type Assertion, parseAssertions} from '../assertions/decode.js'
import {encodePublicKey, publicKeyId, readRsaPrivateKey} from '../assertions/keys.js'
import {decodeAssertionPublicKey} from '../assertions/verify.js'
import {UserError} from '../errors.js'
import {gnupgPublicKey, looksLikeGnupgExport} from './gnupg.js'

/** Where a key was found. */
export type KeyForm = 'account-key' | 'account-key-request' | 'der-public' | 'gnupg' | 'pem-private' | 'pem-public' | 'snapd'

export interface PublicKeyInfo {
  /** snapd's id of the key: unpadded base64url SHA3-384 of its snapd encoding. */
  keyId: string
  /** RSA modulus size. */
  bits: number
  publicKey: KeyObject
  /** The public key in snapd's encoding (`snap export-key`, an account-key body). */
  encodedPublicKey: string
  form: KeyForm
  /** An account-key(-request)'s account-id. */
  accountId?: string
  /** An account-key(-request)'s name, or a GnuPG key's first user ID (its name in `snap keys`). */
  name?: string
}

/** A chain of a few assertions is a few KB; snapd's own limit is 2 MiB per body. */
export const MAX_KEY_FILE_BYTES = 1024 * 1024

const FORMS_HINT = 'give a PEM key (private or public), `snap export-key <name>` output, an account-key assertion, or a GnuPG export'

/**
 * The one key in `input`. A file of several assertions is refused here: see {@link readPublicKeys}.
 * Throws a UserError naming `source` when the input is not a key snapd can use.
 */
export function readPublicKey(input: string | Uint8Array, source = 'the key'): PublicKeyInfo {
  const keys = readPublicKeys(input, source)
  if (keys.length > 1) {
    throw new UserError('E_KEY_FORMAT', `${source} holds ${keys.length} account-keys (${keys.map((k) => k.keyId).join(', ')})`, {hint: 'give the file of one key'})
  }

  return keys[0]
}

/**
 * The keys in `input`: one, or for a stream of assertions (a chain: account, account-key, …)
 * each account-key and account-key-request in order; other assertions in a chain are passed over.
 */
export function readPublicKeys(input: string | Uint8Array, source = 'the key'): PublicKeyInfo[] {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length
  if (size > MAX_KEY_FILE_BYTES) throw new UserError('E_KEY_FORMAT', `${source} is ${size} bytes: not a key file`, {hint: FORMS_HINT})
  if (looksLikeGnupgExport(input)) {
    const {key, publicKey} = gnupgPublicKey(input, source)
    return [{...describe(publicKey, 'gnupg'), name: key.userIds[0]}]
  }

  if (typeof input !== 'string' && input[0] === DER_SEQUENCE) return [describe(derPublicKey(input, source), 'der-public')]
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8')
  if (/^type: /.test(text)) return assertionKeys(text, source)
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1]
  if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY') return [describe(pemPublicKey(text, source), 'pem-public')]
  if (label === 'ENCRYPTED PRIVATE KEY' || (label?.endsWith('PRIVATE KEY') && /^Proc-Type:\s*4,\s*ENCRYPTED/m.test(text))) {
    throw new UserError('E_KEY_ENCRYPTED', `${source} is a private key encrypted with a passphrase, which snap-gadget does not ask for`, {
      hint: 'give its public half instead: `openssl pkey -in <key> -pubout -out <key>.pub.pem` (it asks for the passphrase once)',
    })
  }

  if (label?.endsWith('PRIVATE KEY')) return [describe(readRsaPrivateKey(text, source), 'pem-private')]
  if (label !== undefined) throw new UserError('E_KEY_FORMAT', `${source} is a PEM "${label}", not a key`, {hint: FORMS_HINT})
  if (/^[\sA-Za-z0-9+/=]+$/.test(text) && text.trim() !== '') return [describe(decodeAssertionPublicKey(text, source).key, 'snapd')]
  throw new UserError('E_KEY_FORMAT', `${source} is not a key: ${text.trim() === '' ? 'it is empty' : 'no PEM, assertion or GnuPG export in it'}`, {hint: FORMS_HINT})
}

function describe(key: KeyObject, form: KeyForm): PublicKeyInfo {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  const encodedPublicKey = encodePublicKey(publicKey)
  return {bits: publicKey.asymmetricKeyDetails!.modulusLength!, encodedPublicKey, form, keyId: publicKeyId(encodedPublicKey), publicKey}
}

/** DER starts with a SEQUENCE; no text format this reads does. */
const DER_SEQUENCE = 0x30

function derPublicKey(der: Uint8Array, source: string): KeyObject {
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      return rsaOnly(createPublicKey({format: 'der', key: Buffer.from(der), type}), source)
    } catch (error) {
      if (error instanceof UserError) throw error
    }
  }

  throw new UserError('E_KEY_FORMAT', `${source} is binary but not a DER public key (SubjectPublicKeyInfo or PKCS#1)`, {hint: FORMS_HINT})
}

function rsaOnly(key: KeyObject, source: string): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') throw new UserError('E_KEY_FORMAT', `${source} is an ${String(key.asymmetricKeyType).toUpperCase()} key; snapd's keys are RSA`, {hint: FORMS_HINT})
  return key
}

function pemPublicKey(text: string, source: string): KeyObject {
  let key: KeyObject
  try {
    key = createPublicKey({format: 'pem', key: text})
  } catch (error) {
    throw new UserError('E_KEY_FORMAT', `${source} cannot be read as a PEM public key: ${(error as Error).message}`, {cause: error, hint: 'check that the file is a complete, unedited PEM key'})
  }

  return rsaOnly(key, source)
}

/** The account-keys (and requests) of a stream, each checked as snapd checks it: its id is its body's. */
function assertionKeys(text: string, source: string): PublicKeyInfo[] {
  const assertions = parseAssertions(text, {file: source})
  const keyAssertions = assertions.filter((a) => a.type === 'account-key' || a.type === 'account-key-request')
  if (keyAssertions.length === 0) {
    throw new UserError(
      'E_KEY_FORMAT',
      `${source} holds ${assertions.length === 1 ? `${/^[aeiou]/.test(assertions[0].type) ? 'an' : 'a'} ${assertions[0].type} assertion` : `${assertions.length} assertions (${[...new Set(assertions.map((a) => a.type))].join(', ')})`}, and no account-key`,
      {
        file: source,
        hint: `give the brand's account-key (\`snap known --remote account-key public-key-sha3-384=<key id>\`), or ${FORMS_HINT.replace('give ', '')}`,
      },
    )
  }

  return keyAssertions.map((assertion) => assertionKey(assertion, source))
}

function assertionKey(assertion: Assertion, source: string): PublicKeyInfo {
  const form = assertion.type as 'account-key' | 'account-key-request'
  const key = describe(decodeAssertionPublicKey(assertion.body, `the body of the ${form} in ${source}`).key, form)
  const declared = assertion.headers['public-key-sha3-384']
  if (declared !== key.keyId) {
    throw new UserError('E_KEY_MISMATCH', `the ${form} in ${source} declares public-key-sha3-384 ${JSON.stringify(declared)}, but its body is the key ${key.keyId}`, {
      file: source,
      hint: 'snapd refuses such an assertion ("public key does not match provided key id"): get it again from where it came',
      line: assertion.line,
    })
  }

  const text = (name: string): string | undefined => (typeof assertion.headers[name] === 'string' ? (assertion.headers[name] as string) : undefined)
  return {...key, accountId: text('account-id'), name: text('name')}
}
