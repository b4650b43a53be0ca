/**
 * What the device service keeps, behind one interface so that one machine (SQLite) and several
 * instances on one database server hold the same rules. Every rule that must hold across requests
 * is the store's, enforced by the database inside one transaction, never by process memory:
 * - a nonce is consumed at most once;
 * - a serial belongs to one device key, and a device key has one serial (per brand and model);
 * - every issued serial assertion has exactly one signing-log entry, written in the transaction
 *   that reserved its revision;
 * - a hardware identity (an issuer's certification of a key) is imported once, with one hardware
 *   id, and registers one device key; a device key registers with one hardware identity.
 */

/** One row of the signing log: a serial assertion that was issued. */
export interface SigningLogEntry {
  /** Its place in the log: later entries have larger ids (for paging with `before`). */
  id: number
  brand: string
  model: string
  serial: string
  /** sha3-384 id of the device key the serial certifies. */
  deviceKeyId: string
  revision: number
  /** When it was signed (RFC 3339, UTC). */
  signed: string
  /** The hardware id of the identity the device registered with (hardware-identity onboarding). */
  hardwareId?: string
  /** The account that issued that identity. */
  hardwareIssuer?: string
  /** On a re-registration (remodel), the serial the device held before: its brand, model and number. */
  remodelledFrom?: OriginalSerial
  /**
   * The serial assertion as it was signed, when the query asks for it; null for an entry written
   * before the log kept them (schema version 1).
   */
  assertion?: null | string
}

export type NonceCheck = 'expired' | 'ok' | 'unknown' | 'wrong-model'

export interface SerialClaim {
  brand: string
  model: string
  serial: string
  deviceKeyId: string
  now: Date
  /** The hardware identity the device proved it holds, in hardware-identity onboarding. */
  hardware?: {issuerId: string; digest: string; hardwareId: string}
  /** On a re-registration (remodel), the serial the device held before, checked. */
  remodelledFrom?: OriginalSerial
}

/** The serial a remodelled device held before, as its serial-request's original-* headers name it. */
export interface OriginalSerial {
  brand: string
  model: string
  serial: string
}

export type IssueOutcome =
  | {kind: 'issued'; entry: SigningLogEntry; assertion: string}
  /** The serial was issued to another device key. */
  | {kind: 'serial-taken'}
  /** This device key already has another serial. */
  | {kind: 'key-has-serial'; serial: string}
  /** The hardware identity registered another device key. */
  | {kind: 'identity-taken'; deviceKeyId: string}
  /** This device key registered with another hardware identity. */
  | {kind: 'device-has-identity'; hardwareId: string; issuerId: string}
  /** The hardware identity is not in the store (any more). */
  | {kind: 'identity-unknown'}

/** An issuer's certification of one device's hardware identity key, as imported. */
export interface HardwareIdentityRecord {
  issuerId: string
  /** hardware-id-key-sha3-384: how a device's request finds it. */
  digest: string
  hardwareId: string
  hardwareName: string
  manufacturer: string
  /** ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072 or rsa-4096. */
  keyType: string
  /** The hardware-id-key header's text. */
  hardwareIdKey: string
  /** The hardware-identity assertion as it was imported. */
  assertion: string
  /** When it was imported (RFC 3339, UTC). */
  imported: string
  /** The device key it registered, once it has. */
  deviceKeyId?: string
}

export type NewHardwareIdentity = Omit<HardwareIdentityRecord, 'deviceKeyId' | 'imported'>

/** What a registration needs of an imported identity (findIdentities reads no more). */
export type HardwareIdentityKey = Pick<HardwareIdentityRecord, 'deviceKeyId' | 'digest' | 'hardwareId' | 'hardwareIdKey' | 'issuerId' | 'keyType'>

/** An identity that cannot be imported beside what the store holds (or what the same import brought before it). */
export interface IdentityConflict {
  identity: NewHardwareIdentity
  /** What the store holds that it contradicts. */
  held: {hardwareId: string; digest: string}
  /** The key is held under another hardware id, or the hardware id with another key. */
  why: 'id-has-other-key' | 'key-has-other-id'
}

export type ImportOutcome = {kind: 'conflicts'; conflicts: IdentityConflict[]} | {kind: 'imported'; imported: number; unchanged: number}

export interface SigningLogQuery {
  brand?: string
  model?: string
  serial?: string
  /** The newest entries first, at most this many. */
  limit?: number
  /** Only entries older than this id (the next page after an entry). */
  before?: number
  /** Also the signed assertion text of each entry. */
  withAssertion?: boolean
  /** Only entries signed at or after this time. */
  since?: Date
  /** Only entries signed before this time. */
  until?: Date
}

/** A serial of a model's allowlist, as `serve import --serials` brings it. */
export interface AllowedSerial {
  brand: string
  model: string
  serial: string
}

/** What is blocked: a serial (of one model, or of every model when brand and model are empty), or a device key. */
export interface BlockTarget {
  kind: 'device-key' | 'serial'
  value: string
  /** '' with model '': every model. */
  brand: string
  model: string
}

/** A block an operator set (serve block), active until unblocked. */
export interface DeviceBlock extends BlockTarget {
  id: number
  reason: string
  /** When (RFC 3339, UTC). */
  blocked: string
  unblocked?: string
  unblockReason?: string
}

/** What the store knows of a device that asks for a serial, for the issue policy. */
export interface AdmissionFacts {
  /** The serial is on its model's allowlist. */
  listed: boolean
  /** An active block on the serial or the device key, if any. */
  block?: DeviceBlock
}

/** A refusal of a serial request, as the refusal log keeps it: every client-chosen value as the client sent it, to be escaped wherever shown. */
export interface RefusalEntry {
  id: number
  /** When (RFC 3339, UTC). */
  at: string
  code: string
  status: number
  brand?: string
  model?: string
  /** Brand and model are those of the api-key or hardware identity the request proved; otherwise what it claimed. */
  verified: boolean
  serial?: string
  deviceKeyId?: string
  client?: string
  message: string
}

export type NewRefusal = Omit<RefusalEntry, 'at' | 'id'> & {at: Date}

export interface RefusalQuery {
  code?: string
  brand?: string
  model?: string
  since?: Date
  until?: Date
  limit?: number
  before?: number
}

/** How much of the refusal log is kept: the newest `entries`, none older than `maxAgeMs`. */
export interface Retention {
  entries?: number
  maxAgeMs?: number
}

export interface ServiceStore {
  /** Records a fresh nonce for devices of `scope` (brand/model). */
  addNonce(nonce: string, scope: string, now: Date): Promise<void>
  /** Deletes the nonce and says whether it existed, was younger than `maxAgeMs` and was `scope`'s. */
  consumeNonce(nonce: string, scope: string, now: Date, maxAgeMs: number): Promise<NonceCheck>
  /** Deletes nonces issued before `before`; returns how many. */
  purgeNonces(before: Date): Promise<number>
  /**
   * Decides whether `claim` may have its serial, reserves the revision (0 for a first issue, the
   * last one + 1 for a device asking again), calls `sign` with it and records the signed
   * assertion in the signing log, all or nothing: what is recorded is what was decided from the
   * rows as they are at commit, with the assertion `sign` made. Nothing is written when `sign` throws. `sign` may be called
   * again when another request changed those rows meanwhile.
   */
  issueSerial(claim: SerialClaim, sign: (revision: number) => Promise<string>): Promise<IssueOutcome>
  /**
   * Imports hardware identities, all or none: one the store holds already with the same hardware
   * id is unchanged (idempotent); a key held under another hardware id, or a hardware id held with
   * another key (same issuer), is a conflict, and then nothing is imported.
   */
  importIdentities(identities: readonly NewHardwareIdentity[], now: Date): Promise<ImportOutcome>
  /** The identities of any issuer whose key has this digest. */
  findIdentities(digest: string): Promise<HardwareIdentityKey[]>
  /** How many identities the store holds. */
  identityCount(): Promise<number>
  signingLog(query?: SigningLogQuery): Promise<SigningLogEntry[]>
  /** How many entries the log holds. */
  signingLogSize(): Promise<number>
  /** Adds serials to models' allowlists, all or none, in one transaction; a serial held already is unchanged. */
  importAllowedSerials(serials: readonly AllowedSerial[], now: Date): Promise<{imported: number; unchanged: number}>
  /** How many serials the allowlist of brand/model holds (of every model without them). */
  allowedSerialCount(brand?: string, model?: string): Promise<number>
  /** Whether the serial is on its model's allowlist, and the active block on it or the device key, in one read. */
  admission(brand: string, model: string, serial: string, deviceKeyId: string): Promise<AdmissionFacts>
  /** Blocks a serial or a device key; an active block of the same target is left as it is ('held'). */
  block(target: BlockTarget, reason: string, now: Date): Promise<{kind: 'blocked' | 'held'; block: DeviceBlock}>
  /** Ends the active block of the target, keeping it in the record; undefined when none was active. */
  unblock(target: BlockTarget, reason: string, now: Date): Promise<DeviceBlock | undefined>
  /** Blocks, newest first: the active ones, or all with `all`. */
  blocks(all?: boolean): Promise<DeviceBlock[]>
  /** Records a refusal. */
  logRefusal(refusal: NewRefusal): Promise<void>
  /** Refusals, newest first. */
  refusalLog(query?: RefusalQuery): Promise<RefusalEntry[]>
  /** Deletes the refusals the retention does not keep; returns how many. */
  pruneRefusals(retention: Retention, now: Date): Promise<number>
  /** Nonces issued and not yet used or purged. */
  nonceCount(): Promise<number>
  /**
   * Commits a write that leaves nothing behind (the nonce `probe` added and deleted, as created at time 0): throws when
   * the database cannot take a write now (gone, read-only, full), for the health endpoint.
   */
  probeWrite(probe: string): Promise<void>
  close(): Promise<void>
}
