/** A volume as the pictures walk it: the partition table, structures and gaps, in disk order. */
import type {LaidOutStructure, LaidOutVolume} from './model.js'

export type Segment = {kind: 'table'; start: bigint; size: bigint; what: string} | {kind: 'gap'; start: bigint; size: bigint} | {kind: 'structure'; start: bigint; size: bigint; structure: LaidOutStructure}

/**
 * The partition table (as one range: its parts are listed in the table), structures and gaps, by
 * start. A structure that overlaps another keeps its place after it: the pictures mark it.
 */
export function segmentsOf(volume: LaidOutVolume): Segment[] {
  const segments: Segment[] = []
  const table = volume.partitionTable
  if (table.length > 0) {
    const start = table[0].start
    const end = table.reduce((e, r) => (r.start + r.size > e ? r.start + r.size : e), 0n)
    segments.push({kind: 'table', size: end - start, start, what: table.map((r) => r.what).join(', ')})
  }

  segments.push(...volume.gaps.map((g): Segment => ({kind: 'gap', size: g.size, start: g.start})), ...volume.structures.map((s): Segment => ({kind: 'structure', size: s.size, start: s.start, structure: s})))
  // By start; at the same start the table first (the mbr structure lies in its first sector).
  const rank = {gap: 1, structure: 2, table: 0}
  return segments.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : rank[a.kind] - rank[b.kind]))
}

/** eMMC boot partitions are hardware partitions: snapd gives them no offset or size to draw. */
export function placedByHardware(volume: LaidOutVolume): boolean {
  return volume.schema === 'emmc'
}

/** 1536 → "1.5 KiB", 1048576 → "1 MiB": IEC units, three significant digits. */
export function humanSize(bytes: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB']
  let value = Number(bytes)
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }

  if (unit === 0) return `${bytes} B`
  const shown = value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)
  // Trailing zeros of a fraction only: 1.50 is 1.5 and 2.00 is 2, but 500 stays 500.
  return `${shown.includes('.') ? shown.replace(/\.?0+$/, '') : shown} ${units[unit]}`
}
