/**
 * The device's own identity: an Ed25519 key pair made on the first registration attempt
 * and kept in a file only its owner can read, plus the proof-of-possession signature that puts the
 * public key into the registration body. The Serial Vault copies the body into the serial
 * assertion, so the brand-signed serial then certifies the device's key.
 *
 * Key file (`device-identity.key` in the directory the caller gives: $SNAP_SAVE_DATA, else
 * $SNAP_DATA), mode 0600, one line of JSON:
 *
 *     {"format":"snap-gadget-identity-key","version":1,"algorithm":"ed25519","seed":"<32 bytes>","public-key":"<32 bytes>"}
 *
 * `seed` is the Ed25519 private seed (RFC 8032), `public-key` its public key, both unpadded
 * base64url. A file that is not a regular file, that another user owns, that group or others may
 * access, or that is larger than a key file can be, is refused.
 *
 * Body fields (all strings):
 *
 *     identity-scheme:    "snap-gadget-identity-v1"
 *     identity-key:       unpadded base64url of the 32-byte Ed25519 public key
 *     identity-signature: unpadded base64url of the 64-byte Ed25519 signature
 *
 * Signed bytes: UTF-8 of "snap-gadget-identity-v1\n" followed by the canonical JSON (RFC 8785) of
 * every body field except identity-signature (identity-scheme and identity-key included). Every
 * scalar in the body must be a string, so the canonical JSON is simply: objects with keys sorted by
 * UTF-16 code units, arrays in order, strings escaped as JSON.stringify does, no whitespace.
 */
import {InternalError, UserError} from '../errors.js'
import {host} from '../support/host.js'
import {type PrivateFileRules, readPrivateFile, writePrivateFileOnce} from './private-file.js'

export const IDENTITY_SCHEME = 'snap-gadget-identity-v1'
export const IDENTITY_KEY_FILE = 'device-identity.key'
/** The body fields the identity adds. */
export const IdentityField = {
  key: 'identity-key',
  scheme: 'identity-scheme',
  signature: 'identity-signature',
} as const

/** A registration body field value: strings, and lists and maps of them (as in assertion headers). */
export type BodyValue = BodyValue[] | string | {[name: string]: BodyValue}
export type BodyFields = {[name: string]: BodyValue}

const KEY_FILE_FORMAT = 'snap-gadget-identity-key'
const KEY_FILE_VERSION = 1
const SEED_BYTES = 32
export const PUBLIC_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64
const MAX_DEPTH = 32
/** A key file is about 150 bytes; anything past this is not one. */
const MAX_KEY_FILE_BYTES = 4096
const DOMAIN_PREFIX = `${IDENTITY_SCHEME}\n`
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/** Seeds stay in this module: not a property, so they cannot be printed or serialized. */
const seeds = new WeakMap<DeviceIdentity, Uint8Array>()

/** An Ed25519 key pair. Printing or JSON-serializing it shows the public key only. */
export class DeviceIdentity {
  readonly algorithm = 'ed25519'
  readonly publicKey: Uint8Array

  private constructor(publicKey: Uint8Array, seed: Uint8Array) {
    this.publicKey = publicKey
    seeds.set(this, seed)
  }

  /** A new random key pair. */
  static generate(): DeviceIdentity {
    return DeviceIdentity.fromSeed(host().randomBytes(SEED_BYTES))
  }

  /** The key pair of a 32-byte Ed25519 seed (RFC 8032 private key). */
  static fromSeed(seed: Uint8Array): DeviceIdentity {
    if (seed.length !== SEED_BYTES) throw new UserError('E_IDENTITY_SEED', `an Ed25519 seed is ${SEED_BYTES} bytes, not ${seed.length}`)
    // The host signs: node:crypto on Node, tweetnacl on QuickJS; their Ed25519 signatures are
    // byte-identical (RFC 8032 signing is deterministic; the tests compare them).
    const copy = Uint8Array.from(seed)
    const publicKey = host().ed25519PublicKey(copy)
    if (publicKey.length !== PUBLIC_KEY_BYTES) throw new InternalError(`the host made an Ed25519 public key of ${publicKey.length} bytes`)
    return new DeviceIdentity(Uint8Array.from(publicKey), copy)
  }

  /** The public key as it appears in the body: unpadded base64url. */
  get publicKeyText(): string {
    return toBase64Url(this.publicKey)
  }

  /** Ed25519 signature of `message` (64 bytes). */
  sign(message: Uint8Array): Uint8Array {
    return host().ed25519Sign(seedOf(this), message)
  }

  toJSON(): {algorithm: string; publicKey: string} {
    return {algorithm: this.algorithm, publicKey: this.publicKeyText}
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `DeviceIdentity { algorithm: 'ed25519', publicKey: '${this.publicKeyText}' }`
  }
}

interface StoredIdentity {
  identity: DeviceIdentity
  /** The key file. */
  file: string
  /** True when this call made the key; false when it reused the one already there. */
  created: boolean
}

/**
 * The device identity kept in `dir` (which must exist): the key made by an earlier call, or a new
 * one, written atomically with mode 0600. Concurrent first calls agree on one key.
 */
export function loadOrCreateIdentity(dir: string, options: {fileName?: string} = {}): StoredIdentity {
  const file = `${dir.replace(/\/+$/, '')}/${options.fileName ?? IDENTITY_KEY_FILE}`
  const existing = readKeyFile(file)
  if (existing) return {created: false, file, identity: existing}

  const identity = DeviceIdentity.generate()
  if (writeKeyFileOnce(file, identity)) return {created: true, file, identity}

  // Another process made the key between our read and our write: use theirs.
  const winner = readKeyFile(file)
  if (!winner) throw new InternalError(`identity key ${file} vanished right after being created`)
  return {created: false, file, identity: winner}
}

/**
 * Adds identity-scheme, identity-key and identity-signature to a copy of `fields`. The fields must
 * not have them already, and every scalar must be a string.
 */
export function signWithIdentity(fields: BodyFields, identity: DeviceIdentity): BodyFields {
  for (const name of Object.values(IdentityField)) {
    if (Object.hasOwn(fields, name)) {
      throw new UserError('E_IDENTITY_FIELDS', `the registration body already has a "${name}" field`, {
        hint: 'identity-scheme, identity-key and identity-signature are set by the device identity; remove them from the configured body fields',
      })
    }
  }

  const unsigned: BodyFields = {...fields, [IdentityField.scheme]: IDENTITY_SCHEME, [IdentityField.key]: identity.publicKeyText}
  const signature = identity.sign(identitySigningInput(unsigned))
  return {...unsigned, [IdentityField.signature]: toBase64Url(signature)}
}

/**
 * The exact bytes the identity signature covers: the domain prefix, then the canonical JSON of
 * every field except identity-signature. Throws a UserError (E_IDENTITY_FIELDS) naming the field
 * when a value is not a string, list or map.
 */
export function identitySigningInput(fields: BodyFields): Uint8Array {
  if (!isPlainObject(fields)) throw fieldsError('the registration body is not a map of fields')
  const signed: BodyFields = {}
  for (const [name, value] of Object.entries(fields)) if (name !== IdentityField.signature) signed[name] = value
  return Buffer.from(DOMAIN_PREFIX + canonicalJson(signed, '', 0), 'utf8')
}

function seedOf(identity: DeviceIdentity): Uint8Array {
  const seed = seeds.get(identity)
  if (!seed) throw new InternalError('DeviceIdentity without a seed')
  return seed
}

/** RFC 8785 canonical JSON of a tree whose only scalars are strings. */
function canonicalJson(value: unknown, path: string, depth: number): string {
  if (depth > MAX_DEPTH) throw fieldsError(`the body field ${path} is nested more than ${MAX_DEPTH} levels deep`)
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) throw fieldsError(`the body field ${path} is not well-formed Unicode`)
    return JSON.stringify(value)
  }

  if (Array.isArray(value)) return `[${value.map((item, i) => canonicalJson(item, `${path}[${i}]`, depth + 1)).join(',')}]`
  if (isPlainObject(value)) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => {
        if (LONE_SURROGATE.test(key)) throw fieldsError(`a body field name under ${path || 'the top level'} is not well-formed Unicode`)
        return `${JSON.stringify(key)}:${canonicalJson(value[key], path ? `${path}.${key}` : key, depth + 1)}`
      })
    return `{${entries.join(',')}}`
  }

  const kind = value === null ? 'null' : value instanceof Date ? 'a date' : typeof value
  throw new UserError('E_IDENTITY_FIELDS', `the body field ${path} is ${kind}, not a string`, {
    hint: 'quote the value in the registration body ("…") so every field is a string',
  })
}

function fieldsError(message: string): UserError {
  return new UserError('E_IDENTITY_FIELDS', message)
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** Strict unpadded base64url of exactly `length` bytes, or undefined. */
export function fromBase64Url(text: unknown, length: number): Uint8Array | undefined {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64url')
  // Re-encoding rejects non-canonical spellings (stray low bits in the last character).
  if (bytes.length !== length || bytes.toString('base64url') !== text) return undefined
  return new Uint8Array(bytes)
}

const KEY_FILE_RULES: PrivateFileRules = {consequence: 'the device must then register again', maxBytes: MAX_KEY_FILE_BYTES, what: 'the identity key'}

/** The identity in `file`, undefined when there is none; refuses files others could read or own. */
function readKeyFile(file: string): DeviceIdentity | undefined {
  const bytes = readPrivateFile(file, KEY_FILE_RULES)
  return bytes === undefined ? undefined : parseKeyFile(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), file)
}

function parseKeyFile(text: string, file: string): DeviceIdentity {
  const bad = (why: string): UserError =>
    new UserError('E_IDENTITY_KEY_FORMAT', `the identity key ${file} ${why}`, {
      file,
      hint: 'the file was damaged or not written by snap-gadget; delete it so a new key is made (the device must then register again)',
      kind: 'failed',
    })
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    // Never pass JSON.parse's message on: it quotes the text, which holds the secret.
    throw bad('is not valid JSON')
  }

  if (!isPlainObject(data) || data.format !== KEY_FILE_FORMAT) throw bad(`is not a ${KEY_FILE_FORMAT} file`)
  if (data.version !== KEY_FILE_VERSION) throw bad(`has unsupported version ${JSON.stringify(data.version)} (this version reads ${KEY_FILE_VERSION})`)
  if (data.algorithm !== 'ed25519') throw bad(`has unsupported algorithm ${JSON.stringify(data.algorithm)}`)
  const seed = fromBase64Url(data.seed, SEED_BYTES)
  if (!seed) throw bad(`has no valid seed (${SEED_BYTES} bytes, unpadded base64url)`)
  const identity = DeviceIdentity.fromSeed(seed)
  if (data['public-key'] !== identity.publicKeyText) throw bad('has a public key that does not belong to its seed')
  return identity
}

function serializeKeyFile(identity: DeviceIdentity): string {
  const seed = seedOf(identity)
  const data = {
    format: KEY_FILE_FORMAT,
    version: KEY_FILE_VERSION,
    algorithm: identity.algorithm,
    seed: toBase64Url(seed),
    'public-key': identity.publicKeyText,
  }
  return JSON.stringify(data) + '\n'
}

/** Writes the key file unless it exists (false then), atomically and never over another process's key. */
function writeKeyFileOnce(file: string, identity: DeviceIdentity): boolean {
  return writePrivateFileOnce(file, Buffer.from(serializeKeyFile(identity), 'utf8'), KEY_FILE_RULES.what)
}
