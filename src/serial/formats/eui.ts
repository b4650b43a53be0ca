/**
 * EEPROMs that carry a factory-programmed EUI-48 or EUI-64 in a write-protected area: where each
 * part keeps it, and how to read it. Pure data and functions over bytes.
 *
 * Linux exposes such a part two ways: bound as a plain at24 EEPROM the file holds the whole
 * array (the EUI at the part's offset); bound with the part's own compatible (at24
 * `microchip,24aa025e48`, `atmel,24mac402`, …) it holds the EUI alone, at offset 0.
 */
import type {Parsed} from './parsed.js'

export interface EuiPart {
  /** EUI-48 (6 bytes) or EUI-64 (8 bytes). */
  bits: 48 | 64
  /** Offset of the EUI in the part's array as a plain at24 device sees it. */
  offset: number
  /** Where the datasheet puts it, in a few words. */
  where: string
}

/** Microchip 24AA02E48/E64 and 24AA025E48/E64 (upper quarter of 256 bytes), Microchip/Atmel AT24MAC402/602 (the 0x58 "serial" address). */
export const EUI_PARTS = {
  '24aa025e48': {bits: 48, offset: 0xfa, where: '0xFA-0xFF of the 256-byte array'},
  '24aa025e64': {bits: 64, offset: 0xf8, where: '0xF8-0xFF of the 256-byte array'},
  '24aa02e48': {bits: 48, offset: 0xfa, where: '0xFA-0xFF of the 256-byte array'},
  '24aa02e64': {bits: 64, offset: 0xf8, where: '0xF8-0xFF of the 256-byte array'},
  at24mac402: {bits: 48, offset: 0x9a, where: "0x9A-0x9F at the part's second I2C address (0x58-0x5F)"},
  at24mac602: {bits: 64, offset: 0x98, where: "0x98-0x9F at the part's second I2C address (0x58-0x5F)"},
} as const satisfies Record<string, EuiPart>
export type EuiPartName = keyof typeof EUI_PARTS
export const EUI_PART_NAMES = Object.keys(EUI_PARTS).sort() as EuiPartName[]

/** Where to read the EUI in a file of `fileSize` bytes: at 0 when the file is the EUI alone. */
export function euiOffset(part: EuiPart, fileSize: number): number {
  return fileSize === part.bits / 8 ? 0 : part.offset
}

interface Eui {
  /** Lower-case hex without separators (a serial allows no colons): `0004a3123456`, `0004a3fffe123456`. */
  text: string
  bits: 48 | 64
}

/** Checks and formats the EUI bytes read at the part's offset. */
export function parseEui(data: Uint8Array, part: EuiPart): Parsed<Eui> {
  const size = part.bits / 8
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (bytes.length < size) return {ok: false, reason: `truncated: read ${bytes.length} of ${size} EUI-${part.bits} bytes`, truncated: true}
  const eui = bytes.subarray(0, size)
  if (eui.every((b) => b === 0xff)) return {ok: false, reason: `unprogrammed: all 0xFF where the part keeps its EUI-${part.bits} (${part.where}); is this the right part or I2C address?`}
  if (eui.every((b) => b === 0)) return {ok: false, reason: `all zeros where the part keeps its EUI-${part.bits} (${part.where})`}
  // Factory EUIs are globally administered unicast: an OUI from the IEEE, bits 0 and 1 of the first byte clear.
  if (eui[0] & 1) return {ok: false, reason: `${hexText(eui)} is a group (multicast) address, not a factory EUI-${part.bits}`}
  if (eui[0] & 2) return {ok: false, reason: `${hexText(eui)} is locally administered, not a factory EUI-${part.bits} (written by someone, not the manufacturer)`}
  const hex = [...eui].map((b) => b.toString(16).padStart(2, '0'))
  return {bits: part.bits, ok: true, text: hex.join('')}
}

const hexText = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':')
