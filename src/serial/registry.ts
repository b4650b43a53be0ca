/** The built-in sources, by id. */
import type {SourceDefinition} from './definition.js'
import {command} from './sources/command.js'
import {cpuinfoSerial} from './sources/cpuinfo.js'
import {devicetreeSerial} from './sources/devicetree.js'
import {dmi} from './sources/dmi.js'
import {beagleboneEeprom} from './sources/beaglebone-eeprom.js'
import {eeprom} from './sources/eeprom.js'
import {euiEeprom} from './sources/eui-eeprom.js'
import {file} from './sources/file.js'
import {mac} from './sources/mac.js'
import {moduleSource} from './sources/module.js'
import {nvmem} from './sources/nvmem.js'
import {onieTlv} from './sources/onie-tlv.js'
import {socSerial} from './sources/soc.js'
import {tiAm6Eeprom} from './sources/ti-am6-eeprom.js'

// Options are typed per definition; the registry only hands checked options through.
type AnyDefinition = SourceDefinition<any>

export const BUILTIN_SOURCES: ReadonlyMap<string, AnyDefinition> = new Map(
  [devicetreeSerial, cpuinfoSerial, socSerial, dmi, mac, eeprom, beagleboneEeprom, tiAm6Eeprom, euiEeprom, onieTlv, nvmem, file, command, moduleSource].map((d: AnyDefinition) => [d.id, d]),
)

export function sourceDefinition(id: string): AnyDefinition | undefined {
  return BUILTIN_SOURCES.get(id)
}
