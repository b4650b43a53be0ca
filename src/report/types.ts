/** The result of validating one or more gadgets: what every output format renders. */
import type {GadgetValidation} from '../gadget/validate.js'

export interface ValidationReport {
  /** The snapd release judged for ("latest", "2.57", …). */
  snapd: string
  /** Whether lint warnings were raised to errors (--strict). */
  strict: boolean
  /** One entry per gadget checked. Findings may name other files of the gadget (snapcraft.yaml, hooks). */
  gadgets: GadgetValidation[]
  errors: number
  warnings: number
}

/** Text of the files findings point into, for code frames; keyed by Finding.file. */
export type SourceTexts = ReadonlyMap<string, string>
