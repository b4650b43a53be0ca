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

/** The same in both dialects: the assertions of the identities already imported move with them. */
const IDENTITY_ASSERTION_TABLE = `CREATE TABLE hardware_identity_assertion (
       issuer_id TEXT NOT NULL,
       key_sha3_384 TEXT NOT NULL,
       assertion TEXT NOT NULL,
       PRIMARY KEY (issuer_id, key_sha3_384)
     );
     INSERT INTO hardware_identity_assertion (issuer_id, key_sha3_384, assertion) SELECT issuer_id, key_sha3_384, assertion FROM hardware_identity;
     ALTER TABLE hardware_identity DROP COLUMN assertion;`

/**
 * Serial policy and the refusal log, the same in both dialects but for the id column: the serials a
 * model's allowlist holds, the blocks an operator set (kept after unblock, for the record; one
 * active block per device), and the refusals, pruned by the retention setting.
 */
const policyTables = (id: string): string => `CREATE TABLE allowed_serial (
       brand TEXT NOT NULL,
       model TEXT NOT NULL,
       serial TEXT NOT NULL,
       imported TEXT NOT NULL,
       PRIMARY KEY (brand, model, serial)
     );
     CREATE TABLE device_block (
       id ${id},
       kind TEXT NOT NULL,
       value TEXT NOT NULL,
       brand TEXT NOT NULL,
       model TEXT NOT NULL,
       reason TEXT NOT NULL,
       blocked TEXT NOT NULL,
       unblocked TEXT,
       unblock_reason TEXT
     );
     CREATE UNIQUE INDEX device_block_active ON device_block (kind, value, brand, model) WHERE unblocked IS NULL;
     CREATE TABLE refusal_log (
       id ${id},
       at TEXT NOT NULL,
       at_ms BIGINT NOT NULL,
       code TEXT NOT NULL,
       status INTEGER NOT NULL,
       brand TEXT,
       model TEXT,
       verified INTEGER NOT NULL,
       serial TEXT,
       device_key_sha3_384 TEXT,
       client TEXT,
       message TEXT NOT NULL
     );
     CREATE INDEX refusal_log_by_age ON refusal_log (at_ms);`

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
  {
    postgres: policyTables('BIGSERIAL PRIMARY KEY'),
    sqlite: policyTables('INTEGER PRIMARY KEY AUTOINCREMENT'),
    summary: "the serials of models' allowlists, blocked devices, and the refusal log",
  },
  {
    // A registration reads an identity's key and binds its device key; the assertion's text (a
    // kilobyte or more) is the record, and in the same row it made every lookup read a page per
    // two identities and every binding rewrite it.
    postgres: IDENTITY_ASSERTION_TABLE,
    sqlite: IDENTITY_ASSERTION_TABLE,
    summary: "each hardware identity's assertion kept apart from the row a registration reads",
  },
  {
    // Every registration adds a nonce and consumes it, each in a transaction of its own: in SQLite
    // a rowid table with a text key and an age index is three B-trees to write each time, where a
    // table keyed by the nonce alone is one. The table holds only outstanding nonces (consumed ones
    // are deleted), so the purge of expired ones reads it whole without an index.
    postgres: 'DROP INDEX nonce_by_age;',
    sqlite: `CREATE TABLE nonce_keyed (
       nonce TEXT PRIMARY KEY,
       scope TEXT NOT NULL,
       created_ms INTEGER NOT NULL
     ) WITHOUT ROWID;
     INSERT INTO nonce_keyed (nonce, scope, created_ms) SELECT nonce, scope, created_ms FROM nonce;
     DROP TABLE nonce;
     ALTER TABLE nonce_keyed RENAME TO nonce;`,
    summary: 'nonces kept in one B-tree, keyed by the nonce',
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
