/**
 * setImplicitForVolume's errors. The geometry (../../geometry/volumes.ts) gives the structures
 * their implicit schema, labels and offsets; here is what snapd refuses on the way: a schema
 * beside partial: [schema], a label already taken, a system-boot-state structure without an
 * offset (newest), and the labels roles imply (2.57 and newest).
 */
import {goQuote} from '../../quantity.js'
import {type StructureRef, SYSTEM_BOOT_STATE, type VolumeRef} from '../../geometry/volumes.js'
import {type SnapdContext} from './context.js'

/** setImplicitForVolume (newest), for a volume it lays out. */
export function implicitForVolume(cx: SnapdContext, vol: VolumeRef): void {
  const {v} = vol
  if (vol.partial.has('schema') && v.schema !== '') {
    cx.error('V3', `${cx.prefix(vol)}partial schema is set but schema is still specified as ${goQuote(v.schema)}`, cx.loc.valueNode(v, 'schema'), 'remove "schema:" or drop schema from partial', [...vol.path, 'schema'])
  }

  for (const st of vol.declared) if (st.labelTaken) labelNotUnique(cx, vol, st)
  for (const st of vol.declared) {
    const {s} = st
    if (st.impliedLabelTaken) impliedLabelTaken(cx, vol, st)
    if (cx.target.has('systemBootState') && s.role === SYSTEM_BOOT_STATE && s.offset === undefined) {
      cx.error(
        'R7',
        `${cx.prefix(vol)}invalid structure #${st.index} (${goQuote(s.name)}): invalid role ${goQuote(s.role)}: system-boot-state role requires explicit offset`,
        cx.loc.valueNode(s, 'role'),
        'give the system-boot-state structure an explicit offset',
        [...st.path, 'offset'],
      )
    }
  }
}

/** 2.57's setImplicitForVolume, which runs once every volume is validated: labels implied by roles. */
export function impliedLabels(cx: SnapdContext, volumes: readonly VolumeRef[]): void {
  for (const vol of volumes) for (const st of vol.declared) if (st.impliedLabelTaken) impliedLabelTaken(cx, vol, st)
}

function impliedLabelTaken(cx: SnapdContext, vol: VolumeRef, st: StructureRef): void {
  const {s} = st
  cx.error(
    'M4',
    `${cx.prefix(vol)}filesystem label ${goQuote(st.impliedLabel!)} is implied by ${s.role} role but was already set elsewhere`,
    cx.loc.valueNode(s),
    `another structure uses "${st.impliedLabel}"; rename that label`,
    st.path,
  )
}

function labelNotUnique(cx: SnapdContext, vol: VolumeRef, st: StructureRef): void {
  const label = st.s['filesystem-label']
  cx.error(
    'X6',
    `${cx.prefix(vol)}filesystem label ${goQuote(label)} is not unique`,
    cx.loc.valueNode(st.s, 'filesystem-label'),
    'labels must differ within a volume; on vfat, case is ignored ("BOOT" and "boot" clash)',
    [...st.path, 'filesystem-label'],
  )
}
