/** The built-in sources, by id. */
import type {RegisteredSource} from './definition.js'
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

const DEFINITIONS: readonly RegisteredSource[] = [devicetreeSerial, cpuinfoSerial, socSerial, dmi, mac, eeprom, beagleboneEeprom, tiAm6Eeprom, euiEeprom, onieTlv, nvmem, file, command, moduleSource]

export const BUILTIN_SOURCES: ReadonlyMap<string, RegisteredSource> = new Map(DEFINITIONS.map((d) => [d.id, d]))

export function sourceDefinition(id: string): RegisteredSource | undefined {
  return BUILTIN_SOURCES.get(id)
}
