/**
 * GitHub Actions output: workflow-command annotations for the log and the diff view, and a
 * Markdown step summary for $GITHUB_STEP_SUMMARY.
 *
 * GitHub shows at most 10 error and 10 warning annotations per step (50 per job), so the summary
 * carries every finding in a table; it is cut to stay well under the 1 MiB a step summary may
 * hold. Escaping follows @actions/core (toCommandValue/escapeData/escapeProperty).
 */
import type {Finding, Severity} from '../gadget/findings/finding.js'
import {ruleInfo} from '../gadget/findings/rules.js'
import {displayPath, findingSpan, plural, summaryLine, visible} from './common.js'
import type {ValidationReport} from './types.js'

interface GithubOptions {
  /** Absolute file names under this directory (the workspace) are written relative to it. */
  cwd?: string
}

export interface GithubOutput {
  /** One workflow command per finding, for stdout. */
  annotations: string
  /** Markdown for $GITHUB_STEP_SUMMARY. */
  summary: string
}

/** The summary stops adding rows at this size; GitHub refuses step summaries over 1 MiB. */
export const SUMMARY_BUDGET_BYTES = 512 * 1024
/** Longer messages are cut in the summary table. */
const MAX_CELL_CHARS = 1000

const commandFor: Record<Severity, string> = {error: 'error', info: 'notice', warning: 'warning'}

export function formatGithub(report: ValidationReport, options: GithubOptions = {}): GithubOutput {
  let annotations = ''
  for (const gadget of report.gadgets) for (const finding of gadget.findings) annotations += annotation(finding, options.cwd) + '\n'
  for (const gadget of report.gadgets) {
    for (const note of gadget.notes ?? []) annotations += `::notice file=${escapeProperty(displayPath(gadget.file, options.cwd))},title=${escapeProperty('how it was judged')}::${escapeData(note)}\n`
  }

  for (const input of report.unreadable ?? []) {
    const message = input.hint ? `${input.message}\nhint: ${input.hint}` : input.message
    annotations += `::error file=${escapeProperty(displayPath(input.file, options.cwd))},title=${escapeProperty(`cannot read (${input.code})`)}::${escapeData(message)}\n`
  }

  return {annotations, summary: stepSummary(report, options.cwd)}
}

/**
 * `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=S1 quantity-syntax::message`.
 * Columns are given only for one-line ranges (GitHub rejects columns on a range over several
 * lines); endColumn is exclusive, as in SARIF.
 */
function annotation(finding: Finding, cwd: string | undefined): string {
  const info = ruleInfo(finding.rule)
  const properties: Array<[string, number | string]> = [['file', displayPath(finding.file, cwd)]]
  if (finding.start) {
    const {end, start} = findingSpan(finding)
    properties.push(['line', start.line])
    if (end && end.line !== start.line) {
      properties.push(['endLine', end.line])
    } else {
      properties.push(['col', start.column])
      if (end) properties.push(['endLine', end.line], ['endColumn', end.column])
    }
  }

  properties.push(['title', `${info.id} ${info.name}`])
  const props = properties.map(([key, value]) => `${key}=${escapeProperty(String(value))}`).join(',')
  return `::${commandFor[finding.severity]} ${props}::${escapeData(fullMessage(finding))}`
}

/** The message with snapd's own words (when they differ) and the fix, one per line. */
function fullMessage(finding: Finding): string {
  const lines = [finding.message]
  if (finding.snapdMessage && finding.snapdMessage !== finding.message) lines.push(`snapd: ${finding.snapdMessage}`)
  if (finding.hint) lines.push(`hint: ${finding.hint}`)
  return lines.join('\n')
}

/** A workflow command's message, escaped as @actions/core escapeData does. */
export function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}

/** A workflow command's property value, escaped as @actions/core escapeProperty does. */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C')
}

function stepSummary(report: ValidationReport, cwd: string | undefined): string {
  const encoder = new TextEncoder()
  const head = ['## snap-gadget validate', '', `**${cell(summaryLine(report))}**`, '']
  const files = ['| File | snapd | Errors | Warnings |', '| --- | --- | --- | --- |']
  const findings = ['| Severity | Location | Rule | Message |', '| --- | --- | --- | --- |']
  const total = report.gadgets.reduce((n, g) => n + g.findings.length, 0)

  // Rows are added until the budget is spent; what is left is counted in a closing line.
  let bytes = encoder.encode([...head, ...files, ...findings].join('\n')).length + 200
  const fits = (row: string): boolean => {
    const size = encoder.encode(row).length + 1
    if (bytes + size > SUMMARY_BUDGET_BYTES) return false
    bytes += size
    return true
  }

  let filesShown = 0
  for (const gadget of report.gadgets) {
    const verdict = gadget.verdict.valid ? 'accepts' : `rejects: ${gadget.verdict.error ?? ''}`
    const row = `| ${cell(displayPath(gadget.file, cwd))} | ${cell(verdict)} | ${gadget.errors} | ${gadget.warnings} |`
    if (!fits(row)) break
    files.push(row)
    filesShown++
  }

  let findingsShown = 0
  rows: for (const gadget of report.gadgets) {
    for (const f of gadget.findings) {
      const at = f.start ? `${displayPath(f.file, cwd)}:${f.start.line}:${f.start.column}` : displayPath(f.file, cwd)
      const info = ruleInfo(f.rule)
      const row = `| ${f.severity} | ${cell(at)} | ${cell(`${info.id} ${info.name}`)} | ${cell(fullMessage(f))} |`
      if (!fits(row)) break rows
      findings.push(row)
      findingsShown++
    }
  }

  // Paths that could not be read are few and each is why the run failed: always listed.
  for (const input of report.unreadable ?? []) files.push(`| ${cell(displayPath(input.file, cwd))} | not read: ${cell(input.message)} | 1 | 0 |`)
  const parts = [...head, ...files]
  if (filesShown < report.gadgets.length) parts.push('', `_${plural(report.gadgets.length - filesShown, 'more file')} not shown._`)
  if (total > 0) {
    parts.push('', ...findings)
    if (findingsShown < total) parts.push('', `_${plural(total - findingsShown, 'more finding')} not shown; run \`snap-gadget validate --format json\` for all of them._`)
  }

  return parts.join('\n') + '\n'
}

/**
 * Text for a Markdown table cell: pipes and Markdown punctuation escaped, HTML special characters
 * as entities, line breaks as <br>, control characters made visible, long text cut.
 */
export function cell(text: string): string {
  const cut = text.length > MAX_CELL_CHARS ? text.slice(0, MAX_CELL_CHARS - 1) + '…' : text
  return visible(cut.replaceAll(/\r\n?/g, '\n'))
    .replaceAll(/[\\`*_[\]|~]/g, '\\$&')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('\n', '<br>')
}
