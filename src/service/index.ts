/**
 * `serve` as an SDK: a device service that speaks snapd's registration protocol and signs serials
 * with the brand's keys. Load a config, start the service, read its signing log.
 */
import type {ServiceConfig} from './config.js'
import {openStore, type SigningLogEntry, type SigningLogQuery} from './store/index.js'

export {DEFAULT_DATABASE, DEFAULT_LISTEN, loadServiceConfig, loadServiceDatabase, type LoadServiceConfigOptions, type ServiceConfig, type ServiceModel} from './config.js'
export {ASSERTION_MEDIA_TYPE, describeEntry, NONCE_LIFETIME_MS, type RegistrationEvent} from './registration.js'
export {MAX_SERIAL_REQUEST_BYTES, type RequestEvent, type RunningService, startDeviceService, type StartServiceOptions} from './server.js'
export type {ServiceStore, SigningLogEntry, SigningLogQuery} from './store/index.js'

/** The signing log of the database a config names, newest first. */
export async function readSigningLog(config: Pick<ServiceConfig, 'database'>, query: SigningLogQuery = {}): Promise<SigningLogEntry[]> {
  const store = openStore(config.database)
  try {
    return await store.signingLog(query)
  } finally {
    await store.close()
  }
}
