/**
 * `snap-gadget layout` as a function of its arguments, for the oclif command and the fast entry
 * (src/cli/fast/layout.ts) alike: lays the gadget out, renders it, writes it; returns the exit code.
 */
import {ioError, UserError} from '../../../errors.js'
import {layOutGadget, renderLayout} from '../../../layout/index.js'
import type {OutputSink} from '../../../support/descriptor-sink.js'
import {writeNewFile} from '../../../support/output-file.js'
import {useColor} from '../../../support/paint.js'
import {readModel} from '../validate/run.js'

export interface LayoutFlags {
  force?: boolean
  format?: 'html' | 'json' | 'svg' | 'text'
  json?: boolean
  model?: string
  output?: string
  'sector-size'?: '4096' | '512'
  snapd?: string
  width?: number
}

interface LayoutIo {
  cwd: string
  stdout: OutputSink
  /** Columns of the terminal stdout is, asked only when it is one. */
  columns: () => number | undefined
}

export function runLayout(path: string, flags: LayoutFlags, io: LayoutIo): number {
  if (flags.json && flags.format !== undefined && flags.format !== 'json') {
    throw new UserError('E_FLAGS', `--json and --format ${flags.format} both choose the output format`, {hint: `give one of them: --format ${flags.format}, or --json`})
  }

  const format = flags.json ? 'json' : (flags.format ?? 'text')
  const model = flags.model ? readModel(flags.model, io.cwd) : undefined
  const layout = layOutGadget(path, {cwd: io.cwd, model, sectorSize: flags['sector-size'] === '4096' ? 4096 : 512, snapd: flags.snapd})
  const toTerminal = !flags.output && format === 'text' && Boolean(io.stdout.isTTY)
  const rendered = renderLayout(layout, format, {color: toTerminal && useColor(io.stdout), width: flags.width ?? (toTerminal ? (io.columns() ?? 80) : 80)})
  if (flags.output) {
    writeNewFile(flags.output, rendered, {cwd: io.cwd, force: flags.force})
  } else {
    try {
      io.stdout.write(rendered)
    } catch (error) {
      throw ioError('standard output', error, 'write')
    }
  }

  return layout.verdict.valid ? 0 : 1
}
