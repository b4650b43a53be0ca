/**
 * The embedded store: one SQLite file, for a factory line or a lab on one machine, in WAL mode.
 *
 * Durability where it matters, without stalling the service: every transaction commits with
 * `synchronous = NORMAL` (written to the WAL, no fsync), and a serial is answered only after an
 * fsync of the WAL that began after its commit. That fsync runs on libuv's thread pool, not on the
 * event loop, and one fsync covers every serial committed before it began (group commit), so a
 * serial a device was given survives a power cut with its signing-log entry, as with
 * `synchronous = FULL`. Nonces need no fsync of their own: losing one costs a device a retry, and
 * since the WAL is written in order, the fsync that covers a serial covers every earlier nonce
 * deletion, so a consumed nonce cannot come back to be replayed. Measured with the serve benchmark
 * on a quiet machine: 63–69 % of the RSA-4096 signing limit with an fsync per serial on the event
 * loop, 69–73 % with this (three runs each).
 */
import {closeSync, constants, existsSync, fsync, mkdirSync, openSync} from 'node:fs'
import {dirname} from 'node:path'

import Database from 'better-sqlite3'

import {UserError} from '../../errors.js'
import {IDENTITY_KEY_COLUMNS, identityKey, type IdentityKeyRow, importVerdict} from './identities.js'
import {MIGRATIONS, type MigrationResult, newerSchemaMessage, SCHEMA_VERSION} from './migrations.js'
import {
  admissionBlockSql,
  admissionListedSql,
  BLOCK_COLUMNS,
  blockRecord,
  type BlockRow,
  refusalQuerySql,
  refusalRecord,
  type RefusalRow,
  signingLogQuerySql,
  sqliteNamed,
  sqlitePlaceholder,
  targetValues,
} from './policy-rows.js'
import type {
  AdmissionFacts,
  AllowedSerial,
  BlockTarget,
  DeviceBlock,
  HardwareIdentityKey,
  IdentityConflict,
  ImportOutcome,
  IssueOutcome,
  NewHardwareIdentity,
  NewRefusal,
  NonceCheck,
  RefusalEntry,
  RefusalQuery,
  Retention,
  SerialClaim,
  ServiceStore,
  SigningLogEntry,
  SigningLogQuery,
} from './types.js'

export const SQLITE_SCHEMA_VERSION = SCHEMA_VERSION

/** Signatures spent on one request before its rows are left to settle (the device retries). */
const MAX_ATTEMPTS = 5

/** Revision 0 is a first issue; a higher one is the device's row asking again. */
type Decision = Exclude<IssueOutcome, {kind: 'issued'}> | {kind: 'sign'; revision: number}

interface DeviceRow {
  serial: string
  device_key_sha3_384: string
  revision: number
}

interface LogRow {
  id: number
  assertion?: null | string
  brand: string
  model: string
  serial: string
  device_key_sha3_384: string
  revision: number
  signed: string
  hardware_id: null | string
  hardware_issuer: null | string
  original_brand: null | string
  original_model: null | string
  original_serial: null | string
}

/**
 * Opens (and creates) the file and brings its schema up to date: SQLite is the embedded default,
 * one file on one machine, where a migration on open cannot race another machine's.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): ServiceStore {
  return new SqliteStore(openDatabase(path, migrateSqlite).db, path, options.fsync ?? fsync)
}

interface SqliteStoreOptions {
  /** How the WAL is made durable (tests count the calls); node:fs's fsync by default. */
  fsync?: (fd: number, done: (error: NodeJS.ErrnoException | null) => void) => void
}

/** The schema version of a SQLite file, read without changing it; undefined when there is no file. */
export function sqliteSchemaVersion(path: string): number | undefined {
  if (path !== ':memory:' && !existsSync(path)) return undefined
  const db = new Database(path, {fileMustExist: true, readonly: true})
  try {
    return db.pragma('user_version', {simple: true}) as number
  } finally {
    db.close()
  }
}

/** `serve migrate` on a SQLite file: what it did. */
export function migrateSqliteFile(path: string): MigrationResult {
  const {db, result} = openDatabase(path, migrateSqlite)
  db.close()
  return result
}

function openDatabase<T>(path: string, prepare: (db: Database.Database) => T): {db: Database.Database; result: T} {
  if (path !== ':memory:') {
    try {
      mkdirSync(dirname(path), {recursive: true})
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new UserError(
        'E_SERVE_DATABASE',
        `cannot create the directory of the sqlite database ${path}: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOTDIR' || code === 'EEXIST' ? 'a part of the path is a file' : (error as Error).message}`,
        {
          cause: error,
          file: path,
          hint: `point database: at a directory the serve user may write (e.g. sqlite:/var/lib/snap-gadget/serve.db), or create ${dirname(path)} for it`,
          kind: 'io',
        },
      )
    }
  }

  let db: Database.Database | undefined
  try {
    db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('busy_timeout = 5000')
    return {db, result: prepare(db)}
  } catch (error) {
    db?.close()
    // A driver without its addon is not this file's fault: the caller says how to install it.
    if (/Could not locate the bindings file/.test(String((error as Error).message))) throw error
    throw new UserError('E_SERVE_DATABASE', `cannot open the sqlite database ${path}: ${(error as Error).message}`, {
      cause: error,
      file: path,
      hint: 'check that the directory is writable and the file is a snap-gadget serve database',
      kind: 'io',
    })
  }
}

/**
 * Brings the file to {@link SCHEMA_VERSION}, each step in its own immediate transaction: a second
 * process opening the same file waits for the write lock and then finds the step done.
 */
function migrateSqlite(db: Database.Database): MigrationResult {
  const from = db.pragma('user_version', {simple: true}) as number
  if (from > SCHEMA_VERSION) throw new Error(newerSchemaMessage(from))
  const applied: string[] = []
  for (let version = from; version < SCHEMA_VERSION; version++) {
    const done = db
      .transaction(() => {
        // Another process may have applied this step while this one waited for the lock.
        if ((db.pragma('user_version', {simple: true}) as number) !== version) return false
        db.exec(MIGRATIONS[version].sqlite)
        db.pragma(`user_version = ${version + 1}`)
        return true
      })
      .immediate()
    if (done) applied.push(MIGRATIONS[version].summary)
  }

  return {applied, from, to: SCHEMA_VERSION}
}

class SqliteStore implements ServiceStore {
  private readonly statements
  private walFd: number | undefined
  /** The fsync of the WAL under way, and the one that starts when it ends. */
  private syncing: Promise<void> | undefined
  private nextSync: Promise<void> | undefined

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    private readonly fsyncFile: NonNullable<SqliteStoreOptions['fsync']>,
  ) {
    this.statements = {
      addNonce: db.prepare('INSERT INTO nonce (nonce, scope, created_ms) VALUES (?, ?, ?)'),
      consumeNonce: db.prepare<[string], {created_ms: number; scope: string}>('DELETE FROM nonce WHERE nonce = ? RETURNING scope, created_ms'),
      deviceByKey: db.prepare<[string, string, string], DeviceRow>('SELECT serial, device_key_sha3_384, revision FROM device WHERE brand = ? AND model = ? AND device_key_sha3_384 = ?'),
      deviceBySerial: db.prepare<[string, string, string], DeviceRow>('SELECT serial, device_key_sha3_384, revision FROM device WHERE brand = ? AND model = ? AND serial = ?'),
      insertDevice: db.prepare('INSERT INTO device (brand, model, serial, device_key_sha3_384, revision) VALUES (?, ?, ?, ?, ?)'),
      bindIdentity: db.prepare('UPDATE hardware_identity SET device_key_sha3_384 = ? WHERE issuer_id = ? AND key_sha3_384 = ? AND device_key_sha3_384 IS NULL'),
      identitiesByDigest: db.prepare<[string], IdentityKeyRow>(`SELECT ${IDENTITY_KEY_COLUMNS} FROM hardware_identity WHERE key_sha3_384 = ? ORDER BY issuer_id`),
      identityByDevice: db.prepare<[string], IdentityKeyRow>(`SELECT ${IDENTITY_KEY_COLUMNS} FROM hardware_identity WHERE device_key_sha3_384 = ?`),
      identityByHardwareId: db.prepare<[string, string], IdentityKeyRow>(`SELECT ${IDENTITY_KEY_COLUMNS} FROM hardware_identity WHERE issuer_id = ? AND hardware_id = ?`),
      identityByKey: db.prepare<[string, string], IdentityKeyRow>(`SELECT ${IDENTITY_KEY_COLUMNS} FROM hardware_identity WHERE issuer_id = ? AND key_sha3_384 = ?`),
      identityCount: db.prepare<[], {n: number}>('SELECT count(*) AS n FROM hardware_identity'),
      insertIdentity: db.prepare('INSERT INTO hardware_identity (issuer_id, key_sha3_384, hardware_id, hardware_name, manufacturer, key_type, hardware_id_key, imported) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      insertIdentityAssertion: db.prepare('INSERT INTO hardware_identity_assertion (issuer_id, key_sha3_384, assertion) VALUES (?, ?, ?)'),
      insertLog: db.prepare(
        'INSERT INTO signing_log (brand, model, serial, device_key_sha3_384, revision, signed, assertion, hardware_id, hardware_issuer, original_brand, original_model, original_serial) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      purgeNonces: db.prepare('DELETE FROM nonce WHERE created_ms < ?'),
      updateRevision: db.prepare('UPDATE device SET revision = ? WHERE brand = ? AND model = ? AND serial = ?'),
      admissionBlock: db.prepare<[Record<string, unknown>], BlockRow>(admissionBlockSql(sqlitePlaceholder)),
      admissionListed: db.prepare<[Record<string, unknown>], {listed: number}>(admissionListedSql(sqlitePlaceholder)),
      insertAllowed: db.prepare('INSERT INTO allowed_serial (brand, model, serial, imported) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      activeBlock: db.prepare<[string, string, string, string], BlockRow>(`SELECT ${BLOCK_COLUMNS} FROM device_block WHERE kind = ? AND value = ? AND brand = ? AND model = ? AND unblocked IS NULL`),
      insertBlock: db.prepare('INSERT INTO device_block (kind, value, brand, model, reason, blocked) VALUES (?, ?, ?, ?, ?, ?)'),
      endBlock: db.prepare('UPDATE device_block SET unblocked = ?, unblock_reason = ? WHERE id = ?'),
      blockById: db.prepare<[number | bigint], BlockRow>(`SELECT ${BLOCK_COLUMNS} FROM device_block WHERE id = ?`),
      insertRefusal: db.prepare('INSERT INTO refusal_log (at, at_ms, code, status, brand, model, verified, serial, device_key_sha3_384, client, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      nonceCount: db.prepare<[], {n: number}>('SELECT count(*) AS n FROM nonce'),
    }
  }

  async addNonce(nonce: string, scope: string, now: Date): Promise<void> {
    this.statements.addNonce.run(nonce, scope, now.getTime())
  }

  async consumeNonce(nonce: string, scope: string, now: Date, maxAgeMs: number): Promise<NonceCheck> {
    const row = this.statements.consumeNonce.get(nonce)
    if (!row) return 'unknown'
    if (now.getTime() - row.created_ms > maxAgeMs) return 'expired'
    return row.scope === scope ? 'ok' : 'wrong-model'
  }

  async purgeNonces(before: Date): Promise<number> {
    return this.statements.purgeNonces.run(before.getTime()).changes
  }

  /**
   * The decision is made twice: once to know which revision to sign, and again in the write
   * transaction after the signature, which records only if the rows still say the same. The
   * signature runs outside any transaction (a SQLite transaction cannot wait for the thread
   * pool, and holding the write lock for a signature would stall every other request); another
   * request for the same serial or key that commits meanwhile costs this one a second signature.
   */
  async issueSerial(claim: SerialClaim, sign: (revision: number) => Promise<string>): Promise<IssueOutcome> {
    const s = this.statements
    const decide = (): Decision => {
      if (claim.hardware) {
        const identity = s.identityByKey.get(claim.hardware.issuerId, claim.hardware.digest)
        if (!identity) return {kind: 'identity-unknown'}
        if (identity.device_key_sha3_384 !== null && identity.device_key_sha3_384 !== claim.deviceKeyId) return {deviceKeyId: identity.device_key_sha3_384, kind: 'identity-taken'}
        const held = s.identityByDevice.get(claim.deviceKeyId)
        if (held && (held.issuer_id !== identity.issuer_id || held.key_sha3_384 !== identity.key_sha3_384)) return {hardwareId: held.hardware_id, issuerId: held.issuer_id, kind: 'device-has-identity'}
      }

      const bySerial = s.deviceBySerial.get(claim.brand, claim.model, claim.serial)
      if (bySerial && bySerial.device_key_sha3_384 !== claim.deviceKeyId) return {kind: 'serial-taken'}
      const byKey = bySerial ?? s.deviceByKey.get(claim.brand, claim.model, claim.deviceKeyId)
      if (byKey && byKey.serial !== claim.serial) return {kind: 'key-has-serial', serial: byKey.serial}
      return {kind: 'sign', revision: byKey ? byKey.revision + 1 : 0}
    }

    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const planned = decide()
      if (planned.kind !== 'sign') return planned
      const assertion = await sign(planned.revision)
      const record = this.db.transaction((): IssueOutcome | undefined => {
        const now = decide()
        if (now.kind !== 'sign') return now
        if (now.revision !== planned.revision) return undefined
        const signed = claim.now.toISOString()
        if (now.revision > 0) s.updateRevision.run(now.revision, claim.brand, claim.model, claim.serial)
        else s.insertDevice.run(claim.brand, claim.model, claim.serial, claim.deviceKeyId, now.revision)
        const hardware = claim.hardware
        if (hardware) s.bindIdentity.run(claim.deviceKeyId, hardware.issuerId, hardware.digest)
        const original = claim.remodelledFrom
        const {lastInsertRowid} = s.insertLog.run(
          claim.brand,
          claim.model,
          claim.serial,
          claim.deviceKeyId,
          now.revision,
          signed,
          assertion,
          hardware?.hardwareId ?? null,
          hardware?.issuerId ?? null,
          original?.brand ?? null,
          original?.model ?? null,
          original?.serial ?? null,
        )
        const entry: SigningLogEntry = {brand: claim.brand, deviceKeyId: claim.deviceKeyId, id: Number(lastInsertRowid), model: claim.model, revision: now.revision, serial: claim.serial, signed}
        if (hardware) Object.assign(entry, {hardwareId: hardware.hardwareId, hardwareIssuer: hardware.issuerId})
        if (original) entry.remodelledFrom = {...original}
        return {assertion, entry, kind: 'issued'}
      })
      const outcome = record.immediate()
      if (outcome === undefined) continue
      if (outcome.kind === 'issued') await this.durable()
      return outcome
    }

    // As busy as a locked database: the service answers 503 and the device asks again later.
    throw Object.assign(new Error(`serial ${claim.serial} of ${claim.brand}/${claim.model}: its rows changed under ${MAX_ATTEMPTS} signatures in a row`), {code: 'SQLITE_BUSY'})
  }

  /** Resolves once an fsync of the WAL that began after this call has ended. */
  private durable(): Promise<void> {
    if (this.path === ':memory:') return Promise.resolve()
    // An fsync under way may have begun before the caller's commit was written: wait for the next.
    if (this.nextSync) return this.nextSync
    const start = (): Promise<void> => {
      this.nextSync = undefined
      this.syncing = this.syncWal().finally(() => {
        this.syncing = undefined
      })
      return this.syncing
    }

    if (!this.syncing) return start()
    this.nextSync = this.syncing.then(start, start)
    return this.nextSync
  }

  private syncWal(): Promise<void> {
    if (this.walFd === undefined) {
      // The WAL exists while this connection is open; its directory entry is made durable once.
      this.walFd = openSync(`${this.path}-wal`, constants.O_RDONLY)
      const dir = openSync(dirname(this.path), constants.O_RDONLY)
      const directory = this.fsyncOf(dir).finally(() => closeSync(dir))
      return Promise.all([this.fsyncOf(this.walFd), directory]).then(() => {})
    }

    return this.fsyncOf(this.walFd)
  }

  private fsyncOf(fd: number): Promise<void> {
    return new Promise((resolve, reject) => this.fsyncFile(fd, (error) => (error ? reject(error) : resolve())))
  }

  async signingLog(query: SigningLogQuery = {}): Promise<SigningLogEntry[]> {
    const {sql, values} = signingLogQuerySql(query, sqlitePlaceholder)
    return this.db.prepare<[Record<string, unknown>], LogRow>(sql).all(sqliteNamed(values)).map(logEntry)
  }

  async importAllowedSerials(serials: readonly AllowedSerial[], now: Date): Promise<{imported: number; unchanged: number}> {
    const imported = now.toISOString()
    const run = this.db.transaction(() => {
      let added = 0
      for (const s of serials) added += this.statements.insertAllowed.run(s.brand, s.model, s.serial, imported).changes
      return {imported: added, unchanged: serials.length - added}
    })
    const result = run.immediate()
    await this.durable()
    return result
  }

  async allowedSerialCount(brand?: string, model?: string): Promise<number> {
    const row =
      brand === undefined
        ? (this.db.prepare('SELECT count(*) AS n FROM allowed_serial').get() as {n: number})
        : (this.db.prepare('SELECT count(*) AS n FROM allowed_serial WHERE brand = ? AND model = ?').get(brand, model ?? '') as {n: number})
    return row.n
  }

  async admission(brand: string, model: string, serial: string, deviceKeyId: string): Promise<AdmissionFacts> {
    const values = sqliteNamed([brand, model, serial, deviceKeyId])
    const block = this.statements.admissionBlock.get(values)
    const listed = this.statements.admissionListed.get(sqliteNamed([brand, model, serial])) !== undefined
    return block ? {block: blockRecord(block), listed} : {listed}
  }

  async block(target: BlockTarget, reason: string, now: Date): Promise<{kind: 'blocked' | 'held'; block: DeviceBlock}> {
    const s = this.statements
    const result = this.db
      .transaction(() => {
        const held = s.activeBlock.get(...(targetValues(target) as [string, string, string, string]))
        if (held) return {block: blockRecord(held), kind: 'held' as const}
        const {lastInsertRowid} = s.insertBlock.run(...targetValues(target), reason, now.toISOString())
        return {block: blockRecord(s.blockById.get(lastInsertRowid)!), kind: 'blocked' as const}
      })
      .immediate()
    await this.durable()
    return result
  }

  async unblock(target: BlockTarget, reason: string, now: Date): Promise<DeviceBlock | undefined> {
    const s = this.statements
    const result = this.db
      .transaction(() => {
        const held = s.activeBlock.get(...(targetValues(target) as [string, string, string, string]))
        if (!held) return undefined
        s.endBlock.run(now.toISOString(), reason, held.id)
        return blockRecord(s.blockById.get(Number(held.id))!)
      })
      .immediate()
    await this.durable()
    return result
  }

  async blocks(all = false): Promise<DeviceBlock[]> {
    return this.db
      .prepare<[], BlockRow>(`SELECT ${BLOCK_COLUMNS} FROM device_block${all ? '' : ' WHERE unblocked IS NULL'} ORDER BY id DESC`)
      .all()
      .map(blockRecord)
  }

  async logRefusal(r: NewRefusal): Promise<void> {
    this.statements.insertRefusal.run(r.at.toISOString(), r.at.getTime(), r.code, r.status, r.brand ?? null, r.model ?? null, r.verified ? 1 : 0, r.serial ?? null, r.deviceKeyId ?? null, r.client ?? null, r.message)
  }

  async refusalLog(query: RefusalQuery = {}): Promise<RefusalEntry[]> {
    const {sql, values} = refusalQuerySql(query, sqlitePlaceholder)
    return this.db.prepare<[Record<string, unknown>], RefusalRow>(sql).all(sqliteNamed(values)).map(refusalRecord)
  }

  async pruneRefusals(retention: Retention, now: Date): Promise<number> {
    let deleted = 0
    if (retention.maxAgeMs !== undefined) deleted += this.db.prepare('DELETE FROM refusal_log WHERE at_ms < ?').run(now.getTime() - retention.maxAgeMs).changes
    if (retention.entries !== undefined) {
      deleted += this.db.prepare('DELETE FROM refusal_log WHERE id <= (SELECT max(id) FROM refusal_log) - ?').run(retention.entries).changes
    }

    return deleted
  }

  async nonceCount(): Promise<number> {
    return this.statements.nonceCount.get()!.n
  }

  async importIdentities(identities: readonly NewHardwareIdentity[], now: Date): Promise<ImportOutcome> {
    const s = this.statements
    const imported = now.toISOString()
    const run = this.db.transaction((): ImportOutcome => {
      const conflicts: IdentityConflict[] = []
      let added = 0
      for (const identity of identities) {
        const verdict = importVerdict(identity, s.identityByKey.get(identity.issuerId, identity.digest), s.identityByHardwareId.get(identity.issuerId, identity.hardwareId))
        if (verdict === 'unchanged') continue
        if (verdict !== 'new') {
          conflicts.push(verdict)
          continue
        }

        s.insertIdentity.run(identity.issuerId, identity.digest, identity.hardwareId, identity.hardwareName, identity.manufacturer, identity.keyType, identity.hardwareIdKey, imported)
        s.insertIdentityAssertion.run(identity.issuerId, identity.digest, identity.assertion)
        added++
      }

      // All or none: a conflict undoes what this import added.
      if (conflicts.length > 0) throw new ImportConflicts(conflicts)
      return {imported: added, kind: 'imported', unchanged: identities.length - added}
    })
    try {
      const result = run.immediate()
      await this.durable()
      return result
    } catch (error) {
      if (error instanceof ImportConflicts) return {conflicts: error.conflicts, kind: 'conflicts'}
      throw error
    }
  }

  async findIdentities(digest: string): Promise<HardwareIdentityKey[]> {
    return this.statements.identitiesByDigest.all(digest).map(identityKey)
  }

  async identityCount(): Promise<number> {
    return this.statements.identityCount.get()!.n
  }

  async signingLogSize(): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS n FROM signing_log').get() as {n: number}).n
  }

  async probeWrite(probe: string): Promise<void> {
    this.db
      .transaction(() => {
        this.statements.addNonce.run(probe, '', 0)
        this.statements.consumeNonce.get(probe)
      })
      .immediate()
  }

  async close(): Promise<void> {
    await this.syncing
    await this.nextSync
    this.db.close()
    if (this.walFd !== undefined) closeSync(this.walFd)
    this.walFd = undefined
  }
}

function logEntry(row: LogRow): SigningLogEntry {
  const entry: SigningLogEntry = {brand: row.brand, deviceKeyId: row.device_key_sha3_384, id: Number(row.id), model: row.model, revision: row.revision, serial: row.serial, signed: row.signed}
  if (row.hardware_id !== null) entry.hardwareId = row.hardware_id
  if (row.hardware_issuer !== null) entry.hardwareIssuer = row.hardware_issuer
  if (row.original_brand !== null && row.original_model !== null && row.original_serial !== null) entry.remodelledFrom = {brand: row.original_brand, model: row.original_model, serial: row.original_serial}
  if (row.assertion !== undefined) entry.assertion = row.assertion
  return entry
}

/** Thrown inside an import's transaction to undo it. */
class ImportConflicts extends Error {
  constructor(readonly conflicts: IdentityConflict[]) {
    super('the import conflicts with the identities held')
  }
}
