/**
 * The volumes of a gadget as snapd's parse step leaves them: each structure with the facts about
 * where it is, shared by the checks that judge them and by anything that draws the disk.
 */
import type {GadgetStructure, GadgetVolume} from '../model.js'
import type {SnapdTarget} from '../snapd-version.js'

export const SYSTEM_SEED = 'system-seed'
export const SYSTEM_SEED_NULL = 'system-seed-null'
export const SYSTEM_BOOT = 'system-boot'
export const SYSTEM_DATA = 'system-data'
export const SYSTEM_SAVE = 'system-save'
export const SYSTEM_BOOT_STATE = 'system-boot-state'

/** A structure with the facts the checks need about where it is. */
export interface StructureRef {
  s: GadgetStructure
  /** Index in snapd's decoded list (the "#i" of snapd's 2.57 messages). */
  index: number
  /** Index among the YAML items, for paths. */
  yamlIndex: number
  path: Array<number | string>
  volume: VolumeRef
  /** Implicit offset as computed by the newest snapd at parse time (undefined: a range). */
  offset?: bigint
  minSize: bigint
}

export interface VolumeRef {
  name: string
  v: GadgetVolume
  path: Array<number | string>
  structures: StructureRef[]
  /** The schema after defaults ("gpt" when absent, unless partial). */
  schema: string
}

export function isMbr(s: GadgetStructure): boolean {
  return s.role === 'mbr' || (s.role === '' && s.type === 'mbr')
}

export function linuxFilesystem(fs: string): string {
  return fs === 'vfat-16' || fs === 'vfat-32' ? 'vfat' : fs
}

export function hasFilesystem(s: GadgetStructure, v: GadgetVolume, target: SnapdTarget): boolean {
  if (s.filesystem !== 'none' && s.filesystem !== '') return true
  if (!target.has('partial')) return false
  if (s.type === 'bare' || s.type === 'mbr') return false
  return (v.partial ?? []).includes('filesystem')
}
