/**
 * The TI AM335x board EEPROM (BeagleBone): U-Boot's struct ti_am_eeprom. A pure function over
 * bytes, shared by the sources and `probe`.
 */
import {asciiField, isPrintableAscii, type Parsed} from './parsed.js'

// --- TI AM335x board EEPROM (U-Boot board/ti/common/board_detect.h, struct ti_am_eeprom) ---

/** The magic as it sits in the EEPROM: u32 0xEE3355AA little-endian. */
export const AM335X_MAGIC = Buffer.from([0xaa, 0x55, 0x33, 0xee])
/** U-Boot's marker for an EEPROM it found dead (0xADEAD12C little-endian). */
export const AM335X_DEAD_MAGIC = Buffer.from([0x2c, 0xd1, 0xea, 0xad])
/** magic 4 + board name 8 + version 4 + serial 12. */
export const AM335X_HEADER_LENGTH = 28

interface Am335xBoard {
  boardName: string
  version: string
  /** 12 ASCII characters: week, year, board code, unit (`2313BBBK0099`). */
  serial: string
}

export function parseAm335xEeprom(data: Uint8Array): Parsed<Am335xBoard> {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (bytes.length < 4) return {ok: false, reason: `truncated: ${bytes.length} bytes, not even the 4-byte magic`, truncated: true}
  const magic = bytes.subarray(0, 4)
  if (magic.equals(AM335X_DEAD_MAGIC)) return {ok: false, reason: 'U-Boot marked this EEPROM dead (magic 0xADEAD12C)'}
  if (!magic.equals(AM335X_MAGIC)) {
    if (bytes.every((b) => b === 0xff)) return {ok: false, reason: 'unprogrammed (all 0xFF)'}
    return {ok: false, reason: `no AM335x board EEPROM magic (AA 55 33 EE); found ${[...magic].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ')}`}
  }

  // K3 boards (BeaglePlay, AM62x/AM64x kits) share the magic but put a binary record list after it.
  if (bytes.length > 4 && bytes[4] === 0x01) return {ok: false, reason: 'this is a TI AM6x (K3) record-format EEPROM, not the AM335x layout: use ti-am6-eeprom'}
  if (bytes.length < AM335X_HEADER_LENGTH) return {ok: false, reason: `truncated: ${bytes.length} of ${AM335X_HEADER_LENGTH} header bytes`, truncated: true}
  const boardName = asciiField(bytes.subarray(4, 12))
  const version = asciiField(bytes.subarray(12, 16))
  const serial = asciiField(bytes.subarray(16, 28))
  if (!isPrintableAscii(serial) || !isPrintableAscii(boardName)) return {ok: false, reason: 'the board name or serial field holds non-ASCII bytes (corrupted EEPROM)'}
  return {boardName, ok: true, serial, version}
}
