/**
 * Renders a ValidationReport in one of the `--format` output formats. Pure: returns strings and
 * leaves writing them (stdout, $GITHUB_STEP_SUMMARY) to the command.
 */
import {InternalError} from '../errors.js'
import {formatGithub} from './github.js'
import {formatJson} from './json.js'
import {formatJunit} from './junit.js'
import {formatSarif} from './sarif.js'
import {formatText} from './text.js'
import type {SourceTexts, ValidationReport} from './types.js'

export const reportFormats = ['text', 'json', 'github', 'sarif', 'junit'] as const
export type ReportFormat = (typeof reportFormats)[number]

interface RenderOptions {
  /** text: colour with ANSI escapes. */
  color?: boolean
  /** text, sarif: file texts keyed by Finding.file, for code frames and SARIF fingerprints. */
  sources?: SourceTexts
  /** text, github, sarif: absolute file names under this directory are written relative to it. */
  cwd?: string
  /** sarif: the snap-gadget version. */
  toolVersion?: string
}

interface RenderedReport {
  /** What goes to stdout. */
  output: string
  /** github: Markdown for $GITHUB_STEP_SUMMARY, when that is set. */
  summary?: string
}

export function renderReport(report: ValidationReport, format: ReportFormat, options: RenderOptions = {}): RenderedReport {
  switch (format) {
    case 'text': {
      return {output: formatText(report, {color: options.color ?? false, cwd: options.cwd, sources: options.sources})}
    }

    case 'json': {
      return {output: formatJson(report)}
    }

    case 'github': {
      const {annotations, summary} = formatGithub(report, {cwd: options.cwd})
      return {output: annotations, summary}
    }

    case 'sarif': {
      if (!options.toolVersion) throw new InternalError('the sarif format needs the tool version')
      return {output: formatSarif(report, {cwd: options.cwd, sources: options.sources, toolVersion: options.toolVersion})}
    }

    case 'junit': {
      return {output: formatJunit(report)}
    }

    default: {
      throw new InternalError(`unknown report format ${String(format satisfies never)}`)
    }
  }
}

export function isReportFormat(name: string): name is ReportFormat {
  return (reportFormats as readonly string[]).includes(name)
}

export {formatGithub, type GithubOutput} from './github.js'
export {formatJson} from './json.js'
export {formatJunit} from './junit.js'
export {formatSarif, type SarifOptions} from './sarif.js'
export {formatText, type TextOptions} from './text.js'
export type {SourceTexts, ValidationReport} from './types.js'
