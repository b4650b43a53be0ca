/**
 * GnuPG key exports, read on node:crypto (RFC 4880): what `gpg --export-secret-keys NAME` and
 * `gpg --export NAME` print, binary or ASCII-armoured, for the keys `snap create-key` makes in
 * ~/.snap/gnupg. snapd uses a GnuPG key's primary key only, and names it by its first user ID
 * (asserts/gpgkeypairmgr.go); its id is that of the RSA numbers alone, so the same key as PEM
 * keeps its id.
 *
 * A secret key is brought to PEM only when GnuPG exported it unprotected (S2K usage 0: the secret
 * numbers in clear, with their checksum); a passphrase-protected key is refused with the commands
 * that make an unprotected copy, since snap-gadget never asks for passphrases.
 */
import {createHash, createPrivateKey, createPublicKey, type KeyObject} from 'node:crypto'

import {MIN_SIGNING_KEY_BITS, type SigningKey, signingKeyFromKeyObject} from '../assertions/keys.js'
import {OpenPgpCursor, type OpenPgpFailure, PUBLIC_KEY_ALGORITHM_RSA} from '../assertions/openpgp.js'
import {type ErrorCode, UserError} from '../errors.js'
import {shellQuote} from '../support/shell-quote.js'

const TAG_SECRET_KEY = 5
const TAG_PUBLIC_KEY = 6
const TAG_USER_ID = 13

/** RFC 4880 §9.1 and RFC 6637, 8032 bis: what GnuPG may make instead of an RSA key. */
const ALGORITHM_NAMES: Readonly<Record<number, string>> = {
  1: 'RSA',
  2: 'RSA (encrypt-only)',
  3: 'RSA (sign-only)',
  16: 'Elgamal',
  17: 'DSA',
  18: 'ECDH',
  19: 'ECDSA',
  22: 'EdDSA (ed25519)',
}
const RSA_ALGORITHMS = new Set([PUBLIC_KEY_ALGORITHM_RSA, 2, 3])

/** S2K usage 254 and 255 carry an S2K specifier; type 101 is GnuPG's own stub, mode 2 a smartcard's. */
const S2K_GNU = 101
const GNU_DIVERT_TO_CARD = 2

/** An RSA 4096 secret key exports to about 2.4 KB (3.3 KB armoured); a keyring a few times more. */
export const MAX_GNUPG_EXPORT_BYTES = 1024 * 1024

/** Where the secret half of an exported primary key is. */
export type GnupgSecret =
  /** `gpg --export`: a public key only. */
  | {kind: 'none'}
  /** Unprotected (S2K usage 0): the algorithm's secret numbers and their checksum. */
  | {kind: 'clear'; numbers: Buffer[]; checksumOk: boolean}
  /** Encrypted with a passphrase. */
  | {kind: 'protected'}
  /** GnuPG's stub: the secret is not in the export (`--export-secret-subkeys`) or is on a smartcard. */
  | {kind: 'stub'; where: 'card' | 'elsewhere'}

/** One primary key of an export, with its user IDs. */
export interface GnupgKey {
  /** The v4 fingerprint in upper-case hex, as `gpg --fingerprint` and snapd show it. */
  fingerprint: string
  /** The OpenPGP public-key algorithm (1 is RSA). */
  algorithm: number
  algorithmName: string
  created: Date
  /** The RSA public numbers; undefined for another algorithm. */
  rsa?: {n: Buffer; e: Buffer}
  secret: GnupgSecret
  /** The user IDs, in order; snapd's name for the key is the first. */
  userIds: string[]
}

export interface ImportGnupgOptions {
  /** The name messages use for the input ("serials.gpg", "<stdin>"). */
  source?: string
  /** The GnuPG home the key came from, for the commands hints give; `~/.snap/gnupg` by default. */
  gnupgHome?: string
  /** The PEM file the user is writing, for the commands hints give; `<name>.pem` by default. */
  pemFile?: string
}

/** An unprotected GnuPG secret key, as a signing key snapd would accept from PEM. */
export interface ImportedGnupgKey {
  /** The key, its public half in snapd's encoding and its id (unchanged from GnuPG's). */
  signingKey: SigningKey
  /** The private key as PKCS#8 PEM ("BEGIN PRIVATE KEY"): a secret, to write with mode 0600. */
  pem: string
  /** The key's name in snapd (`snap keys`): its first user ID. */
  name: string
  fingerprint: string
  created: Date
}

/**
 * The primary keys of a GnuPG export (binary or armoured, public or secret). Throws a UserError
 * naming `source` when the bytes are not an OpenPGP key export.
 */
export function readGnupgExport(input: string | Uint8Array, source = 'the GnuPG export'): GnupgKey[] {
  const bytes = exportBytes(input, source)
  const fail: OpenPgpFailure = (why) => new UserError('E_GNUPG_EXPORT', `${source} is not a GnuPG key export: ${why}`, {hint: EXPORT_HINT})
  const cursor = new OpenPgpCursor(bytes, fail)
  const keys: GnupgKey[] = []
  while (cursor.remaining > 0) {
    const packet = cursor.packet()
    if (packet.tag === TAG_SECRET_KEY || packet.tag === TAG_PUBLIC_KEY) keys.push(readKeyPacket(packet.body, packet.tag === TAG_SECRET_KEY, fail))
    else if (packet.tag === TAG_USER_ID && keys.length > 0) keys.at(-1)!.userIds.push(packet.body.toString('utf8'))
    // Signatures, subkeys and trust packets: snapd signs with the primary key only.
  }

  if (keys.length === 0) throw fail('it holds no primary key')
  return keys
}

/**
 * The signing key in what `gpg --export-secret-keys NAME` printed, for a key snapd can sign with:
 * one unprotected RSA primary key of at least 4096 bits. Everything else is a UserError saying
 * what the export holds and what to run instead; a protected key's hint is the exact commands
 * that make an unprotected copy and import it.
 */
export function importGnupgKey(input: string | Uint8Array, options: ImportGnupgOptions = {}): ImportedGnupgKey {
  const source = options.source ?? 'the GnuPG export'
  const home = gnupgHomeWord(options.gnupgHome)
  const keys = readGnupgExport(input, source)
  const refuse = (code: ErrorCode, message: string, hint: string): UserError => new UserError(code, `${source} ${message}`, {file: options.source, hint})
  if (keys.length > 1) {
    const names = keys.map((k) => JSON.stringify(k.userIds[0] ?? k.fingerprint)).join(', ')
    throw refuse('E_GNUPG_EXPORT', `holds ${keys.length} keys (${names}); a signing key is one`, `export one key, by its name or fingerprint: gpg --homedir ${home} --export-secret-keys 0x<fingerprint>`)
  }

  const key = keys[0]
  const name = key.userIds[0] ?? ''
  const selector = `0x${key.fingerprint}`
  const pemFile = shellQuote(options.pemFile ?? `${validFileStem(name) ?? 'brand-key'}.pem`)
  const described = `the key ${JSON.stringify(name)}${key.fingerprint ? ` (${key.fingerprint})` : ''}`
  if (!key.rsa) {
    throw refuse(
      'E_GNUPG_NOT_RSA',
      `holds ${described}, whose algorithm is ${key.algorithmName}; snapd signs with RSA keys only`,
      'make the key with `snap create-key <name>` (RSA 4096), or as PEM with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out serials.pem`',
    )
  }

  if (key.secret.kind === 'none') {
    throw refuse(
      'E_GNUPG_PUBLIC',
      `holds only the public half of ${described} (what \`gpg --export\` prints)`,
      `export the secret key: gpg --homedir ${home} --export-secret-keys ${selector} | snap-gadget key import-gnupg - --out ${pemFile}`,
    )
  }

  if (key.secret.kind === 'stub') {
    throw refuse(
      'E_GNUPG_NO_SECRET',
      key.secret.where === 'card'
        ? `holds no secret for ${described}: GnuPG keeps it on a smartcard, which cannot be exported`
        : `holds no secret for ${described}: only a stub (what \`gpg --export-secret-subkeys\` or a keyring without the secret key exports)`,
      key.secret.where === 'card'
        ? 'sign with a key whose secret you hold: make one with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out serials.pem` and register it'
        : `export the primary key's secret from the GnuPG home that holds it: gpg --homedir ${home} --export-secret-keys ${selector}`,
    )
  }

  const bits = toBigInt(key.rsa.n).toString(2).length
  if (bits < MIN_SIGNING_KEY_BITS) {
    throw refuse(
      'E_GNUPG_KEY_SIZE',
      `holds ${described}, a ${bits}-bit RSA key; snapd refuses to sign with a key it does not hold itself under ${MIN_SIGNING_KEY_BITS} bits`,
      'make a 4096-bit key: `snap create-key <name>`, or as PEM `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out serials.pem`',
    )
  }

  if (key.secret.kind === 'protected') {
    // The copy is unprotected for the moment it takes to import it, in a directory only the user can read.
    const steps = [
      `copy=$(mktemp -d) && gpg --homedir ${home} --pinentry-mode loopback --export-secret-keys ${selector} | gpg --homedir "$copy" --batch --import`,
      `gpg --homedir "$copy" --pinentry-mode loopback --passwd ${selector}`,
      `gpg --homedir "$copy" --export-secret-keys ${selector} | snap-gadget key import-gnupg - --out ${pemFile}; gpgconf --homedir "$copy" --kill gpg-agent; rm -rf "$copy"`,
    ]
    throw refuse(
      'E_GNUPG_PROTECTED',
      `holds ${described} protected by a passphrase, which snap-gadget does not ask for`,
      `import an unprotected copy, leaving the key in ${home} as it is (gpg asks for the passphrase twice, then for a new one: press Enter): ${steps.join(' && ')}`,
    )
  }

  const secret = key.secret
  if (!secret.checksumOk) throw refuse('E_GNUPG_EXPORT', `has a wrong checksum over the secret key of ${described}: the export is damaged`, 'export the key again')
  const privateKey = rsaPrivateKey(key.rsa, secret.numbers, () => refuse('E_GNUPG_EXPORT', `has secret numbers that do not belong to the public key of ${described}: the export is damaged`, 'export the key again'))
  return {
    created: key.created,
    fingerprint: key.fingerprint,
    name,
    pem: privateKey.export({format: 'pem', type: 'pkcs8'}) as string,
    signingKey: signingKeyFromKeyObject(privateKey),
  }
}

/** The public half of a GnuPG export's one primary key, for its snapd id. */
export function gnupgPublicKey(input: string | Uint8Array, source = 'the GnuPG export'): {publicKey: KeyObject; key: GnupgKey} {
  const keys = readGnupgExport(input, source)
  if (keys.length > 1) throw new UserError('E_GNUPG_EXPORT', `${source} holds ${keys.length} keys; give the export of one`, {hint: EXPORT_HINT})
  const key = keys[0]
  if (!key.rsa) throw new UserError('E_GNUPG_NOT_RSA', `${source} holds a key whose algorithm is ${key.algorithmName}; snapd uses RSA keys only`, {hint: 'give the export of an RSA key (`snap create-key` makes them)'})
  return {key, publicKey: createPublicKey({format: 'jwk', key: {e: fromBigInt(toBigInt(key.rsa.e)), kty: 'RSA', n: fromBigInt(toBigInt(key.rsa.n))}})}
}

/** Whether bytes (or text) look like a GnuPG export: an armour line, or a first key packet. */
export function looksLikeGnupgExport(input: string | Uint8Array): boolean {
  if (typeof input === 'string') return /-----BEGIN PGP (?:PRIVATE|PUBLIC) KEY BLOCK-----/.test(input)
  if (input.length === 0) return false
  const first = input[0]
  if ((first & 0x80) === 0) return /-----BEGIN PGP (?:PRIVATE|PUBLIC) KEY BLOCK-----/.test(Buffer.from(input.subarray(0, 4096)).toString('latin1'))
  const tag = first & 0x40 ? first & 0x3f : (first >> 2) & 0x0f
  return tag === TAG_SECRET_KEY || tag === TAG_PUBLIC_KEY
}

const EXPORT_HINT = 'give what `gpg --homedir ~/.snap/gnupg --export-secret-keys <name>` prints (binary, or with --armor)'

function exportBytes(input: string | Uint8Array, source: string): Buffer {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length
  if (size > MAX_GNUPG_EXPORT_BYTES) throw new UserError('E_GNUPG_EXPORT', `${source} is ${size} bytes: not the export of one key (a few KB)`, {hint: EXPORT_HINT})
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  if (bytes.length > 0 && bytes[0] & 0x80) return bytes
  return dearmor(bytes.toString('utf8'), source)
}

/** RFC 4880 §6: the armour's base64 between its BEGIN and END lines, checked against its CRC-24. */
function dearmor(text: string, source: string): Buffer {
  const fail = (why: string): UserError => new UserError('E_GNUPG_EXPORT', `${source} is not a GnuPG key export: ${why}`, {hint: EXPORT_HINT})
  const lines = text.split(/\r?\n/)
  const begin = lines.findIndex((line) => /^-----BEGIN PGP (?:PRIVATE|PUBLIC) KEY BLOCK-----\s*$/.test(line))
  if (begin === -1) throw fail(text.trim() === '' ? 'it is empty' : 'no "-----BEGIN PGP PRIVATE KEY BLOCK-----" line, and not binary OpenPGP')
  const kind = /BEGIN (PGP \w+ KEY BLOCK)/.exec(lines[begin])![1]
  let at = begin + 1
  while (at < lines.length && lines[at].trim() !== '' && /^[\w-]+: /.test(lines[at])) at++ // Version:, Comment:
  const data: string[] = []
  let crc: string | undefined
  for (; at < lines.length; at++) {
    const line = lines[at].trim()
    if (line === `-----END ${kind}-----`) break
    if (line.startsWith('=')) crc = line.slice(1)
    else if (line !== '') data.push(line)
  }

  if (at === lines.length) throw fail(`the armour has no "-----END ${kind}-----" line (the text was cut)`)
  const base64 = data.join('')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) throw fail('the armour is not base64')
  const bytes = Buffer.from(base64, 'base64')
  const sum = crc === undefined ? undefined : Buffer.from(crc, 'base64')
  if (sum !== undefined && (sum.length !== 3 || sum.readUIntBE(0, 3) !== crc24(bytes))) throw fail('the armour checksum does not match (the text was changed)')
  return bytes
}

function crc24(bytes: Uint8Array): number {
  let crc = 0xb704ce
  for (const byte of bytes) {
    crc ^= byte << 16
    for (let i = 0; i < 8; i++) {
      crc <<= 1
      if (crc & 0x1000000) crc ^= 0x1864cfb
    }
  }

  return crc & 0xffffff
}

/** A public-key or secret-key packet body (RFC 4880 §5.5.2, §5.5.3). */
function readKeyPacket(body: Buffer, secret: boolean, fail: OpenPgpFailure): GnupgKey {
  const cursor = new OpenPgpCursor(body, fail)
  const version = cursor.u8()
  if (version !== 4) throw fail(`its key is OpenPGP version ${version}; snapd reads version 4 keys, what GnuPG makes by default`)
  const created = new Date(cursor.u32() * 1000)
  const algorithm = cursor.u8()
  const algorithmName = ALGORITHM_NAMES[algorithm] ?? `algorithm ${algorithm}`
  let rsa: GnupgKey['rsa']
  if (RSA_ALGORITHMS.has(algorithm)) rsa = {n: cursor.mpi(), e: cursor.mpi()}
  else if (!skipPublicFields(algorithm, cursor)) return {algorithm, algorithmName, created, fingerprint: '', secret: {kind: 'none'}, userIds: []}
  const key: GnupgKey = {algorithm, algorithmName, created, fingerprint: fingerprint(body.subarray(0, cursor.offset)), rsa, secret: {kind: 'none'}, userIds: []}
  if (!secret) return key
  const usage = cursor.u8()
  if (usage === 254 || usage === 255) {
    cursor.u8() // the cipher
    if (cursor.u8() === S2K_GNU) {
      cursor.u8() // the hash
      if (cursor.take(3).toString('latin1') === 'GNU') {
        const mode = cursor.u8()
        key.secret = {kind: 'stub', where: mode === GNU_DIVERT_TO_CARD ? 'card' : 'elsewhere'}
        return key
      }
    }

    key.secret = {kind: 'protected'}
    return key
  }

  // Any other non-zero usage is a cipher id: RFC 4880's oldest form of protection.
  if (usage !== 0) key.secret = {kind: 'protected'}
  else if (rsa) {
    const start = cursor.offset
    const numbers = [cursor.mpi(), cursor.mpi(), cursor.mpi(), cursor.mpi()] // d, p, q, u
    let sum = 0
    for (const byte of body.subarray(start, cursor.offset)) sum = (sum + byte) & 0xffff
    key.secret = {checksumOk: cursor.u16() === sum, kind: 'clear', numbers}
  } else key.secret = {checksumOk: true, kind: 'clear', numbers: []}
  return key
}

/**
 * Steps over the public fields of a key that is not RSA, so its fingerprint can be named; false
 * for an algorithm RFC 4880 and RFC 6637 do not define.
 */
function skipPublicFields(algorithm: number, cursor: OpenPgpCursor): boolean {
  const curve = (): void => cursor.skip(cursor.u8())
  switch (algorithm) {
    case 16: {
      for (let i = 0; i < 3; i++) cursor.mpi() // Elgamal: p, g, y
      return true
    }

    case 17: {
      for (let i = 0; i < 4; i++) cursor.mpi() // DSA: p, q, g, y
      return true
    }

    case 18: {
      curve()
      cursor.mpi()
      cursor.skip(cursor.u8()) // ECDH: the KDF parameters
      return true
    }

    case 19:
    case 22: {
      curve()
      cursor.mpi()
      return true
    }

    default: {
      return false
    }
  }
}

/** RFC 4880 §12.2: SHA-1 over 0x99, the two-byte length and the public-key packet body. */
function fingerprint(publicPart: Buffer): string {
  const header = Buffer.from([0x99, publicPart.length >> 8, publicPart.length & 0xff])
  return createHash('sha1').update(header).update(publicPart).digest('hex').toUpperCase()
}

/**
 * node:crypto's RSA private key from OpenPGP's numbers (d, p, q, and u = p⁻¹ mod q), checked
 * against the public key first: node does not check a JWK's numbers, and a key that does not
 * match its public half would sign what no device verifies. OpenPGP orders the primes p < q;
 * JWK's p is OpenPGP's q, so that JWK's qi (q⁻¹ mod p) is OpenPGP's u.
 */
function rsaPrivateKey(publicNumbers: {n: Buffer; e: Buffer}, secretNumbers: Buffer[], damaged: () => UserError): KeyObject {
  const [n, e] = [publicNumbers.n, publicNumbers.e].map(toBigInt)
  const [d, p, q, u] = secretNumbers.map(toBigInt)
  const one = BigInt(1)
  const consistent = p > one && q > one && p * q === n && (d * e) % (p - one) === one && (d * e) % (q - one) === one && (u * p) % q === one
  if (!consistent) throw damaged()
  const jwk = {d: fromBigInt(d), dp: fromBigInt(d % (q - one)), dq: fromBigInt(d % (p - one)), e: fromBigInt(e), kty: 'RSA', n: fromBigInt(n), p: fromBigInt(q), q: fromBigInt(p), qi: fromBigInt(u)}
  return createPrivateKey({format: 'jwk', key: jwk})
}

function toBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? BigInt(0) : BigInt(`0x${bytes.toString('hex')}`)
}

/** base64url of the big-endian bytes, without leading zero bytes (JWK's form). */
function fromBigInt(value: bigint): string {
  const hex = value.toString(16)
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url')
}

/** The GnuPG home as the user types it in a shell: ~ stays unquoted so the shell expands it. */
function gnupgHomeWord(home: string | undefined): string {
  return home === undefined || home === '' ? '~/.snap/gnupg' : shellQuote(home)
}

/** A key name usable as a file name as it is (snapd's key names are), else undefined. */
function validFileStem(name: string): string | undefined {
  return /^[A-Za-z0-9][\w.-]*$/.test(name) ? name : undefined
}
