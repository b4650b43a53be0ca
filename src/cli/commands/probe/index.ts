import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {progressOnTerminal} from '../../progress.js'
import {quoteInput, terminalSafe} from '../../../support/echo.js'
import {type Paint, painter, useColor} from '../../../support/paint.js'
import type {ProbeReport} from '../../../serial/probe.js'

export default class Probe extends BaseCommand {
  static override description = `Lists every hardware identity source present (device tree, cpuinfo, SoC, SMBIOS, nvmem fuses, board EEPROMs, network ports), its value and what is wrong with it: placeholder, locally administered MAC, virtual machine, root-only file. Then names the board profile that applies and what its chain derives here.

On / it also asks systeminformation for the manufacturer and model (with a timeout); those are descriptive facts, never a serial.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Probe this machine'},
    {command: '<%= config.bin %> <%= command.id %> --root ./captured-root --json', description: 'Probe a captured tree, as JSON'},
  ]

  static override flags = {
    root: Flags.string({default: '/', description: 'directory that plays / (a captured tree)', helpValue: 'DIR'}),
  }

  static override summary = 'Show the identity sources of this hardware and the serial chain to use.'

  async run(): Promise<ProbeReport> {
    const {flags} = await this.parse(Probe)
    const {probeIdentity} = await import('../../../serial/probe.js')
    progressOnTerminal(`probing ${flags.root}: device tree, cpuinfo, SoC, SMBIOS, nvmem, EEPROMs and network ports${flags.root === '/' ? ', and systeminformation (up to 3 s)' : ''}…`)
    const report = await probeIdentity({root: flags.root})
    if (!this.jsonEnabled()) this.log(renderProbe(report, painter(useColor())).trimEnd())
    return report
  }
}

/**
 * The probe as text. Everything in it may come from the hardware (a cpuinfo line, an EEPROM, a
 * DMI field, a file under --root): shown with its control characters escaped, never raw.
 */
function renderProbe(report: ProbeReport, rawPaint: Paint): string {
  const paint: Paint = (style, text) => rawPaint(style, terminalSafe(text))
  const safe = terminalSafe
  let text = `${paint('bold', 'board')}: ${safe(`${report.board.id} (${report.board.title}; ${report.board.reason})`)}\n`
  if (report.virtualMachine.detected) text += `${paint('yellow', 'virtual machine')}: ${safe(report.virtualMachine.evidence.join('; '))}\n`
  const facts = [report.facts.model, report.facts.dmi?.sysVendor, report.facts.soc?.socId, report.facts.cpu?.modelName].filter(Boolean)
  if (facts.length > 0) text += `${paint('bold', 'hardware')}: ${safe(facts.join(', '))}\n`
  if (report.system?.ok) {
    const {system, cpu} = report.system
    text += `${paint('bold', 'systeminformation')}: ${safe([system.manufacturer, system.model, cpu.manufacturer, cpu.brand].filter(Boolean).join(', ') || '(nothing)')} (${report.system.ms} ms)\n`
  } else if (report.system) text += `${paint('bold', 'systeminformation')}: ${safe(report.system.reason)}\n`

  text += `\n${paint('bold', 'identity sources present')}:\n`
  if (report.sources.length === 0) text += '  (none)\n'
  for (const source of report.sources) {
    const verdict = source.usable ? paint('green', 'usable') : paint('yellow', source.verdict === 'present' ? 'info' : source.verdict)
    text += `  ${safe(source.entry)}: ${verdict}${source.value === undefined ? '' : ` ${quoteInput(source.value, 200)}`}${paint('dim', `${source.origin ? ` ${source.origin}` : ''}${source.mode ? ` (${source.mode})` : ''}`)}\n`
    if (source.reason && !source.usable) text += `    ${safe(source.reason)}\n`
    for (const warning of source.warnings) text += `    ${paint('yellow', `warning (${warning.kind})`)}: ${safe(warning.message)}\n`
  }

  const r = report.recommended
  text += `\n${paint('bold', `recommended chain (${r.board})`)}: ${safe(r.chain.join(' → '))}\n`
  if (r.plugs.length > 0) text += `  the hook needs: ${safe(r.plugs.join(', '))}\n`
  text += r.serial === undefined ? `  ${paint('red', 'no usable serial here')}:\n` : `  derives ${paint('green', r.serial)} from ${safe(r.entry ?? '')}\n`
  if (r.serial === undefined) for (const a of r.attempts) text += `    ${safe(`${a.entry}: ${a.verdict}${a.reason ? `: ${a.reason}` : ''}`)}\n`
  for (const warning of report.warnings) if (warning.kind !== 'virtual-machine') text += `${paint('yellow', `warning (${warning.kind})`)}: ${safe(warning.message)}\n`
  if (report.suggestions.length > 0) text += `\n${paint('bold', 'suggestions')}:\n${report.suggestions.map((s) => `  - ${safe(s)}\n`).join('')}`
  return text
}
