/** The built-in sources, by id. */
import type {SourceDefinition} from './definition.js'
import {command} from './command.js'
import {cpuinfoSerial} from './cpuinfo.js'
import {devicetreeSerial} from './devicetree.js'
import {dmi} from './dmi.js'
import {beagleboneEeprom} from './beaglebone-eeprom.js'
import {eeprom} from './eeprom.js'
import {euiEeprom} from './eui-eeprom.js'
import {file} from './file.js'
import {mac} from './mac.js'
import {moduleSource} from './module.js'
import {nvmem} from './nvmem.js'
import {onieTlv} from './onie-tlv.js'
import {socSerial} from './soc.js'
import {tiAm6Eeprom} from './ti-am6-eeprom.js'

// Options are typed per definition; the registry only hands checked options through.
type AnyDefinition = SourceDefinition<any>

export const BUILTIN_SOURCES: ReadonlyMap<string, AnyDefinition> = new Map(
  [devicetreeSerial, cpuinfoSerial, socSerial, dmi, mac, eeprom, beagleboneEeprom, tiAm6Eeprom, euiEeprom, onieTlv, nvmem, file, command, moduleSource].map((d: AnyDefinition) => [d.id, d]),
)

export function sourceDefinition(id: string): AnyDefinition | undefined {
  return BUILTIN_SOURCES.get(id)
}
