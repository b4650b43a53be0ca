/**
 * `dmi`: SMBIOS identity as the kernel exports it under /sys/class/dmi/id (x86, UEFI ARM servers).
 * Serial and UUID files are root-only (0400); a file is absent when the firmware left the field
 * out (or, for product_uuid, all-zero/all-FF), so absence is an answer, not an error.
 */
import {readFirst} from '../context.js'
import {defineSource} from '../definition.js'
import {found, unavailable} from '../source.js'

export const DMI_FIELDS = ['product_serial', 'board_serial', 'chassis_serial', 'product_uuid'] as const
export type DmiField = (typeof DMI_FIELDS)[number]

export interface DmiOptions {
  field: DmiField
}

export const DMI_DIR = '/sys/class/dmi/id'

export const dmi = defineSource<DmiOptions>({
  create({field}) {
    return {
      description: `${DMI_DIR}/${field}`,
      id: 'dmi',
      plugs: ['hardware-observe'],
      async read(context) {
        const paths = [`${DMI_DIR}/${field}`, `/sys/devices/virtual/dmi/id/${field}`]
        const file = await readFirst(context.fs, paths)
        if ('ok' in file) {
          if (file.status !== 'absent') return file
          const hasDmi = await context.fs.stat(DMI_DIR).then(
            () => true,
            () => false,
          )
          if (!hasDmi) return unavailable('absent', `no DMI: ${DMI_DIR} is absent (no SMBIOS tables on this machine)`, paths[0])
          return field === 'product_uuid'
            ? unavailable('absent', `the firmware set no system UUID (no ${paths[0]}: unset, all-zero or all-FF)`, paths[0])
            : unavailable('absent', `the firmware did not fill ${field} (no ${paths[0]})`, paths[0])
        }

        const value = file.data.toString('latin1')
        if (field !== 'product_uuid') return found(value, file.path, 'text')
        const hex = value.trim().replace(/-/g, '').toLowerCase()
        // ASRock and others put the NIC's MAC in the first bytes and zeros after: unique-ish, not a UUID.
        const notes = /^[\da-f]{12}0{20}$/.test(hex) || /^[\da-f]{16}0{16}$/.test(hex) ? ['low-confidence UUID: a MAC address followed by zeros'] : undefined
        return found(value, file.path, 'uuid', notes ? {notes} : {})
      },
    }
  },
  id: 'dmi',
  options: {
    field: {default: 'product_serial', doc: DMI_FIELDS.join(', '), enum: DMI_FIELDS, type: 'string'},
  },
  plugs: ['hardware-observe'],
  primary: 'field',
  summary: 'SMBIOS product_serial, board_serial, chassis_serial or product_uuid under /sys/class/dmi/id',
})
