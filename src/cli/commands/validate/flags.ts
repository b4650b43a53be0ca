/**
 * validate's flags, defined once: oclif parses them (and writes them into oclif.manifest.json, from
 * which the fast entry's launcher parses them too), and their type is what the command body takes.
 */
import {Flags, type Interfaces} from '@oclif/core'

import {reportFormats as formats} from '../../../report/index.js'

export const validateFlags = {
  format: Flags.option({
    char: 'f',
    description: 'output format; github is the default inside GitHub Actions, text elsewhere',
    options: formats,
  })(),
  'layout-svg': Flags.string({
    description: "also draw each gadget's disk layout (snap-gadget layout) into this SVG file, and with --format github add the picture to the step summary; the file is replaced",
    helpValue: 'FILE',
  }),
  model: Flags.string({description: 'model assertion (or its snap sign JSON input): apply the rules that depend on the model (grade, classic)'}),
  output: Flags.string({char: 'o', description: 'write the report to this file instead of stdout'}),
  snapd: Flags.string({description: "judge as this snapd release would: 2.57 (Debian 12) … latest; default: the snapd a project's or snap's assumes: names (no older one installs it), else latest"}),
  strict: Flags.boolean({description: 'treat lint warnings (what snapd accepts but is likely wrong) as errors'}),
}

/** The flags runValidate takes: each as oclif parses it, optional (the fast entry passes what was given), and --json. */
export type ValidateFlags = Partial<Interfaces.InferredFlags<typeof validateFlags>> & {json?: boolean}
