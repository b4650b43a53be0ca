/**
 * `serve` as an SDK: a device service that speaks snapd's registration protocol and signs serials
 * with the brand's keys. Load a config, start the service, import hardware identities, read its
 * signing log.
 */
import type {ServiceConfig} from './config.js'
import {openStore, type SigningLogEntry, type SigningLogQuery} from './store/index.js'

export {
  type DatabaseLocation,
  DEFAULT_DATABASE,
  DEFAULT_LISTEN,
  describeDatabase,
  type ImportConfig,
  type IssuerKey,
  loadImportConfig,
  loadServiceConfig,
  loadServiceDatabase,
  type LoadServiceConfigOptions,
  type OnboardingMethod,
  type ServiceConfig,
  type ServiceModel,
} from './config.js'
export {type IdentityImport, type ImportedIdentity, importHardwareIdentities, type ImportOptions} from './import.js'
export {ASSERTION_MEDIA_TYPE, describeEntry, MAX_HARDWARE_BODY_BYTES, NONCE_LIFETIME_MS, type RegistrationEvent} from './registration.js'
export {MAX_ANONYMOUS_SERIAL_REQUEST_BYTES, MAX_SERIAL_REQUEST_BYTES, type RequestEvent, type RunningService, startDeviceService, type StartServiceOptions} from './server.js'
export {type HardwareIdentityRecord, migrateDatabase, type MigrationResult, openStore, type OpenStoreOptions, SCHEMA_VERSION, type ServiceStore, type SigningLogEntry, type SigningLogQuery} from './store/index.js'

/** What `serve log` reads: entries, newest first, and how many the log holds in all. */
interface SigningLogRead {
  entries: SigningLogEntry[]
  size: number
}

/**
 * The signing log of the database a config names, newest first. The database must exist: a
 * mistyped path is an error naming the resolved path, never a new empty database.
 */
export async function readSigningLog(config: Pick<ServiceConfig, 'database'>, query: SigningLogQuery = {}): Promise<SigningLogRead> {
  const store = await openStore(config.database, {mustExist: true})
  try {
    return {entries: await store.signingLog(query), size: await store.signingLogSize()}
  } finally {
    await store.close()
  }
}

/**
 * Every entry the query matches, with its assertion, newest first, a page at a time: memory stays
 * bounded by the page whatever the size of the log (an export of years of a factory line).
 */
export async function* exportSigningLog(config: Pick<ServiceConfig, 'database'>, query: Omit<SigningLogQuery, 'before' | 'limit'> = {}, pageSize = 500): AsyncGenerator<SigningLogEntry> {
  const store = await openStore(config.database, {mustExist: true})
  try {
    let before: number | undefined
    for (;;) {
      const page = await store.signingLog({...query, before, limit: pageSize, withAssertion: true})
      yield* page
      if (page.length < pageSize) return
      before = page.at(-1)!.id
    }
  } finally {
    await store.close()
  }
}
