/** What both stores share of the hardware_identity table: its row, and how an import is judged against it. */
import type {HardwareIdentityKey, IdentityConflict, NewHardwareIdentity} from './types.js'

/**
 * What registrations and imports read of a hardware_identity row. The assertion's text (a
 * kilobyte or more) is kept for the record in hardware_identity_assertion, which they never read.
 */
export interface IdentityKeyRow {
  issuer_id: string
  key_sha3_384: string
  hardware_id: string
  key_type: string
  hardware_id_key: string
  device_key_sha3_384: null | string
}

export const IDENTITY_KEY_COLUMNS = 'issuer_id, key_sha3_384, hardware_id, key_type, hardware_id_key, device_key_sha3_384'

/**
 * Whether an identity is new, already held as it is, or contradicts what is held under its key or
 * its hardware id (both stores decide the same way).
 */
export function importVerdict(identity: NewHardwareIdentity, byKey: IdentityKeyRow | undefined, byHardwareId: IdentityKeyRow | undefined): 'new' | 'unchanged' | IdentityConflict {
  if (byKey) {
    if (byKey.hardware_id === identity.hardwareId) return 'unchanged'
    return {held: {digest: byKey.key_sha3_384, hardwareId: byKey.hardware_id}, identity, why: 'key-has-other-id'}
  }

  if (byHardwareId) return {held: {digest: byHardwareId.key_sha3_384, hardwareId: byHardwareId.hardware_id}, identity, why: 'id-has-other-key'}
  return 'new'
}

export function identityKey(row: IdentityKeyRow): HardwareIdentityKey {
  const record: HardwareIdentityKey = {
    digest: row.key_sha3_384,
    hardwareId: row.hardware_id,
    hardwareIdKey: row.hardware_id_key,
    issuerId: row.issuer_id,
    keyType: row.key_type,
  }
  if (row.device_key_sha3_384 !== null) record.deviceKeyId = row.device_key_sha3_384
  return record
}
