/**
 * `snap-gadget validate` without oclif, bundled into dist/fast/validate.cjs: the launcher
 * (src/cli/fast/launch.ts) calls main() with arguments it parsed from the command's manifest entry.
 *
 * What it is worth (bench/validate.bench.mjs, cold start on one gadget.yaml against `node -e 0`):
 * 1.40–1.42× this way, where oclif's own start alone makes it about 7×; the target is ≤ 1.5×.
 */
import {runValidate, type ValidateFlags} from '../commands/validate/run.js'
import {handleError} from '../handle-error.js'
import type {FastInput, FastIo} from './launch.js'
import {descriptorIo} from './terminal.js'

declare const SNAP_GADGET_VERSION: string

/** Writes through descriptor sinks by default: process.stdout and process.stderr cost start-up time. */
export async function main({argv, flags}: FastInput, io: FastIo = descriptorIo()): Promise<number> {
  try {
    // The launcher parsed the flags from validate's manifest entry: they are validate's own.
    const {code} = await runValidate(argv, flags as ValidateFlags, {cwd: process.cwd(), env: process.env, stderr: io.stderr, stdout: io.stdout, version: SNAP_GADGET_VERSION})
    return code
  } catch (error) {
    return handleError(error, {json: flags.json === true, stderr: io.stderr, stdout: io.stdout})
  }
}
