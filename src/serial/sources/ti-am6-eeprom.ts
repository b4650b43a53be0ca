/**
 * `ti-am6-eeprom`: the board-info record of a TI K3 board EEPROM (BeaglePlay, PocketBeagle 2,
 * AM62x/AM64x starter kits and boards built on them): same magic as the AM335x, record format.
 */
import {defineSource} from './definition.js'
import {AM6_HEADER_LENGTH, am6EepromLength, parseAm6Eeprom} from '../formats/ti-am6-eeprom.js'
import {found, unavailable} from './source.js'
import {BEAGLEBONE_EEPROM_PATHS} from './beaglebone-eeprom.js'
import {readCandidates} from './eeprom.js'

interface TiAm6Options {
  path: readonly string[]
  includeBoardName: boolean
}

export const tiAm6Eeprom = defineSource<TiAm6Options>({
  create({includeBoardName, path}) {
    return {
      description: 'board-info record of the TI AM6x (K3) board EEPROM (magic AA 55 33 EE, records)',
      id: 'ti-am6-eeprom',
      plugs: ['hardware-observe'],
      read: (context) =>
        readCandidates(context.fs, path, async (file) => {
          const header = await context.fs.readBytes(file, 0, AM6_HEADER_LENGTH)
          const length = am6EepromLength(header)
          if (!length.ok) return unavailable('invalid', length.reason, file, header.toString('hex'))
          const bytes = await context.fs.readBytes(file, 0, length.length)
          const parsed = parseAm6Eeprom(bytes)
          if (!parsed.ok) return unavailable('invalid', parsed.reason, file, bytes.subarray(0, 64).toString('hex'))
          const {board} = parsed
          const notes = [`board ${board.boardName} revision ${board.designRevision}, built week ${board.buildWeek} of 20${board.buildYear}`]
          if (parsed.placeholders.length > 0) notes.push(`left out as placeholders: ${parsed.placeholders.join(', ')}`)
          const value = includeBoardName ? `${board.boardName.replace(/-+$/, '')}-${parsed.identity}` : parsed.identity
          return found(value, file, 'text', {notes, parts: [parsed.identity]})
        }),
    }
  },
  id: 'ti-am6-eeprom',
  options: {
    includeBoardName: {default: false, doc: 'put the board name in front (BEAGLEPLAY-A0-0623002931)', type: 'boolean'},
    path: {default: BEAGLEBONE_EEPROM_PATHS, doc: 'the board EEPROM file(s); K3 boards keep it at I2C0 0x50 like the BeagleBone', type: 'strings'},
  },
  plugs: ['hardware-observe'],
  primary: 'path',
  summary: 'the board id, serial and build date of a TI AM6x (K3) board EEPROM (BeaglePlay, AM62x/AM64x kits)',
})
