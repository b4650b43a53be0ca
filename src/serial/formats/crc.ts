/** Checksums of identity EEPROM formats. */
/**
 * IEEE CRC-32 (zlib's, reflected 0xEDB88320): the ONIE TlvInfo checksum. The table version runs
 * on every engine (QuickJS has no zlib); an EEPROM is a few KB.
 */
export function crc32(data: Uint8Array): number {
  return crc32Portable(data)
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
