/**
 * The device's hardware identity key (secure device onboarding, snapd 2.74 and later): made once by
 * the prepare-device hook, certified in the factory by the brand's `hardware-identity` assertion,
 * and used by the prepare-serial-request hook to sign the request-id the device service issued.
 * The conventions are the service's (assertions/hardware-identity.ts), on both engines through the
 * host: node:crypto on Node, @noble/curves on QuickJS (ECDSA only there).
 *
 * Where the key lives is a {@link HardwareKeyStore}: today a file, `hardware-identity.key` in
 * $SNAP_SAVE_DATA (ubuntu-save, UC20 and later: it survives a factory reset and a re-image of
 * ubuntu-data), else $SNAP_DATA; a TPM-held key can implement the same interface later. The file is
 * the PKCS#8 private key as PEM ("BEGIN PRIVATE KEY", as `openssl genpkey` writes it), mode 0600,
 * read only when it is a regular file the hook's user owns, closed to others, and of a key file's
 * size. It is made when missing and never made again: a new key is a new device to the service.
 */
import {HARDWARE_KEY_TYPES, type HardwareKeyType} from '../assertions/hardware-identity.js'
import {InternalError, UserError} from '../errors.js'
import {host} from '../support/host.js'
import {type PrivateFileRules, readPrivateFile, writePrivateFileOnce} from './private-file.js'

export const HARDWARE_KEY_FILE = 'hardware-identity.key'
/** Where a factory station reads the device's export: $SNAP_COMMON/hardware-identity.json. */
export const HARDWARE_EXPORT_FILE = 'hardware-identity.json'
/** An RSA-4096 PKCS#8 PEM is about 3.3 KB; anything past this is no key file. */
const MAX_KEY_FILE_BYTES = 8192
const PEM_LABEL = 'PRIVATE KEY'

const KEY_FILE_RULES: PrivateFileRules = {
  consequence: 'the device then has a new hardware identity, which the factory must certify and import again',
  maxBytes: MAX_KEY_FILE_BYTES,
  what: 'the hardware identity key',
}

/** Private keys stay in this module: not a property, so they cannot be printed or serialized. */
const privateKeys = new WeakMap<HardwareKey, Uint8Array>()

/** A hardware identity key pair. Printing or JSON-serializing it shows the public key only. */
export class HardwareKey {
  readonly type: HardwareKeyType
  /** The DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array
  /** The `hardware-id-key` text: standard base64 (padded) of the SubjectPublicKeyInfo, one line. */
  readonly text: string
  /** The `hardware-id-key-sha3-384`: unpadded base64url SHA3-384 of that text's bytes. */
  readonly digest: string

  private constructor(pkcs8: Uint8Array, spki: Uint8Array, type: HardwareKeyType) {
    this.type = type
    this.spki = spki
    this.text = Buffer.from(spki).toString('base64')
    this.digest = Buffer.from(host().sha3_384(Buffer.from(this.text, 'utf8'))).toString('base64url')
    privateKeys.set(this, pkcs8)
  }

  /** A new key of `type`. */
  static generate(type: HardwareKeyType): HardwareKey {
    let pkcs8: Uint8Array
    try {
      pkcs8 = host().generatePrivateKey(type)
    } catch (error) {
      throw keyError(error, type)
    }

    return HardwareKey.fromPkcs8(pkcs8, 'a key just made')
  }

  /** The key of PKCS#8 DER bytes; `source` names them in errors. */
  static fromPkcs8(pkcs8: Uint8Array, source: string): HardwareKey {
    let read: {spki: Uint8Array; type?: string}
    try {
      read = host().publicKeyOf(pkcs8)
    } catch (error) {
      throw keyError(error, undefined, source)
    }

    if (read.type === undefined || !HARDWARE_KEY_TYPES.includes(read.type as HardwareKeyType)) {
      throw new UserError('E_HARDWARE_KEY', `${source} is not a key snapd verifies a request-id signature with`, {
        hint: `a hardware identity key is ${HARDWARE_KEY_TYPES.join(', ')}: delete it so a new key is made (${KEY_FILE_RULES.consequence})`,
        kind: 'failed',
      })
    }

    return new HardwareKey(Uint8Array.from(pkcs8), Uint8Array.from(read.spki), read.type as HardwareKeyType)
  }

  /** The public key as PEM ("BEGIN PUBLIC KEY"), lines of 64 characters. */
  get publicKeyPem(): string {
    return pem('PUBLIC KEY', this.spki)
  }

  /**
   * The signature over `message` as the conventions make it: ECDSA as ASN.1 DER over SHA-256
   * (P-256) or SHA-384 (P-384), RSA PKCS#1 v1.5 over SHA-256.
   */
  sign(message: Uint8Array): Uint8Array {
    const pkcs8 = privateKeys.get(this)
    if (!pkcs8) throw new InternalError('HardwareKey without its private key')
    try {
      return host().signWithPrivateKey(pkcs8, message)
    } catch (error) {
      throw keyError(error, this.type)
    }
  }

  /** The key file's text (the private key: written to the key file only). */
  pkcs8Pem(): string {
    const pkcs8 = privateKeys.get(this)
    if (!pkcs8) throw new InternalError('HardwareKey without its private key')
    return pem(PEM_LABEL, pkcs8)
  }

  toJSON(): {type: HardwareKeyType; 'hardware-id-key': string; 'hardware-id-key-sha3-384': string} {
    return {'hardware-id-key': this.text, 'hardware-id-key-sha3-384': this.digest, type: this.type}
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `HardwareKey { type: '${this.type}', digest: '${this.digest}' }`
  }
}

/** Where a hardware identity key is kept: a file today, a TPM later. */
export interface HardwareKeyStore {
  /** Where, in words, for messages: the file, or the TPM handle. */
  readonly location: string
  /** The key, or undefined when none was made yet. Refuses one that is not safe to use. */
  load(): HardwareKey | undefined
  /** The key, made with `type` when there is none; `created` says this call made it. */
  loadOrCreate(type: HardwareKeyType): {key: HardwareKey; created: boolean}
}

/** The key in a file only the hook's user may read (see the module's comment). */
export class FileHardwareKeyStore implements HardwareKeyStore {
  constructor(readonly location: string) {}

  load(): HardwareKey | undefined {
    const bytes = readPrivateFile(this.location, KEY_FILE_RULES)
    if (bytes === undefined) return undefined
    const text = Buffer.from(bytes).toString('utf8')
    const match = /^-----BEGIN PRIVATE KEY-----\r?\n([A-Za-z\d+/=\r\n]+)-----END PRIVATE KEY-----\r?\n?$/.exec(text)
    if (!match) {
      throw new UserError('E_IDENTITY_KEY_FORMAT', `the hardware identity key ${this.location} is not a PEM private key ("-----BEGIN PRIVATE KEY-----")`, {
        file: this.location,
        hint: `restore it from a backup, or delete it so a new key is made (${KEY_FILE_RULES.consequence})`,
        kind: 'failed',
      })
    }

    return HardwareKey.fromPkcs8(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'), `the hardware identity key ${this.location}`)
  }

  loadOrCreate(type: HardwareKeyType): {key: HardwareKey; created: boolean} {
    const existing = this.load()
    if (existing) return {created: false, key: existing}
    const key = HardwareKey.generate(type)
    if (writePrivateFileOnce(this.location, Buffer.from(key.pkcs8Pem(), 'utf8'), KEY_FILE_RULES.what)) return {created: true, key}
    // Another run made the key between our read and our write: theirs is the device's key.
    const winner = this.load()
    if (!winner) throw new InternalError(`hardware identity key ${this.location} vanished right after being created`)
    return {created: false, key: winner}
  }
}

/**
 * The directory of the hardware identity key: $SNAP_SAVE_DATA (ubuntu-save, core20 and later), else
 * $SNAP_DATA (a device without ubuntu-save: a factory reset then loses the key); undefined when the
 * environment has neither.
 */
export function hardwareKeyDir(env: Readonly<Record<string, string | undefined>>): string | undefined {
  return (env.SNAP_SAVE_DATA || env.SNAP_DATA || undefined)?.replace(/\/+$/, '')
}

/** The export a factory station reads (schemas/hardware-identity-export.schema.json): what `hardware-identity sign` takes. */
export interface HardwareIdentityExport {
  'hardware-id': string
  'hardware-id-key': string
  'hardware-id-key-sha3-384': string
  'key-type': HardwareKeyType
  'public-key-pem': string
}

export function hardwareIdentityExport(key: HardwareKey, hardwareId: string): HardwareIdentityExport {
  return {
    'hardware-id': hardwareId,
    'hardware-id-key': key.text,
    'hardware-id-key-sha3-384': key.digest,
    'key-type': key.type,
    'public-key-pem': key.publicKeyPem,
  }
}

/** The body the prepare-serial-request hook sets (the conventions): keys sorted as snapd stores them. */
export interface HardwareProofBody {
  'hardware-id-key': string
  'hardware-id-key-sha3-384': string
  'hardware-id-key-sha384': string
  'request-id-signature': string
}

/**
 * The proof for `requestId`: the key's digest under both names snapd has used (hardware-id-key-sha384
 * up to 2.77, hardware-id-key-sha3-384 after), the signature over the request-id's UTF-8 bytes in
 * standard base64, padded, and the key itself.
 */
export function hardwareProofBody(key: HardwareKey, requestId: string): HardwareProofBody {
  return {
    'hardware-id-key': key.text,
    'hardware-id-key-sha3-384': key.digest,
    'hardware-id-key-sha384': key.digest,
    'request-id-signature': Buffer.from(key.sign(Buffer.from(requestId, 'utf8'))).toString('base64'),
  }
}

function pem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64')
  const lines = base64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** A host key error as a UserError: RSA on QuickJS, or bytes that are no key. */
function keyError(error: unknown, type: HardwareKeyType | undefined, source?: string): unknown {
  const code = (error as {code?: string}).code
  if (code === 'ENOTSUP') {
    return new UserError('E_HARDWARE_KEY', `${type ? `a ${type} hardware identity key` : `${source ?? 'the key'}`} needs the Node runtime: QuickJS makes and signs with ECDSA P-256 and P-384 keys only`, {
      hint: 'use "keyType": "ecdsa-p256" (the default) or "ecdsa-p384" in the registration config, or run the hooks with node (node prepare-device.cjs) where RSA is wanted',
      kind: 'failed',
    })
  }

  if (code === 'EKEYFORMAT' && source !== undefined) {
    return new UserError('E_IDENTITY_KEY_FORMAT', `${source} is not a PKCS#8 private key: ${(error as Error).message.replace(/^EKEYFORMAT: /, '')}`, {
      hint: `restore it from a backup, or delete it so a new key is made (${KEY_FILE_RULES.consequence})`,
      kind: 'failed',
    })
  }

  return error
}
