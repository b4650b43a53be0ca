/**
 * Lays out SMBIOS data as the kernel's /sys/class/dmi/id does (drivers/firmware/dmi_scan.c and
 * dmi-id.c), from a raw table (/sys/firmware/dmi/tables/DMI format) or from `dmidecode -t 1` text.
 * No public capture of a /sys/class/dmi/id file set exists, so tests build one from these.
 */
import type {Tree} from './root.js'

export interface SmbiosStructure {
  type: number
  /** The formatted area (header included). */
  formatted: Buffer
  strings: string[]
}

export function smbiosStructures(table: Buffer): SmbiosStructure[] {
  const out: SmbiosStructure[] = []
  let at = 0
  while (at + 4 <= table.length) {
    const type = table[at]
    const length = table[at + 1]
    const formatted = table.subarray(at, at + length)
    let end = at + length
    const strings: string[] = []
    // Strings follow, each NUL-terminated; the set ends with an extra NUL (two NULs when empty).
    if (table[end] === 0 && table[end + 1] === 0) end += 2
    else {
      while (end < table.length && table[end] !== 0) {
        const stop = table.indexOf(0, end)
        strings.push(table.subarray(end, stop).toString('latin1'))
        end = stop + 1
      }

      end += 1
    }

    out.push({formatted, strings, type})
    if (type === 127) break
    at = end
  }

  return out
}

/** sysfs name → [structure type, offset of the string index]. */
const STRING_FIELDS: Record<string, [number, number]> = {
  bios_date: [0, 8],
  bios_vendor: [0, 4],
  bios_version: [0, 5],
  board_asset_tag: [2, 8],
  board_name: [2, 5],
  board_serial: [2, 7],
  board_vendor: [2, 4],
  board_version: [2, 6],
  chassis_asset_tag: [3, 8],
  chassis_serial: [3, 7],
  chassis_vendor: [3, 4],
  chassis_version: [3, 6],
  product_family: [1, 0x1a],
  product_name: [1, 5],
  product_serial: [1, 7],
  product_sku: [1, 0x19],
  product_version: [1, 6],
  sys_vendor: [1, 4],
}

const ROOT_ONLY = new Set(['product_serial', 'product_uuid', 'board_serial', 'chassis_serial'])
const DMI_DIR = '/sys/devices/virtual/dmi/id'

/** The kernel's string rule: index 0 is "", a string of spaces only is "". */
function kernelString(s: SmbiosStructure, index: number): string {
  if (index === 0) return ''
  const value = s.strings[index - 1] ?? ''
  return /^ *$/.test(value) ? '' : value
}

/** Kernel text of a product UUID: `%pUl` (first three fields swapped) for SMBIOS >= 2.6, `%pUb` before. */
export function kernelUuid(bytes: Buffer, smbiosVersion: number): string | undefined {
  if (bytes.every((b) => b === 0) || bytes.every((b) => b === 0xff)) return undefined
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0'))
  const order = smbiosVersion >= 0x02_06 ? [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15] : [...Array(16).keys()]
  const h = order.map((i) => hex[i]).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

function dmiTree(values: Record<string, string>): Tree {
  const tree: Tree = {'/sys/class/dmi/id': {symlink: DMI_DIR}}
  for (const [name, value] of Object.entries(values)) tree[`${DMI_DIR}/${name}`] = {data: `${value}\n`, mode: ROOT_ONLY.has(name) ? 0o400 : 0o444}
  return tree
}

/** /sys/class/dmi/id from a raw SMBIOS table; the version decides the UUID's text form. */
export function dmiTreeFromTable(table: Buffer, smbiosVersion = 0x03_00): Tree {
  const values: Record<string, string> = {}
  const structures = smbiosStructures(table)
  for (const [name, [type, offset]] of Object.entries(STRING_FIELDS)) {
    const s = structures.find((x) => x.type === type)
    if (!s || s.formatted.length <= offset) continue
    values[name] = kernelString(s, s.formatted[offset])
  }

  const system = structures.find((x) => x.type === 1)
  if (system && system.formatted.length >= 8 + 16) {
    const uuid = kernelUuid(system.formatted.subarray(8, 24), smbiosVersion)
    if (uuid) values.product_uuid = uuid
  }

  return dmiTree(values)
}

const DMIDECODE_FIELDS: Record<string, string> = {
  Family: 'product_family',
  Manufacturer: 'sys_vendor',
  'Product Name': 'product_name',
  'Serial Number': 'product_serial',
  'SKU Number': 'product_sku',
  UUID: 'product_uuid',
  Version: 'product_version',
}

/** /sys/class/dmi/id from `dmidecode -t 1` text ("Not Specified" is dmidecode's index 0, i.e. ""). */
export function dmiTreeFromDmidecode(text: string): Tree {
  const values: Record<string, string> = {}
  for (const [, key, value] of text.matchAll(/^\s+([^:\n]+):\s*(.*)$/gm)) {
    const name = DMIDECODE_FIELDS[key]
    if (!name) continue
    if (name === 'product_uuid') {
      if (/^[\da-f]{8}(-[\da-f]{4}){3}-[\da-f]{12}$/i.test(value)) values[name] = value.toLowerCase()
      continue
    }

    values[name] = value === 'Not Specified' ? '' : value
  }

  return dmiTree(values)
}
