/**
 * device register's text output: each step as it completes (what was sent, what came back, which
 * of snapd's checks passed or failed and why), the verdict, the serial; for many devices a
 * progress line on a terminal and a summary. Everything the service or the hardware chose is
 * escaped for the terminal; secrets arrive masked from the SDK.
 */
import type {CheckResult, Exchange, FleetProgress, FleetSummary, HookReport, RegistrationResult, RegistrationStep, Verdict} from '../../../../simulate/index.js'
import {shellQuote} from '../../../../support/shell-quote.js'
import {quoteInput, terminalSafe} from '../../../../support/echo.js'
import type {Paint} from '../../../../support/paint.js'

/** What a step's excerpt of a body shows, at most. */
const EXCERPT_LINES = 12
const EXCERPT_CHARS = 1200

const VERDICT_TEXT: Record<Verdict, string> = {
  accepted: 'snapd would accept this serial',
  poll: 'snapd would post the same serial-request again in 60 s, for as long as the service answers 202',
  refused: 'snapd would fail this attempt: the change ends in Error, the next attempt comes after the back-off (5 minutes, doubling) and runs the hook again',
  retry: 'snapd would try again within this attempt (in 60 s)',
  unverified: 'the simulator cannot tell whether snapd would accept it',
}

export function stepText(step: RegistrationStep, paint: Paint): string {
  switch (step.kind) {
    case 'device-key': {
      const note = step.bits === 4096 ? '' : ` ${paint('yellow', '(snapd makes RSA-4096 device keys)')}`
      return `${label('device key', paint)}RSA-${step.bits} ${step.keyId}, ${step.generated ? `made in ${ms(step.ms)}` : 'made beforehand'}${note}`
    }

    case 'hook': {
      return hookText(step.hook, step.overrides, paint)
    }

    case 'exchange': {
      return exchangeText(step.exchange, paint)
    }

    case 'check': {
      return checkText(step.check, paint)
    }
  }
}

function label(text: string, paint: Paint): string {
  return paint('bold', text.padEnd(13))
}

function hookText(hook: HookReport, overrides: readonly string[], paint: Paint): string {
  if (!hook.ran) return `${label('hook', paint)}the gadget has no prepare-device hook`
  const end = hook.timedOut ? 'killed: it ran past the hook timeout' : hook.signal ? `killed by ${hook.signal}` : `exit ${hook.exitCode ?? '?'}`
  const lines = [`${label('hook', paint)}$SNAP/meta/hooks/prepare-device: ${end} in ${ms(hook.ms)}`]
  for (const call of hook.calls) {
    const result =
      call.argv[0] === 'is-connected' ? (call.status === 0 ? 'connected' : call.status === 1 && call.stderr === '' ? 'not connected' : `exit ${call.status}`) : call.status === 0 ? 'ok' : `exit ${call.status}`
    lines.push(`  snapctl ${call.argv.map((a) => terminalSafe(shellQuote(a))).join(' ')} ${paint('dim', `→ ${result}`)}`)
    if (call.status !== 0 && call.stderr.trim() !== '') lines.push(`    ${terminalSafe(call.stderr.trim())}`)
  }

  for (const ignored of hook.ignored) lines.push(`  ${paint('yellow', 'ignored by snapd')}: ${terminalSafe(ignored.argument)} (${terminalSafe(ignored.reason)})`)
  if (hook.config) {
    const {body, headers, proposedSerial, url} = hook.config
    lines.push(`  ${paint('dim', 'what snapd reads:')}`, `    device-service.url            ${quoteInput(url)}`)
    lines.push(
      `    device-service.headers        ${
        Object.keys(headers).length === 0
          ? 'none'
          : Object.entries(headers)
              .map(([k, v]) => `${quoteInput(k)}: ${masked(k, v)}`)
              .join(', ')
      }`,
    )
    lines.push(`    registration.proposed-serial  ${proposedSerial === '' ? 'none (the serial-request has no serial header)' : quoteInput(proposedSerial)}`)
    lines.push(`    registration.body             ${body === '' ? 'empty' : `${Buffer.byteLength(body)} bytes`}`)
  }

  if (hook.output.trim() !== '' && (hook.exitCode !== 0 || hook.timedOut)) lines.push(...indent(excerpt(hook.output), '  | '))
  for (const override of overrides) lines.push(`  ${paint('yellow', 'override')} ${terminalSafe(override)}`)
  return lines.join('\n')
}

function masked(name: string, value: string): string {
  return /^<[^>]*>$/.test(value) ? value : /api[-_]?key|secret|token|passw|auth|cookie/i.test(name) ? '<redacted>' : quoteInput(value)
}

function exchangeText(exchange: Exchange, paint: Paint): string {
  const lines = [`${paint('cyan', '→')} ${exchange.method} ${terminalSafe(exchange.url)} (${exchange.sentBytes} bytes${exchange.endpoint === 'serial' ? ': the serial-request, then the model' : ''})`]
  for (const [name, value] of exchange.headers) lines.push(`    ${terminalSafe(name)}: ${terminalSafe(value)}`)
  // The serial-request's headers, its multi-line device key cut to one line.
  if (exchange.sent !== undefined) lines.push(...indent(excerpt(exchange.sent.split('\n\n')[0].replace(/((?:\n {4}[^\n]*)+)/g, (block) => ` ${block.split('\n')[1].trim()}…`)), '    | '))
  for (const redirect of exchange.redirects) lines.push(`${paint('cyan', '↪')} ${redirect.status} to ${terminalSafe(redirect.location)}`)
  if (exchange.transportError !== undefined) {
    lines.push(`${paint('red', '←')} no answer after ${ms(exchange.ms)}: ${terminalSafe(exchange.transportError)}`)
    return lines.join('\n')
  }

  lines.push(`${paint('cyan', '←')} ${exchange.status} ${terminalSafe(exchange.contentType || '(no Content-Type)')}, ${exchange.receivedBytes} bytes, in ${ms(exchange.ms)}`)
  // A serial that came back is printed whole at the end.
  const success = exchange.endpoint === 'serial' && (exchange.status === 200 || exchange.status === 201)
  if (exchange.excerpt && !success) lines.push(...indent(excerpt(exchange.excerpt), '    | '))
  return lines.join('\n')
}

function checkText(check: CheckResult, paint: Paint): string {
  const mark = check.status === 'passed' ? paint('green', '✓') : check.status === 'skipped' ? paint('yellow', '-') : paint('red', '✗')
  const lines = [`${mark} ${paint('bold', check.check.padEnd(17))}${terminalSafe(check.summary)}`]
  if (check.snapd) lines.push(`    ${paint('dim', 'snapd:')} ${terminalSafe(check.snapd)}`)
  if (check.status === 'failed') lines.push(`    ${paint('dim', `(${check.source})`)}`)
  return lines.join('\n')
}

/** The verdict, and the serial when accepted. */
export function verdictText(result: RegistrationResult, paint: Paint): string {
  const color = result.verdict === 'accepted' ? 'green' : result.verdict === 'unverified' ? 'yellow' : 'red'
  const lines = [`${paint(color, result.verdict)}: ${VERDICT_TEXT[result.verdict]}`]
  if (result.message && result.verdict !== 'unverified') lines.push(`  snapd's log: ${terminalSafe(result.message)}`)
  else if (result.message) lines.push(`  ${terminalSafe(result.message)}`)
  if (result.serial) lines.push('', terminalSafe(result.serial.text.trimEnd()))
  return lines.join('\n')
}

/** One progress line for many devices (a terminal's; rewritten in place). */
export function progressText(progress: FleetProgress): string {
  const width = 30
  const filled = progress.total === 0 ? width : Math.round((progress.done / progress.total) * width)
  const phase = progress.phase === 'keys' ? 'device keys' : progress.phase === 'hooks' ? 'hooks' : 'registering'
  const accepted = progress.phase === 'register' ? ` (${progress.accepted} accepted)` : ''
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${phase} ${progress.done}/${progress.total}${accepted}`
}

export function fleetText(summary: FleetSummary, paint: Paint): string {
  const note = summary.keyBits === 4096 ? '' : ` (snapd makes RSA-4096)`
  const lines = [
    `${summary.count} devices, ${summary.concurrency} at a time, RSA-${summary.keyBits} keys${note}, the hook run ${summary.hookRuns === 1 ? 'once for all (serial pattern)' : 'once per device'}`,
    `prepared in ${seconds(summary.prepareMs)}, registered in ${seconds(summary.registerMs)}`,
  ]
  for (const [verdict, count] of Object.entries(summary.verdicts)) lines.push(`  ${paint(verdict === 'accepted' ? 'green' : 'red', verdict.padEnd(11))} ${String(count).padStart(7)}`)
  lines.push(`registrations/s  ${summary.registrationsPerSecond.toFixed(1)}`)
  const {max, p50, p90, p99} = summary.latencyMs
  lines.push(`exchange ms      p50 ${p50.toFixed(1)}  p90 ${p90.toFixed(1)}  p99 ${p99.toFixed(1)}  max ${max.toFixed(1)}`)
  if (summary.refusals.length > 0) {
    lines.push('not accepted, by reason:')
    for (const refusal of summary.refusals) lines.push(`  ${String(refusal.count).padStart(7)}  ${refusal.verdict} ${terminalSafe(refusal.reason)}: ${terminalSafe(refusal.example)}`)
  }

  return lines.join('\n')
}

function excerpt(text: string): string[] {
  const cut = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text
  const lines = cut.replace(/\n+$/, '').split('\n')
  const shown = lines.slice(0, EXCERPT_LINES).map((line) => terminalSafe(line))
  if (lines.length > EXCERPT_LINES) shown.push(`… ${lines.length - EXCERPT_LINES} more lines`)
  return shown
}

function indent(lines: string[], prefix: string): string[] {
  return lines.map((line) => `${prefix}${line}`)
}

function ms(value: number): string {
  return value >= 1000 ? seconds(value) : `${value.toFixed(1)} ms`
}

function seconds(value: number): string {
  return `${(value / 1000).toFixed(2)} s`
}
