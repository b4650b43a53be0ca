/** The types the renderers take: the report, defined in gadget/validate.ts where it is made, and the source texts of code frames. */
export type {GadgetValidation, UnreadableInput, ValidationReport} from '../gadget/validate.js'

/** Text of the files findings point into, for code frames; keyed by Finding.file. */
export type SourceTexts = ReadonlyMap<string, string>
