/**
 * eMMC volumes (gadget.go's validateEMMCStructure): what a structure of an emmc schema may hold.
 */
import {goQuote} from '../../quantity.js'
import {hasFilesystem, type StructureRef, type VolumeRef} from '../../geometry/volumes.js'
import {type SnapdContext} from './context.js'
import {structureUpdate} from './structures.js'

export function validateEmmcStructure(cx: SnapdContext, vol: VolumeRef, st: StructureRef, idx: number): void {
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
  structureUpdate(cx, vol, st, pre, hasFilesystem(s, vol.v, cx.target))
}

export function emmcVolume(cx: SnapdContext, vol: VolumeRef): void {
  const {v} = vol
  const bad = v.bootloader !== '' ? 'bootloader' : v.id !== '' ? 'id' : (v.partial ?? []).length > 0 ? 'partial' : undefined
  if (!bad) return
  const message = bad === 'partial' ? 'cannot set "partial" content for eMMC schemas' : `cannot set ${goQuote(bad)} for eMMC schemas`
  cx.error('E1', `${cx.prefix(vol)}${message}`, cx.loc.keyNode(v, bad), 'an emmc volume has only schema and structure; declare the bootloader in the disk volume', [...vol.path, bad])
}
