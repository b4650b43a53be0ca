/**
 * doctor's checklist for people: the device, the steps in snapd's order (ok, failed, retrying,
 * not reached), then the cause, the evidence it rests on and the fix. Everything in it that came
 * from the device or the network (log lines, messages, names, certificate fields) is written with
 * its control and formatting characters escaped: it cannot drive the terminal. Secrets were masked
 * by the SDK before this sees the report.
 */
import type {DoctorReport} from '../../../doctor/index.js'
import type {StepStatus} from '../../../doctor/steps.js'
import {terminalSafe} from '../../../support/echo.js'
import type {Paint} from '../../../support/paint.js'

const MARKS: Record<StepStatus, string> = {
  failed: '✗',
  'in-progress': '…',
  'not-reached': '·',
  ok: '✓',
  retrying: '↻',
  skipped: '-',
  unknown: '?',
}

const WORDS: Partial<Record<StepStatus, string>> = {
  'in-progress': 'in progress',
  'not-reached': 'not reached',
  retrying: 'failing, snapd retries',
  skipped: 'skipped',
  unknown: 'not known',
}

export function renderReport(report: DoctorReport, paint: Paint): string {
  const safe = (text: string) => terminalSafe(text)
  const lines: string[] = []
  const {device} = report
  const who = device.brand || device.model ? `${device.brand ?? '?'}/${device.model ?? '?'}` : undefined
  const facts = [who && `model ${who}`, device.gadget && `gadget ${device.gadget}`, report.snapd && `snapd ${report.snapd.version}`].filter(Boolean).join(', ')
  const from = report.inputs.map((i) => `${i.kind} ${i.where}`).join('; ')
  if (report.registered) lines.push(`${paint('green', paint('bold', 'registered'))}: serial ${safe(device.serial ?? '?')}${facts ? ` (${safe(facts)})` : ''}`)
  else if (report.cause) lines.push(`${paint('red', paint('bold', 'not registered'))}${facts ? `: ${safe(facts)}` : ''}`)
  else lines.push(`${paint('bold', 'no cause found')}${facts ? `: ${safe(facts)}` : ''}`)
  lines.push(paint('dim', `  read: ${safe(from)}`))
  if (report.attempts && report.attempts.count > 0) {
    const latest = report.attempts.latest
    lines.push(
      paint(
        'dim',
        `  attempts: ${report.attempts.count} ("Initialize device"), ${report.attempts.failed} failed${latest ? `; the latest, ${safe(latest.id)}, is ${latest.status}${latest.spawnTime ? ` since ${safe(latest.spawnTime)}` : ''}` : ''}`,
      ),
    )
  }

  lines.push('')
  const width = Math.max(...report.steps.map((s) => s.title.length))
  for (const step of report.steps) {
    const mark = MARKS[step.status]
    const coloured = step.status === 'ok' ? paint('green', mark) : step.status === 'failed' ? paint('red', mark) : step.status === 'retrying' || step.status === 'in-progress' ? paint('yellow', mark) : paint('dim', mark)
    const word = WORDS[step.status]
    const detail = [word, step.note].filter(Boolean).join(': ')
    const title = detail ? step.title.padEnd(width) : step.title
    const shown = step.status === 'failed' || step.status === 'retrying' ? paint('bold', title) : title
    lines.push(`  ${coloured} ${shown}${detail ? paint('dim', `  ${safe(detail)}`) : ''}`)
  }

  const cause = report.cause
  if (cause) {
    lines.push('', `${paint('bold', 'cause')}: ${safe(cause.title)} ${paint('dim', `(${cause.code}, at ${cause.step})`)}`, `  ${safe(cause.cause)}`)
    if (cause.evidence.length > 0) {
      lines.push(paint('bold', 'evidence'))
      for (const item of cause.evidence) lines.push(`  ${paint('dim', `${safe(item.from)}:`)}`, ...indent(safe(item.text), '    '))
    }

    lines.push(`${paint('bold', 'fix')}: ${safe(cause.fix)}`)
    if (cause.versionNote) lines.push(`  ${paint('dim', `snapd: ${safe(cause.versionNote)}`)}`)
  }

  if (report.options && Object.keys(report.options).length > 0) {
    lines.push('', paint('bold', 'registration options on the device'))
    for (const [key, value] of Object.entries(report.options)) lines.push(`  ${safe(key)}: ${safe(typeof value === 'string' ? value : JSON.stringify(value))}`)
  }

  if (report.notes.length > 0) {
    lines.push('', paint('bold', 'notes'))
    for (const note of report.notes) lines.push(...indent(safe(note), '  - ', '    '))
  }

  return `${lines.join('\n')}\n`
}

/** A text of several lines (a hook's output, "cannot accept some assertions:\n - …") indented as one item. */
function indent(text: string, first: string, rest = first): string[] {
  return text.split('\n').map((line, i) => `${i === 0 ? first : rest}${line}`)
}
