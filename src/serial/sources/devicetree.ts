/**
 * `devicetree-serial`: a property of the device tree the firmware or bootloader handed to Linux,
 * by default the root `serial-number` (Raspberry Pi firmware, U-Boot `serial#`, NVIDIA cboot).
 * Properties are NUL-terminated strings, not lines; integer properties are big-endian cells.
 */
import {readFirst} from './context.js'
import {defineSource} from './definition.js'
import {found, unavailable} from './source.js'

interface DevicetreeOptions {
  property: string
  encoding: 'hex' | 'string'
}

export const DT_BASES = ['/sys/firmware/devicetree/base', '/proc/device-tree'] as const

export const devicetreeSerial = defineSource<DevicetreeOptions>({
  create({encoding, property}) {
    return {
      description: `device-tree property ${property}${encoding === 'hex' ? ' (binary, as hex)' : ''}`,
      id: 'devicetree-serial',
      plugs: ['hardware-observe'],
      async read(context) {
        const file = await readFirst(
          context.fs,
          DT_BASES.map((base) => `${base}/${property}`),
        )
        if ('ok' in file) return file
        if (encoding === 'hex') return found(file.data.toString('hex'), file.path, 'hex')
        // The first string of a (possibly multi-string) property; some U-Boots add a newline too.
        const text = file.data.toString('latin1').split('\0')[0].replace(/\n+$/, '')
        if (/[\0-\u0008\u000E-\u001F\u007F-\u00FF]/.test(text)) {
          return unavailable('invalid', `${file.path} is binary, not a string (use encoding: hex)`, file.path, file.data.toString('hex'))
        }

        return found(text, file.path, 'text')
      },
    }
  },
  id: 'devicetree-serial',
  options: {
    encoding: {default: 'string', doc: 'string (NUL-terminated text) or hex (binary cells, e.g. system/linux,serial)', enum: ['string', 'hex'], type: 'string'},
    property: {default: 'serial-number', doc: 'property path under the device-tree root, e.g. serial-number or chosen/rpi-duid', pattern: /^[\w,.+@-]+(\/[\w,.+@-]+)*$/, type: 'string'},
  },
  plugs: ['hardware-observe'],
  primary: 'property',
  summary: 'a device-tree property (serial-number) under /sys/firmware/devicetree/base or /proc/device-tree',
})
