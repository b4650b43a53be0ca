/**
 * The TI K3 (AM62x, AM64x, AM65x, J7) board EEPROM as U-Boot's board/ti/common/board_detect.h
 * describes it: the AM335x magic `AA 55 33 EE`, then a list of records, each a type byte and a
 * little-endian 16-bit length. The first record (type 0x01) holds the length of all the others;
 * the board-info record (type 0x10) names the board and carries its build date, board id and
 * serial. Pure functions over bytes, shared by the source and `probe`.
 */
import {isPrintableAscii, type Parsed} from './parsed.js'

/** u32 0xEE3355AA little-endian, as on the AM335x. */
const TI_EEPROM_MAGIC = Buffer.from([0xaa, 0x55, 0x33, 0xee])
/** The record types of board_detect.h that matter here. */
const AM6_RECORD = {boardId: 0x01, boardInfo: 0x10, ddrInfo: 0x11, endList: 0xfe, macInfo: 0x13} as const
/** Magic, then the board-id record header (type 1, u16 length of the record list). */
export const AM6_HEADER_LENGTH = 7
/** The board-info record: name 16, design rev 2, processor 4, variant 2, PCB rev 2, BOM rev 2, software rev 2, vendor 2, week 2, year 2, board id 6, serial 4. */
const AM6_BOARD_INFO_LENGTH = 46
/** at24 parts on these boards hold 32 KiB at most; a longer list is a misread. */
const AM6_MAX_LIST_LENGTH = 32 * 1024

export interface Am6BoardInfo {
  /** `BEAGLEPLAY-A0-`, `AM62-SKEVM`, `AM64-GPEVM`, … */
  boardName: string
  designRevision: string
  vendorId: string
  buildWeek: string
  buildYear: string
  /** The board's own number (BeaglePlay: the last 6 digits of its QR sticker). */
  boardId: string
  serial: string
}

export interface Am6Eeprom {
  board: Am6BoardInfo
  /**
   * The identifying value: build week and year, then board id and serial, each left out when it
   * is a placeholder (BeaglePlay ships `SSSS` as the serial; TI starter kits a zero board id).
   */
  identity: string
  /** Fields left out as placeholders, by name. */
  placeholders: string[]
  /** How many bytes the EEPROM's record list occupies, header included. */
  length: number
}

const text = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString('latin1')
    .replace(/[\0\u00FF ]+$/, '')

/** Placeholder fields: empty, or a filler character repeated (`SSSS`, `0000`, `XXXXXX`). */
export function isPlaceholderField(value: string): boolean {
  return value === '' || /^([0SsXxFf?])\1*$/.test(value)
}

/**
 * Whether bytes after the magic look like the K3 record list rather than the AM335x struct:
 * the AM335x puts an ASCII board name there, K3 the binary board-id record type 0x01.
 */
export function isAm6Layout(bytes: Uint8Array): boolean {
  return bytes.length > 4 && bytes[4] === AM6_RECORD.boardId
}

/** Checks the magic and the first record: how many bytes the whole record list needs. */
export function am6EepromLength(header: Uint8Array): Parsed<{length: number}> {
  const bytes = Buffer.from(header.buffer, header.byteOffset, header.byteLength)
  if (bytes.length < AM6_HEADER_LENGTH) return {ok: false, reason: `truncated: ${bytes.length} of ${AM6_HEADER_LENGTH} header bytes`, truncated: true}
  if (!bytes.subarray(0, 4).equals(TI_EEPROM_MAGIC)) {
    if (bytes.every((b) => b === 0xff)) return {ok: false, reason: 'unprogrammed (all 0xFF)'}
    return {ok: false, reason: `no TI board EEPROM magic (AA 55 33 EE); found ${hexBytes(bytes.subarray(0, 4))}`}
  }

  if (!isAm6Layout(bytes)) {
    const name = text(bytes.subarray(4, 12))
    return isPrintableAscii(name) && name !== ''
      ? {ok: false, reason: `this is an AM335x board EEPROM (board ${name}), not the AM6x record format: use beaglebone-eeprom`}
      : {ok: false, reason: `the first record is type 0x${hex2(bytes[4])}, not the board-id record 0x01`}
  }

  const listLength = bytes.readUInt16LE(5)
  if (listLength < 3 + AM6_BOARD_INFO_LENGTH || listLength > AM6_MAX_LIST_LENGTH) {
    return {ok: false, reason: `record list length ${listLength} is outside ${3 + AM6_BOARD_INFO_LENGTH}..${AM6_MAX_LIST_LENGTH} (corrupted EEPROM)`}
  }

  return {length: AM6_HEADER_LENGTH + listLength, ok: true}
}

/**
 * Reads the records up to the board-info record. Records after it (DDR, MAC) are not needed, so a
 * dump cut after the board info still identifies the board.
 */
export function parseAm6Eeprom(data: Uint8Array): Parsed<Am6Eeprom> {
  const header = am6EepromLength(data)
  if (!header.ok) return header
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const end = Math.min(header.length, bytes.length)
  let at = AM6_HEADER_LENGTH
  while (at < end) {
    const type = bytes[at]
    if (type === AM6_RECORD.endList) break
    if (at + 3 > end) return truncatedOrBroken(bytes, header.length, `record header at offset ${at} runs past the end`)
    const length = bytes.readUInt16LE(at + 1)
    const body = at + 3
    if (body + length > header.length) return {ok: false, reason: `record 0x${hex2(type)} at offset ${at} (length ${length}) runs past the record list (${header.length} bytes)`}
    if (type === AM6_RECORD.boardInfo) {
      if (length < AM6_BOARD_INFO_LENGTH) return {ok: false, reason: `the board-info record is ${length} bytes, not ${AM6_BOARD_INFO_LENGTH}`}
      if (body + AM6_BOARD_INFO_LENGTH > bytes.length) return {ok: false, reason: `truncated: the board-info record needs ${body + AM6_BOARD_INFO_LENGTH} bytes, read ${bytes.length}`, truncated: true}
      return boardInfo(bytes.subarray(body, body + AM6_BOARD_INFO_LENGTH), header.length)
    }

    at = body + length
  }

  return truncatedOrBroken(bytes, header.length, 'no board-info record (0x10) in the record list')
}

function truncatedOrBroken(bytes: Buffer, needed: number, reason: string): Parsed<Am6Eeprom> {
  if (bytes.length < needed) return {ok: false, reason: `truncated: ${bytes.length} of ${needed} bytes, ${reason}`, truncated: true}
  return {ok: false, reason}
}

function boardInfo(record: Buffer, length: number): Parsed<Am6Eeprom> {
  const field = (offset: number, size: number) => text(record.subarray(offset, offset + size))
  const board: Am6BoardInfo = {
    boardId: field(36, 6),
    boardName: field(0, 16),
    buildWeek: field(32, 2),
    buildYear: field(34, 2),
    designRevision: field(16, 2),
    serial: field(42, 4),
    vendorId: field(30, 2),
  }
  if (!Object.values(board).every((v) => isPrintableAscii(v))) return {ok: false, reason: 'the board-info record holds non-ASCII bytes (corrupted EEPROM)'}
  if (board.boardName === '') return {ok: false, reason: 'the board-info record has no board name (unprogrammed)'}
  const placeholders: string[] = []
  const unit: string[] = []
  for (const name of ['boardId', 'serial'] as const) {
    if (isPlaceholderField(board[name])) placeholders.push(`${name} "${board[name]}"`)
    else unit.push(board[name])
  }

  if (unit.length === 0) return {ok: false, reason: `board ${board.boardName}: both the board id and the serial are placeholders (${placeholders.join(', ')})`}
  const date = /^\d\d$/.test(board.buildWeek) && /^\d\d$/.test(board.buildYear) && board.buildWeek !== '00' ? `${board.buildWeek}${board.buildYear}` : ''
  return {board, identity: `${date}${unit.join('')}`, length, ok: true, placeholders}
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0').toUpperCase()
const hexBytes = (bytes: Uint8Array) => [...bytes].map(hex2).join(' ')
