/**
 * Values firmware, bootloaders and kernels put in identifier fields that identify nothing. Data
 * first (each entry says where it was seen, so the list can be defended), then `refusalOf()`,
 * which applies structural rules and the lists to a normalised value.
 */
import {unprintableIn} from './serial-text.js'
import type {ValueFormat} from './sources/source.js'

interface KnownPlaceholder {
  value: string
  /** Where it shows up, and who else filters it. */
  seen: string
}

/** Exact strings (compared case-insensitively, ignoring spaces). */
export const PLACEHOLDER_STRINGS: readonly KnownPlaceholder[] = [
  {seen: 'AMI/Insyde default in DMI fields (systemd hwdb, hw-probe, ASRock X399 Taichi table)', value: 'To Be Filled By O.E.M.'},
  {seen: 'AMI default in DMI fields (systemd hwdb, AAEON UP board)', value: 'Default string'},
  {seen: 'DMI fields (systemd hwdb, systeminformation cleanDefaults)', value: 'Default'},
  {seen: 'ASUS product_serial (fusioninventory-agent#283)', value: 'System Serial Number'},
  {seen: 'chassis_serial label left by OEMs', value: 'Chassis Serial Number'},
  {seen: 'board_serial label left by OEMs', value: 'Base Board Serial Number'},
  {seen: 'serial field equal to its label', value: 'Serial Number'},
  {seen: 'ASUS DMI defaults (systemd hwdb)', value: 'System manufacturer'},
  {seen: 'ASUS DMI defaults (systemd hwdb)', value: 'System Product Name'},
  {seen: 'ASUS DMI defaults (systemd hwdb)', value: 'System Version'},
  {seen: 'DMI defaults (systemd hwdb)', value: 'System Name'},
  {seen: 'DMI SKU label', value: 'SKU'},
  {seen: 'systemd hwdb vendor/product rubbish list', value: 'O.E.M.'},
  {seen: 'systemd hwdb vendor/product rubbish list', value: 'OEM'},
  {seen: 'systemd hwdb vendor/product rubbish list', value: 'N/A'},
  {seen: 'dmidecode rendering of string index 0; QEMU defaults', value: 'Not Specified'},
  {seen: 'hw-probe skip list', value: 'Not Applicable'},
  {seen: 'hw-probe skip list', value: 'Not Available'},
  {seen: 'hw-probe skip list', value: 'No Asset Information'},
  {seen: 'hw-probe skip list', value: 'None'},
  {seen: 'Intel reference-board data copied by OEMs (redhat-cip/hardware quirk list)', value: '0123456789'},
  {seen: 'coreboot System76 Oryx Pro (system76/firmware-open#432)', value: '123456789'},
  {seen: 'VirtualBox product_serial (fusioninventory-agent#98)', value: '0'},
  {seen: 'linux-hardware.org anonymisation marker', value: '--'},
  {seen: 'BeaglePlay EEPROM Serial_Nbr field (nerves boardid)', value: 'SSSS'},
  {seen: 'arm32 kernel default, i.MX soc driver without OCOTP, TI/ODROID/sunxi-3.4 cpuinfo', value: '0000000000000000'},
  {seen: 'public test fixture (BeamBenchmarks cpuinfo test)', value: '11:22:33:44:55:66'},
]

/**
 * Values that are real-looking but identical on every unit of a product: a factory image cloned
 * them. Refusing them makes the chain fall through to a per-unit source.
 */
export const FLEET_DUPLICATES: readonly KnownPlaceholder[] = [{seen: 'DT serial-number of every PX30 from one vendor-storage image (JeffyCN/meta-rockchip#72)', value: 'c3d9b8674f4b94f6'}]

/** UUIDs as the kernel prints them for SMBIOS >= 2.6; the byte-swapped twin is refused too. */
export const PLACEHOLDER_UUIDS: readonly KnownPlaceholder[] = [
  {seen: 'kernel hides it; dmidecode "Not Settable"; osquery list', value: '00000000-0000-0000-0000-000000000000'},
  {seen: 'kernel hides it; dmidecode "Not Present"; oshi#2417', value: 'ffffffff-ffff-ffff-ffff-ffffffffffff'},
  {seen: 'AMI default (osquery list; oshi#2417; Gigabyte/AMI boards)', value: '03000200-0400-0500-0006-000700080009'},
  {seen: 'byte-order test pattern (osquery list)', value: '03020100-0504-0706-0809-0a0b0c0d0e0f'},
  {seen: 'osquery list', value: '10000000-0000-8000-0040-000000000000'},
  {seen: 'Windows IoT box (osquery#8887)', value: 'fefefefe-fefe-fefe-fefe-fefefefefefe'},
  {seen: 'Intel reference-board data on a Tyan board (LKML)', value: '0a0a0a0a-0a0a-0a0a-0a0a-0a0a0a0a0a0a'},
]

/** MAC addresses that are not station addresses (12 hex digits). */
export const PLACEHOLDER_MACS: readonly KnownPlaceholder[] = [
  {seen: 'loopback, unprogrammed NICs', value: '000000000000'},
  {seen: 'broadcast; unprogrammed EEPROM', value: 'ffffffffffff'},
  {seen: 'masked MAC (Android, systeminformation MASKED_MACS)', value: '020000000000'},
]

/**
 * Words that mark a value as a placeholder wherever they appear as whole words (hw-probe
 * `emptyVal()`, systemd hwdb, systeminformation `cleanDefaults()`).
 */
const PLACEHOLDER_WORDS: readonly string[] = [
  'bad index',
  'default string',
  'empty',
  'invalid',
  'n/a',
  'no asset information',
  'none',
  'not applicable',
  'not available',
  'not settable',
  'not present',
  'not specified',
  'null',
  'oem',
  'out of spec',
  'to be filled',
  'undefined',
  'unknown',
]

type RefusalRule = 'control' | 'counting' | 'duplicate' | 'empty' | 'known' | 'locked' | 'multicast' | 'redacted' | 'repeated' | 'short' | 'words'

export interface Refusal {
  rule: RefusalRule
  /** Why, for humans: "placeholder: all zeros". */
  reason: string
}

const squash = (s: string) => s.toLowerCase().replace(/\s+/g, '')
const knownStrings = new Map(PLACEHOLDER_STRINGS.map((p) => [squash(p.value), p]))
const duplicates = new Map(FLEET_DUPLICATES.map((p) => [p.value.toLowerCase(), p]))
const knownMacs = new Map(PLACEHOLDER_MACS.map((p) => [p.value, p]))
const knownUuids = new Map<string, KnownPlaceholder>()
for (const p of PLACEHOLDER_UUIDS) {
  const hex = p.value.replace(/-/g, '')
  knownUuids.set(hex, p)
  knownUuids.set(swapUuidFields(hex), p)
}

/**
 * The other byte order of a UUID (32 hex digits): SMBIOS >= 2.6 stores the first three fields
 * little-endian, older tables do not, so the same bytes print two ways.
 */
export function swapUuidFields(hex: string): string {
  const bytes = (s: string) => s.match(/../g) ?? []
  return bytes(hex.slice(0, 8)).reverse().join('') + bytes(hex.slice(8, 12)).reverse().join('') + bytes(hex.slice(12, 16)).reverse().join('') + hex.slice(16)
}

/** Why `value` (already normalised) is not an identity, or undefined when it may be one. */
export function refusalOf(value: string, format: ValueFormat = 'text'): Refusal | undefined {
  if (value.trim() === '') return {reason: 'empty', rule: 'empty'}
  // Nothing a terminal acts on, or that hides or reorders text, reaches a log, a database or snapd.
  const unprintable = unprintableIn(value)
  if (unprintable) return {reason: `the value holds ${unprintable}: not an identifier`, rule: 'control'}
  if (format === 'uuid') {
    const uuid = uuidRefusal(value)
    if (uuid) return uuid
  }

  const refusal = format === 'mac' ? macRefusal(value) : textRefusal(value)
  // A known placeholder is one whatever its source calls it: the AMI default UUID also turns up in
  // DMI product_serial, read as text.
  return refusal ?? knownInAnyFormat(value)
}

function knownInAnyFormat(value: string): Refusal | undefined {
  const bare = value.trim().toLowerCase()
  if (/^[\da-f]{8}-?[\da-f]{4}-?[\da-f]{4}-?[\da-f]{4}-?[\da-f]{12}$/.test(bare)) {
    const known = knownUuids.get(bare.replace(/-/g, ''))
    if (known) return {reason: `placeholder UUID ${value} (${known.seen})`, rule: 'known'}
  }

  if (/^[\da-f]{2}([:-]?[\da-f]{2}){5}$/.test(bare)) {
    const known = knownMacs.get(bare.replace(/[:-]/g, ''))
    if (known) return {reason: `placeholder MAC ${value} (${known.seen})`, rule: 'known'}
  }

  return undefined
}

function uuidRefusal(value: string): Refusal | undefined {
  const hex = value.replace(/-/g, '').toLowerCase()
  if (!/^[\da-f]{32}$/.test(hex)) return undefined
  const known = knownUuids.get(hex)
  if (known) return {reason: `placeholder UUID ${value} (${known.seen})`, rule: 'known'}
  for (const order of [hex, swapUuidFields(hex)]) {
    const bytes = (order.match(/../g) ?? []).map((b) => Number.parseInt(b, 16))
    if (bytes.every((b, i) => i === 0 || b === bytes[i - 1] + 1) || bytes.every((b, i) => i === 0 || b === bytes[i - 1] - 1)) {
      return {reason: `placeholder UUID ${value}: its bytes are a counting pattern`, rule: 'counting'}
    }
  }

  if (new Set(hex.match(/../g)).size === 1) return {reason: `placeholder UUID ${value}: every byte is the same`, rule: 'repeated'}
  return undefined
}

function macRefusal(value: string): Refusal | undefined {
  const hex = value.replace(/[:-]/g, '').toLowerCase()
  const known = knownMacs.get(hex)
  if (known) return {reason: `placeholder MAC ${value} (${known.seen})`, rule: 'known'}
  if (/^[\da-f]{12}$/.test(hex) && Number.parseInt(hex.slice(0, 2), 16) & 1) {
    return {reason: `${value} is a multicast address, not a station address`, rule: 'multicast'}
  }

  return undefined
}

function textRefusal(value: string): Refusal | undefined {
  const lower = value.toLowerCase()
  const known = knownStrings.get(squash(value))
  if (known) return {reason: `placeholder "${value}" (${known.seen})`, rule: 'known'}
  const duplicate = duplicates.get(lower)
  if (duplicate) return {reason: `"${value}" is the same on every unit of a product (${duplicate.seen})`, rule: 'duplicate'}

  // Separators do not make a repeated character less repeated: 0000-0000, ff:ff:ff.
  const bare = lower.replace(/[\s:._-]/g, '')
  const spaceless = lower.replace(/\s/g, '')
  if (spaceless.length > 1 && new Set(spaceless).size === 1) return {reason: `placeholder: ${repeatedName(spaceless[0])}`, rule: 'repeated'}
  if (bare === '') return {reason: `placeholder: "${value}" is only separators`, rule: 'repeated'}
  if (bare.length > 1 && new Set(bare).size === 1) return {reason: `placeholder: ${repeatedName(bare[0])}`, rule: 'repeated'}
  if (/x{4,}|<removed>|redacted|removed>/.test(lower)) return {reason: `"${value}" is a redacted value, not a serial`, rule: 'redacted'}
  if (/^(badabada)+$/.test(bare)) return {reason: `"${value}" is what locked fuse words read back as (0xBADABADA)`, rule: 'locked'}
  if (isCountingRun(bare)) return {reason: `placeholder: "${value}" is a counting sequence`, rule: 'counting'}
  const words = ` ${lower.replace(/[^\da-z/.]+/g, ' ').trim()} `
  for (const word of PLACEHOLDER_WORDS) {
    if (words.includes(` ${word} `)) return {reason: `placeholder: "${value}" contains "${word}"`, rule: 'words'}
  }

  if (lower.includes('o.e.m')) return {reason: `placeholder: "${value}" contains "O.E.M."`, rule: 'words'}
  if (value.trim().length < 4) return {reason: `"${value}" is too short to identify a device (fewer than 4 characters)`, rule: 'short'}
  return undefined
}

function repeatedName(char: string): string {
  if (char === '0') return 'all zeros'
  if (char === 'f') return 'all Fs'
  return `every character is "${char}"`
}

/** 123456789, 0123456789, 1234567890, 987654321, 0123456789abcdef: six or more steps of one. */
function isCountingRun(bare: string): boolean {
  if (bare.length < 6) return false
  const alphabet = /^[\d]+$/.test(bare) ? '0123456789' : /^[\da-f]+$/.test(bare) ? '0123456789abcdef' : undefined
  if (!alphabet) return false
  const n = alphabet.length
  const steps = new Set<number>()
  for (let i = 1; i < bare.length; i++) steps.add((alphabet.indexOf(bare[i]) - alphabet.indexOf(bare[i - 1]) + n) % n)
  return steps.size === 1 && (steps.has(1) || steps.has(n - 1))
}
