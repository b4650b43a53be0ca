/**
 * The disk as snapd lays a gadget out, as data a picture is drawn from: for each volume, every
 * structure in disk order with where it starts and ends, what it is (role, partition type with its
 * well-known name, filesystem, label), the raw images placed inside it, the gaps between
 * structures, and the sectors the partition table itself takes. The numbers are snapd's:
 * - from 2.60 (and so for "latest"), the structures at the offsets snapd's parse step gives them
 *   (gadget/geometry), the next one after the previous one's end where snapd leaves an offset
 *   unset (OnDiskStructsFromGadget), raw images placed as LayoutVolume places them;
 * - before 2.60, 2.57's LayoutVolume (gadget/geometry/pack-layout.ts).
 * The problems validate finds are attached to the structure and image they are about, with their
 * rule ids, so every rendering can draw them where they are.
 */
import {statSync} from 'node:fs'
import {join} from 'node:path'

import type {Finding} from '../gadget/findings/finding.js'
import {type StructureRef, type VolumeRef} from '../gadget/geometry/volumes.js'
import {layoutVolume} from '../gadget/geometry/pack-layout.js'
import type {GadgetStructure} from '../gadget/gadget-types.js'
import {u64} from '../gadget/quantity.js'
import {snapdTarget} from '../gadget/snapd-version.js'
import {judgePaths} from '../gadget/validate.js'
import type {ModelFacts} from '../gadget/checks/snapd/index.js'
import {partitionTypeName} from './partition-types.js'

export type SectorSize = 512 | 4096

export interface LayoutOptions {
  cwd?: string
  /** The snapd release whose layout to draw; by default as validate picks it (assumes, else latest). */
  snapd?: string
  /** The disk's logical sector size: where the GPT header and table end. */
  sectorSize?: SectorSize
  model?: ModelFacts
}

/** A mark on the picture: what validate found about this structure or image. */
export interface LayoutMark {
  rule: string
  severity: Finding['severity']
  message: string
}

export interface LaidOutImage {
  /** The raw image, relative to the gadget. */
  image: string
  start: bigint
  /** What it occupies: its declared size, else the image file's size (unknown without the file). */
  size?: bigint
  marks: LayoutMark[]
}

interface LaidOutFiles {
  source: string
  target: string
}

export interface LaidOutStructure {
  /** Its index among the volume's structures in gadget.yaml. */
  index: number
  name: string
  role: string
  type: string
  /** The well-known name of its partition type (an MBR byte, a GPT GUID, or both). */
  typeName: string
  start: bigint
  size: bigint
  end: bigint
  minSize?: bigint
  /** Where its offset-write pointer is written, from the disk's start (a structure's start + offset). */
  offsetWrite?: bigint
  filesystem: string
  label: string
  /** Raw images placed inside it (a structure without a filesystem), by start. */
  images: LaidOutImage[]
  /** Files copied into its filesystem. */
  files: LaidOutFiles[]
  marks: LayoutMark[]
}

/** A range of the disk: a gap, or a part of the partition table. */
export interface DiskRange {
  start: bigint
  size: bigint
  /** What a partition-table range is (protective MBR, GPT header, partition entries). */
  what?: string
}

export interface LaidOutVolume {
  name: string
  schema: string
  bootloader: string
  sectorSize: SectorSize
  structures: LaidOutStructure[]
  gaps: DiskRange[]
  partitionTable: DiskRange[]
  /** Where the last structure ends: the smallest disk the volume fits. */
  end: bigint
  /** What validate found about the volume and not about one of its structures. */
  marks: LayoutMark[]
}

export interface DiskLayout {
  file: string
  snapd: string
  sectorSize: SectorSize
  volumes: LaidOutVolume[]
  /** Every finding validate has on the gadget, with where it is. */
  findings: Finding[]
  /** What snapd itself says of the gadget. */
  verdict: {valid: boolean; error?: string}
}

/** Lays out the gadget at `path` (a gadget.yaml, a project or a built snap tree). */
export function layOutGadget(path: string, options: LayoutOptions = {}): DiskLayout {
  const cwd = options.cwd ?? process.cwd()
  const sectorSize = options.sectorSize ?? 512
  // The gadget as validate parsed and laid it out: one read, one decode.
  const {
    judged: [{location, volumes: refs}],
    report,
  } = judgePaths([path], {cwd, model: options.model, snapd: options.snapd})
  const judged = report.gadgets[0]
  const target = snapdTarget(judged.snapd)
  const imageSize = imageSizer(location.root)
  const marks = marksByPath(judged.findings.filter((f) => f.file === location.file))
  const volumes = refs.map((vol) => {
    // The same switch as the parse step's geometry: 2.60 sorts and places structures as it parses.
    const placed = target.has('sortedStructures') ? newestStructures(vol, imageSize) : packStructures(vol, imageSize)
    const structures = placed.map(({ref, structure}) => {
      for (const image of structure.images) {
        const c = ref.s.content?.findIndex((entry) => entry.image === image.image) ?? -1
        if (c >= 0) image.marks = marks.take([...ref.path, 'content', c])
      }

      structure.marks = marks.take(ref.path)
      return structure
    })
    resolveOffsetWrites(placed)
    if (vol.schema !== 'emmc') for (const structure of structures) markImagesThatDoNotFit(structure)
    return finishVolume(vol, structures, sectorSize, marks.take(vol.path))
  })
  return {file: location.file, findings: judged.findings, sectorSize, snapd: judged.snapd, verdict: judged.verdict, volumes}
}

/** From 2.60: the parse step's offsets; a structure it left without one follows the previous one (OnDiskStructsFromGadget). */
function newestStructures(vol: VolumeRef, imageSize: (path: string) => bigint | undefined): Placed[] {
  let running = 0n
  return vol.structures.map((ref) => {
    if (ref.offset !== undefined) running = ref.offset
    const start = running
    running = u64(start + (ref.s.size ?? 0n))
    return {ref, structure: structureOf(ref, start, placeImages(ref.s, start, imageSize))}
  })
}

interface Placed {
  ref: StructureRef
  structure: LaidOutStructure
}

/** Before 2.60: 2.57's LayoutVolume, structures and raw images. */
function packStructures(vol: VolumeRef, imageSize: (path: string) => bigint | undefined): Placed[] {
  const {structures} = layoutVolume(vol.declared, {imageSize: (path) => imageSize(path) ?? 0n})
  return structures.map((laid) => ({
    ref: laid.ref,
    structure: structureOf(
      laid.ref,
      laid.start,
      laid.content.map((c) => ({image: c.image, marks: [], size: u64(c.end - c.start), start: c.start})),
    ),
  }))
}

/**
 * Raw images in a structure without a filesystem, as LayoutVolume places them: each at its
 * offset, else after the previous one; as large as declared, else as the image file.
 */
function placeImages(s: GadgetStructure, structureStart: bigint, imageSize: (path: string) => bigint | undefined): LaidOutImage[] {
  if ((s.filesystem !== '' && s.filesystem !== 'none') || !s.content) return []
  let previousEnd = 0n
  const images: LaidOutImage[] = []
  for (const c of s.content) {
    if (c.image === '') continue
    const start = c.offset ?? previousEnd
    const size = (c.size ?? 0n) !== 0n ? c.size : imageSize(c.image)
    images.push({image: c.image, marks: [], start: u64(structureStart + start), ...(size === undefined ? {} : {size})})
    previousEnd = u64(start + (size ?? 0n))
  }

  return images.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
}

/**
 * An image past its structure's end, or over another image: snapd checks this only when an image
 * is written (from 2.62, not at pack time), so validate may not have said it.
 */
function markImagesThatDoNotFit(structure: LaidOutStructure): void {
  let previous: LaidOutImage | undefined
  for (const image of structure.images) {
    const end = image.start + (image.size ?? 0n)
    if (image.marks.some((m) => m.rule === 'C5')) continue
    if (end > structure.end) {
      image.marks.push({message: `${image.image} ends at byte ${end - structure.start} of its ${structure.size}-byte structure: writing the image fails`, rule: 'C5', severity: 'error'})
    } else if (previous && image.start < previous.start + (previous.size ?? 0n)) {
      image.marks.push({message: `${image.image} overlaps ${previous.image}: writing the image fails`, rule: 'C5', severity: 'error'})
    }

    previous = image
  }
}

/** offset-write as LayoutVolume resolves it: from the named structure's start, else from the disk's. */
function resolveOffsetWrites(placed: readonly Placed[]): void {
  const byName = new Map(placed.filter((p) => p.ref.s.name !== '').map((p) => [p.ref.s.name, p.structure]))
  for (const {ref, structure} of placed) {
    const write = ref.s['offset-write']
    if (!write) continue
    const base = write.relativeTo === '' ? 0n : byName.get(write.relativeTo)?.start
    if (base !== undefined) structure.offsetWrite = u64(base + write.offset)
  }
}

function structureOf(ref: Pick<StructureRef, 'index' | 's'>, start: bigint, images: LaidOutImage[]): LaidOutStructure {
  const {s} = ref
  const size = s.size ?? 0n
  const hasFilesystem = s.filesystem !== '' && s.filesystem !== 'none'
  return {
    end: u64(start + size),
    filesystem: s.filesystem,
    files: hasFilesystem ? (s.content ?? []).filter((c) => c.source !== '').map((c) => ({source: c.source, target: c.target})) : [],
    images,
    index: ref.index,
    label: s['filesystem-label'],
    marks: [],
    name: s.name,
    // snapd gives the mbr structure its role when only its type says it.
    role: s.role === '' && s.type === 'mbr' ? 'mbr' : s.role,
    size,
    start,
    type: s.type,
    typeName: partitionTypeName(s.type, s.role),
    ...(s['min-size'] !== undefined && s['min-size'] !== size ? {minSize: s['min-size']} : {}),
  }
}

/** The gaps between structures, and where the partition table lies on this volume. */
function finishVolume(vol: VolumeRef, structures: LaidOutStructure[], sectorSize: SectorSize, marks: LayoutMark[]): LaidOutVolume {
  const ordered = [...structures].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.index - b.index))
  const partitionTable = partitionTableOf(vol.schema, sectorSize)
  const gaps: DiskRange[] = []
  // The table's own sectors are not a gap: what follows them is.
  let previousEnd = partitionTable.reduce((end, r) => (r.start + r.size > end ? r.start + r.size : end), 0n)
  for (const s of ordered) {
    if (s.start > previousEnd) gaps.push({size: s.start - previousEnd, start: previousEnd})
    if (s.end > previousEnd) previousEnd = s.end
  }

  const tableEnd = partitionTable.at(-1)
  for (const s of ordered) {
    // A structure on the table's sectors (the mbr structure is where the MBR goes, and may).
    if (!tableEnd || s.role === 'mbr' || s.type === 'mbr' || vol.schema === 'emmc') continue
    const overlapped = partitionTable.filter((r) => s.start < r.start + r.size && s.end > r.start)
    if (overlapped.length > 0 && !s.marks.some((m) => m.rule === 'X8')) {
      s.marks.push({
        message: `${s.name || `#${s.index}`} lies on the ${overlapped.map((r) => r.what).join(' and ')} of a disk with ${sectorSize}-byte sectors (bytes ${overlapped[0].start} to ${tableEnd.start + tableEnd.size})`,
        rule: 'X8',
        severity: 'warning',
      })
    }
  }

  return {bootloader: vol.v?.bootloader ?? '', end: previousEnd, gaps, marks, name: vol.name, partitionTable, schema: vol.schema, sectorSize, structures: ordered}
}

/**
 * The sectors a partition table takes at the start of the disk. MBR: the boot sector's partition
 * table and signature (bytes 446 to 512 of sector 0; the first 446 are boot code, which the mbr
 * structure holds). GPT (UEFI Specification 2.10, §5.2.3 and §5.3): a protective MBR in LBA 0,
 * the GPT header in LBA 1, and the partition entry array from LBA 2: 128 entries of 128 bytes,
 * 16,384 bytes, so 32 sectors of 512 bytes (to byte 17,408) or 4 of 4,096 (to byte 24,576). The
 * backup header and table sit at the end of the disk, whose size gadget.yaml does not say.
 */
export function partitionTableOf(schema: string, sectorSize: SectorSize): DiskRange[] {
  if (schema === 'mbr') return [{size: 66n, start: 446n, what: 'MBR partition table'}]
  if (schema !== 'gpt') return []
  const sector = BigInt(sectorSize)
  return [
    {size: sector, start: 0n, what: 'protective MBR'},
    {size: sector, start: sector, what: 'GPT header'},
    {size: 16_384n, start: 2n * sector, what: 'GPT partition entries'},
  ]
}

/** A raw image's size in the gadget's tree; unknown for a gadget.yaml alone. */
function imageSizer(root: string | undefined): (path: string) => bigint | undefined {
  return (path) => {
    if (!root) return undefined
    try {
      const stat = statSync(join(root, path))
      return stat.isFile() ? BigInt(stat.size) : undefined
    } catch {
      return undefined
    }
  }
}

/** The findings of a gadget, each handed out once, to the closest place it is about. */
function marksByPath(findings: readonly Finding[]): {take(prefix: readonly (number | string)[]): LayoutMark[]} {
  const pending = findings.filter((f) => f.path !== undefined)
  const key = (path: readonly (number | string)[]) => path.map(String).join('\u0000')
  const under = (f: Finding, prefix: readonly (number | string)[]) => key(f.path!.slice(0, prefix.length)) === key(prefix)
  const mark = (f: Finding): LayoutMark => ({message: f.message, rule: f.rule, severity: f.severity})
  return {
    take(prefix) {
      const taken = pending.filter((f) => under(f, prefix))
      for (const f of taken) pending.splice(pending.indexOf(f), 1)
      return taken.map(mark)
    },
  }
}
