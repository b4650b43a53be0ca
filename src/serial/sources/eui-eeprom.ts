/**
 * `eui-eeprom`: the factory EUI-48/EUI-64 of a Microchip 24AA02E48-family or AT24MAC402/602
 * EEPROM, a preset of `eeprom` that knows each part's offset and checks the EUI.
 */
import {defineSource} from './definition.js'
import {EUI_PART_NAMES, EUI_PARTS, type EuiPartName, euiOffset, parseEui} from '../formats/eui.js'
import {found, unavailable} from './source.js'
import {readCandidates} from './eeprom.js'

interface EuiEepromOptions {
  part: EuiPartName
  path: readonly string[]
}

export const euiEeprom = defineSource<EuiEepromOptions>({
  create({part, path}) {
    const spec = EUI_PARTS[part]
    return {
      description: `the factory EUI-${spec.bits} of a ${part} (${spec.where})`,
      id: 'eui-eeprom',
      plugs: ['hardware-observe'],
      read: (context) =>
        readCandidates(context.fs, path, async (file) => {
          const {size} = await context.fs.stat(file)
          const offset = euiOffset(spec, size)
          const bytes = await context.fs.readBytes(file, offset, spec.bits / 8)
          const eui = parseEui(bytes, spec)
          if (!eui.ok) return unavailable('invalid', eui.reason, file, bytes.toString('hex'))
          return found(eui.text, file, eui.bits === 48 ? 'mac' : 'hex', {notes: [`EUI-${eui.bits} at offset 0x${offset.toString(16).toUpperCase()}`]})
        }),
    }
  },
  id: 'eui-eeprom',
  options: {
    part: {doc: `the EEPROM part: ${EUI_PART_NAMES.join(', ')}`, enum: EUI_PART_NAMES, required: true, type: 'string'},
    path: {doc: 'the EEPROM file(s), globs allowed, e.g. /sys/bus/i2c/devices/1-0050/eeprom (AT24MAC: the 0x58 address, 1-0058)', required: true, type: 'strings'},
  },
  plugs: ['hardware-observe'],
  primary: 'path',
  summary: 'the factory EUI-48/EUI-64 of a 24AA02E48/24AA025E48/24AA02E64 or AT24MAC402/602 EEPROM',
})
