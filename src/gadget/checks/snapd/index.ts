/**
 * The checks snapd applies to gadget.yaml, ported from snapd's gadget package (gadget.go,
 * validate.go, layout.go) for 2.57 and for the newest release, with the changes in between
 * keyed on the SnapdTarget (snapd-version.ts). Where snapd stops at its first error, these checks go on and
 * report every problem they can judge soundly; the first error in snapd's order is recorded as
 * the message snapd would print.
 *
 * One file per part of snapd's own code, run here in snapd's order:
 *   decoding.ts    yaml.Unmarshal into gadget.Info, and the values of defaults
 *   defaults.ts    defaults, connections, kernel-cmdline
 *   volumes.ts     each volume: name, schema, partial, bootloader, its structures in snapd's order
 *   implicit.ts    setImplicitForVolume: implicit schema, labels and offsets
 *   structures.ts  each structure: name, label, type, update, role (eMMC structures too)
 *   offsets.ts     the newest snapd's order by offset, and overlaps
 *   roles.ts       roles across volumes, eMMC volumes (gadget.Validate)
 *   content.ts     content against the gadget's tree (gadget.ValidateContent)
 *   context.ts     what they share while judging one gadget
 *
 * 2.57's pack-time layout (gadget.LayoutVolume) is not a check: it is in ../../geometry/.
 */
import {layOutVolumes, type VolumeRef} from '../../geometry/volumes.js'
import {type CheckInput, SnapdContext} from './context.js'
import {contentChecks} from './content.js'
import {decodeFindings} from './decoding.js'
import {connections, defaults, kernelCmdline} from './defaults.js'
import {roles} from './roles.js'
import {volumesLegacy, volumesNewest} from './volumes.js'

export {type CheckInput, type GadgetModel} from './context.js'

/** snapd's checks of one gadget: `run` judges it, in snapd's order, into the input's report. */
export class SnapdChecks {
  private readonly cx: SnapdContext
  private laidOut: readonly VolumeRef[] = []

  constructor(input: CheckInput) {
    this.cx = new SnapdContext(input)
  }

  /** The volumes as snapd's parse step laid them out (for lint, after `run`). */
  get volumes(): readonly VolumeRef[] {
    return this.laidOut
  }

  run(): void {
    const cx = this.cx
    const {info} = cx.input.parsed
    decodeFindings(cx)
    if (!info) return
    defaults(cx, info)
    connections(cx, info)
    if (cx.target.has('kernelCmdline')) kernelCmdline(cx, info)
    const volumes = info.volumes
    if (!volumes || volumes.size === 0) {
      if (cx.input.model && !cx.input.model.classic) {
        cx.error('M2', 'bootloader not declared in any volume', cx.loc.keyNode(info, 'volumes'), 'a Core model needs a volumes: section with a bootloader')
      }

      return
    }

    const laidOut = layOutVolumes({info, loc: cx.loc, model: cx.input.model, target: cx.target})
    this.laidOut = laidOut
    if (cx.newest) volumesNewest(cx, info, laidOut)
    else volumesLegacy(cx, info, laidOut)
    roles(cx, laidOut)
    contentChecks(cx, laidOut)
  }
}
