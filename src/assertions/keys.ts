/**
 * RSA keys in snapd's terms (asserts/crypto.go, registration-protocol.md §3.4):
 *
 * - the public key is written as base64 of 0x01 + an OpenPGP v4 RSA public-key packet whose
 *   creation time is fixed at 2016-01-01T00:00:00Z, in lines of 76 characters (what
 *   `snap export-key` prints, the `device-key` header, the body of an account-key);
 * - its id (`sign-key-sha3-384`, `device-key-sha3-384`, `public-key-sha3-384`) is the unpadded
 *   base64url SHA3-384 of those bytes.
 *
 * Signing keys come in as PEM (PKCS#8 or PKCS#1), unencrypted, RSA, at least 4096 bits: what
 * snapd demands of every key it does not hold itself (GnuPG or an external key manager).
 */
import {createHash, createPrivateKey, createPublicKey, type KeyObject} from 'node:crypto'

import {UserError} from '../errors.js'
import {decodeV1, encodeV1, KEY_CREATION_TIME, mpi, packet, PUBLIC_KEY_ALGORITHM_RSA, TAG_PUBLIC_KEY, uint32} from './openpgp.js'

/** An RSA private key ready to sign assertions, with its public half in snapd's encoding. */
export interface SigningKey {
  privateKey: KeyObject
  publicKey: KeyObject
  /** RSA modulus size in bits. */
  bits: number
  /**
   * The public key in snapd's encoding: base64 of 0x01 + an OpenPGP v4 public-key packet (creation
   * time 2016-01-01T00:00:00Z), in lines of 76 characters joined by "\n" exactly as snapd writes it
   * (`snap export-key`, the `device-key` header snapd builds). Decoders ignore the line breaks.
   */
  encodedPublicKey: string
  /** `sign-key-sha3-384` of what this key signs: unpadded base64url SHA3-384 of the 0x01 + packet bytes. */
  keyId: string
}

/** snapd refuses to sign with a key it does not hold itself when it is smaller (asserts/crypto.go). */
export const MIN_SIGNING_KEY_BITS = 4096
/** A PEM RSA 4096 key is about 3.3 KB; anything much larger is not one key. */
const MAX_KEY_TEXT_BYTES = 64 * 1024

const NEW_KEY_HINT =
  'make a 4096-bit RSA key with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out brand.pem` and register it with the account ' +
  '(`snap-gadget key account-key-request brand.pem --account <account-id>` makes the request)'
const GNUPG_HINT = 'a key made by `snap create-key` lives in GnuPG: bring it to PEM, with the same key id, by `gpg --homedir ~/.snap/gnupg --export-secret-keys <name> | snap-gadget key import-gnupg - --out <name>.pem`'

/**
 * Reads an RSA private key in PEM (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`) for signing
 * assertions. Refuses, with a UserError naming `source` and saying what to do: encrypted keys,
 * GnuPG and OpenSSH exports, public keys, non-RSA keys and keys under 4096 bits.
 */
export function loadSigningKey(pem: string | Uint8Array, source = 'the signing key'): SigningKey {
  const key = signingKeyFromKeyObject(readRsaPrivateKey(pem, source))
  if (key.bits < MIN_SIGNING_KEY_BITS) {
    throw new UserError('E_SIGNING_KEY', `${source} is a ${key.bits}-bit RSA key; snapd refuses keys it does not hold itself under ${MIN_SIGNING_KEY_BITS} bits`, {hint: NEW_KEY_HINT})
  }

  return key
}

/**
 * The RSA private key in a PEM text, of any size: {@link loadSigningKey} without the 4096-bit
 * floor, for what only needs the key's numbers (its id, its public half). Refuses the same inputs
 * otherwise, with the same messages.
 */
export function readRsaPrivateKey(pem: string | Uint8Array, source = 'the signing key'): KeyObject {
  const fail = (message: string, hint: string, cause?: unknown): UserError => new UserError('E_SIGNING_KEY', `${source} ${message}`, {cause, hint})
  const size = typeof pem === 'string' ? Buffer.byteLength(pem) : pem.length
  if (size > MAX_KEY_TEXT_BYTES) throw fail(`is ${size} bytes: not a PEM private key (one is a few KB)`, 'give the PEM file of one RSA private key')
  if (typeof pem !== 'string' && pem.length > 0 && isBinaryOpenPgp(pem[0])) throw fail('is a binary OpenPGP (GnuPG) key, not PEM', GNUPG_HINT)
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8')
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1]
  switch (label) {
    case undefined: {
      throw fail('is not a PEM private key (no "-----BEGIN … PRIVATE KEY-----" line)', 'give the PEM file of an RSA private key (PKCS#8 "BEGIN PRIVATE KEY" or PKCS#1 "BEGIN RSA PRIVATE KEY")')
    }

    case 'PGP PRIVATE KEY BLOCK':
    case 'PGP PUBLIC KEY BLOCK': {
      throw fail('is a GnuPG export, not a PEM private key', GNUPG_HINT)
    }

    case 'OPENSSH PRIVATE KEY': {
      throw fail("is in OpenSSH's own format, not PEM", 'convert a copy with `ssh-keygen -p -m PEM -f <copy>` (it rewrites the file as PKCS#1 PEM), or make a new key: ' + NEW_KEY_HINT)
    }

    case 'ENCRYPTED PRIVATE KEY': {
      throw encrypted()
    }

    case 'PRIVATE KEY':
    case 'RSA PRIVATE KEY': {
      if (/^Proc-Type:\s*4,\s*ENCRYPTED/m.test(text)) throw encrypted()
      break
    }

    case 'PUBLIC KEY':
    case 'RSA PUBLIC KEY':
    case 'CERTIFICATE': {
      throw fail(`holds a ${label === 'CERTIFICATE' ? 'certificate' : 'public key'}: signing needs the private key`, 'give the PEM file of the private key ("BEGIN PRIVATE KEY" or "BEGIN RSA PRIVATE KEY")')
    }

    default: {
      throw fail(`is a PEM "${label}", not an RSA private key`, `snapd signs with RSA keys only: ${NEW_KEY_HINT}`)
    }
  }

  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({format: 'pem', key: text})
  } catch (error) {
    throw fail(`cannot be read as a PEM private key: ${(error as Error).message}`, 'check that the file is a complete, unedited PEM private key', error)
  }

  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw fail(`is an ${String(privateKey.asymmetricKeyType).toUpperCase()} key; snapd signs with RSA (PKCS#1 v1.5) keys only`, NEW_KEY_HINT)
  }

  return privateKey

  function encrypted(): UserError {
    return fail(
      'is encrypted with a passphrase, which snap-gadget cannot ask for',
      'write a decrypted copy where only the signing user can read it: `(umask 077; openssl pkey -in <key> -out <key>.plain.pem)` (it asks for the passphrase once)',
    )
  }
}

/**
 * A SigningKey from an RSA private KeyObject, of any size: snapd itself signs with the device key
 * it generated without a size check, and tests use smaller keys. loadSigningKey adds the 4096-bit
 * floor that keys held outside snapd must meet.
 */
export function signingKeyFromKeyObject(privateKey: KeyObject): SigningKey {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa') {
    throw new UserError('E_SIGNING_KEY', `a signing key must be an RSA private key, not a ${privateKey.type} ${String(privateKey.asymmetricKeyType)} key`, {hint: NEW_KEY_HINT})
  }

  const publicKey = createPublicKey(privateKey)
  const encodedPublicKey = encodePublicKey(publicKey)
  return {bits: privateKey.asymmetricKeyDetails!.modulusLength!, encodedPublicKey, keyId: publicKeyId(encodedPublicKey), privateKey, publicKey}
}

/** An RSA key (public, or private for its public half) in snapd's encoding, 76-column lines. */
export function encodePublicKey(key: KeyObject): string {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new UserError('E_ASSERTION_KEY', `snapd encodes RSA public keys only, not ${String(key.asymmetricKeyType)} keys`, {hint: 'use an RSA key'})
  }

  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({format: 'jwk'})
  const body = Buffer.concat([Uint8Array.of(4), uint32(KEY_CREATION_TIME), Uint8Array.of(PUBLIC_KEY_ALGORITHM_RSA), mpi(Buffer.from(jwk.n!, 'base64url')), mpi(Buffer.from(jwk.e!, 'base64url'))])
  return encodeV1(packet(TAG_PUBLIC_KEY, body))
}

/** The snapd id of a public key in snapd's encoding (line breaks allowed). */
export function publicKeyId(encoded: string): string {
  return keyIdOf(decodeV1(encoded, 'public key'))
}

/** SHA3-384 of the 0x01 + packet bytes, unpadded base64url (asserts.EncodeDigest). */
export function keyIdOf(v1Bytes: Uint8Array): string {
  return createHash('sha3-384').update(v1Bytes).digest('base64url')
}

/** A first byte that starts an OpenPGP secret- or public-key packet (old or new format). */
function isBinaryOpenPgp(first: number): boolean {
  if ((first & 0x80) === 0) return false
  const tag = first & 0x40 ? first & 0x3f : (first >> 2) & 0x0f
  return tag === 5 || tag === 6
}
