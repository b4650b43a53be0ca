/**
 * The text report: one block per finding (location, rule, message, snapd's own words, a code
 * frame, the fix), a "valid" line for clean files and a summary line. Modelled on eemeli/yaml's
 * prettifyError frame, with a line-number gutter and context lines.
 */
import type {Finding, Severity} from '../gadget/findings/finding.js'
import {painter, type Paint, type Style} from '../support/paint.js'
import {displayPath, findingSpan, type Span, summaryLine, visible} from './common.js'
import type {SourceTexts, ValidationReport} from './types.js'

export interface TextOptions {
  /** Colour with ANSI escapes (see useColor()). */
  color: boolean
  /** File texts for code frames, keyed by Finding.file; findings without a text get no frame. */
  sources?: SourceTexts
  /** Absolute file names under this directory are shown relative to it. */
  cwd?: string
}

/** Lines of context shown above and below the offending line. */
const CONTEXT_BEFORE = 2
const CONTEXT_AFTER = 1
/** Longer source lines are cut to this many characters around the offending column. */
const FRAME_WIDTH = 80

export function formatText(report: ValidationReport, options: TextOptions): string {
  const paint = painter(options.color)
  let text = ''
  let lastWasValid = false
  for (const gadget of report.gadgets) {
    if (gadget.findings.length === 0) {
      // Consecutive clean files share one paragraph.
      if (text && !lastWasValid) text += '\n'
      text += `${paint('bold', displayPath(gadget.file, options.cwd))}: ${paint('green', 'valid')}\n`
      lastWasValid = true
      continue
    }

    for (const finding of gadget.findings) {
      if (text) text += '\n'
      text += formatFinding(finding, paint, options)
    }

    lastWasValid = false
  }

  for (const gadget of report.gadgets) {
    for (const note of gadget.notes ?? []) {
      if (text) text += '\n'
      text += `${paint('bold', displayPath(gadget.file, options.cwd))}: ${paint('cyan', 'note')} ${visible(note)}\n`
    }
  }

  for (const input of report.unreadable ?? []) {
    if (text) text += '\n'
    text += `${paint('bold', displayPath(input.file, options.cwd))}: ${paint('red', 'error')} ${visible(input.message)}\n`
    if (input.hint) text += `  ${paint('cyan', 'hint')}: ${visible(input.hint)}\n`
  }

  return `${text}${text ? '\n' : ''}${paint('bold', summaryLine(report))}\n`
}

function formatFinding(finding: Finding, paint: Paint, options: TextOptions): string {
  const where = finding.start ? `${displayPath(finding.file, options.cwd)}:${finding.start.line}:${finding.start.column}` : displayPath(finding.file, options.cwd)
  const style = severityStyle[finding.severity]
  let text = `${paint('bold', where)}: ${paint(style, finding.severity)} ${paint('dim', finding.rule)} ${visible(indentRest(finding.message, '  '))}\n`
  if (finding.snapdMessage && finding.snapdMessage !== finding.message) {
    text += `  ${paint('dim', 'snapd')}: ${visible(indentRest(finding.snapdMessage, '    '))}\n`
  }

  const source = options.sources?.get(finding.file)
  // A secret on the line (a literal api-key) is not repeated into logs.
  if (source !== undefined && finding.start && !finding.secret) text += codeFrame(source, findingSpan(finding), paint, style)
  if (finding.hint) text += `  ${paint('cyan', 'hint')}: ${visible(indentRest(finding.hint, '    '))}\n`
  return text
}

const severityStyle: Record<Severity, Style> = {error: 'red', info: 'cyan', warning: 'yellow'}

/**
 * The offending line with its neighbours, a gutter of line numbers and a caret underline under
 * the finding's range (to the end of the line when the range spans lines, one caret when it has
 * no end). Empty when the line is not in the text.
 */
export function codeFrame(source: string, span: Span, paint: Paint = painter(false), caretStyle: Style = 'red'): string {
  const lines = source.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
  // A final newline does not start a line of its own.
  if (lines.length > 1 && lines.at(-1) === '') lines.pop()
  const {line} = span.start
  if (line < 1 || line > lines.length) return ''

  const first = Math.max(1, line - CONTEXT_BEFORE)
  const last = Math.min(lines.length, line + CONTEXT_AFTER)
  const target = lines[line - 1]
  const startIndex = Math.min(Math.max(span.start.column - 1, 0), target.length)
  // No end: one caret. An end on a later line: to the end of this one.
  const endIndex = !span.end ? startIndex + 1 : span.end.line === line ? Math.max(span.end.column - 1, startIndex + 1) : target.length
  // Keep the offending column in view: cut long lines to a window around it, the same for every
  // line of the frame so that they stay aligned.
  const windowStart = target.length > FRAME_WIDTH && startIndex >= FRAME_WIDTH / 2 ? Math.min(startIndex - FRAME_WIDTH / 2, target.length - FRAME_WIDTH) : 0

  const gutterWidth = String(last).length
  const lead = windowStart > 0 ? 1 : 0
  let frame = ''
  for (let n = first; n <= last; n++) {
    const marker = n === line ? paint(caretStyle, '>') : ' '
    const shown = clip(lines[n - 1], windowStart)
    frame += `${marker} ${paint('dim', `${String(n).padStart(gutterWidth)} |`)}${shown ? ' ' + shown : ''}\n`
    if (n === line) {
      const caretEnd = Math.min(Math.max(endIndex, startIndex + 1), windowStart + FRAME_WIDTH)
      const pad = lead + codePoints(target.slice(windowStart, startIndex))
      const width = Math.max(1, codePoints(target.slice(startIndex, caretEnd)))
      frame += `  ${paint('dim', `${' '.repeat(gutterWidth)} |`)} ${' '.repeat(pad)}${paint(caretStyle, '^'.repeat(width))}\n`
    }
  }

  return frame
}

/** A line cut to the frame window, with "…" where it was cut. */
function clip(line: string, windowStart: number): string {
  if (windowStart > 0 && line.length <= windowStart) return ''
  const cutLeft = windowStart > 0 ? '…' : ''
  const cutRight = line.length > windowStart + FRAME_WIDTH ? '…' : ''
  return cutLeft + visible(line.slice(windowStart, windowStart + FRAME_WIDTH)) + cutRight
}

function codePoints(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

/** Continuation lines of a multi-line message, indented under the first. */
function indentRest(text: string, indent: string): string {
  return text.replaceAll(/\r?\n/g, `\n${indent}`)
}
