/**
 * Volumes (gadget.go's InfoFromGadgetYaml and validateVolume): an empty stanza, partial, the name
 * and schema, bootloaders, volume-assignments.
 */
import type {GadgetInfo} from '../../gadget-types.js'
import {goQuote} from '../../quantity.js'
import {snapdFeatures} from '../../snapd-version.js'
import {didYouMean} from '../../../support/suggest.js'
import {PARTIAL_VALUES, type VolumeRef} from '../../geometry/volumes.js'
import {nameHint, type SnapdContext} from './context.js'

const validVolumeName = /^[a-zA-Z0-9][a-zA-Z0-9-]+$/
const bootloaders = ['grub', 'u-boot', 'android-boot', 'lk', 'piboot']

/** InfoFromGadgetYaml without volumes: only a classic model may leave them out (snap pack knows no model). */
export function noVolumes(cx: SnapdContext, info: GadgetInfo): void {
  if (cx.input.model && !cx.input.model.classic) {
    cx.error('M2', 'bootloader not declared in any volume', cx.loc.keyNode(info, 'volumes'), 'a Core model needs a volumes: section with a bootloader')
  }
}

export function volumeStanzaEmpty(cx: SnapdContext, info: GadgetInfo, name: string): void {
  const field = cx.loc.field(info.volumes!, name)
  const suspicious = ['defaults', 'connections', 'kernel-cmdline', 'volume-assignments'].includes(name)
  cx.error(
    'V1',
    `volume ${goQuote(name)} stanza is empty`,
    field?.key,
    suspicious ? `"${name}:" is indented under volumes:, so snapd reads it as an empty volume; move it to the top level (no indentation)` : `give the volume its bootloader, schema and structure, or remove "${name}:"`,
    ['volumes', name],
  )
}

export function bootloader(cx: SnapdContext, vol: VolumeRef): number {
  const {v} = vol
  const value = v.bootloader
  if (value === '') return 0
  if (!bootloaders.includes(value)) {
    const guess = didYouMean(value, bootloaders)
    cx.error(
      'V4',
      'bootloader must be one of grub, u-boot, android-boot, piboot or lk',
      cx.loc.valueNode(v, 'bootloader'),
      guess ? `did you mean "${guess}"?` : 'use grub (x86, arm64 UEFI), u-boot, piboot (Raspberry Pi, UC20+), lk or android-boot',
      [...vol.path, 'bootloader'],
    )
    // Counted as a bootloader anyway: snapd stops at this error, and a "no bootloader" finding would only repeat it.
    return 1
  }

  if (value === 'piboot' && cx.input.model && !cx.input.model.grade) {
    cx.error('V6', 'piboot bootloader valid only for UC20 onwards', cx.loc.valueNode(v, 'bootloader'), 'use u-boot for a UC16/18 model, or a UC20+ model (with a grade)', [...vol.path, 'bootloader'])
  }

  return 1
}

export function bootloaderCount(cx: SnapdContext, info: GadgetInfo, volumes: readonly VolumeRef[], found: number): void {
  const declared = volumes.filter((v) => v.v && v.v.bootloader !== '')
  if (found === 0) {
    const topLevel = cx.loc.origin(info)?.unknown.find((u) => String((u.key as {value?: unknown}).value) === 'bootloader')
    cx.error(
      'V5',
      'bootloader not declared in any volume',
      topLevel?.key ?? cx.loc.keyNode(info, 'volumes'),
      topLevel
        ? 'move "bootloader:" from the top level into the volume that boots (snapd only reads volumes.<name>.bootloader)'
        : 'add "bootloader: <grub|u-boot|piboot|lk|android-boot>" to the volume the device boots from',
      ['volumes'],
    )
  } else if (found > 1) {
    const second = declared[1]
    cx.error(
      'V5',
      `too many (${found}) bootloaders declared`,
      second ? cx.loc.valueNode(second.v, 'bootloader') : cx.loc.keyNode(info, 'volumes'),
      `declare the bootloader only in the volume the device boots from (${declared.map((v) => `"${v.name}"`).join(' and ')} both do)`,
      second ? [...second.path, 'bootloader'] : ['volumes'],
    )
  }
}

function volumeName(cx: SnapdContext, vol: VolumeRef): void {
  if (!validVolumeName.test(vol.name)) {
    cx.error('V2', `${cx.prefix(vol)}invalid name`, cx.loc.field(cx.input.parsed.info!.volumes!, vol.name)?.key, 'volume names are two or more letters, digits or "-", not starting with "-" (no "_" or ".")', vol.path)
  }
}

/** validateVolume (both versions): the name, then the schema (newest: after defaults, unless partial; 2.57: as written, "" for gpt). */
export function volumeNameAndSchema(cx: SnapdContext, vol: VolumeRef): void {
  volumeName(cx, vol)
  const valid = cx.newest ? vol.partial.has('schema') || ['mbr', 'gpt', ...(cx.target.has('emmc') ? ['emmc'] : [])].includes(vol.schema) : ['', 'gpt', 'mbr'].includes(vol.v.schema)
  if (!valid) invalidSchema(cx, vol)
}

function invalidSchema(cx: SnapdContext, vol: VolumeRef): void {
  const allowed = cx.target.has('emmc') ? ['gpt', 'mbr', 'emmc'] : ['gpt', 'mbr']
  const guess = didYouMean(vol.v.schema, allowed)
  const tooNew = vol.v.schema === 'emmc' ? ` (emmc needs snapd ${snapdFeatures.emmc} or later)` : ''
  cx.error('V3', `${cx.prefix(vol)}invalid schema ${goQuote(vol.v.schema)}`, cx.loc.valueNode(vol.v, 'schema'), `use ${allowed.join(' or ')}${guess ? `: did you mean "${guess}"?` : ''}${tooNew}`, [...vol.path, 'schema'])
}

export function volumeAssignments(cx: SnapdContext, info: GadgetInfo): void {
  const list = info['volume-assignments']
  if (!list) return
  const seen: Array<{key: string; name: string}> = []
  list.forEach((va, i) => {
    const node = cx.loc.item(list, i)
    const path = ['volume-assignments', i]
    if (!va) {
      cx.error('T7', `volume-assignment variant #${i} is empty`, node, 'give the variant an assignment-name and an assignment', path)
      return
    }

    const name = va['assignment-name']
    const pre = () => `volume-assignment variant ${goQuote(name)}: `
    const assignments = va.assignment
    if (!assignments || assignments.size === 0) {
      cx.error('T7', `${pre()}no assignments specified`, node, 'map at least one volume to a device under assignment:', path)
      return
    }

    for (const [vol, da] of assignments) {
      const aNode = cx.loc.field(assignments, vol)?.key
      if (!info.volumes?.get(vol)) {
        cx.error('T7', `${pre()}volume ${goQuote(vol)} is mentioned in assignment but has not been defined`, aNode, nameHint(vol, [...(info.volumes?.keys() ?? [])]) ?? 'assign only volumes defined under volumes:', [
          ...path,
          'assignment',
          vol,
        ])
        return
      }

      const device = da?.device ?? ''
      if (!(device.startsWith('/dev/disk/by-path') || device.startsWith('/dev/disk/by-id'))) {
        cx.error(
          'T7',
          `${pre()}${goQuote(vol)}: unsupported device path ${goQuote(device)}, for now only paths under /dev/disk/{by-path,by-id} are valid`,
          cx.loc.valueNode(da, 'device') ?? aNode,
          'name the disk by a stable path: /dev/disk/by-path/… or /dev/disk/by-id/…',
          [...path, 'assignment', vol, 'device'],
        )
        return
      }
    }

    const key = [...assignments]
      .map(([k, d]) => k + (d?.device ?? ''))
      .sort()
      .join(' ')
    const twin = seen.find((s) => s.key === key)
    if (twin) cx.error('T7', `${pre()}identical to ${goQuote(twin.name)}`, node, 'remove one of the two identical variants', path)
    seen.push({key, name})
  })
}

export function validatePartial(cx: SnapdContext, vol: VolumeRef): boolean {
  const problem = vol.partialProblem
  if (!problem) return true
  const node = cx.loc.item(vol.v.partial, problem.index)
  const path = [...vol.path, 'partial', problem.index]
  if (problem.repeated) cx.error('V8', `partial value ${goQuote(problem.value)} is repeated`, node, 'list each partial value once', path)
  else cx.error('V8', `${goQuote(problem.value)} is not a valid partial value`, node, `partial lists ${PARTIAL_VALUES.join(', ')}`, path)
  return false
}
