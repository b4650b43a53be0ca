/**
 * The checks snapd applies to gadget.yaml, ported from snapd's gadget package (gadget.go,
 * validate.go) for 2.57 and for the newest release, with the changes in between keyed on the
 * SnapdTarget (snapd-version.ts). Where snapd stops at its first error, these checks go on and
 * report every problem they can judge soundly; the first error in snapd's order is recorded as
 * the message snapd would print.
 *
 * This file is snapd's order: `run` calls the checks as snapd calls its functions, each step
 * naming the function it mirrors. A check file judges and reports, and calls no other check
 * file (scripts/lint.mjs holds them to it); what they share is data: the volumes as snapd's
 * parse step lays them out, computed once (../../geometry/volumes.ts), and context.ts.
 *   decoding.ts    yaml.Unmarshal into gadget.Info, and the values of defaults
 *   defaults.ts    defaults, connections, kernel-cmdline
 *   volumes.ts     each volume: an empty stanza, partial, name, schema, bootloader;
 *                  volume-assignments
 *   implicit.ts    setImplicitForVolume: a schema beside partial, labels taken
 *   structures.ts  validateVolume's loop: each structure (eMMC ones too), names taken
 *   offsets.ts     validateCrossVolumeStructure: mbr at 0, offset-write, overlaps
 *   roles.ts       roles across volumes, eMMC volumes (gadget.Validate)
 *   content.ts     content against the gadget's tree (gadget.ValidateContent)
 *   context.ts     what they share while judging one gadget: the input, how to report
 */
import {layOutVolumes, type VolumeRef} from '../../geometry/volumes.js'
import {type CheckInput, SnapdContext} from './context.js'
import {contentChecks} from './content.js'
import {decodeFindings} from './decoding.js'
import {connections, defaults, kernelCmdline} from './defaults.js'
import {impliedLabels, implicitForVolume} from './implicit.js'
import {crossStructures} from './offsets.js'
import {roles} from './roles.js'
import {volumeStructures} from './structures.js'
import {bootloader, bootloaderCount, noVolumes, validatePartial, volumeAssignments, volumeNameAndSchema, volumeStanzaEmpty} from './volumes.js'

export {type CheckInput, type ModelFacts} from './context.js'

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
    // InfoFromGadgetYaml: yaml.Unmarshal
    decodeFindings(cx)
    if (!info) return
    // InfoFromGadgetYaml: the defaults, then the connections
    defaults(cx, info)
    connections(cx, info)
    // kernel-cmdline (2.59+): what isKernelArgumentAllowed refuses on the device, a warning
    if (cx.target.has('kernelCmdline')) kernelCmdline(cx, info)
    if (!info.volumes || info.volumes.size === 0) {
      // InfoFromGadgetYaml: no volumes, for a classic model only
      noVolumes(cx, info)
      return
    }

    const volumes = layOutVolumes({info, loc: cx.loc, model: cx.input.model, target: cx.target})
    this.laidOut = volumes
    // InfoFromGadgetYaml: the loop over the volumes
    let bootloaders = 0
    for (const vol of volumes) {
      // "volume %q stanza is empty"
      if (!vol.v) {
        volumeStanzaEmpty(cx, info, vol.name)
        continue
      }

      if (cx.newest) {
        // validatePartial: snapd stops there, and the geometry left such a volume as declared
        if (!validatePartial(cx, vol)) continue
        // setImplicitForVolume, then orderStructuresByOffset (both computed by the geometry)
        implicitForVolume(cx, vol)
      }

      // validateVolume: the volume, its loop over the structures, validateCrossVolumeStructure
      volumeNameAndSchema(cx, vol)
      volumeStructures(cx, vol)
      crossStructures(cx, vol)
      // InfoFromGadgetYaml: the switch on the bootloader
      bootloaders += bootloader(cx, vol)
    }

    // InfoFromGadgetYaml: one bootloader, no more
    bootloaderCount(cx, info, volumes, bootloaders)
    // validateVolumeAssignments (2.68+)
    if (cx.target.has('volumeAssignments')) volumeAssignments(cx, info)
    // 2.57's setImplicitForVolume, once every volume is validated: the labels roles imply
    if (!cx.newest) impliedLabels(cx, volumes)
    // gadget.Validate: roles across volumes
    roles(cx, volumes)
    // gadget.ValidateContent: content against the gadget's tree
    contentChecks(cx, volumes)
  }
}
