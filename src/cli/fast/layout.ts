/**
 * `snap-gadget layout` without oclif, bundled into dist/fast/layout.cjs: it rides validate's fast
 * start (the launcher parses its flags from the manifest, see launch.ts). Its figure is in
 * bench/layout.bench.mjs.
 */
import {type LayoutFlags, runLayout} from '../commands/layout/run.js'
import {handleError} from '../handle-error.js'
import type {FastAccepts, FastInput, FastIo} from './launch.js'
import {descriptorIo} from './terminal.js'

/** --width is an integer of at least 40: anything else is oclif's to word. */
export const accepts: FastAccepts = ({flags}) => flags.width === undefined || (typeof flags.width === 'string' && /^\d{2,4}$/.test(flags.width) && Number(flags.width) >= 40)

export async function main({argv, flags}: FastInput, io: FastIo = descriptorIo()): Promise<number> {
  try {
    // The launcher parsed the flags from layout's manifest entry: they are layout's own.
    const width = flags.width === undefined ? undefined : Number(flags.width)
    return runLayout(argv[0] ?? '.', {...(flags as Omit<LayoutFlags, 'width'>), width}, {columns: () => process.stdout.columns, cwd: process.cwd(), stdout: io.stdout})
  } catch (error) {
    return handleError(error, {json: flags.json === true, stderr: io.stderr, stdout: io.stdout})
  }
}
