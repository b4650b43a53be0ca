/**
 * Roles across volumes (validate.go's gadget.Validate): system-seed/boot/data/save, their labels
 * and what the model asks for; what an emmc volume may declare (ruleValidateEMMCVolume).
 */
import type {RuleId} from '../../findings/rules.js'
import {goQuote} from '../../quantity.js'
import {linuxFilesystem, type StructureRef, SYSTEM_BOOT, SYSTEM_BOOT_STATE, SYSTEM_DATA, SYSTEM_SAVE, SYSTEM_SEED, SYSTEM_SEED_NULL, type VolumeRef} from '../../geometry/volumes.js'
import {type SnapdContext} from './context.js'

export function roles(cx: SnapdContext, volumes: readonly VolumeRef[]): void {
  const vols = volumes.filter((v) => v.v)
  const tracked = [SYSTEM_SEED, SYSTEM_BOOT, SYSTEM_DATA, SYSTEM_SAVE]
  if (cx.target.has('systemSeedNull')) tracked.push(SYSTEM_SEED_NULL)
  if (cx.target.has('systemBootState')) tracked.push(SYSTEM_BOOT_STATE)
  const roles = new Map<string, StructureRef>()
  const xvols = volumes.length === 1 ? '' : ' across volumes'
  for (const vol of vols) {
    for (const st of vol.structures) {
      if (!tracked.includes(st.s.role)) continue
      if (roles.has(st.s.role)) {
        cx.error('R1', `cannot have more than one partition with ${st.s.role} role${xvols}`, cx.loc.valueNode(st.s, 'role'), `only one structure may have role ${st.s.role}`, [...st.path, 'role'])
        continue
      }

      roles.set(st.s.role, st)
    }
  }

  if (roles.has(SYSTEM_SEED) && roles.has(SYSTEM_SEED_NULL)) {
    const st = roles.get(SYSTEM_SEED_NULL)!
    cx.error('R1', `cannot have more than one partition with system-seed/system-seed-null role${xvols}`, cx.loc.valueNode(st.s, 'role'), 'use either system-seed (Core) or system-seed-null (classic), not both', [
      ...st.path,
      'role',
    ])
  }

  const {model} = cx.input
  let hasModes: boolean
  let classicWithModes = false
  if (model) {
    hasModes = Boolean(model.grade)
    classicWithModes = model.classic && hasModes && cx.target.has('systemSeedNull')
  } else {
    hasModes = roles.has(SYSTEM_SEED)
    if (roles.has(SYSTEM_SEED_NULL)) {
      hasModes = true
      classicWithModes = true
    }
  }

  for (const vol of vols) {
    if (cx.target.has('emmc') && vol.v.schema === 'emmc') emmcVolume(cx, vol)
    vol.structures.forEach((st, idx) => {
      reservedLabel(cx, vol, st, hasModes, cx.newest ? idx : st.index)
      if (cx.target.has('emmc') && vol.v.schema === 'emmc' && !['boot0', 'boot1'].includes(st.s.name)) {
        cx.error('E3', `${cx.prefix(vol, st, idx)}cannot use ${goQuote(st.s.name)} as emmc name, only ["boot0" "boot1"] is allowed`, cx.loc.valueNode(st.s, 'name'), 'name emmc structures boot0 and boot1', [
          ...st.path,
          'name',
        ])
      }
    })
  }

  if (classicWithModes) rolesClassicWithModes(cx, roles)
  else rolesConsistency(cx, roles, hasModes)
}

function reservedLabel(cx: SnapdContext, vol: VolumeRef, st: StructureRef, hasModes: boolean, idx: number): void {
  const {s} = st
  const label = s['filesystem-label']
  if (s.role !== '' || label === '') return
  const reserved = hasModes ? ['ubuntu-boot', 'ubuntu-seed', 'ubuntu-data', 'ubuntu-save'] : ['ubuntu-seed', 'ubuntu-data']
  const vfat = linuxFilesystem(s.filesystem) === 'vfat' && cx.target.has('vfatCaseInsensitiveLabels')
  const hit = reserved.find((r) => (vfat ? r.toLowerCase() === label.toLowerCase() : r === label))
  if (!hit) return
  const role = {'ubuntu-boot': SYSTEM_BOOT, 'ubuntu-data': SYSTEM_DATA, 'ubuntu-save': SYSTEM_SAVE, 'ubuntu-seed': SYSTEM_SEED}[hit]
  cx.error('X7', `${cx.prefix(vol, st, idx)}label ${goQuote(label)} is reserved`, cx.loc.valueNode(s, 'filesystem-label'), `"${hit}" belongs to the ${role} role: add "role: ${role}" or choose another label`, [
    ...st.path,
    'filesystem-label',
  ])
}

function labelCheck(cx: SnapdContext, st: StructureRef | undefined, role: string, expected: string, rule: RuleId = 'R3'): void {
  if (!st) return
  const label = st.s['filesystem-label']
  const vfat = linuxFilesystem(st.s.filesystem) === 'vfat' && cx.target.has('vfatCaseInsensitiveLabels')
  if (label === '' || label === expected || (vfat && label.toLowerCase() === expected.toLowerCase())) return
  cx.error(rule, `${role} structure must have an implicit label or ${goQuote(expected)}, not ${goQuote(label)}`, cx.loc.valueNode(st.s, 'filesystem-label'), `set "filesystem-label: ${expected}" or remove the label`, [
    ...st.path,
    'filesystem-label',
  ])
}

function rolesConsistency(cx: SnapdContext, roles: Map<string, StructureRef>, seedExpected: boolean): void {
  const seed = roles.get(SYSTEM_SEED)
  const data = roles.get(SYSTEM_DATA)
  const save = roles.get(SYSTEM_SAVE)
  const at = (st?: StructureRef) => (st ? cx.loc.valueNode(st.s, 'role') : undefined)
  if (!seed && !data) {
    if (seedExpected) {
      cx.error(
        'M6',
        'model requires system-seed partition, but no system-seed or system-data partition found',
        cx.loc.keyNode(cx.input.parsed.info, 'volumes'),
        'a UC20+ model needs system-seed, system-boot, system-save and system-data structures',
      )
    }
  } else if (seed && !data) {
    cx.error('R2', 'the system-seed role requires system-data to be defined', at(seed), 'add a structure with "role: system-data" (label ubuntu-data) to the same volume', seed.path)
  } else if (!seed && data) {
    if (seedExpected) cx.error('M6', 'model requires system-seed structure, but none was found', at(data), 'a UC20+ model needs a system-seed structure (label ubuntu-seed)')
    else labelCheck(cx, data, SYSTEM_DATA, 'writable')
  } else if (seed && data) {
    if (!seedExpected) {
      cx.error('M5', 'model does not support the system-seed role', at(seed), 'a UC16/18 model has no recovery system: remove system-seed, or use a UC20+ model')
    } else {
      labelCheck(cx, data, SYSTEM_DATA, 'ubuntu-data')
      labelCheck(cx, seed, SYSTEM_SEED, 'ubuntu-seed')
    }
  }

  if (save) {
    if (seedExpected) {
      if (seed && data) labelCheck(cx, save, SYSTEM_SAVE, 'ubuntu-save')
    } else {
      cx.error(cx.input.model ? 'M5' : 'R4', 'model does not support the system-save role', at(save), 'system-save exists only next to a system-seed (UC20+): add system-seed, or remove system-save', save.path)
    }
  }

  if (seedExpected && seed) {
    for (const other of [SYSTEM_BOOT, SYSTEM_DATA, SYSTEM_SAVE]) {
      const st = roles.get(other)
      if (st && st.volume !== seed.volume) {
        cx.error('R5', 'system-boot, system-data, and system-save are expected to share the same volume as system-seed', at(st), `move the ${other} structure into volume "${seed.volume.name}"`, st.path)
        break
      }
    }
  }
}

function rolesClassicWithModes(cx: SnapdContext, roles: Map<string, StructureRef>): void {
  const boot = roles.get(SYSTEM_BOOT)
  const data = roles.get(SYSTEM_DATA)
  if (!boot || !data) {
    const st = roles.get(SYSTEM_SEED_NULL) ?? roles.get(SYSTEM_SEED)
    cx.error(
      'R6',
      'system-boot and system-data roles are needed on classic',
      st ? cx.loc.valueNode(st.s, 'role') : undefined,
      'a classic-with-modes gadget needs system-boot (ubuntu-boot) and system-data (ubuntu-data) structures',
    )
    return
  }

  labelCheck(cx, boot, SYSTEM_BOOT, 'ubuntu-boot', 'R6')
  labelCheck(cx, data, SYSTEM_DATA, 'ubuntu-data', 'R6')
  labelCheck(cx, roles.get(SYSTEM_SEED), SYSTEM_SEED, 'ubuntu-seed', 'R6')
  labelCheck(cx, roles.get(SYSTEM_SEED_NULL), SYSTEM_SEED_NULL, 'ubuntu-seed', 'R6')
  labelCheck(cx, roles.get(SYSTEM_SAVE), SYSTEM_SAVE, 'ubuntu-save', 'R6')
  for (const role of [SYSTEM_SEED, SYSTEM_SEED_NULL, SYSTEM_SAVE]) {
    const st = roles.get(role)
    if (st && st.volume !== boot.volume) {
      cx.error('R6', `system-boot and ${role} are expected to share the same volume`, cx.loc.valueNode(st.s, 'role'), `move it into volume "${boot.volume.name}"`, st.path)
      break
    }
  }
}

function emmcVolume(cx: SnapdContext, vol: VolumeRef): void {
  const {v} = vol
  const bad = v.bootloader !== '' ? 'bootloader' : v.id !== '' ? 'id' : (v.partial ?? []).length > 0 ? 'partial' : undefined
  if (!bad) return
  const message = bad === 'partial' ? 'cannot set "partial" content for eMMC schemas' : `cannot set ${goQuote(bad)} for eMMC schemas`
  cx.error('E1', `${cx.prefix(vol)}${message}`, cx.loc.keyNode(v, bad), 'an emmc volume has only schema and structure; declare the bootloader in the disk volume', [...vol.path, bad])
}
