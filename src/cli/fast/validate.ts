/**
 * `snap-gadget validate` without oclif, bundled into dist/fast/validate.js: the launcher
 * (src/cli/launch.ts) calls main() with arguments it parsed from the command's manifest entry.
 */
import {exitCodeFor, UserError} from '../../errors.js'
import type {FastInput, FastIo} from '../launch.js'
import {formatError} from '../output.js'
import {type Format, processIo, runValidate} from '../run-validate.js'

declare const SNAP_GADGET_VERSION: string

export async function main({argv, flags}: FastInput, io: FastIo = process): Promise<number> {
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
      {...processIo(SNAP_GADGET_VERSION), stderr: io.stderr, stdout: io.stdout},
    )
    return code
  } catch (error) {
    if (flags.json === true) {
      const body = error instanceof UserError ? error.toJSON() : {code: 'INTERNAL', message: (error as Error).message}
      io.stdout.write(`${JSON.stringify({error: body}, null, 2)}\n`)
    } else {
      io.stderr.write(formatError(error))
    }

    return exitCodeFor(error)
  }
}
