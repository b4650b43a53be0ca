/**
 * `beaglebone-eeprom`: the serial field of the TI AM335x board EEPROM (BeagleBone White, Black,
 * Green, PocketBeagle): magic AA 55 33 EE, board name, version, then 12 ASCII characters.
 */
import {defineSource} from './definition.js'
import {AM335X_HEADER_LENGTH, parseAm335xEeprom} from '../formats/am335x-eeprom.js'
import {found, unavailable} from './source.js'
import {readCandidates} from './eeprom.js'

interface BeagleboneOptions {
  path: readonly string[]
  includeBoardName: boolean
}

/** The same AM335x EEPROM through each kernel's view of it (at24 compat file, nvmem, 4.1 at24). */
export const BEAGLEBONE_EEPROM_PATHS = ['/sys/bus/i2c/devices/0-0050/eeprom', '/sys/bus/nvmem/devices/0-00500/nvmem', '/sys/bus/i2c/devices/0-0050/at24-0/nvmem']

export const beagleboneEeprom = defineSource<BeagleboneOptions>({
  create({includeBoardName, path}) {
    return {
      description: 'serial field of the AM335x board EEPROM (magic AA 55 33 EE)',
      id: 'beaglebone-eeprom',
      plugs: ['hardware-observe'],
      read: (context) =>
        // Each default path is a view of the same chip: the first that exists decides.
        readCandidates(context.fs, path, async (file) => {
          const bytes = await context.fs.readBytes(file, 0, AM335X_HEADER_LENGTH)
          const board = parseAm335xEeprom(bytes)
          if (!board.ok) return unavailable('invalid', board.reason, file, bytes.toString('hex'))
          const value = includeBoardName ? `${board.boardName}-${board.serial}` : board.serial
          return found(value, file, 'text', {notes: [`board ${board.boardName} version ${board.version}`], parts: [board.serial]})
        }),
    }
  },
  id: 'beaglebone-eeprom',
  options: {
    includeBoardName: {default: false, doc: 'put the board name in front (A335BNLT-2313BBBK0099)', type: 'boolean'},
    path: {default: BEAGLEBONE_EEPROM_PATHS, doc: 'the board EEPROM file(s); capes on other addresses use the same magic, so do not glob the bus', type: 'strings'},
  },
  plugs: ['hardware-observe'],
  primary: 'path',
  summary: 'the 12-character serial of the TI AM335x board EEPROM (BeagleBone)',
})
