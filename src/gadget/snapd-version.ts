/**
 * The snapd release a gadget is judged for. snapd's gadget rules changed over time (see
 * reference section D); each change is a feature with the first release that has it.
 */
import {UserError} from '../errors.js'

/** The newest snapd release whose rules snap-gadget implements. */
export const LATEST_SNAPD = '2.77'
/** The oldest release snap-gadget can judge for. */
export const OLDEST_SNAPD = '2.57'

/** Rule changes, each with the first snapd release that has it. */
export const snapdFeatures = {
  /** `bootloader: piboot`. */
  piboot: '2.55',
  /** The `kernel-cmdline` top-level key. */
  kernelCmdline: '2.59',
  /** The `system-seed-null` role (classic with modes). */
  systemSeedNull: '2.59',
  /** Implicit offsets (with the 1 MiB push) computed while parsing; label uniqueness checked first. */
  implicitOffsetsAtParse: '2.59',
  /** `min-size`. */
  minSize: '2.60',
  /** The `partial` volume key. */
  partial: '2.60',
  /** offset-write only relative to the first structure, within the volume; content offset-write dropped. */
  strictOffsetWrite: '2.60',
  /** vfat labels compared case-insensitively. */
  vfatCaseInsensitiveLabels: '2.60',
  /** Structures ordered by offset before validation; overlap messages name structures. */
  sortedStructures: '2.60',
  /** `filesystem: vfat-16` and `vfat-32`. */
  vfat16And32: '2.61',
  /** `snap pack` no longer lays out raw content (fit/overlap checked only at image build). */
  noContentLayoutAtPack: '2.62',
  /** `schema: emmc`. */
  emmc: '2.67',
  /** The `volume-assignments` top-level key. */
  volumeAssignments: '2.68',
  /** `size` forbidden in emmc structures. */
  emmcNoSize: '2.72',
  /** The `system-boot-state` role. */
  systemBootState: '2.75',
} as const
export type SnapdFeature = keyof typeof snapdFeatures

export interface SnapdTarget {
  /** As the user gave it ("2.57", "latest"). */
  label: string
  /** The release compared against feature versions, e.g. "2.57". */
  version: string
  has(feature: SnapdFeature): boolean
}

function compare(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }

  return 0
}

export function atLeast(version: string, minimum: string): boolean {
  return compare(version, minimum) >= 0
}

/** "2.57", "2.57.6", "2.61" or "latest" (the default). */
export function snapdTarget(input = 'latest'): SnapdTarget {
  const label = input.trim()
  let version: string
  if (label === 'latest' || label === '') {
    version = LATEST_SNAPD
  } else {
    const m = /^(\d+)\.(\d+)(?:\.\d+)?(?:[+~-].*)?$/.exec(label)
    if (!m) {
      throw new UserError('E_SNAPD_VERSION', `cannot understand snapd version "${input}"`, {
        hint: `give a release such as ${OLDEST_SNAPD} or ${LATEST_SNAPD}, or "latest"`,
      })
    }

    version = `${m[1]}.${m[2]}`
    if (compare(version, OLDEST_SNAPD) < 0 || compare(version, LATEST_SNAPD) > 0) {
      throw new UserError('E_SNAPD_VERSION', `snapd ${input} is outside the releases snap-gadget can judge for (${OLDEST_SNAPD} to ${LATEST_SNAPD})`, {
        hint: `use a release from ${OLDEST_SNAPD} to ${LATEST_SNAPD}, or "latest"`,
      })
    }
  }

  const features = new Set((Object.keys(snapdFeatures) as SnapdFeature[]).filter((f) => atLeast(version, snapdFeatures[f])))
  return {has: (feature) => features.has(feature), label: label || 'latest', version}
}
