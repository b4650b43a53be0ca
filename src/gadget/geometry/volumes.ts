/**
 * The volumes of a gadget as snapd's parse step (gadget.InfoFromGadgetYaml) leaves them, computed
 * once per volume: each structure in snapd's order, where it starts, whether it holds a
 * filesystem, and whether its name and label are already taken. The checks judge this data, and
 * a drawing of the disk can show it; nothing here reports. Where snapd refuses a volume on the
 * way, the fact it refuses is kept (a partial value, a label already taken) for a check to word.
 *
 * The parse step changed between releases:
 * - newest (from 2.60; setImplicitForVolume, orderStructuresByOffset): "schema" defaults to gpt,
 *   or stays empty under partial: [schema]. A structure without an offset starts where the
 *   previous one ends, and at least 1 MiB in unless it is the mbr, until a structure whose end
 *   is unknown (min-size, or partial: [size] without a size); emmc structures start at 0. Labels,
 *   explicit then implied by the role under the model, are unique per volume, case-insensitively
 *   among vfat ones. The structures are then sorted by offset, each without one staying after
 *   its predecessor. A volume whose partial list snapd refuses is left as declared.
 * - before 2.60 (2.57's validateVolume and setImplicitForVolume): a structure without an offset
 *   starts where the previous one in YAML order ends (the 1 MiB comes with LayoutVolume, see
 *   pack-layout.ts), and the structures keep their YAML order; labels are unique per volume,
 *   case-sensitively, and so are the labels roles imply against them.
 */
import type {YamlNode as Node} from '../../go-yaml/read/ast.js'
import type {Locator} from '../decode-gadget.js'
import type {GadgetInfo, GadgetStructure, GadgetVolume} from '../gadget-types.js'
import {MiB, u64} from '../quantity.js'
import type {SnapdTarget} from '../snapd-version.js'

export const SYSTEM_SEED = 'system-seed'
export const SYSTEM_SEED_NULL = 'system-seed-null'
export const SYSTEM_BOOT = 'system-boot'
export const SYSTEM_DATA = 'system-data'
export const SYSTEM_SAVE = 'system-save'
export const SYSTEM_BOOT_STATE = 'system-boot-state'

/** The values of `partial:` snapd knows. */
export const PARTIAL_VALUES = ['size', 'filesystem', 'schema', 'structure']

/** Where the newest snapd starts a structure without an offset, unless it is the mbr. */
const NON_MBR_START = MiB

/** The labels UC20+ models imply for role structures without one. */
const impliedLabelsByRole = new Map([
  [SYSTEM_BOOT, 'ubuntu-boot'],
  [SYSTEM_DATA, 'ubuntu-data'],
  [SYSTEM_SAVE, 'ubuntu-save'],
  [SYSTEM_SEED, 'ubuntu-seed'],
  [SYSTEM_SEED_NULL, 'ubuntu-seed'],
])

const NO_PARTIAL: ReadonlySet<string> = new Set()

/** A structure and where snapd's parse step puts it. */
export interface StructureRef {
  readonly s: GadgetStructure
  /** Index in snapd's decoded list (the "#i" of snapd's 2.57 messages). */
  readonly index: number
  /** Index among the YAML items, for paths. */
  readonly yamlIndex: number
  readonly path: Array<number | string>
  readonly volume: VolumeRef
  /** min-size where the release knows it, else size. */
  readonly minSize: bigint
  /** It holds a filesystem (under partial: [filesystem], a partition may leave it to the device). */
  readonly hasFilesystem: boolean
  /**
   * Where the parse step starts it (see above). Newest: undefined after a structure whose end is
   * unknown, and in a volume it did not lay out; before 2.60: always set.
   */
  readonly offset?: bigint
  /** An earlier structure in snapd's list has its name. */
  readonly nameTaken: boolean
  /** An earlier structure of its volume has its filesystem-label. */
  readonly labelTaken: boolean
  /** With a model, the label its role implies when it has none. */
  readonly impliedLabel?: string
  /** That implied label was taken already. */
  readonly impliedLabelTaken: boolean
}

export interface VolumeRef {
  readonly name: string
  /** As decoded; undefined (typed as present) for an empty stanza. */
  readonly v: GadgetVolume
  readonly path: Array<number | string>
  /** snapd's list: in offset order once the newest snapd laid the volume out, else as declared. */
  readonly structures: readonly StructureRef[]
  /** As declared, in YAML order. */
  readonly declared: readonly StructureRef[]
  /** The schema after defaults: "gpt" when absent; newest: "" under partial: [schema]. */
  readonly schema: string
  /** The partial values the release reads (none before 2.60). */
  readonly partial: ReadonlySet<string>
  /** Newest: the first partial value snapd refuses, unknown or repeated; the volume is not laid out. */
  readonly partialProblem?: {index: number; repeated: boolean; value: string}
  /** Each structure name and the first structure that has it (offset-write refers to these). */
  readonly byName: ReadonlyMap<string, StructureRef>
}

interface GeometryInput {
  info: GadgetInfo
  loc: Locator
  target: SnapdTarget
  /** The model, when known: roles imply labels by its grade. */
  model?: {readonly grade?: string}
}

type Building<T> = {-readonly [K in keyof T]: T[K]}

/** The volumes of gadget.yaml, in its order, as the target snapd's parse step lays them out. */
export function layOutVolumes(input: GeometryInput): VolumeRef[] {
  const volumes: VolumeRef[] = []
  for (const [name, v] of input.info.volumes ?? []) {
    const path = ['volumes', name]
    volumes.push(v ? layOutVolume(name, v, path, input) : {byName: new Map(), declared: [], name, partial: NO_PARTIAL, path, schema: '', structures: [], v: undefined as unknown as GadgetVolume})
  }

  return volumes
}

export function isMbr(s: GadgetStructure): boolean {
  return s.role === 'mbr' || (s.role === '' && s.type === 'mbr')
}

export function linuxFilesystem(fs: string): string {
  return fs === 'vfat-16' || fs === 'vfat-32' ? 'vfat' : fs
}

function layOutVolume(name: string, v: GadgetVolume, path: Array<number | string>, {loc, model, target}: GeometryInput): VolumeRef {
  const partial = target.has('partial') && v.partial && v.partial.length > 0 ? new Set(v.partial) : NO_PARTIAL
  const byName = new Map<string, StructureRef>()
  const vol: Building<VolumeRef> = {byName, declared: [], name, partial, partialProblem: undefined, path, schema: v.schema || 'gpt', structures: [], v}
  const seq = loc.origin(v.structure)
  const seqNode = loc.field(v, 'structure')?.value as {items?: Node[]} | undefined
  const declared = (v.structure ?? []).map((s, index): Building<StructureRef> => {
    const node = seq?.items[index]
    const raw = seqNode?.items?.indexOf(node as Node) ?? -1
    const yamlIndex = raw === -1 ? index : raw
    const minSize = target.has('minSize') && s['min-size'] ? s['min-size'] : (s.size ?? 0n)
    const hasFilesystem = (s.filesystem !== 'none' && s.filesystem !== '') || (s.type !== 'bare' && s.type !== 'mbr' && partial.has('filesystem'))
    return {hasFilesystem, impliedLabel: undefined, impliedLabelTaken: false, index, labelTaken: false, minSize, nameTaken: false, offset: undefined, path: [...path, 'structure', yamlIndex], s, volume: vol, yamlIndex}
  })
  let structures = declared
  // From 2.60 the parse step places and sorts the structures (sortedStructures).
  if (target.has('sortedStructures')) {
    vol.partialProblem = target.has('partial') ? partialProblem(v.partial ?? []) : undefined
    if (!vol.partialProblem) {
      if (partial.has('schema')) vol.schema = ''
      labelsNewest(declared, model)
      offsetsNewest(declared, vol, target)
      structures = orderByOffset(declared)
    }
  } else {
    labelsLegacy(declared, model)
    offsetsLegacy(declared)
  }

  vol.declared = declared
  vol.structures = structures
  for (const st of structures) {
    const structureName = st.s.name
    if (structureName === '') continue
    if (byName.has(structureName)) st.nameTaken = true
    else byName.set(structureName, st)
  }

  return vol
}

/** validatePartial: the first value snapd refuses. */
function partialProblem(partial: readonly string[]): VolumeRef['partialProblem'] {
  const seen = new Set<string>()
  for (const [index, value] of partial.entries()) {
    if (!PARTIAL_VALUES.includes(value)) return {index, repeated: false, value}
    if (seen.has(value)) return {index, repeated: true, value}
    seen.add(value)
  }

  return undefined
}

function impliedLabel(s: GadgetStructure, model: GeometryInput['model']): string | undefined {
  if (!model || s['filesystem-label'] !== '') return undefined
  if (s.role === '' && s.type === 'mbr') return undefined
  if (!model.grade) return s.role === SYSTEM_DATA ? 'writable' : undefined
  return impliedLabelsByRole.get(s.role)
}

/** setKnownLabel: vfat labels clash whatever their case, with any label. */
function setKnownLabel(label: string, fs: string, known: Set<string>, knownVfat: Set<string>): boolean {
  const lower = label.toLowerCase()
  if (knownVfat.has(lower)) return false
  if (fs === 'vfat') {
    for (const k of known) if (k.toLowerCase() === lower) return false
    knownVfat.add(lower)
  } else {
    if (known.has(label)) return false
    known.add(label)
  }

  return true
}

/** setImplicitForVolume (newest): the explicit labels first, then those the roles imply. */
function labelsNewest(declared: Array<Building<StructureRef>>, model: GeometryInput['model']): void {
  const known = new Set<string>()
  const knownVfat = new Set<string>()
  for (const st of declared) {
    const label = st.s['filesystem-label']
    if (label !== '' && !setKnownLabel(label, linuxFilesystem(st.s.filesystem), known, knownVfat)) st.labelTaken = true
  }

  for (const st of declared) {
    st.impliedLabel = impliedLabel(st.s, model)
    if (st.impliedLabel && !setKnownLabel(st.impliedLabel, linuxFilesystem(st.s.filesystem), known, knownVfat)) st.impliedLabelTaken = true
  }
}

/** setImplicitForVolume (newest): implicit offsets, with the 1 MiB push. */
function offsetsNewest(declared: Array<Building<StructureRef>>, vol: VolumeRef, target: SnapdTarget): void {
  if (target.has('emmc') && vol.v.schema === 'emmc') {
    for (const st of declared) st.offset = 0n
    return
  }

  let previousEnd: bigint | undefined = 0n
  for (const st of declared) {
    const {s} = st
    st.offset = s.offset === undefined && previousEnd !== undefined ? (!isMbr(s) && previousEnd < NON_MBR_START ? NON_MBR_START : previousEnd) : s.offset
    const size = s.size ?? 0n
    // The end is known only with a known start and a fixed size.
    const fixed = !(vol.partial.has('size') && size === 0n) && size === st.minSize
    previousEnd = st.offset !== undefined && fixed ? u64(st.offset + size) : undefined
  }
}

/** orderStructuresByOffset: blocks starting at a known offset, sorted by it. */
function orderByOffset<T extends StructureRef>(declared: T[]): T[] {
  const blocks: T[][] = []
  for (const st of declared) {
    if (st.offset !== undefined || blocks.length === 0) blocks.push([st])
    else blocks.at(-1)!.push(st)
  }

  if (blocks.length < 2) return declared
  blocks.sort((a, b) => {
    const x = a[0].offset ?? 0n
    const y = b[0].offset ?? 0n
    return x < y ? -1 : x > y ? 1 : 0
  })
  // A loop, not Array.prototype.flat: flat is several times slower in V8 on this hot path.
  const ordered: T[] = []
  for (const block of blocks) for (const st of block) ordered.push(st)
  return ordered
}

/** Before 2.60: validateVolume's label uniqueness, then setImplicitForVolume's implied labels against it. */
function labelsLegacy(declared: Array<Building<StructureRef>>, model: GeometryInput['model']): void {
  const known = new Set<string>()
  for (const st of declared) {
    const label = st.s['filesystem-label']
    if (label === '') continue
    if (known.has(label)) st.labelTaken = true
    known.add(label)
  }

  for (const st of declared) {
    st.impliedLabel = impliedLabel(st.s, model)
    if (!st.impliedLabel) continue
    if (known.has(st.impliedLabel)) st.impliedLabelTaken = true
    known.add(st.impliedLabel)
  }
}

/** Before 2.60, validateVolume: each structure at its offset, else where the previous one ends. */
function offsetsLegacy(declared: Array<Building<StructureRef>>): void {
  let previousEnd = 0n
  for (const st of declared) {
    st.offset = st.s.offset ?? previousEnd
    previousEnd = u64(st.offset + (st.s.size ?? 0n))
  }
}
