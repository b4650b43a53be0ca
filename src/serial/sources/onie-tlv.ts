/**
 * `onie-tlv`: a TLV (by default 0x23, Serial Number) of an ONIE TlvInfo system EEPROM, used only
 * when the table's CRC-32 checks. Chips on the bus without the TlvInfo magic are skipped.
 */
import {defineSource} from './definition.js'
import {ONIE_HEADER_LENGTH, ONIE_TLV, onieString, onieTableLength, parseOnieTlv} from '../formats/onie-tlv.js'
import {found, unavailable} from './source.js'
import {readCandidates} from './eeprom.js'

interface OnieOptions {
  path: readonly string[]
  type: number
}

const ONIE_EEPROM_PATHS = ['/sys/bus/i2c/devices/*-0050/eeprom', '/sys/bus/i2c/devices/*-0051/eeprom', '/sys/bus/i2c/devices/*-0056/eeprom', '/sys/bus/i2c/devices/*-0057/eeprom']

export const onieTlv = defineSource<OnieOptions>({
  create({path, type}) {
    const name = type === ONIE_TLV.serialNumber ? 'Serial Number' : `0x${type.toString(16).toUpperCase()}`
    return {
      description: `ONIE TlvInfo EEPROM, TLV ${name} (CRC-32 checked)`,
      id: 'onie-tlv',
      plugs: ['hardware-observe'],
      read: (context) =>
        readCandidates(context.fs, path, async (file) => {
          const header = await context.fs.readBytes(file, 0, ONIE_HEADER_LENGTH)
          const size = onieTableLength(header)
          // Another chip on the bus (no TlvInfo magic): keep looking. A TlvInfo header that is bad is an answer.
          if (!size.ok) return size.reason.startsWith('no ONIE') ? undefined : unavailable('invalid', size.reason, file, header.toString('hex'))
          const bytes = await context.fs.readBytes(file, 0, size.length)
          const table = parseOnieTlv(bytes)
          if (!table.ok) return unavailable('invalid', table.reason, file)
          const value = onieString(table, type)
          if (value === undefined) return unavailable('invalid', `the TlvInfo table has no TLV ${name}`, file)
          const product = onieString(table, ONIE_TLV.productName)
          return found(value, file, 'text', product ? {notes: [`product ${product}`]} : {})
        }),
    }
  },
  id: 'onie-tlv',
  options: {
    path: {default: ONIE_EEPROM_PATHS, doc: 'the system EEPROM file(s), globs allowed', type: 'strings'},
    type: {default: ONIE_TLV.serialNumber, doc: 'the TLV to read (0x23 Serial Number, 0x2F Service Tag)', max: 0xfd, min: 1, type: 'integer'},
  },
  plugs: ['hardware-observe'],
  primary: 'path',
  summary: 'the Serial Number TLV (0x23) of an ONIE TlvInfo EEPROM, CRC-32 checked',
})
