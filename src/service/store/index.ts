/** Opens the store a config names. */
import type {DatabaseLocation} from '../config.js'
import {openSqliteStore} from './sqlite.js'
import type {ServiceStore} from './types.js'

export type {IssueOutcome, NonceCheck, SerialClaim, ServiceStore, SigningLogEntry, SigningLogQuery} from './types.js'

export function openStore(location: DatabaseLocation): ServiceStore {
  return openSqliteStore(location.path)
}
