/** Checksums of identity EEPROM formats. */
import {createRequire} from 'node:module'

/**
 * IEEE CRC-32 (zlib's, reflected 0xEDB88320): the ONIE TlvInfo checksum. node:zlib has it since
 * Node 20.15; older Node (some devices) gets the table version.
 */
export function crc32(data: Uint8Array): number {
  // node:zlib is loaded only here: most devices never read an ONIE EEPROM, and loading it costs.
  const native = (createRequire(import.meta.url)('node:zlib') as {crc32?: (d: Uint8Array) => number}).crc32
  return native ? native(data) : crc32Portable(data)
}

let table: Uint32Array | undefined

/** The same CRC-32 without node:zlib. */
export function crc32Portable(data: Uint8Array): number {
  table ??= Uint32Array.from({length: 256}, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xed_b8_83_20 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  let crc = 0xff_ff_ff_ff
  for (const byte of data) crc = table[(crc ^ byte) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xff_ff_ff_ff) >>> 0
}
