/**
 * `snap-gadget validate` without oclif, bundled into dist/fast/validate.js: the launcher
 * (src/cli/fast/launch.ts) calls main() with arguments it parsed from the command's manifest entry.
 */
import {exitCodeFor, UserError} from '../../errors.js'
import {descriptorIo} from './terminal.js'
import type {FastInput, FastIo} from './launch.js'
import {formatError} from '../output.js'
import {type Format, runValidate} from '../commands/validate/run.js'

declare const SNAP_GADGET_VERSION: string

/** Writes through descriptor sinks by default: process.stdout and process.stderr cost start-up time. */
export async function main({argv, flags}: FastInput, io: FastIo = descriptorIo()): Promise<number> {
  try {
    const {code} = await runValidate(
      argv,
      {
        format: flags.format as Format | undefined,
        json: flags.json === true,
        model: flags.model as string | undefined,
        output: flags.output as string | undefined,
        snapd: flags.snapd as string | undefined,
        strict: flags.strict === true,
      },
      {cwd: process.cwd(), env: process.env, stderr: io.stderr, stdout: io.stdout, version: SNAP_GADGET_VERSION},
    )
    return code
  } catch (error) {
    if (flags.json === true) {
      const body = error instanceof UserError ? error.toJSON() : {code: 'INTERNAL', message: (error as Error).message}
      io.stdout.write(`${JSON.stringify({error: body}, null, 2)}\n`)
    } else {
      io.stderr.write(formatError(error, io.stderr))
    }

    return exitCodeFor(error)
  }
}
