/**
 * The state snapd's checks share while they run over one gadget: the input, where decoding
 * already failed, the volumes as collected, and how to report an error; with the names and
 * helpers more than one check file uses.
 */
import type {YamlNode as Node} from '../../../go-yaml/read/ast.js'
import type {GadgetStructure, GadgetVolume} from '../../model.js'
import type {Locator, ParsedGadget} from '../../decode-gadget.js'
import {goQuote} from '../../quantity.js'
import type {FileReport} from '../../findings/collector.js'
import type {RuleId} from '../../findings/rules.js'
import {type SnapdTarget} from '../../snapd-version.js'
import type {ContentTree} from '../content-tree.js'

/** What snapd knows of the model assertion (none for `snap pack`). */
export interface GadgetModel {
  classic: boolean
  /** UC20+ models have a grade; UC16/18 models do not. */
  grade?: string
}

export interface CheckInput {
  parsed: ParsedGadget
  loc: Locator
  report: FileReport
  target: SnapdTarget
  model?: GadgetModel
  /** The gadget's files, for content checks (placeholders when gadget.yaml is judged alone). */
  content: ContentTree
}

export const SYSTEM_SEED = 'system-seed'
export const SYSTEM_SEED_NULL = 'system-seed-null'
export const SYSTEM_BOOT = 'system-boot'
export const SYSTEM_DATA = 'system-data'
export const SYSTEM_SAVE = 'system-save'
export const SYSTEM_BOOT_STATE = 'system-boot-state'

/** The roles a structure may have before snapd knew system-seed-null and system-boot-state. */
const STRUCTURE_ROLES = [SYSTEM_DATA, SYSTEM_SEED, SYSTEM_SAVE, SYSTEM_BOOT, 'system-boot-image', 'system-boot-select', 'system-seed-select', 'system-seed-image', 'bootimg', 'bootselect', '']

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

export function fmtIndexAndName(idx: number, name: string): string {
  return name ? `#${idx} (${goQuote(name)})` : `#${idx}`
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

export function describeStructure(st: StructureRef): string {
  return st.s.name ? `"${st.s.name}"` : `structure #${st.index}`
}

/** What the checks of one gadget share. */
export class SnapdContext {
  private readonly failedPaths: Set<string>

  readonly volumes: VolumeRef[] = []

  /** The roles the target snapd accepts on a structure. */
  readonly structureRoles: readonly string[]

  constructor(readonly input: CheckInput) {
    const {target} = input
    this.structureRoles = [...STRUCTURE_ROLES, ...(target.has('systemSeedNull') ? [SYSTEM_SEED_NULL] : []), ...(target.has('systemBootState') ? [SYSTEM_BOOT_STATE] : [])]
    this.failedPaths = new Set(input.parsed.decodeIssues.map((i) => i.path.join('\u0000')))
  }

  get loc(): Locator {
    return this.input.loc
  }

  get target(): SnapdTarget {
    return this.input.target
  }

  get newest(): boolean {
    return this.target.has('sortedStructures')
  }

  /** Did decoding fail at or below this path? Checks on such values would only repeat the decode error. */
  failed(path: Array<number | string>): boolean {
    const key = path.join('\u0000')
    for (const p of this.failedPaths) if (p === key || p.startsWith(`${key}\u0000`)) return true
    return false
  }

  error(rule: RuleId, snapdMessage: string, node: Node | undefined, hint?: string, path?: Array<number | string>): void {
    this.input.report.add({hint, node, path, rule, snapdMessage})
  }

  prefix(vol: VolumeRef, st?: StructureRef, index = st?.index): string {
    return `invalid volume ${goQuote(vol.name)}: ${st ? `invalid structure ${fmtIndexAndName(index!, st.s.name)}: ` : ''}`
  }

  hasPartial(vol: VolumeRef, what: string): boolean {
    return this.target.has('partial') && (vol.v.partial ?? []).includes(what)
  }
}
