/**
 * validateVolume's loop over the structures of a volume (gadget.go): each structure's own rules
 * (validateVolumeStructure: size, type, role, filesystem, content, update; for an emmc volume
 * validateEMMCVolumeStructure), the room for the GPT header, and whether its name (2.57: and
 * its label) is already taken.
 */
import type {YamlNode as Node} from '../../../go-yaml/read/ast.js'
import type {GadgetContent} from '../../gadget-types.js'
import type {RuleId} from '../../findings/rules.js'
import {goQuote, iecString, MiB, u64} from '../../quantity.js'
import {snapdFeatures, type SnapdTarget} from '../../snapd-version.js'
import {didYouMean} from '../../../support/suggest.js'
import {type StructureRef, SYSTEM_BOOT_STATE, SYSTEM_SEED_NULL, type VolumeRef} from '../../geometry/volumes.js'
import {type SnapdContext} from './context.js'

const SYSTEM_BOOT_STATE_GUID = '3DE21764-95BD-54BD-A5C3-4ABE786F38A8'
const FILESYSTEMS = ['ext4', 'vfat', 'none']
const FILESYSTEMS_VFAT_SIZES = ['ext4', 'vfat', 'vfat-16', 'vfat-32', 'none']
const SIZE_MBR = 446n
const validTypeId = /^[0-9A-F]{2}$/
const validGuid = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i

function bareContentProblem(c: GadgetContent): undefined | {hint: string; message: string} {
  if (c.source !== '' || c.target !== '') {
    return {
      hint: 'this structure has no filesystem, so its content is raw images ("image:"); add "filesystem: vfat" or "ext4" to copy files with source/target',
      message: 'cannot use non-image content for bare file system',
    }
  }

  if (c.image === '') return {hint: 'name the raw image to write with "image: <file>"', message: 'missing image file name'}
  return undefined
}

function filesystemContentProblem(c: GadgetContent, target: SnapdTarget): undefined | {hint: string; message: string} {
  const ow = !target.has('strictOffsetWrite') && c['offset-write'] !== undefined
  if (c.image !== '' || c.offset !== undefined || ow || (c.size ?? 0n) !== 0n) {
    return {hint: 'a structure with a filesystem takes files ("source:" and "target:"); raw images go in a structure without a filesystem', message: 'cannot use image content for non-bare file system'}
  }

  if (c.source === '') return {hint: 'add "source: <path in the gadget>"', message: 'missing source'}
  if (c.target === '') return {hint: 'add "target: <path in the filesystem>", e.g. "target: /"', message: 'missing target'}
  return undefined
}

/** validateVolume's loop, in snapd's order of the structures (the geometry's). */
export function volumeStructures(cx: SnapdContext, vol: VolumeRef): void {
  const emmc = cx.target.has('emmc') && vol.v.schema === 'emmc'
  vol.structures.forEach((st, index) => {
    if (emmc) validateEmmcStructure(cx, vol, st, index)
    else validateStructure(cx, vol, st, index)
    if (cx.newest && vol.schema === 'gpt' && st.s.offset !== undefined) gptHeader(cx, st)
    if (st.nameTaken) nameNotUnique(cx, vol, st)
    // The newest snapd judges labels before, in setImplicitForVolume (implicit.ts).
    if (!cx.newest && st.labelTaken) labelNotUnique(cx, vol, st)
  })
}

function nameNotUnique(cx: SnapdContext, vol: VolumeRef, st: StructureRef): void {
  cx.error('S11', `${cx.prefix(vol)}structure name ${goQuote(st.s.name)} is not unique`, cx.loc.valueNode(st.s, 'name'), 'give each structure of a volume its own name', [...st.path, 'name'])
}

function labelNotUnique(cx: SnapdContext, vol: VolumeRef, st: StructureRef): void {
  const label = st.s['filesystem-label']
  cx.error('X6', `${cx.prefix(vol)}filesystem label ${goQuote(label)} is not unique`, cx.loc.valueNode(st.s, 'filesystem-label'), 'give each filesystem of a volume its own label', [...st.path, 'filesystem-label'])
}

/** validateVolumeStructure (both versions). */
function validateStructure(cx: SnapdContext, vol: VolumeRef, st: StructureRef, index: number): void {
  const {s} = st
  // Messages are built only when there is something to report.
  const pre = () => cx.prefix(vol, st, index)
  const partialSize = vol.partial.has('size') && (s.size ?? 0n) === 0n
  if (!partialSize) {
    if ((s.size ?? 0n) === 0n && !cx.failed([...st.path, 'size'])) {
      cx.error('S2', `${pre()}missing size`, cx.loc.valueNode(s, cx.loc.field(s, 'size') ? 'size' : undefined), 'give the structure a size, e.g. "size: 1200M"', [...st.path, 'size'])
    }

    if (cx.target.has('minSize') && s['min-size'] !== undefined && s['min-size'] > (s.size ?? 0n) && (s.size ?? 0n) !== 0n) {
      cx.error('S3', `${pre()}min-size (${s['min-size']}) is bigger than size (${s.size ?? 0n})`, cx.loc.valueNode(s, 'min-size'), 'min-size is the smallest the structure may be; make it no bigger than size', [
        ...st.path,
        'min-size',
      ])
    }
  }

  structureType(cx, vol, st, pre)
  role(cx, vol, st, pre)
  const filesystems = cx.target.has('vfat16And32') ? FILESYSTEMS_VFAT_SIZES : FILESYSTEMS
  if (s.filesystem !== '' && !filesystems.includes(s.filesystem)) {
    const guess = didYouMean(s.filesystem, filesystems) ?? (/^fat/i.test(s.filesystem) || /^vfat/i.test(s.filesystem) ? 'vfat' : undefined)
    const newer = /^vfat-(16|32)$/.test(s.filesystem) ? ` (${s.filesystem} needs snapd ${snapdFeatures.vfat16And32} or later; "vfat" works everywhere)` : ''
    cx.error('S10', `${pre()}invalid filesystem ${goQuote(s.filesystem)}`, cx.loc.valueNode(s, 'filesystem'), `use ${filesystems.join(', ')}${guess ? `: did you mean "${guess}"?` : ''}${newer}`, [
      ...st.path,
      'filesystem',
    ])
  }

  const fs = st.hasFilesystem
  s.content?.forEach((c, i) => {
    const problem = fs ? filesystemContentProblem(c, cx.target) : bareContentProblem(c)
    if (problem) {
      cx.error(fs ? 'C2' : 'C1', `${pre()}invalid content #${i}: ${problem.message}`, cx.loc.item(s.content, i), problem.hint, [...st.path, 'content', i])
    }
  })
  structureUpdate(cx, vol, st, pre, fs)
}

function structureUpdate(cx: SnapdContext, vol: VolumeRef, st: StructureRef, pre: () => string, fs: boolean): void {
  const preserve = st.s.update?.preserve ?? []
  if (!fs && preserve.length > 0) {
    cx.error(
      'U2',
      `${pre()}preserving files during update is not supported for non-filesystem structures`,
      cx.loc.valueNode(st.s.update, 'preserve'),
      'preserve lists files of a filesystem; remove it from raw structures',
      [...st.path, 'update', 'preserve'],
    )
  }

  const seen = new Set<string>()
  preserve.forEach((p, i) => {
    if (seen.has(p)) {
      cx.error('U3', `${pre()}duplicate "preserve" entry ${goQuote(p)}`, cx.loc.item(preserve, i), 'list each preserved path once', [...st.path, 'update', 'preserve', i])
    }

    seen.add(p)
  })
}

function structureType(cx: SnapdContext, vol: VolumeRef, st: StructureRef, pre: () => string): void {
  const t = st.s.type
  const fail = (rule: RuleId, detail: string, hint: string) =>
    cx.error(rule, `${pre()}invalid type ${goQuote(t)}: ${detail}`, cx.loc.valueNode(st.s, cx.loc.field(st.s, 'type') ? 'type' : undefined), hint, [...st.path, 'type'])
  if (vol.v.schema === 'emmc' && cx.target.has('emmc')) return
  if (t === '') {
    fail('S5', 'type is not specified', 'add a type: a GUID for gpt volumes (e.g. 0FC63DAF-8483-4772-8E79-3D69D8477DE4 for Linux data), two hex digits for mbr (e.g. 83), or "bare"')
    return
  }

  if (t === 'bare' || t === 'mbr') return
  let isGpt = false
  let isMbrType = false
  let isHybrid = false
  const comma = t.indexOf(',')
  if (comma === -1) {
    if (validTypeId.test(t)) isMbrType = true
    else if (validGuid.test(t)) isGpt = true
    else {
      const upper = t.toUpperCase()
      const hint = /^[0-9a-f]{2}$/i.test(t)
        ? `MBR type codes are upper case: use "${upper}"`
        : /^0x[0-9a-f]{2}$/i.test(t)
          ? `write the MBR type code without 0x: "${t.slice(2).toUpperCase()}"`
          : /^\d+$/.test(t) && t.length !== 2
            ? 'MBR types are exactly two hex digits (e.g. 0C, 83); quote them so YAML keeps the leading zero'
            : 'use "bare", "mbr", two upper-case hex digits (MBR), a GUID (GPT), or "XX,GUID" (hybrid)'
      fail('S5', 'invalid format', hint)
      return
    }
  } else {
    isHybrid = true
    const code = t.slice(0, comma)
    const guid = t.slice(comma + 1)
    if (code.length !== 2 || guid.length !== 36 || !validTypeId.test(code) || !validGuid.test(guid)) {
      fail('S5', 'invalid format of hybrid type', 'a hybrid type is two upper-case hex digits, a comma and a GUID, with no spaces, e.g. "EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B"')
      return
    }
  }

  if (vol.partial.has('schema')) {
    if (!isHybrid) fail('S6', 'both MBR type and GUID structure type needs to be defined on partial schemas', 'with "partial: [schema]" use a hybrid type "XX,GUID"')
    return
  }

  const schema = vol.v.schema || 'gpt'
  // An invalid schema is reported once (V3), not again for every structure type.
  if (!['gpt', 'mbr'].includes(schema)) return
  const shown = cx.newest ? vol.schema : vol.v.schema
  if (schema !== 'gpt' && isGpt) fail('S6', `GUID structure type with non-GPT schema ${goQuote(shown)}`, 'use a two-digit MBR type in an mbr volume, or a hybrid "XX,GUID"')
  if (schema !== 'mbr' && isMbrType) {
    fail('S6', `MBR structure type with non-MBR schema ${goQuote(shown)}`, `use a GUID in a gpt volume (the default schema), a hybrid "${t},<GUID>", or set "schema: mbr"`)
  }
}

function role(cx: SnapdContext, vol: VolumeRef, st: StructureRef, pre: () => string): void {
  const {s} = st
  const what = () => (s.role === '' ? `implicit role ${goQuote(s.type)}` : `role ${goQuote(s.role)}`)
  const field = s.role === '' ? 'type' : 'role'
  const fail = (rule: RuleId, detail: string, hint: string, at = cx.loc.valueNode(s, field)) => cx.error(rule, `${pre()}invalid ${what()}: ${detail}`, at, hint, [...st.path, field])
  if (s.type === 'bare' && s.role !== '' && s.role !== 'mbr') {
    fail('S8', 'conflicting type: "bare"', `a bare structure is not a partition and cannot have role ${s.role}; give it a partition type or drop the role`)
    return
  }

  let role = s.role
  if (s.type === 'mbr') {
    if (role !== '' && role !== 'mbr') {
      fail('S8', 'conflicting legacy type: "mbr"', '"type: mbr" implies "role: mbr"; use "type: bare" with "role: mbr"')
      return
    }

    role = 'mbr'
  }

  const roles = cx.structureRoles
  switch (role) {
    case 'mbr': {
      const size = s.size ?? 0n
      if (size > SIZE_MBR) fail('S9', 'mbr structures cannot be larger than 446 bytes', `the MBR boot code area is 446 bytes (pc gadgets use 440): set "size: 440"`, cx.loc.valueNode(s, 'size'))
      if (s.offset !== undefined && s.offset !== 0n) fail('S9', 'mbr structure must start at offset 0', 'set "offset: 0" or remove the offset', cx.loc.valueNode(s, 'offset'))
      if (s.id !== '') fail('S9', 'mbr structure must not specify partition ID', 'remove "id:" from the mbr structure', cx.loc.valueNode(s, 'id'))
      if (s.filesystem !== '' && s.filesystem !== 'none') fail('S9', 'mbr structures must not specify a file system', 'remove "filesystem:" from the mbr structure', cx.loc.valueNode(s, 'filesystem'))
      break
    }

    default: {
      if (role === SYSTEM_BOOT_STATE && cx.target.has('systemBootState')) {
        systemBootState(cx, st, fail)
      } else if (!roles.includes(role)) {
        const newer = role === SYSTEM_SEED_NULL ? snapdFeatures.systemSeedNull : role === SYSTEM_BOOT_STATE ? snapdFeatures.systemBootState : undefined
        // A role of a newer snapd is no typo: no guess is looked for.
        const guess = newer ? undefined : didYouMean(role, roles.filter(Boolean))
        fail(
          'S7',
          'unsupported role',
          newer ? `the ${role} role needs snapd ${newer} or later (this check targets ${cx.target.label})` : `use one of ${roles.filter(Boolean).join(', ')}${guess ? `: did you mean "${guess}"?` : ''}`,
        )
      }
    }
  }
}

function systemBootState(cx: SnapdContext, st: StructureRef, fail: (rule: RuleId, detail: string, hint: string, at?: Node) => void): void {
  const {s} = st
  const size = s.size ?? 0n
  if (st.minSize !== size) fail('R7', 'system-boot-state role does not support min-size', 'remove min-size from the system-boot-state structure')
  else if (size < MiB) fail('R7', `system-boot-state partition must be at least 1 MiB, got ${iecString(size)}`, 'set "size: 1M" or more')
  else if (s.filesystem !== '' && s.filesystem !== 'none') fail('R7', 'system-boot-state role must have no filesystem', 'remove "filesystem:"')
  else if (s.type.toUpperCase() !== SYSTEM_BOOT_STATE_GUID) {
    fail('R7', `system-boot-state role requires type ${SYSTEM_BOOT_STATE_GUID}, got ${s.type}`, `set "type: ${SYSTEM_BOOT_STATE_GUID}"`)
  }
}

/** The newest validateVolume's notice (a warning, not an error): a structure on the GPT header or table. */
function gptHeader(cx: SnapdContext, st: StructureRef): void {
  const start = st.s.offset!
  const end = u64(start + st.minSize)
  const overlaps = start < 512n * 34n && end > 4096n
  const might = !overlaps && start < 4096n * 6n && end > 512n
  if (overlaps || might) {
    cx.input.report.add({
      hint: 'start partitions at 1M (or at least after 24576 bytes) so the GPT header and table stay intact',
      message: overlaps
        ? `structure ${goQuote(st.s.name)} overlaps the GPT header or partition table (bytes 4096 to 17408)`
        : `structure ${goQuote(st.s.name)} might overlap the GPT header or partition table (bytes 512 to 24576)`,
      node: cx.loc.valueNode(st.s, 'offset'),
      path: [...st.path, 'offset'],
      rule: 'X8',
      severity: 'warning',
    })
  }
}

/** validateEMMCVolumeStructure: an emmc structure holds name, content and update only; snapd stops at the first other key. */
function validateEmmcStructure(cx: SnapdContext, vol: VolumeRef, st: StructureRef, idx: number): void {
  const {s} = st
  const pre = () => cx.prefix(vol, st, idx)
  const checks: Array<[string, boolean]> = [
    ['size', cx.target.has('emmcNoSize') && (s.size ?? 0n) !== 0n],
    ['min-size', cx.target.has('emmcNoSize') && (s['min-size'] ?? 0n) !== 0n],
    ['filesystem-label', s['filesystem-label'] !== ''],
    ['offset', s.offset !== undefined && s.offset !== 0n],
    ['offset-write', s['offset-write'] !== undefined],
    ['filesystem', s.filesystem !== ''],
    ['type', s.type !== ''],
    ['id', s.id !== ''],
    ['role', s.role !== ''],
  ]
  if (!cx.target.has('emmcNoSize') && (s.size ?? 0n) === 0n) {
    cx.error('S2', `${pre()}missing size`, cx.loc.valueNode(s), `snapd ${cx.target.label} still requires a size for emmc structures`, st.path)
  }

  const bad = checks.find(([, isSet]) => isSet)
  if (bad) {
    cx.error('E2', `${pre()}${goQuote(bad[0])} not allowed for emmc volume structures`, cx.loc.keyNode(s, bad[0]), 'emmc structures take only name, content and update', [...st.path, bad[0]])
    return
  }

  s.content?.forEach((c, i) => {
    let problem: string | undefined
    if (c.offset !== undefined || (c.size ?? 0n) !== 0n) problem = 'cannot specify size or offset for content'
    else if (c.source !== '' || c.target !== '') problem = 'cannot use non-image content for hardware partitions'
    else if (c.image === '') problem = 'missing image file name'
    if (problem) cx.error('E4', `${pre()}invalid content #${i}: ${problem}`, cx.loc.item(s.content, i), 'emmc content is a list of images, without offset or size', [...st.path, 'content', i])
  })
  structureUpdate(cx, vol, st, pre, st.hasFilesystem)
}
