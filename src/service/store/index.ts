/**
 * Opens the store a config names, and migrates its schema. The database drivers are optional
 * dependencies (better-sqlite3 compiles SQLite when it cannot fetch a prebuilt addon; validate and
 * init need neither), loaded only here, and a missing one is a user error that says how to install it.
 */
import {existsSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {UserError} from '../../errors.js'
import type {DatabaseLocation} from '../config.js'
import type {MigrationResult} from './migrations.js'
import type {ServiceStore} from './types.js'

export {type MigrationResult, SCHEMA_VERSION} from './migrations.js'
export type {
  AdmissionFacts,
  AllowedSerial,
  BlockTarget,
  DeviceBlock,
  NewRefusal,
  RefusalEntry,
  RefusalQuery,
  Retention,
  HardwareIdentityKey,
  HardwareIdentityRecord,
  IdentityConflict,
  ImportOutcome,
  IssueOutcome,
  NewHardwareIdentity,
  NonceCheck,
  OriginalSerial,
  SerialClaim,
  ServiceStore,
  SigningLogEntry,
  SigningLogQuery,
} from './types.js'

export interface OpenStoreOptions {
  /**
   * Apply pending schema migrations first. SQLite always does (one file, one machine); on
   * PostgreSQL an instance refuses an old schema unless asked, so that several instances never
   * change it behind the operator's back.
   */
  migrate?: boolean
  /**
   * Refuse a SQLite file that does not exist instead of creating it: for reading the log, where a
   * mistyped path must not make an empty database and report that nothing was signed.
   */
  mustExist?: boolean
}

export async function openStore(location: DatabaseLocation, options: OpenStoreOptions = {}): Promise<ServiceStore> {
  if (location.kind === 'sqlite' && options.mustExist && location.path !== ':memory:' && !existsSync(location.path)) {
    throw new UserError('E_SERVE_DATABASE', `there is no database at ${location.path}`, {
      file: location.path,
      hint: "check database: in the serve config (a sqlite: path is relative to the config's directory); serve makes the file when it first starts",
      kind: 'io',
    })
  }

  if (location.kind === 'sqlite') return withDriver('better-sqlite3', async () => (await import('./sqlite.js')).openSqliteStore(location.path))
  return withDriver('pg', async () => (await import('./postgres.js')).openPostgresStore(location, {migrate: options.migrate}))
}

/** Brings the database's schema to this snap-gadget's version (`serve migrate`). */
export async function migrateDatabase(location: DatabaseLocation): Promise<MigrationResult> {
  if (location.kind === 'sqlite') return withDriver('better-sqlite3', async () => (await import('./sqlite.js')).migrateSqliteFile(location.path))
  return withDriver('pg', async () => (await import('./postgres.js')).migratePostgres(location))
}

/** What `serve check` says of a database: its schema version (undefined: a SQLite file not made yet) and the one this snap-gadget needs. */
export interface SchemaState {
  version: number | undefined
  expected: number
}

/** The schema version of a database, read without changing anything. */
export async function inspectSchema(location: DatabaseLocation): Promise<SchemaState> {
  const {SCHEMA_VERSION: expected} = await import('./migrations.js')
  if (location.kind === 'sqlite') return {expected, version: await withDriver('better-sqlite3', async () => (await import('./sqlite.js')).sqliteSchemaVersion(location.path))}
  return {expected, version: await withDriver('pg', async () => (await import('./postgres.js')).postgresSchemaVersion(location))}
}

const DRIVERS = {
  'better-sqlite3': {database: 'a SQLite database', range: '^12.11.1', build: 'it builds SQLite when no prebuilt addon fits: python3, make and a C++ compiler'},
  pg: {database: 'PostgreSQL', range: '^8.23.1', build: 'plain JavaScript'},
} as const

/** Runs `open`; a driver that is not installed, or whose addon was never built, is the user's to install. */
async function withDriver<T>(driver: keyof typeof DRIVERS, open: () => Promise<T>): Promise<T> {
  try {
    return await open()
  } catch (error) {
    if (!isMissingDriver(error, driver)) throw error
    const {build, database, range} = DRIVERS[driver]
    const prefix = installPrefix()
    throw new UserError(
      'E_SERVE_DRIVER',
      `serve needs the ${driver} package for ${database}, and it is not installed here${(error as Error).message.includes('bindings') ? ' (its native addon was never built: install scripts were off)' : ''}`,
      {
        cause: error,
        hint: `npm install --prefix "${prefix}" ${driver}@${range} (${build}); validate and init do not need it`,
        kind: 'io',
      },
    )
  }
}

function isMissingDriver(error: unknown, driver: string): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const message = String((error as Error | undefined)?.message ?? '')
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(driver)) return true
  // better-sqlite3 loads its addon on first use: without a build, "Could not locate the bindings file".
  return driver === 'better-sqlite3' && (/Could not locate the bindings file|better_sqlite3\.node/.test(message) || code === 'ERR_DLOPEN_FAILED')
}

/** Where npm should install a driver so that this copy of snap-gadget finds it. */
function installPrefix(): string {
  // dist/service/store/ (or src/service/store/ in a checkout) → the package's root.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
  const parent = dirname(root)
  return basename(parent) === 'node_modules' ? dirname(parent) : root
}
