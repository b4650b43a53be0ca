/**
 * snapd's external key manager (asserts/extkeypairmgr.go), over a directory of PEM private keys:
 * with SNAPD_EXT_KEYMGR naming a program that speaks it, `snap keys`, `snap export-key [--account]`
 * and `snap sign` use these keys instead of GnuPG. snapd runs the program with an operation and
 * its options as arguments, each run one operation:
 *
 *     features                        → {"signing":["RSA-PKCS"],"public-keys":["DER"]}
 *     key-names                       → {"key-names":["serials",…]}
 *     get-public-key -f DER -k NAME   → the public key, DER SubjectPublicKeyInfo
 *     sign -m RSA-PKCS -k NAME        ← the SHA-512 DigestInfo (19-byte prefix + 64-byte digest)
 *                                     → the RSA PKCS#1 v1.5 signature over it
 *
 * A key named NAME is the file NAME.pem in the directory; names are snapd's account-key names, so
 * a name can never reach outside it. Keys are read bounded; a key signs only as `serve` would sign
 * with it (RSA, unencrypted, 4096 bits or more), and is never written anywhere: the private key
 * leaves this module only as signatures.
 */
import {constants, createPublicKey, privateEncrypt} from 'node:crypto'
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {loadSigningKey, readRsaPrivateKey, type SigningKey} from '../assertions/keys.js'
import {ioError, UserError} from '../errors.js'
import {readBoundedFile} from '../support/bounded-read.js'
import {quoteInput} from '../support/echo.js'
import {isValidKeyName, KEY_NAME_RULE} from './names.js'

/** What this key manager offers snapd; snapd checks for exactly these two. */
export const KEY_MANAGER_FEATURES = {'public-keys': ['DER'], signing: ['RSA-PKCS']} as const

/** The DER prefix of a SHA-512 DigestInfo (RFC 8017 §9.2 note 1), as snapd sends it before the digest. */
const DIGEST_INFO_SHA512_PREFIX = Buffer.from('3051300d060960864801650304020305000440', 'hex')
const SHA512_BYTES = 64
/** A PEM RSA 4096 key is about 3.3 KB. */
const MAX_KEY_FILE_BYTES = 64 * 1024

export interface KeyNames {
  /** The names snapd can use, sorted. */
  names: string[]
  /** `*.pem` files left out, and why (a name snapd would not take). */
  skipped: Array<{file: string; reason: string}>
}

/** The keys of `dir`: each regular file NAME.pem whose NAME is a valid key name. */
export function listKeyNames(dir: string): KeyNames {
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch (error) {
    throw keyDirectoryError(dir, error)
  }

  const names: string[] = []
  const skipped: KeyNames['skipped'] = []
  for (const file of entries.filter((f) => f.endsWith('.pem')).sort()) {
    const name = file.slice(0, -'.pem'.length)
    if (!isValidKeyName(name)) {
      skipped.push({file, reason: `${quoteInput(name)} is not a key name snapd takes: ${KEY_NAME_RULE}`})
      continue
    }

    let regular = false
    try {
      regular = statSync(join(dir, file)).isFile()
    } catch {}

    if (regular) names.push(name)
    else skipped.push({file, reason: 'not a regular file'})
  }

  return {names, skipped}
}

/** The key named `name` in `dir`, loaded as serve loads its signing key (4096 bits or more). */
export function loadManagedKey(dir: string, name: string): SigningKey {
  const {bytes, shown} = readKeyFile(dir, name)
  return loadSigningKey(bytes, shown)
}

/**
 * get-public-key -f DER: the key's public half as DER SubjectPublicKeyInfo. A key under 4096 bits
 * has one too: `snap keys` lists it, and signing with it is refused, with the reason.
 */
export function publicKeyDer(dir: string, name: string): Buffer {
  const {bytes, shown} = readKeyFile(dir, name)
  return createPublicKey(readRsaPrivateKey(bytes, shown)).export({format: 'der', type: 'spki'})
}

function readKeyFile(dir: string, name: string): {bytes: Buffer; shown: string} {
  const file = keyFile(dir, name)
  try {
    return {bytes: readBoundedFile(file, MAX_KEY_FILE_BYTES, {what: 'key'}), shown: `key ${JSON.stringify(name)} (${file})`}
  } catch (error) {
    if (error instanceof UserError && error.code === 'E_IO_ENOENT') {
      throw new UserError('E_KEY_NOT_FOUND', `no key named ${JSON.stringify(name)}: ${file} does not exist`, {
        file,
        hint: 'put the PEM private key there, or see the names with `snap-gadget key keymgr key-names`',
      })
    }

    throw error
  }
}

/**
 * sign -m RSA-PKCS: the PKCS#1 v1.5 signature over `digestInfo`, which must be what snapd sends:
 * a SHA-512 DigestInfo. Anything else is refused rather than signed: a key manager that signs
 * arbitrary bytes with the brand key would sign more than assertions.
 */
export function signDigestInfo(dir: string, name: string, digestInfo: Uint8Array): Buffer {
  const expected = DIGEST_INFO_SHA512_PREFIX.length + SHA512_BYTES
  if (digestInfo.length !== expected || !DIGEST_INFO_SHA512_PREFIX.equals(digestInfo.subarray(0, DIGEST_INFO_SHA512_PREFIX.length))) {
    throw new UserError(
      'E_KEYMGR_INPUT',
      `sign expects a SHA-512 DigestInfo on standard input (${expected} bytes), as snapd sends it; got ${digestInfo.length} bytes${digestInfo.length === expected ? ' of another kind' : ''}`,
      {
        hint: 'snap runs this operation itself (snap sign, snap export-key --account); to sign an assertion, run those',
      },
    )
  }

  const key = loadManagedKey(dir, name)
  // RSA_PKCS1_PADDING with the private key is block type 1: exactly an RSASSA-PKCS1-v1_5 signature of the DigestInfo.
  return privateEncrypt({key: key.privateKey, padding: constants.RSA_PKCS1_PADDING}, digestInfo)
}

/** The file of key `name`; refuses a name that is not snapd's (which also keeps it inside `dir`). */
export function keyFile(dir: string, name: string): string {
  if (!isValidKeyName(name)) {
    throw new UserError('E_KEY_NAME', `${quoteInput(name)} is not a key name: ${KEY_NAME_RULE}`, {hint: 'the key named NAME is the file NAME.pem in the key directory'})
  }

  return join(dir, `${name}.pem`)
}

function keyDirectoryError(dir: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new UserError('E_KEY_DIRECTORY', `the key directory ${dir} ${code === 'ENOENT' ? 'does not exist' : 'is not a directory'}`, {
      file: dir,
      hint: 'point SNAP_GADGET_KEYS (or --keys) at the directory of PEM keys, each NAME.pem',
      kind: 'io',
    })
  }

  return ioError(dir, error, 'list')
}
