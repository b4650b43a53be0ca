/**
 * The service's schema, for both databases, in one list: entry N moves a database from version N
 * to N + 1. Each entry gives the same tables in each dialect, so SQLite and PostgreSQL hold the
 * same rules (unique serial per brand and model, one serial per device key, one signing-log entry
 * per brand, model, serial and revision).
 *
 * SQLite keeps its version in `PRAGMA user_version`; PostgreSQL in the one-row table
 * `snap_gadget_schema`, changed only under an advisory lock so that instances started together
 * migrate one after the other.
 */
interface Migration {
  /** What the step adds, for the operator (serve migrate prints it). */
  summary: string
  sqlite: string
  postgres: string
}

/** The same in both dialects. */
const HARDWARE_IDENTITY_TABLE = `CREATE TABLE hardware_identity (
       issuer_id TEXT NOT NULL,
       key_sha3_384 TEXT NOT NULL,
       hardware_id TEXT NOT NULL,
       hardware_name TEXT NOT NULL,
       manufacturer TEXT NOT NULL,
       key_type TEXT NOT NULL,
       hardware_id_key TEXT NOT NULL,
       assertion TEXT NOT NULL,
       imported TEXT NOT NULL,
       device_key_sha3_384 TEXT,
       PRIMARY KEY (issuer_id, key_sha3_384),
       UNIQUE (issuer_id, hardware_id)
     );
     CREATE INDEX hardware_identity_by_key ON hardware_identity (key_sha3_384);
     CREATE UNIQUE INDEX hardware_identity_by_device ON hardware_identity (device_key_sha3_384) WHERE device_key_sha3_384 IS NOT NULL;`

export const MIGRATIONS: readonly Migration[] = [
  {
    postgres: `CREATE TABLE nonce (
       nonce TEXT PRIMARY KEY,
       scope TEXT NOT NULL,
       created_ms BIGINT NOT NULL
     );
     CREATE INDEX nonce_by_age ON nonce (created_ms);
     CREATE TABLE device (
       brand TEXT NOT NULL,
       model TEXT NOT NULL,
       serial TEXT NOT NULL,
       device_key_sha3_384 TEXT NOT NULL,
       revision INTEGER NOT NULL,
       PRIMARY KEY (brand, model, serial),
       UNIQUE (brand, model, device_key_sha3_384)
     );
     CREATE TABLE signing_log (
       id BIGSERIAL PRIMARY KEY,
       brand TEXT NOT NULL,
       model TEXT NOT NULL,
       serial TEXT NOT NULL,
       device_key_sha3_384 TEXT NOT NULL,
       revision INTEGER NOT NULL,
       signed TEXT NOT NULL,
       UNIQUE (brand, model, serial, revision)
     );`,
    sqlite: `CREATE TABLE nonce (
       nonce TEXT PRIMARY KEY,
       scope TEXT NOT NULL,
       created_ms INTEGER NOT NULL
     );
     CREATE INDEX nonce_by_age ON nonce (created_ms);
     CREATE TABLE device (
       brand TEXT NOT NULL,
       model TEXT NOT NULL,
       serial TEXT NOT NULL,
       device_key_sha3_384 TEXT NOT NULL,
       revision INTEGER NOT NULL,
       PRIMARY KEY (brand, model, serial),
       UNIQUE (brand, model, device_key_sha3_384)
     );
     CREATE TABLE signing_log (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       brand TEXT NOT NULL,
       model TEXT NOT NULL,
       serial TEXT NOT NULL,
       device_key_sha3_384 TEXT NOT NULL,
       revision INTEGER NOT NULL,
       signed TEXT NOT NULL,
       UNIQUE (brand, model, serial, revision)
     );`,
    summary: 'nonces, devices and the signing log',
  },
  {
    // Entries written before this step have none: their assertion is absent, and said to be.
    postgres: 'ALTER TABLE signing_log ADD COLUMN assertion TEXT;',
    sqlite: 'ALTER TABLE signing_log ADD COLUMN assertion TEXT;',
    summary: 'the signed serial assertion kept with each signing-log entry',
  },
  {
    // One row per issuer and key: its hardware id is unique per issuer, and the device key it
    // registers (none until then) is one device's. Log entries from before have no hardware id.
    postgres: `${HARDWARE_IDENTITY_TABLE}
     ALTER TABLE signing_log ADD COLUMN hardware_id TEXT;
     ALTER TABLE signing_log ADD COLUMN hardware_issuer TEXT;`,
    sqlite: `${HARDWARE_IDENTITY_TABLE}
     ALTER TABLE signing_log ADD COLUMN hardware_id TEXT;
     ALTER TABLE signing_log ADD COLUMN hardware_issuer TEXT;`,
    summary: 'hardware identities imported for secure onboarding, each registering one device key; the hardware id in the signing log',
  },
  {
    postgres: `ALTER TABLE signing_log ADD COLUMN original_brand TEXT;
     ALTER TABLE signing_log ADD COLUMN original_model TEXT;
     ALTER TABLE signing_log ADD COLUMN original_serial TEXT;`,
    sqlite: `ALTER TABLE signing_log ADD COLUMN original_brand TEXT;
     ALTER TABLE signing_log ADD COLUMN original_model TEXT;
     ALTER TABLE signing_log ADD COLUMN original_serial TEXT;`,
    summary: 'the serial a remodelled device held before, in the signing log entry of its new serial',
  },
]

/** The signing log's columns a query reads (the assertion apart: only when asked for). */
export const LOG_COLUMNS = 'id, brand, model, serial, device_key_sha3_384, revision, signed, hardware_id, hardware_issuer, original_brand, original_model, original_serial'

/** The schema version this snap-gadget writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length

/** What a migration run did. */
export interface MigrationResult {
  /** The version the database was at before. */
  from: number
  /** The version it is at now ({@link SCHEMA_VERSION}). */
  to: number
  /** The summaries of the steps applied, in order (none when it was up to date). */
  applied: string[]
}

/** The message for a database written by a newer snap-gadget. */
export function newerSchemaMessage(found: number): string {
  return `the database is at schema version ${found}, newer than this snap-gadget knows (${SCHEMA_VERSION}); upgrade snap-gadget`
}
