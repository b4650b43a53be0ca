/**
 * `snap-gadget validate`, shared by the oclif command and its fast entry (dist/fast/validate.js):
 * validate the paths, render the report, decide the exit code.
 */
import {appendFileSync, existsSync, writeFileSync} from 'node:fs'
import {resolve} from 'node:path'

import {parseAssertions} from '../../../assertions/decode.js'
import {ExitCode, ioError, UserError} from '../../../errors.js'
import type {ModelFacts} from '../../../gadget/checks/snapd/index.js'
import {MAX_GADGET_BYTES} from '../../../gadget/inputs.js'
import {validatePaths} from '../../../gadget/validate.js'
import {renderReport, type ReportFormat} from '../../../report/index.js'
import {cell} from '../../../report/github.js'
import type {ValidationReport} from '../../../report/types.js'
import {readBoundedFile, readBoundedStdin} from '../../../support/bounded-read.js'
import type {OutputSink} from '../../../support/descriptor-sink.js'
import {useColor} from '../../../support/paint.js'
import type {ValidateFlags} from './flags.js'

export type {ValidateFlags} from './flags.js'
export type Format = ReportFormat

interface CommandIo {
  cwd: string
  env: NodeJS.ProcessEnv
  stdout: OutputSink
  stderr: OutputSink
  version: string
  /** Reads standard input for the path `-` (default: fd 0, bounded). */
  readStdin?: () => Uint8Array
}

export function processIo(version: string): CommandIo {
  return {cwd: process.cwd(), env: process.env, stderr: process.stderr, stdout: process.stdout, version}
}

/** Runs validate and returns the exit code; throws UserError for usage and I/O problems. */
export async function runValidate(paths: string[], flags: ValidateFlags, io: CommandIo): Promise<{code: number; report: ValidationReport}> {
  if (flags.json && flags.format !== undefined && flags.format !== 'json') {
    throw new UserError('E_FLAGS', `--json and --format ${flags.format} both choose the output format`, {hint: `give one of them: --format ${flags.format}, or --json (the same as --format json)`})
  }

  if (paths.filter((p) => p === '-').length > 1) throw new UserError('E_FLAGS', 'standard input (-) can be given only once', {hint: 'pass - once, and files by their paths'})
  const format: Format = flags.json ? 'json' : (flags.format ?? (io.env.GITHUB_ACTIONS === 'true' ? 'github' : 'text'))
  const model = flags.model ? readModel(flags.model, io.cwd) : undefined
  // No PATH judges the current directory, as `snap pack` does.
  const inputs = paths.length === 0 ? ['.'] : paths
  const readStdin = io.readStdin ?? (() => readBoundedStdin(MAX_GADGET_BYTES, 'gadget.yaml'))
  const {report, sources} = validatePaths(inputs, {cwd: io.cwd, model, readStdin, snapd: flags.snapd, strict: flags.strict})
  const color = format === 'text' && !flags.output && useColor(io.stdout)
  const rendered = renderReport(report, format, {color, cwd: io.cwd, sources, toolVersion: io.version})
  if (flags.output) {
    try {
      writeFileSync(resolve(io.cwd, flags.output), rendered.output)
    } catch (error) {
      throw ioError(flags.output, error, 'write')
    }
  } else {
    io.stdout.write(rendered.output)
  }

  if (flags['layout-svg']) rendered.summary = `${rendered.summary ?? ''}${await drawLayouts(inputs, flags['layout-svg'], flags.snapd, io.cwd)}`
  if (rendered.summary && io.env.GITHUB_STEP_SUMMARY) {
    try {
      appendFileSync(io.env.GITHUB_STEP_SUMMARY, rendered.summary)
    } catch (error) {
      // The annotations are out already; a missing summary must not fail the check.
      io.stderr.write(`warning: ${ioError(io.env.GITHUB_STEP_SUMMARY, error, 'write').message} (GITHUB_STEP_SUMMARY)\n`)
    }
  }

  // A path that could not be read is an I/O error: it outranks findings in the others.
  const code = (report.unreadable?.length ?? 0) > 0 ? ExitCode.Usage : report.errors > 0 ? ExitCode.Failed : ExitCode.Ok
  return {code, report}
}

/**
 * --layout-svg: the disk layout of each gadget given, one SVG for all (the first one's, and each
 * next one's below it), written as asked; the summary gets the text picture of each, which every
 * Markdown renders, and says where the SVG is. Loaded only when asked: validate starts without it.
 */
async function drawLayouts(paths: readonly string[], file: string, snapd: string | undefined, cwd: string): Promise<string> {
  const {layOutGadget, renderLayout} = await import('../../../layout/index.js')
  const layouts = paths
    .filter((p) => p !== '-')
    .flatMap((path) => {
      try {
        return [layOutGadget(path, {cwd, snapd})]
      } catch (error) {
        // A path that cannot be read is in the report already.
        if (error instanceof UserError) return []
        throw error
      }
    })
  try {
    writeFileSync(resolve(cwd, file), stackedSvg(layouts.map((layout) => renderLayout(layout, 'svg'))))
  } catch (error) {
    throw ioError(file, error, 'write')
  }

  const pictures = layouts.map((layout) => `\n### Disk layout of ${cell(layout.file)}\n\n\`\`\`text\n${renderLayout(layout, 'text', {color: false, width: 120}).replaceAll('```', "'''")}\`\`\`\n`)
  return `${pictures.join('')}\nThe picture as SVG: ${cell(file)}${layouts.length > 1 ? ` (${layouts.length} gadgets, one after the other)` : ''}.\n`
}

/** Several SVG pictures as one: each an inner <svg> below the one before. */
function stackedSvg(svgs: readonly string[]): string {
  if (svgs.length === 1) return svgs[0]
  let y = 0
  let width = 0
  const inner = svgs.map((svg) => {
    const height = Number(/ height="(\d+)"/.exec(svg)?.[1] ?? 0)
    width = Math.max(width, Number(/ width="(\d+)"/.exec(svg)?.[1] ?? 0))
    const placed = svg.replace('<svg xmlns="http://www.w3.org/2000/svg"', `<svg y="${y}"`)
    y += height
    return placed
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}">\n${inner.join('')}</svg>\n`
}

/** Model assertions are a few KB; a signed one with many snaps stays far below this. */
const MAX_MODEL_BYTES = 1024 * 1024

/** The model the gadget is for, from `snap sign`'s JSON input or a signed model assertion. */
export function readModel(file: string, cwd: string): ModelFacts {
  const path = resolve(cwd, file)
  if (!existsSync(path)) throw new UserError('E_MODEL_MISSING', `model file ${file} does not exist`, {file, hint: 'give the model JSON you sign with "snap sign", or the signed model assertion', kind: 'io'})
  const text = readBoundedFile(path, MAX_MODEL_BYTES, {shown: file, what: 'model'}).toString('utf8')

  let headers: Record<string, unknown>
  if (text.trimStart().startsWith('{')) {
    try {
      headers = JSON.parse(text) as Record<string, unknown>
    } catch (error) {
      throw new UserError('E_MODEL_SYNTAX', `${file} is not valid JSON: ${(error as Error).message}`, {file, hint: 'fix the JSON syntax'})
    }
  } else {
    // `snap known model` prints the model first; only its headers matter here.
    headers = parseAssertions(text, {file})[0].headers
  }

  if (headers.type !== undefined && headers.type !== 'model') {
    throw new UserError('E_MODEL_TYPE', `${file} is a ${String(headers.type)} assertion, not a model`, {file, hint: 'give the model assertion (or its JSON input)'})
  }

  const grade = typeof headers.grade === 'string' && headers.grade !== '' ? headers.grade : undefined
  const classic = headers.classic === true || headers.classic === 'true'
  return {classic, grade}
}
