import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {validateFlags} from './flags.js'
import {processIo, type ValidateFlags} from './run.js'
import type {ValidationReport} from '../../../report/types.js'

export default class Validate extends BaseCommand {
  static override args = {
    path: Args.string({description: 'gadget.yaml, a gadget project directory, or a built snap tree (meta/gadget.yaml); - reads gadget.yaml from standard input; default: the current directory'}),
  }

  static override description = `Judges gadget.yaml exactly as snapd does (snap pack, image build), and lints what snapd silently accepts.

Each finding has a stable rule id, file:line:col, the message snapd itself would print, and a fix. PATH may be a gadget.yaml, a gadget project directory (gadget.yaml beside snap/snapcraft.yaml: content is looked up in the project and hooks are checked for literal api-keys), or a built snap tree (meta/gadget.yaml: content must exist, as for snap pack). Several paths may be given; without one, the current directory is judged, and - reads gadget.yaml from standard input. Only regular files are read, each up to a size limit.

A path that cannot be read (missing, not a regular file, too large) is reported as an error in every format while the other paths are still judged.

Exit status: 0 when no finding is an error, 1 when one is, 2 for usage or I/O errors (including any path that could not be read).`

  static override enableJsonFlag = true

  static override examples = [
    '<%= config.bin %> <%= command.id %> gadget.yaml',
    '<%= config.bin %> <%= command.id %> . --snapd 2.57',
    '<%= config.bin %> <%= command.id %> prime --strict --format sarif --output gadget.sarif',
    '<%= config.bin %> <%= command.id %> gadget.yaml --model model.json',
  ]

  /** Runs without oclif from dist/fast/validate.js when the arguments are plain (see src/cli/fast/launch.ts). */
  static fastEntry = 'validate'

  static override flags = validateFlags

  static override strict = false

  static override summary = 'Validate gadget.yaml as snapd does, with positions, rule ids and fixes.'

  async run(): Promise<ValidationReport> {
    const {argv, flags} = await this.parse(Validate)
    const {runValidate} = await import('./run.js')
    const {code, report} = await runValidate(argv as string[], {...flags, json: this.jsonEnabled()} satisfies ValidateFlags, processIo(this.config.version))
    process.exitCode = code
    // With --json the report was already printed by runValidate; oclif prints only what run() returns.
    return this.jsonEnabled() ? (undefined as unknown as ValidationReport) : report
  }
}
