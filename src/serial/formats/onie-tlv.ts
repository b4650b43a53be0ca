/**
 * The ONIE TlvInfo EEPROM format (switches, custom carriers). Pure functions over bytes, shared by
 * the sources and `probe`.
 */
import {crc32} from './crc.js'
import {asciiField, type Parsed} from './parsed.js'

// --- ONIE TlvInfo (ONIE design spec "Board EEPROM Information Format"; Linux onie-tlv layout) ---

export const ONIE_MAGIC = Buffer.from('TlvInfo\0', 'latin1')
export const ONIE_HEADER_LENGTH = 11
/** Whole table at most 2048 bytes. */
const ONIE_MAX_TOTAL_LENGTH = 2048 - ONIE_HEADER_LENGTH
export const ONIE_TLV = {crc32: 0xfe, productName: 0x21, serialNumber: 0x23} as const

interface OnieTlv {
  type: number
  value: Buffer
}

interface OnieTable {
  /** 11 + total length: how many bytes the table occupies. */
  length: number
  tlvs: OnieTlv[]
  crc: number
}

/** Checks the header only: how many bytes the whole table needs, or why this is no TlvInfo table. */
export function onieTableLength(header: Uint8Array): Parsed<{length: number}> {
  const bytes = Buffer.from(header.buffer, header.byteOffset, header.byteLength)
  if (bytes.length < ONIE_HEADER_LENGTH) return {ok: false, reason: `truncated: ${bytes.length} of ${ONIE_HEADER_LENGTH} header bytes`, truncated: true}
  if (!bytes.subarray(0, 8).equals(ONIE_MAGIC)) return {ok: false, reason: 'no ONIE "TlvInfo" header'}
  if (bytes[8] !== 1) return {ok: false, reason: `unsupported TlvInfo header version ${bytes[8]} (only 1 exists)`}
  const total = bytes.readUInt16BE(9)
  if (total > ONIE_MAX_TOTAL_LENGTH) return {ok: false, reason: `total length ${total} exceeds the format's maximum of ${ONIE_MAX_TOTAL_LENGTH}`}
  return {length: ONIE_HEADER_LENGTH + total, ok: true}
}

/** Parses and CRC-checks a whole TlvInfo table. */
export function parseOnieTlv(data: Uint8Array): Parsed<OnieTable> {
  const header = onieTableLength(data)
  if (!header.ok) return header
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const end = header.length
  if (bytes.length < end) return {ok: false, reason: `truncated: ${bytes.length} of ${end} bytes`, truncated: true}
  const tlvs: OnieTlv[] = []
  let at = ONIE_HEADER_LENGTH
  while (at < end) {
    if (at + 2 > end) return {ok: false, reason: `TLV at offset ${at} runs past the table end (${end})`}
    const type = bytes[at]
    const length = bytes[at + 1]
    if (at + 2 + length > end) return {ok: false, reason: `TLV 0x${hex2(type)} at offset ${at} (length ${length}) runs past the table end (${end})`}
    const value = bytes.subarray(at + 2, at + 2 + length)
    if (type === ONIE_TLV.crc32) {
      if (length !== 4 || at + 6 !== end) return {ok: false, reason: `the CRC-32 TLV (0xFE) must be last and 4 bytes long (found at ${at}, length ${length})`}
      const stored = value.readUInt32BE(0)
      const computed = crc32(bytes.subarray(0, end - 4))
      if (stored !== computed) return {ok: false, reason: `CRC-32 mismatch: stored ${hex8(stored)}, computed ${hex8(computed)} (corrupted EEPROM)`}
      return {crc: stored, length: end, ok: true, tlvs}
    }

    tlvs.push({type, value})
    at += 2 + length
  }

  return {ok: false, reason: 'no CRC-32 TLV (0xFE) at the end of the table'}
}

/** The first TLV of `type` as ASCII, padding stripped. */
export function onieString(table: OnieTable, type: number): string | undefined {
  const tlv = table.tlvs.find((t) => t.type === type)
  return tlv && asciiField(tlv.value)
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0').toUpperCase()
const hex8 = (n: number) => `0x${n.toString(16).padStart(8, '0').toUpperCase()}`
