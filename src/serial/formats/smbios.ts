/**
 * The raw SMBIOS structure table (/sys/firmware/dmi/tables/DMI) and its entry point
 * (/sys/firmware/dmi/tables/smbios_entry_point), read the way the kernel's dmi_scan.c and
 * dmi-id.c turn them into /sys/class/dmi/id: used when those files are missing (no dmi-id driver,
 * a container without them) but the raw table is readable. Pure functions over bytes.
 */
import type {Parsed} from './parsed.js'

export interface SmbiosStructure {
  type: number
  handle: number
  /** The formatted area, header included. */
  formatted: Buffer
  /** The string set; string number n is strings[n - 1]. */
  strings: string[]
}

/** The tables are at most a few hundred KiB; the 64-bit entry point allows 4 GiB, nothing needs more than this. */
export const MAX_SMBIOS_TABLE_BYTES = 1024 * 1024

/** SMBIOS type 127 ends the table. */
const END_OF_TABLE = 127

/** Splits the table into structures; stops at the end-of-table structure or a structure that does not fit. */
export function smbiosStructures(table: Uint8Array): Parsed<{structures: SmbiosStructure[]}> {
  const bytes = Buffer.from(table.buffer, table.byteOffset, table.byteLength)
  const structures: SmbiosStructure[] = []
  let at = 0
  while (at + 4 <= bytes.length) {
    const type = bytes[at]
    const length = bytes[at + 1]
    if (length < 4) return {ok: false, reason: `structure at offset ${at} has length ${length}, below the 4-byte header (corrupted table)`}
    if (at + length > bytes.length) return {ok: false, reason: `structure type ${type} at offset ${at} runs past the table (${bytes.length} bytes)`, truncated: true}
    // The string set ends with two NULs (one after the last string, or two when there are none).
    const terminator = bytes.indexOf(Buffer.from([0, 0]), at + length)
    if (terminator < 0) return {ok: false, reason: `the strings of structure type ${type} at offset ${at} are not terminated`, truncated: true}
    const area = bytes.subarray(at + length, terminator)
    const strings = area.length === 0 ? [] : area.toString('latin1').split('\0')
    structures.push({formatted: bytes.subarray(at, at + length), handle: bytes.readUInt16LE(at + 2), strings, type})
    if (type === END_OF_TABLE) break
    at = terminator + 2
  }

  return {ok: true, structures}
}

/** The SMBIOS version from the entry point (`_SM_` 32-bit or `_SM3_` 64-bit), e.g. 0x0302. */
export function smbiosVersion(entryPoint: Uint8Array): number | undefined {
  const bytes = Buffer.from(entryPoint.buffer, entryPoint.byteOffset, entryPoint.byteLength)
  if (bytes.length >= 9 && bytes.subarray(0, 5).toString('latin1') === '_SM3_') return (bytes[7] << 8) | bytes[8]
  if (bytes.length >= 8 && bytes.subarray(0, 4).toString('latin1') === '_SM_') return (bytes[6] << 8) | bytes[7]
  return undefined
}

export type SmbiosField = 'board_serial' | 'chassis_serial' | 'product_serial' | 'product_uuid'

/** Structure type and string-number offset of each serial field (DMTF DSP0134: types 1, 2, 3). */
const SERIAL_FIELDS: Record<Exclude<SmbiosField, 'product_uuid'>, [number, number]> = {
  board_serial: [2, 0x07],
  chassis_serial: [3, 0x07],
  product_serial: [1, 0x07],
}

/**
 * A field as the kernel would show it in /sys/class/dmi/id: `undefined` where the kernel creates
 * no file (no such structure, a UUID of all 0x00 or all 0xFF), `''` for an unset or all-space
 * string. The UUID's first three fields are little-endian from SMBIOS 2.6 on (the kernel's rule).
 */
export function smbiosField(structures: readonly SmbiosStructure[], field: SmbiosField, version = 0x0300): string | undefined {
  if (field === 'product_uuid') {
    const system = structures.find((s) => s.type === 1)
    if (!system || system.formatted.length < 0x18) return undefined
    const uuid = system.formatted.subarray(0x08, 0x18)
    if (uuid.every((b) => b === 0) || uuid.every((b) => b === 0xff)) return undefined
    const order = version >= 0x0206 ? [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15] : [...Array(16).keys()]
    const hex = order.map((i) => uuid[i].toString(16).padStart(2, '0')).join('')
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }

  const [type, offset] = SERIAL_FIELDS[field]
  const structure = structures.find((s) => s.type === type)
  if (!structure || structure.formatted.length <= offset) return undefined
  const index = structure.formatted[offset]
  const value = index === 0 ? '' : (structure.strings[index - 1] ?? '')
  return /^ *$/.test(value) ? '' : value
}
