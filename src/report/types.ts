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
  /** Paths that could not be judged (missing, unreadable, not a regular file, too large): each is an error, and the run exits 2. */
  unreadable?: UnreadableInput[]
}

/** A path given to validate that could not be read; the others are still judged. */
export interface UnreadableInput {
  /** The path as given (or the file inside it that could not be read). */
  file: string
  /** The UserError code: E_IO_ENOENT, E_NOT_A_FILE, E_TOO_LARGE, E_NO_GADGET, … */
  code: string
  message: string
  hint?: string
}

/** Text of the files findings point into, for code frames; keyed by Finding.file. */
export type SourceTexts = ReadonlyMap<string, string>
