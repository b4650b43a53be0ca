/**
 * `cpuinfo-serial`: the `Serial` line of /proc/cpuinfo. Printed by arm32 kernels (from the DT
 * serial, else 16 zeros) and by vendor arm64 kernels (Raspberry Pi, Rockchip BSP); absent on
 * mainline arm64. Separators vary (tabs from the kernel, spaces in copies).
 */
import {readingFromError} from './context.js'
import {defineSource} from './definition.js'
import {cpuinfoSerialLine} from '../formats/cpuinfo.js'
import {found, unavailable} from './source.js'

interface CpuinfoOptions {
  /** Require hexadecimal (kernels print hex; redacted copies print `00000000xxxxxxxx`). */
  hex: boolean
}

const CPUINFO = '/proc/cpuinfo'

export const cpuinfoSerial = defineSource<CpuinfoOptions>({
  create({hex}) {
    return {
      description: 'the Serial line of /proc/cpuinfo',
      id: 'cpuinfo-serial',
      plugs: [],
      async read(context) {
        let text: string
        try {
          text = (await context.fs.readFile(CPUINFO)).toString('utf8')
        } catch (error) {
          return readingFromError(error, CPUINFO)
        }

        const line = cpuinfoSerialLine(text)
        if (line === undefined) return unavailable('absent', `${CPUINFO} has no Serial line (mainline arm64 and x86 kernels print none)`, CPUINFO)
        if (line === '') return unavailable('invalid', `the Serial line of ${CPUINFO} is empty`, CPUINFO)
        const value = line
        const isHex = /^[\da-f]+$/i.test(value)
        if (hex && !isHex) return unavailable('invalid', `the Serial line holds "${value}", which is not hexadecimal (redacted, or not from the kernel)`, CPUINFO, value)
        return found(value, CPUINFO, isHex ? 'hex' : 'text')
      },
    }
  },
  id: 'cpuinfo-serial',
  options: {
    hex: {default: true, doc: 'refuse a Serial that is not hexadecimal (default true)', type: 'boolean'},
  },
  plugs: [],
  summary: 'the Serial line of /proc/cpuinfo',
})
