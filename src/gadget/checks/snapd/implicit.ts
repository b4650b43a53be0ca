/**
 * setImplicitForVolume: the newest snapd's implicit schema, labels and offsets (with the 1 MiB
 * push), and 2.57's implied labels.
 */
import {goQuote, MiB, u64} from '../../quantity.js'
import {linuxFilesystem, type StructureRef, SYSTEM_BOOT, SYSTEM_BOOT_STATE, SYSTEM_DATA, SYSTEM_SAVE, SYSTEM_SEED, SYSTEM_SEED_NULL, type VolumeRef} from '../../geometry/volumes.js'
import {type SnapdContext} from './context.js'
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
