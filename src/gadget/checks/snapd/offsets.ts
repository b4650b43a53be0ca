/**
 * Where the structures sit (gadget.go's validateCrossVolumeStructure, newest and 2.57): the mbr
 * at 0, offset-write, overlaps, on the offsets the geometry gave the structures.
 */
import {formatQuantity, goQuote, u64} from '../../quantity.js'
import {snapdFeatures} from '../../snapd-version.js'
import {isMbr, type StructureRef, type VolumeRef} from '../../geometry/volumes.js'
import {fmtIndexAndName, nameHint, type SnapdContext} from './context.js'

function describeStructure(st: StructureRef): string {
  return st.s.name ? `"${st.s.name}"` : `structure #${st.index}`
}

function volumeSize(structures: readonly StructureRef[], sizer: (st: StructureRef) => bigint): bigint {
  let end = 0n
  for (const st of structures) end = st.s.offset === undefined ? u64(end + sizer(st)) : u64(st.s.offset + sizer(st))
  return end
}

/** validateCrossVolumeStructure: the mbr at 0, offset-write, overlaps. */
export function crossStructures(cx: SnapdContext, vol: VolumeRef): void {
  if (!cx.newest) crossStructuresLegacy(cx, vol)
  // An emmc volume has hardware partitions, not offsets.
  else if (!(cx.target.has('emmc') && vol.v.schema === 'emmc')) crossStructuresNewest(cx, vol)
}

function crossStructuresNewest(cx: SnapdContext, vol: VolumeRef): void {
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

/** 2.57: the structures as validateVolume placed them, sorted by that start. */
function crossStructuresLegacy(cx: SnapdContext, vol: VolumeRef): void {
  // cross structure validation, sorted by start offset (stable, as Go's sort.Sort is not,
  // but equal offsets only matter for overlapping structures); 2.57 places every structure
  const laid = [...vol.structures].sort((a, b) => (a.offset! < b.offset! ? -1 : a.offset! > b.offset! ? 1 : 0))
  let previousEnd = 0n
  laid.forEach((st, i) => {
    const {s} = st
    const start = st.offset!
    const where = () => `structure ${fmtIndexAndName(st.index, s.name)}`
    if (isMbr(s) && start !== 0n) {
      cx.error('X3', `${cx.prefix(vol)}${where()} has "mbr" role and must start at offset 0`, cx.loc.valueNode(s), 'put the mbr structure first in the list, or give it "offset: 0"', st.path)
    }

    const ow = s['offset-write']
    if (ow && ow.relativeTo !== '' && !vol.byName.has(ow.relativeTo)) {
      cx.error('X4', `${cx.prefix(vol)}${where()} refers to an unknown structure ${goQuote(ow.relativeTo)}`, cx.loc.valueNode(s, 'offset-write'), nameHint(ow.relativeTo, [...vol.byName.keys()]), [
        ...st.path,
        'offset-write',
      ])
    }

    if (start < previousEnd && !cx.failed(st.path)) {
      const prev = laid[i - 1]
      cx.error(
        'X1',
        `${cx.prefix(vol)}${where()} overlaps with the preceding structure ${fmtIndexAndName(prev.index, prev.s.name)}`,
        cx.loc.valueNode(s, s.offset === undefined ? undefined : 'offset'),
        `${describeStructure(prev)} ends at ${formatQuantity(previousEnd)}; start this one at ${formatQuantity(previousEnd)} or later`,
        st.path,
      )
    }

    previousEnd = u64(start + (s.size ?? 0n))
    if (st.hasFilesystem) return
    s.content?.forEach((c, ci) => {
      const cow = c['offset-write']
      if (cow && cow.relativeTo !== '' && !vol.byName.has(cow.relativeTo)) {
        cx.error(
          'X5',
          `${cx.prefix(vol)}${where()}, content ${fmtIndexAndName(ci, c.image)} refers to an unknown structure ${goQuote(cow.relativeTo)}`,
          cx.loc.valueNode(c, 'offset-write'),
          nameHint(cow.relativeTo, [...vol.byName.keys()]),
          [...st.path, 'content', ci, 'offset-write'],
        )
      }
    })
  })
}
