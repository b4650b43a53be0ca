/**
 * `dmi`: SMBIOS identity as the kernel exports it under /sys/class/dmi/id (x86, UEFI ARM servers).
 * Serial and UUID files are root-only (0400); a file is absent when the firmware left the field
 * out (or, for product_uuid, all-zero/all-FF), so absence is an answer, not an error.
 */
import {readFirst, readingFromError} from './context.js'
import {defineSource} from './definition.js'
import {MAX_SMBIOS_TABLE_BYTES, smbiosField, smbiosStructures, smbiosVersion} from '../formats/smbios.js'
import type {SourceContext, SourceReading} from './source.js'
import {found, unavailable} from './source.js'

export const DMI_FIELDS = ['product_serial', 'board_serial', 'chassis_serial', 'product_uuid'] as const
type DmiField = (typeof DMI_FIELDS)[number]

interface DmiOptions {
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
          // Without the id files the raw table may still be there (dmi-id not built, a bare container mount).
          if (!hasDmi) return (await readRawTable(context, field)) ?? unavailable('absent', `no DMI: neither ${DMI_DIR} nor ${DMI_TABLE} exists (no SMBIOS tables on this machine)`, paths[0])
          return field === 'product_uuid'
            ? unavailable('absent', `the firmware set no system UUID (no ${paths[0]}: unset, all-zero or all-FF)`, paths[0])
            : unavailable('absent', `the firmware did not fill ${field} (no ${paths[0]})`, paths[0])
        }

        return dmiValue(field, file.data.toString('latin1'), file.path)
      },
    }
  },
  id: 'dmi',
  options: {
    field: {default: 'product_serial', doc: DMI_FIELDS.join(', '), enum: DMI_FIELDS, type: 'string'},
  },
  plugs: ['hardware-observe'],
  primary: 'field',
  summary: 'SMBIOS product_serial, board_serial, chassis_serial or product_uuid under /sys/class/dmi/id, else from the raw SMBIOS table',
})

function dmiValue(field: DmiField, value: string, origin: string): SourceReading {
  if (field !== 'product_uuid') return found(value, origin, 'text')
  const hex = value.trim().replace(/-/g, '').toLowerCase()
  // ASRock and others put the NIC's MAC in the first bytes and zeros after: unique-ish, not a UUID.
  const notes = /^[\da-f]{12}0{20}$/.test(hex) || /^[\da-f]{16}0{16}$/.test(hex) ? ['low-confidence UUID: a MAC address followed by zeros'] : undefined
  return found(value, origin, 'uuid', notes ? {notes} : {})
}

const DMI_TABLE = '/sys/firmware/dmi/tables/DMI'
const DMI_ENTRY_POINT = '/sys/firmware/dmi/tables/smbios_entry_point'

/**
 * The field from the raw SMBIOS table, when the kernel exports the table but not the id files;
 * undefined when there is no table either (the caller then explains the absence).
 */
async function readRawTable(context: SourceContext, field: DmiField): Promise<SourceReading | undefined> {
  let table: Buffer
  try {
    table = await context.fs.readBytes(DMI_TABLE, 0, MAX_SMBIOS_TABLE_BYTES)
  } catch (error) {
    const reading = readingFromError(error, DMI_TABLE)
    return reading.status === 'absent' ? undefined : reading
  }

  const entryPoint = await context.fs.readBytes(DMI_ENTRY_POINT, 0, 32).catch(() => Buffer.alloc(0))
  const parsed = smbiosStructures(table)
  if (!parsed.ok) return unavailable('invalid', `${DMI_TABLE}: ${parsed.reason}`, DMI_TABLE)
  const value = smbiosField(parsed.structures, field, smbiosVersion(entryPoint))
  if (value === undefined) return unavailable('absent', `the SMBIOS table sets no ${field} (${DMI_TABLE})`, DMI_TABLE)
  return dmiValue(field, value, DMI_TABLE)
}
