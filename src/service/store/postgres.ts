/**
 * The store for several `serve` instances on one PostgreSQL server (behind a load balancer, the
 * way the Serial Vault runs). The instances share nothing but the database, so every rule is the
 * database's:
 * - a nonce is consumed by `DELETE … RETURNING`: of two instances given the same nonce, one gets
 *   the row and the other nothing;
 * - the device row is locked (`SELECT … FOR UPDATE`) before its revision is read, so a device
 *   asking twice at once gets revision n + 1 and n + 2, never n + 1 twice; a first issue racing
 *   another first issue for the same serial or key fails on a unique constraint, and the
 *   transaction is run again from the start (bounded), where it finds the other's row;
 * - the signature and its signing-log entry are written in the transaction that reserved the
 *   revision: committed together or not at all.
 *
 * A failure of the database (down, restarting, a connection cut) reaches the caller as an error
 * with an SQLSTATE or socket code, which the server answers with 503: snapd retries it.
 */
import pg from 'pg'

import {UserError} from '../../errors.js'
import {MIGRATIONS, type MigrationResult, newerSchemaMessage, SCHEMA_VERSION} from './migrations.js'
import {IDENTITY_KEY_COLUMNS, identityKey, type IdentityKeyRow, importVerdict} from './identities.js'
import {admissionBlockSql, admissionListedSql, BLOCK_COLUMNS, blockRecord, type BlockRow, postgresPlaceholder, refusalQuerySql, refusalRecord, type RefusalRow, signingLogQuerySql, targetValues} from './policy-rows.js'
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

interface PostgresLocation {
  url: string
  /** The URL without its password, for messages. */
  shown: string
}

interface OpenPostgresOptions {
  /** Apply pending migrations first (serve --migrate); otherwise an old schema is refused. */
  migrate?: boolean
  /** Connections this instance keeps at most. */
  poolSize?: number
}

/** An instance holds a few connections: the signature, not the database, bounds its throughput. */
const DEFAULT_POOL_SIZE = 8
/** A database that takes longer than this to accept or answer is down for the device: 503. */
const CONNECT_TIMEOUT_MS = 5000
const QUERY_TIMEOUT_MS = 15_000
/** Unique violations, serialization failures and deadlocks: another instance won a race. */
const RACE_CODES = new Set(['23505', '40001', '40P01'])
const MAX_ATTEMPTS = 5
/** Allowed serials inserted by one statement. */
const IMPORT_SLICE = 5000
/** pg_advisory_xact_lock keys ('snap', 'schm'): held while the schema is read or changed. */
const SCHEMA_LOCK = [0x73_6e_61_70, 0x73_63_68_6d] as const
/** SQLSTATE connection_failure: a lost connection pg reports without a code. */
const CONNECTION_FAILURE = '08006'

interface DeviceRow {
  serial: string
  device_key_sha3_384: string
  revision: number
}

interface LogRow extends DeviceRow {
  id: string
  assertion?: null | string
  brand: string
  model: string
  signed: string
  hardware_id: null | string
  hardware_issuer: null | string
  original_brand: null | string
  original_model: null | string
  original_serial: null | string
}

export async function openPostgresStore(location: PostgresLocation, options: OpenPostgresOptions = {}): Promise<ServiceStore> {
  const pool = createPool(location, options.poolSize ?? DEFAULT_POOL_SIZE)
  try {
    if (options.migrate) await migrate(pool, location)
    const version = await withClient(pool, location, (client) =>
      inTransaction(client, async () => {
        await client.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [...SCHEMA_LOCK])
        return schemaVersion(client)
      }),
    )
    if (version > SCHEMA_VERSION) throw schemaError(location, newerSchemaMessage(version), 'upgrade snap-gadget on every instance')
    if (version < SCHEMA_VERSION) {
      throw schemaError(
        location,
        `the database ${location.shown} is at schema version ${version}; this snap-gadget needs version ${SCHEMA_VERSION}`,
        'run `snap-gadget serve migrate --config FILE` once (or start one instance with --migrate): instances never change the schema unless asked',
      )
    }
  } catch (error) {
    await pool.end().catch(() => {})
    throw error
  }

  return new PostgresStore(pool)
}

/** `serve migrate` on PostgreSQL: applies pending steps under the schema lock. */
export async function migratePostgres(location: PostgresLocation): Promise<MigrationResult> {
  const pool = createPool(location, 1)
  try {
    return await migrate(pool, location)
  } finally {
    await pool.end().catch(() => {})
  }
}

/** The schema version of a PostgreSQL database, read without changing it (0: no tables yet). */
export async function postgresSchemaVersion(location: PostgresLocation): Promise<number> {
  const pool = createPool(location, 1)
  try {
    return await withClient(pool, location, (client) => schemaVersion(client))
  } finally {
    await pool.end().catch(() => {})
  }
}

function createPool(location: PostgresLocation, max: number): pg.Pool {
  const pool = new pg.Pool({
    application_name: 'snap-gadget serve',
    connectionString: location.url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    max,
    query_timeout: QUERY_TIMEOUT_MS,
  })
  // An idle connection the server closed (a restart) is dropped by the pool; without a listener
  // the error would end the process.
  pool.on('error', () => {})
  return pool
}

/** All pending steps in one transaction under the exclusive schema lock: instances migrate in turn. */
async function migrate(pool: pg.Pool, location: PostgresLocation): Promise<MigrationResult> {
  return withClient(pool, location, (client) =>
    inTransaction(client, async () => {
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...SCHEMA_LOCK])
      await client.query('CREATE TABLE IF NOT EXISTS snap_gadget_schema (version INTEGER NOT NULL)')
      const from = await schemaVersion(client)
      if (from > SCHEMA_VERSION) throw schemaError(location, newerSchemaMessage(from), 'upgrade snap-gadget before migrating')
      const applied: string[] = []
      for (let version = from; version < SCHEMA_VERSION; version++) {
        await client.query(MIGRATIONS[version].postgres)
        applied.push(MIGRATIONS[version].summary)
      }

      await client.query('DELETE FROM snap_gadget_schema')
      await client.query('INSERT INTO snap_gadget_schema (version) VALUES ($1)', [SCHEMA_VERSION])
      return {applied, from, to: SCHEMA_VERSION}
    }),
  )
}

async function schemaVersion(client: pg.PoolClient): Promise<number> {
  const exists = await client.query<{found: string | null}>("SELECT to_regclass('snap_gadget_schema') AS found")
  if (exists.rows[0].found === null) return 0
  const rows = await client.query<{version: number}>('SELECT version FROM snap_gadget_schema')
  return rows.rows[0]?.version ?? 0
}

/** Opening: a database that cannot be reached is the operator's to fix, said with the URL (no password). */
async function withClient<T>(pool: pg.Pool, location: PostgresLocation, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient
  try {
    client = watched(await pool.connect())
  } catch (error) {
    throw new UserError('E_SERVE_DATABASE', `cannot reach the postgres database ${location.shown}: ${(error as Error).message}`, {
      cause: error,
      hint: 'check that PostgreSQL runs and accepts this user (the password goes in PGPASSWORD or ~/.pgpass)',
      kind: 'io',
    })
  }

  try {
    return await work(client)
  } catch (error) {
    if (error instanceof UserError) throw error
    throw new UserError('E_SERVE_DATABASE', `the postgres database ${location.shown} refused: ${(error as Error).message}`, {
      cause: error,
      hint: 'check that the user may create tables in this database (serve migrate) and read and write them (serve)',
      kind: 'io',
    })
  } finally {
    release(client)
  }
}

async function inTransaction<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN')
  try {
    const result = await work()
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

function schemaError(location: PostgresLocation, message: string, hint: string): UserError {
  return new UserError('E_SERVE_SCHEMA', message.includes(location.shown) ? message : `${location.shown}: ${message}`, {hint, kind: 'io'})
}

class PostgresStore implements ServiceStore {
  constructor(private readonly pool: pg.Pool) {}

  async addNonce(nonce: string, scope: string, now: Date): Promise<void> {
    await this.query('INSERT INTO nonce (nonce, scope, created_ms) VALUES ($1, $2, $3)', [nonce, scope, now.getTime()])
  }

  async consumeNonce(nonce: string, scope: string, now: Date, maxAgeMs: number): Promise<NonceCheck> {
    const {rows} = await this.query<{created_ms: string; scope: string}>('DELETE FROM nonce WHERE nonce = $1 RETURNING scope, created_ms', [nonce])
    if (rows.length === 0) return 'unknown'
    if (now.getTime() - Number(rows[0].created_ms) > maxAgeMs) return 'expired'
    return rows[0].scope === scope ? 'ok' : 'wrong-model'
  }

  async purgeNonces(before: Date): Promise<number> {
    return (await this.query('DELETE FROM nonce WHERE created_ms < $1', [before.getTime()])).rowCount ?? 0
  }

  async issueSerial(claim: SerialClaim, sign: (revision: number) => Promise<string>): Promise<IssueOutcome> {
    const key = [claim.brand, claim.model]
    return this.retried(async (client) => {
      const outcome = await this.issueIn(client, key, claim, sign)
      return {commit: outcome.kind === 'issued', result: outcome}
    })
  }

  /**
   * `work` in a transaction, committed when it says so; run again from the start (bounded) when
   * another instance won a race on a unique row.
   */
  private async retried<T>(work: (client: pg.PoolClient) => Promise<{commit: boolean; result: T}>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect()
      let healthy = true
      try {
        await query(client, 'BEGIN')
        const {commit, result} = await work(client)
        await query(client, commit ? 'COMMIT' : 'ROLLBACK')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          healthy = false
        })
        // Another instance wrote this row first: the next attempt sees it.
        if (attempt < MAX_ATTEMPTS && RACE_CODES.has((error as {code?: string}).code ?? '')) continue
        throw error
      } finally {
        release(client, !healthy)
      }
    }
  }

  private async issueIn(client: pg.PoolClient, key: string[], claim: SerialClaim, sign: (revision: number) => Promise<string>): Promise<IssueOutcome> {
    const hardware = claim.hardware
    if (hardware) {
      // The identity's row is locked first: of two device keys racing for one identity, the second
      // finds the first bound.
      const identity = (await query<IdentityKeyRow>(client, `SELECT ${IDENTITY_KEY_COLUMNS} FROM hardware_identity WHERE issuer_id = $1 AND key_sha3_384 = $2 FOR UPDATE`, [hardware.issuerId, hardware.digest])).rows[0]
      if (!identity) return {kind: 'identity-unknown'}
      if (identity.device_key_sha3_384 !== null && identity.device_key_sha3_384 !== claim.deviceKeyId) return {deviceKeyId: identity.device_key_sha3_384, kind: 'identity-taken'}
      const held = (await query<IdentityKeyRow>(client, `SELECT ${IDENTITY_KEY_COLUMNS} FROM hardware_identity WHERE device_key_sha3_384 = $1`, [claim.deviceKeyId])).rows[0]
      if (held && (held.issuer_id !== identity.issuer_id || held.key_sha3_384 !== identity.key_sha3_384)) return {hardwareId: held.hardware_id, issuerId: held.issuer_id, kind: 'device-has-identity'}
      if (identity.device_key_sha3_384 === null) {
        await query(client, 'UPDATE hardware_identity SET device_key_sha3_384 = $1 WHERE issuer_id = $2 AND key_sha3_384 = $3', [claim.deviceKeyId, hardware.issuerId, hardware.digest])
      }
    }

    const columns = 'serial, device_key_sha3_384, revision'
    const bySerial = (await query<DeviceRow>(client, `SELECT ${columns} FROM device WHERE brand = $1 AND model = $2 AND serial = $3 FOR UPDATE`, [...key, claim.serial])).rows[0]
    if (bySerial && bySerial.device_key_sha3_384 !== claim.deviceKeyId) return {kind: 'serial-taken'}
    const byKey = bySerial ?? (await query<DeviceRow>(client, `SELECT ${columns} FROM device WHERE brand = $1 AND model = $2 AND device_key_sha3_384 = $3 FOR UPDATE`, [...key, claim.deviceKeyId])).rows[0]
    if (byKey && byKey.serial !== claim.serial) return {kind: 'key-has-serial', serial: byKey.serial}
    const revision = byKey ? byKey.revision + 1 : 0
    // The device row first: a racing first issue fails here, before a signature is spent on it.
    if (byKey) await query(client, 'UPDATE device SET revision = $4 WHERE brand = $1 AND model = $2 AND serial = $3', [...key, claim.serial, revision])
    else await query(client, 'INSERT INTO device (brand, model, serial, device_key_sha3_384, revision) VALUES ($1, $2, $3, $4, $5)', [...key, claim.serial, claim.deviceKeyId, revision])
    const assertion = await sign(revision)
    const signed = claim.now.toISOString()
    const logged = await query<{id: string}>(
      client,
      'INSERT INTO signing_log (brand, model, serial, device_key_sha3_384, revision, signed, assertion, hardware_id, hardware_issuer, original_brand, original_model, original_serial) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id',
      [
        ...key,
        claim.serial,
        claim.deviceKeyId,
        revision,
        signed,
        assertion,
        hardware?.hardwareId ?? null,
        hardware?.issuerId ?? null,
        claim.remodelledFrom?.brand ?? null,
        claim.remodelledFrom?.model ?? null,
        claim.remodelledFrom?.serial ?? null,
      ],
    )
    const entry: SigningLogEntry = {brand: claim.brand, deviceKeyId: claim.deviceKeyId, id: Number(logged.rows[0].id), model: claim.model, revision, serial: claim.serial, signed}
    if (hardware) Object.assign(entry, {hardwareId: hardware.hardwareId, hardwareIssuer: hardware.issuerId})
    if (claim.remodelledFrom) entry.remodelledFrom = {...claim.remodelledFrom}
    return {assertion, entry, kind: 'issued'}
  }

  async importIdentities(identities: readonly NewHardwareIdentity[], now: Date): Promise<ImportOutcome> {
    const imported = now.toISOString()
    return this.retried(async (client) => {
      const conflicts: IdentityConflict[] = []
      let added = 0
      for (const identity of identities) {
        const byKey = (await query<IdentityKeyRow>(client, `SELECT ${IDENTITY_KEY_COLUMNS} FROM hardware_identity WHERE issuer_id = $1 AND key_sha3_384 = $2`, [identity.issuerId, identity.digest])).rows[0]
        const byHardwareId = byKey
          ? undefined
          : (await query<IdentityKeyRow>(client, `SELECT ${IDENTITY_KEY_COLUMNS} FROM hardware_identity WHERE issuer_id = $1 AND hardware_id = $2`, [identity.issuerId, identity.hardwareId])).rows[0]
        const verdict = importVerdict(identity, byKey, byHardwareId)
        if (verdict === 'unchanged') continue
        if (verdict !== 'new') {
          conflicts.push(verdict)
          continue
        }

        await query(client, 'INSERT INTO hardware_identity (issuer_id, key_sha3_384, hardware_id, hardware_name, manufacturer, key_type, hardware_id_key, imported) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          identity.issuerId,
          identity.digest,
          identity.hardwareId,
          identity.hardwareName,
          identity.manufacturer,
          identity.keyType,
          identity.hardwareIdKey,
          imported,
        ])
        await query(client, 'INSERT INTO hardware_identity_assertion (issuer_id, key_sha3_384, assertion) VALUES ($1, $2, $3)', [identity.issuerId, identity.digest, identity.assertion])
        added++
      }

      // All or none: a conflict rolls back what this import added.
      if (conflicts.length > 0) return {commit: false, result: {conflicts, kind: 'conflicts'} as ImportOutcome}
      return {commit: true, result: {imported: added, kind: 'imported', unchanged: identities.length - added} as ImportOutcome}
    })
  }

  async findIdentities(digest: string): Promise<HardwareIdentityKey[]> {
    const {rows} = await this.query<IdentityKeyRow>(`SELECT ${IDENTITY_KEY_COLUMNS} FROM hardware_identity WHERE key_sha3_384 = $1 ORDER BY issuer_id`, [digest])
    return rows.map(identityKey)
  }

  async identityCount(): Promise<number> {
    const {rows} = await this.query<{n: string}>('SELECT count(*) AS n FROM hardware_identity')
    return Number(rows[0].n)
  }

  async signingLog(q: SigningLogQuery = {}): Promise<SigningLogEntry[]> {
    const {sql, values} = signingLogQuerySql(q, postgresPlaceholder)
    const {rows} = await this.query<LogRow>(sql, values)
    return rows.map((row) => {
      const entry: SigningLogEntry = {brand: row.brand, deviceKeyId: row.device_key_sha3_384, id: Number(row.id), model: row.model, revision: row.revision, serial: row.serial, signed: row.signed}
      if (row.hardware_id !== null) entry.hardwareId = row.hardware_id
      if (row.hardware_issuer !== null) entry.hardwareIssuer = row.hardware_issuer
      if (row.original_brand !== null && row.original_model !== null && row.original_serial !== null) entry.remodelledFrom = {brand: row.original_brand, model: row.original_model, serial: row.original_serial}
      if (row.assertion !== undefined) entry.assertion = row.assertion
      return entry
    })
  }

  async signingLogSize(): Promise<number> {
    const {rows} = await this.query<{n: string}>('SELECT count(*) AS n FROM signing_log')
    return Number(rows[0].n)
  }

  async importAllowedSerials(serials: readonly AllowedSerial[], now: Date): Promise<{imported: number; unchanged: number}> {
    const imported = now.toISOString()
    return this.retried(async (client) => {
      let added = 0
      // In slices of one statement each: a list of a million serials is a few thousand round trips, in one transaction.
      for (let start = 0; start < serials.length; start += IMPORT_SLICE) {
        const slice = serials.slice(start, start + IMPORT_SLICE)
        const result = await query(client, 'INSERT INTO allowed_serial (brand, model, serial, imported) SELECT b, m, s, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(b, m, s) ON CONFLICT DO NOTHING', [
          slice.map((x) => x.brand),
          slice.map((x) => x.model),
          slice.map((x) => x.serial),
          imported,
        ])
        added += result.rowCount ?? 0
      }

      return {commit: true, result: {imported: added, unchanged: serials.length - added}}
    })
  }

  async allowedSerialCount(brand?: string, model?: string): Promise<number> {
    const {rows} =
      brand === undefined
        ? await this.query<{n: string}>('SELECT count(*) AS n FROM allowed_serial')
        : await this.query<{n: string}>('SELECT count(*) AS n FROM allowed_serial WHERE brand = $1 AND model = $2', [brand, model ?? ''])
    return Number(rows[0].n)
  }

  async admission(brand: string, model: string, serial: string, deviceKeyId: string): Promise<AdmissionFacts> {
    // One round trip: the block and the allowlist in one statement.
    const {rows} = await this.query<BlockRow & {listed: boolean}>(
      `SELECT EXISTS (${admissionListedSql(postgresPlaceholder)}) AS listed, b.* FROM (SELECT 1) AS one LEFT JOIN (${admissionBlockSql(postgresPlaceholder)}) AS b ON TRUE`,
      [brand, model, serial, deviceKeyId],
    )
    const row = rows[0]
    return row.id === null ? {listed: row.listed} : {block: blockRecord(row), listed: row.listed}
  }

  async block(target: BlockTarget, reason: string, now: Date): Promise<{kind: 'blocked' | 'held'; block: DeviceBlock}> {
    return this.retried<{kind: 'blocked' | 'held'; block: DeviceBlock}>(async (client) => {
      const held = (await query<BlockRow>(client, `SELECT ${BLOCK_COLUMNS} FROM device_block WHERE kind = $1 AND value = $2 AND brand = $3 AND model = $4 AND unblocked IS NULL`, targetValues(target))).rows[0]
      if (held) return {commit: false, result: {block: blockRecord(held), kind: 'held' as const}}
      // A block racing another for the same target fails on the unique index, and the next attempt finds it held.
      const added = await query<BlockRow>(client, `INSERT INTO device_block (kind, value, brand, model, reason, blocked) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${BLOCK_COLUMNS}`, [
        ...targetValues(target),
        reason,
        now.toISOString(),
      ])
      return {commit: true, result: {block: blockRecord(added.rows[0]), kind: 'blocked' as const}}
    })
  }

  async unblock(target: BlockTarget, reason: string, now: Date): Promise<DeviceBlock | undefined> {
    const {rows} = await this.query<BlockRow>(`UPDATE device_block SET unblocked = $5, unblock_reason = $6 WHERE kind = $1 AND value = $2 AND brand = $3 AND model = $4 AND unblocked IS NULL RETURNING ${BLOCK_COLUMNS}`, [
      ...targetValues(target),
      now.toISOString(),
      reason,
    ])
    return rows[0] ? blockRecord(rows[0]) : undefined
  }

  async blocks(all = false): Promise<DeviceBlock[]> {
    const {rows} = await this.query<BlockRow>(`SELECT ${BLOCK_COLUMNS} FROM device_block${all ? '' : ' WHERE unblocked IS NULL'} ORDER BY id DESC`)
    return rows.map(blockRecord)
  }

  async logRefusal(r: NewRefusal): Promise<void> {
    await this.query('INSERT INTO refusal_log (at, at_ms, code, status, brand, model, verified, serial, device_key_sha3_384, client, message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', [
      r.at.toISOString(),
      r.at.getTime(),
      r.code,
      r.status,
      r.brand ?? null,
      r.model ?? null,
      r.verified ? 1 : 0,
      r.serial ?? null,
      r.deviceKeyId ?? null,
      r.client ?? null,
      r.message,
    ])
  }

  async refusalLog(q: RefusalQuery = {}): Promise<RefusalEntry[]> {
    const {sql, values} = refusalQuerySql(q, postgresPlaceholder)
    const {rows} = await this.query<RefusalRow>(sql, values)
    return rows.map(refusalRecord)
  }

  async pruneRefusals(retention: Retention, now: Date): Promise<number> {
    let deleted = 0
    if (retention.maxAgeMs !== undefined) deleted += (await this.query('DELETE FROM refusal_log WHERE at_ms < $1', [now.getTime() - retention.maxAgeMs])).rowCount ?? 0
    if (retention.entries !== undefined) {
      deleted += (await this.query('DELETE FROM refusal_log WHERE id <= (SELECT max(id) FROM refusal_log) - $1', [retention.entries])).rowCount ?? 0
    }

    return deleted
  }

  async nonceCount(): Promise<number> {
    const {rows} = await this.query<{n: string}>('SELECT count(*) AS n FROM nonce')
    return Number(rows[0].n)
  }

  async probeWrite(probe: string): Promise<void> {
    // Two statements, each committed: a probe left behind by a failure between them is purged
    // with the expired nonces (its creation time is 0).
    await this.query('INSERT INTO nonce (nonce, scope, created_ms) VALUES ($1, $2, $3)', [probe, '', 0])
    await this.query('DELETE FROM nonce WHERE nonce = $1', [probe])
  }

  async close(): Promise<void> {
    await this.pool.end()
  }

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, values)
    } catch (error) {
      throw databaseError(error)
    }
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return watched(await this.pool.connect())
    } catch (error) {
      throw databaseError(error)
    }
  }
}

/**
 * A checked-out connection the server cuts emits 'error', which would end the process unheard;
 * the query in flight fails with it anyway.
 */
function ignoreCut(): void {}

function watched(client: pg.PoolClient): pg.PoolClient {
  client.on('error', ignoreCut)
  return client
}

function release(client: pg.PoolClient, destroy = false): void {
  client.off('error', ignoreCut)
  client.release(destroy)
}

async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(client: pg.PoolClient, sql: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
  try {
    return await client.query<R>(sql, values)
  } catch (error) {
    throw databaseError(error)
  }
}

/**
 * Every failure of the database carries a code the server maps to 503: pg gives SQLSTATEs and
 * socket codes, but reports a cut connection or a connect timeout without one.
 */
function databaseError(error: unknown): Error {
  const code = (error as {code?: unknown})?.code
  if (typeof code === 'string' && error instanceof Error) return error
  const message = error instanceof Error ? error.message : String(error)
  return Object.assign(new Error(`the database connection failed: ${message}`, {cause: error}), {code: CONNECTION_FAILURE})
}
