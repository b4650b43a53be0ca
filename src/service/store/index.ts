/** Opens the store a config names, and migrates its schema. */
import type {DatabaseLocation} from '../config.js'
import type {MigrationResult} from './migrations.js'
import {migrateSqliteFile, openSqliteStore} from './sqlite.js'
import type {ServiceStore} from './types.js'

export {type MigrationResult, SCHEMA_VERSION} from './migrations.js'
export type {IssueOutcome, NonceCheck, SerialClaim, ServiceStore, SigningLogEntry, SigningLogQuery} from './types.js'

export interface OpenStoreOptions {
  /**
   * Apply pending schema migrations first. SQLite always does (one file, one machine); on
   * PostgreSQL an instance refuses an old schema unless asked, so that several instances never
   * change it behind the operator's back.
   */
  migrate?: boolean
}

export async function openStore(location: DatabaseLocation, options: OpenStoreOptions = {}): Promise<ServiceStore> {
  if (location.kind === 'sqlite') return openSqliteStore(location.path)
  // pg loads only for a PostgreSQL deployment.
  const {openPostgresStore} = await import('./postgres.js')
  return openPostgresStore(location, {migrate: options.migrate})
}

/** Brings the database's schema to this snap-gadget's version (`serve migrate`). */
export async function migrateDatabase(location: DatabaseLocation): Promise<MigrationResult> {
  if (location.kind === 'sqlite') return migrateSqliteFile(location.path)
  const {migratePostgres} = await import('./postgres.js')
  return migratePostgres(location)
}
