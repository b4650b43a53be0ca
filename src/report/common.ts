/**
 * What every report format shares: a finding's tidied range, file names as shown, counts and the
 * summary line, text made safe for a terminal, and the rules a report uses.
 */
import type {Finding, Position, Severity} from '../gadget/findings/finding.js'
import {type RuleInfo, rules as catalog} from '../gadget/findings/rules.js'
import type {ValidationReport} from './types.js'

export {displayPath} from '../support/display-path.js'

/** A finding's range with the end made usable: present, not before the start, and not at column 1 of the next line. */
export interface Span {
  start: Position
  end?: Position
}

/**
 * The finding's range, tidied: YAML block nodes end at column 1 of the line after their last
 * character, which would make a one-line value look like two lines.
 */
export function findingSpan(finding: Finding): Span {
  const start = finding.start ?? {column: 1, line: 1}
  let end = finding.end
  if (end && end.line > start.line && end.column === 1) end = undefined
  if (end && (end.line < start.line || (end.line === start.line && end.column < start.column))) end = undefined
  return end ? {end, start} : {start}
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}

/** Counts by severity over every finding of the report. */
export function severityCounts(report: ValidationReport): Record<Severity, number> {
  const counts: Record<Severity, number> = {error: 0, info: 0, warning: 0}
  for (const gadget of report.gadgets) for (const f of gadget.findings) counts[f.severity]++
  return counts
}

/** "2 errors, 1 warning in 3 files (judged as snapd 2.57)", or "3 files valid (…)". */
export function summaryLine(report: ValidationReport): string {
  const unread = report.unreadable?.length ?? 0
  const line = judgedLine(report)
  return unread === 0 ? line : `${line}; ${plural(unread, 'path')} could not be read`
}

function judgedLine(report: ValidationReport): string {
  const files = plural(report.gadgets.length, 'file')
  const judged = `(judged as snapd ${report.snapd}${report.strict ? ', strict' : ''})`
  if (report.gadgets.length === 0) return `no files checked ${judged}`
  const infos = severityCounts(report).info
  if (report.errors === 0 && report.warnings === 0 && infos === 0) return `${files} valid ${judged}`
  const counts = [plural(report.errors, 'error'), plural(report.warnings, 'warning')]
  if (infos > 0) counts.push(`${infos} info`)
  return `${counts.join(', ')} in ${files} ${judged}`
}

/**
 * Text made safe for a terminal, one character for one: tabs as "→", control characters as
 * their Unicode pictures, bidirectional overrides as "�" (so that a file cannot move the cursor,
 * recolour the terminal or reorder what is shown). Keeping the length keeps columns aligned.
 */
export function visible(text: string): string {
  return text.replaceAll(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0)
    if (c === '\t') return '→'
    if (code < 0x20) return String.fromCharCode(0x2400 + code)
    if (code === 0x7f) return '␡'
    return '�'
  })
}

/** The catalog entries of the rules behind the report's findings, in catalog order. */
export function rulesUsed(report: ValidationReport): RuleInfo[] {
  const used = new Set(report.gadgets.flatMap((g) => g.findings.map((f) => f.rule)))
  return catalog.filter((r) => used.has(r.id))
}
