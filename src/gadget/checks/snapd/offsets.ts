/**
 * The newest snapd's parse-time layout (gadget.go's setImplicitForVolume and friends): partial
 * volumes, implicit offsets and labels, order by offset, GPT header room and overlaps.
 */
import {formatQuantity, goQuote, MiB, u64} from '../../quantity.js'
import {snapdFeatures} from '../../snapd-version.js'
import {isMbr, linuxFilesystem, type StructureRef, SYSTEM_BOOT, SYSTEM_BOOT_STATE, SYSTEM_DATA, SYSTEM_SAVE, SYSTEM_SEED, SYSTEM_SEED_NULL, type VolumeRef} from '../../geometry/volumes.js'
import {describeStructure, fmtIndexAndName, type SnapdContext} from './context.js'
import {labelNotUnique} from './structures.js'

const NON_MBR_START = MiB

/** The labels UC20+ models imply for role structures without one. */
const impliedLabelsByRole = new Map([
  [SYSTEM_BOOT, 'ubuntu-boot'],
  [SYSTEM_DATA, 'ubuntu-data'],
  [SYSTEM_SAVE, 'ubuntu-save'],
  [SYSTEM_SEED, 'ubuntu-seed'],
  [SYSTEM_SEED_NULL, 'ubuntu-seed'],
])

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

function volumeSize(structures: StructureRef[], sizer: (st: StructureRef) => bigint): bigint {
  let end = 0n
  for (const st of structures) end = st.s.offset === undefined ? u64(end + sizer(st)) : u64(st.s.offset + sizer(st))
  return end
}

export function validatePartial(cx: SnapdContext, vol: VolumeRef): boolean {
  if (!cx.target.has('partial')) return true
  const seen = new Set<string>()
  const valid = ['size', 'filesystem', 'schema', 'structure']
  for (const [i, p] of (vol.v.partial ?? []).entries()) {
    const node = cx.loc.item(vol.v.partial, i)
    if (!valid.includes(p)) {
      cx.error('V8', `${goQuote(p)} is not a valid partial value`, node, `partial lists ${valid.join(', ')}`, [...vol.path, 'partial', i])
      return false
    }

    if (seen.has(p)) {
      cx.error('V8', `partial value ${goQuote(p)} is repeated`, node, 'list each partial value once', [...vol.path, 'partial', i])
      return false
    }

    seen.add(p)
  }

  return true
}

/** setImplicitForVolume (newest): schema default, labels, implicit offsets with the 1 MiB push. */
export function setImplicitNewest(cx: SnapdContext, vol: VolumeRef): void {
  const {v} = vol
  if (cx.hasPartial(vol, 'schema')) {
    if (v.schema !== '') {
      cx.error('V3', `${cx.prefix(vol)}partial schema is set but schema is still specified as ${goQuote(v.schema)}`, cx.loc.valueNode(v, 'schema'), 'remove "schema:" or drop schema from partial', [...vol.path, 'schema'])
    }

    vol.schema = ''
  }

  const known = new Set<string>()
  const knownVfat = new Set<string>()
  for (const st of vol.structures) {
    const label = st.s['filesystem-label']
    if (label !== '' && !setKnownLabel(label, linuxFilesystem(st.s.filesystem), known, knownVfat)) labelNotUnique(cx, vol, st)
  }

  let previousEnd: bigint | undefined = 0n
  for (const st of vol.structures) {
    const {s} = st
    const implied = impliedLabel(cx, st)
    if (implied && !setKnownLabel(implied, linuxFilesystem(s.filesystem), known, knownVfat)) {
      cx.error(
        'M4',
        `${cx.prefix(vol)}filesystem label ${goQuote(implied)} is implied by ${s.role} role but was already set elsewhere`,
        cx.loc.valueNode(s),
        `another structure uses "${implied}"; rename that label`,
        st.path,
      )
    }

    if (cx.target.has('systemBootState') && s.role === SYSTEM_BOOT_STATE && s.offset === undefined) {
      cx.error(
        'R7',
        `${cx.prefix(vol)}invalid structure #${st.index} (${goQuote(s.name)}): invalid role ${goQuote(s.role)}: system-boot-state role requires explicit offset`,
        cx.loc.valueNode(s, 'role'),
        'give the system-boot-state structure an explicit offset',
        [...st.path, 'offset'],
      )
    }

    if (vol.v.schema === 'emmc' && cx.target.has('emmc')) {
      st.offset = 0n
      continue
    }

    if (s.offset === undefined && previousEnd !== undefined) {
      st.offset = s.role !== 'mbr' && !(s.role === '' && s.type === 'mbr') && previousEnd < NON_MBR_START ? NON_MBR_START : previousEnd
    } else {
      st.offset = s.offset
    }

    const fixed = !(cx.hasPartial(vol, 'size') && (s.size ?? 0n) === 0n) && (s.size ?? 0n) === st.minSize
    previousEnd = st.offset !== undefined && fixed ? u64(st.offset + (s.size ?? 0n)) : undefined
  }
}

function impliedLabel(cx: SnapdContext, st: StructureRef): string | undefined {
  const {model} = cx.input
  const {s} = st
  if (!model || s['filesystem-label'] !== '') return undefined
  if (s.role === '' && s.type === 'mbr') return undefined
  if (!model.grade) return s.role === SYSTEM_DATA ? 'writable' : undefined
  return impliedLabelsByRole.get(s.role)
}

/** Legacy setImplicitForVolume with a model: implied labels may collide (M4). */
export function impliedLabels(cx: SnapdContext): void {
  if (!cx.input.model) return
  for (const vol of cx.volumes) {
    if (!vol.v) continue
    const known = new Set(vol.structures.map((st) => st.s['filesystem-label']).filter(Boolean))
    for (const st of vol.structures) {
      const {s} = st
      if (!cx.input.model.grade && s.role === '' && s['filesystem-label'] === SYSTEM_BOOT) continue
      const implied = impliedLabel(cx, st)
      if (!implied) continue
      if (known.has(implied)) {
        cx.error(
          'M4',
          `${cx.prefix(vol)}filesystem label ${goQuote(implied)} is implied by ${s.role} role but was already set elsewhere`,
          cx.loc.valueNode(s),
          `another structure uses "${implied}"; rename that label`,
          st.path,
        )
      }

      known.add(implied)
    }
  }
}

/** orderStructuresByOffset: blocks starting at a known offset, sorted by it. */
export function orderByOffset(cx: SnapdContext, vol: VolumeRef): void {
  const blocks: StructureRef[][] = []
  for (const st of vol.structures) {
    if (st.offset !== undefined || blocks.length === 0) blocks.push([st])
    else blocks.at(-1)!.push(st)
  }

  if (blocks.length < 2) return
  blocks.sort((a, b) => {
    const x = a[0].offset ?? 0n
    const y = b[0].offset ?? 0n
    return x < y ? -1 : x > y ? 1 : 0
  })
  // A loop, not Array.prototype.flat: flat is several times slower in V8 on this hot path.
  const ordered: StructureRef[] = []
  for (const block of blocks) for (const st of block) ordered.push(st)
  vol.structures = ordered
}

export function gptHeader(cx: SnapdContext, st: StructureRef): void {
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

export function crossStructureNewest(cx: SnapdContext, vol: VolumeRef): void {
  const first = vol.structures[0]
  const volMinSize = volumeSize(vol.structures, (st) => st.minSize)
  let previousEnd = 0n
  vol.structures.forEach((st, pidx) => {
    const {s} = st
    if (isMbr(s) && (st.offset === undefined || st.offset !== 0n)) {
      cx.error(
        'X3',
        `${cx.prefix(vol)}invalid structure ${fmtIndexAndName(pidx, s.name)}: invalid role "mbr": mbr structure must start at offset 0`,
        cx.loc.valueNode(s),
        'put the mbr structure first, at offset 0',
        st.path,
      )
    }

    offsetWriteNewest(cx, vol, st, first, volMinSize)
    if (st.offset !== undefined) {
      if (st.offset < previousEnd && !cx.failed(st.path)) {
        const prev = vol.structures[pidx - 1]
        cx.error(
          'X1',
          `${cx.prefix(vol)}structure ${goQuote(s.name)} overlaps with the preceding structure ${goQuote(prev.s.name)}`,
          cx.loc.valueNode(s, s.offset === undefined ? undefined : 'offset'),
          `${describeStructure(prev)} ends at ${formatQuantity(previousEnd)}; start this one at ${formatQuantity(previousEnd)} or later`,
          st.path,
        )
      }

      previousEnd = u64(st.offset + (s.size ?? 0n))
    } else {
      previousEnd = u64(previousEnd + (s.size ?? 0n))
    }
  })
}

function offsetWriteNewest(cx: SnapdContext, vol: VolumeRef, st: StructureRef, first: StructureRef, volMinSize: bigint): void {
  const ow = st.s['offset-write']
  if (!ow) return
  const node = cx.loc.valueNode(st.s, 'offset-write')
  const path = [...st.path, 'offset-write']
  const pre = () => cx.prefix(vol)
  if (ow.relativeTo !== '') {
    if (ow.relativeTo !== first.s.name) {
      cx.error(
        'X4',
        `${pre()}structure ${goQuote(st.s.name)} refers to an unexpected structure ${goQuote(ow.relativeTo)}`,
        node,
        `from snapd ${snapdFeatures.strictOffsetWrite}, offset-write may only be relative to the first structure (${goQuote(first.s.name)}), usually the mbr`,
        path,
      )
    } else if (first.offset !== 0n) {
      cx.error('X4', `${pre()}structure ${goQuote(st.s.name)} refers to structure ${goQuote(ow.relativeTo)}, which does not have 0 offset`, node, 'the structure offset-write refers to must be at offset 0', path)
    } else if (ow.offset + 4n > first.minSize) {
      cx.error(
        'X4',
        `${pre()}structure ${goQuote(st.s.name)} wants to write offset of 4 bytes to ${ow.offset}, outside of referred structure ${goQuote(ow.relativeTo)}`,
        node,
        `the 4-byte pointer must fit inside ${goQuote(ow.relativeTo)} (${first.minSize} bytes)`,
        path,
      )
    }
  } else if (ow.offset + 4n > volMinSize) {
    cx.error(
      'X4',
      `${pre()}structure ${goQuote(st.s.name)} wants to write offset of 4 bytes to ${ow.offset}, outside of volume of min size ${volMinSize}`,
      node,
      'the 4-byte pointer must be written inside the volume',
      path,
    )
  }
}
