/** What both stores share of the hardware_identity table: its row, and how an import is judged against it. */
import type {HardwareIdentityRecord, IdentityConflict, NewHardwareIdentity} from './types.js'

/** A hardware_identity row. */
export interface IdentityRow {
  issuer_id: string
  key_sha3_384: string
  hardware_id: string
  hardware_name: string
  manufacturer: string
  key_type: string
  hardware_id_key: string
  assertion: string
  imported: string
  device_key_sha3_384: null | string
}

export const IDENTITY_COLUMNS = 'issuer_id, key_sha3_384, hardware_id, hardware_name, manufacturer, key_type, hardware_id_key, assertion, imported, device_key_sha3_384'

/**
 * Whether an identity is new, already held as it is, or contradicts what is held under its key or
 * its hardware id (both stores decide the same way).
 */
export function importVerdict(identity: NewHardwareIdentity, byKey: IdentityRow | undefined, byHardwareId: IdentityRow | undefined): 'new' | 'unchanged' | IdentityConflict {
  if (byKey) {
    if (byKey.hardware_id === identity.hardwareId) return 'unchanged'
    return {held: {digest: byKey.key_sha3_384, hardwareId: byKey.hardware_id}, identity, why: 'key-has-other-id'}
  }

  if (byHardwareId) return {held: {digest: byHardwareId.key_sha3_384, hardwareId: byHardwareId.hardware_id}, identity, why: 'id-has-other-key'}
  return 'new'
}

export function identityRecord(row: IdentityRow): HardwareIdentityRecord {
  const record: HardwareIdentityRecord = {
    assertion: row.assertion,
    digest: row.key_sha3_384,
    hardwareId: row.hardware_id,
    hardwareIdKey: row.hardware_id_key,
    hardwareName: row.hardware_name,
    imported: row.imported,
    issuerId: row.issuer_id,
    keyType: row.key_type,
    manufacturer: row.manufacturer,
  }
  if (row.device_key_sha3_384 !== null) record.deviceKeyId = row.device_key_sha3_384
  return record
}
