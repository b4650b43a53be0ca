/**
 * `snap-gadget init` without oclif: the fast entry (bundled to dist/fast/init.cjs by
 * scripts/build-templates.mjs) that bin/run.js starts when the command line is one the launcher
 * fully understands (see src/cli/fast/launch.ts). Same flags, output and exit codes as the oclif
 * command, which runs the same code.
 */
import {type InitFlags, runInit} from '../commands/init/run.js'
import {initJson, initText} from '../commands/init/present.js'
import {handleError} from '../handle-error.js'
import {painter, useColor} from '../output.js'
import type {FastInput, FastIo} from './launch.js'
import {descriptorIo, isTerminal} from './terminal.js'

/** Writes through descriptor sinks by default: process.stdout and process.stderr cost start-up time. */
export async function main(input: FastInput, io: FastIo = descriptorIo()): Promise<number> {
  const flags = input.flags as InitFlags
  try {
    const interactive = Boolean(io.stdout.isTTY) && isTerminal(0)
    const outcome = await runInit(flags, input.argv[0], {cwd: process.cwd(), interactive})
    io.stdout.write(flags.json ? `${JSON.stringify(initJson(outcome), null, 2)}\n` : initText(outcome, painter(useColor(io.stdout))))
    return 0
  } catch (error) {
    return handleError(error, {json: flags.json === true, stderr: io.stderr, stdout: io.stdout})
  }
}
