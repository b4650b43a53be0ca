import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {quoteInput, terminalSafe} from '../../../support/echo.js'
import {type Paint, painter, useColor} from '../../../support/paint.js'
import type {SourceAttempt} from '../../../serial/chain.js'
import type {SerialResult} from '../../../serial/derive.js'

export default class Serial extends BaseCommand {
  static override description = `Reads the hardware identity sources of a chain in order and prints the first usable value, normalised and transformed. Empty values, all-zero or all-F values and known placeholders (both byte orders of placeholder UUIDs) are refused. When no source is usable, the command fails (exit 1) and lists every source tried and why.

The chain comes from --chain, else --board, else the configuration file, else the board profile detected from the device tree or SMBIOS. --explain writes the sources tried to stderr; stdout holds only the serial.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Derive the serial with the board profile detected on this device'},
    {command: '<%= config.bin %> <%= command.id %> --board raspberry-pi --explain', description: 'Use the Raspberry Pi chain and show every source tried'},
    {command: '<%= config.bin %> <%= command.id %> --chain "dmi[board_serial],mac[enp1s0]" --json', description: 'An explicit chain, JSON output'},
    {command: '<%= config.bin %> <%= command.id %> --config serial.yaml --root ./captured-root', description: 'A configuration file, on a captured tree'},
  ]

  static override flags = {
    board: Flags.string({
      description:
        'board profile whose chain to use (raspberry-pi, nxp-imx, rockchip, allwinner, beaglebone, beagleplay, jetson, qualcomm, onie-switch, x86, generic-arm); the init board ids work too (pc-amd64 is x86, generic-uboot is generic-arm)',
      helpValue: 'ID',
    }),
    chain: Flags.string({
      description: 'sources in order, comma-separated; id[value] sets the main option, id[key=value,...] any option: devicetree-serial,dmi[board_serial],mac[interface=end0,allowLocallyAdministered=true]',
      helpValue: 'a,b,c',
    }),
    config: Flags.string({description: 'serial configuration (YAML or JSON): board, chain, transforms, output pattern', helpValue: 'FILE'}),
    explain: Flags.boolean({default: false, description: 'show each source tried, what it read and its verdict (on stderr)'}),
    root: Flags.string({default: '/', description: 'directory that plays / (a captured tree)', helpValue: 'DIR'}),
  }

  static override summary = "Derive this device's serial from its hardware identity sources."

  async run(): Promise<SerialResult> {
    const {flags} = await this.parse(Serial)
    const {deriveSerial} = await import('../../../serial/derive.js')
    const result = await deriveSerial({board: flags.board, chain: flags.chain, config: flags.config, root: flags.root})
    if (!this.jsonEnabled()) {
      if (flags.explain) process.stderr.write(renderExplanation(result, painter(useColor(process.stderr))))
      this.log(result.serial)
    }

    return result
  }
}

/** The --explain text: the chain, then one line per source tried. */
function renderExplanation(result: SerialResult, rawPaint: Paint): string {
  // What was read comes from the hardware: shown with its control characters escaped, never raw.
  const paint: Paint = (style, text) => rawPaint(style, terminalSafe(text))
  const board = result.board ? ` (board ${result.board}, ${result.boardBy})` : ''
  const needs = result.plugs.length > 0 ? `; the hook needs ${result.plugs.join(', ')}` : ''
  let text = `${paint('bold', `chain ${result.chain}`)}${terminalSafe(`${board}${needs}`)}\n`
  for (const attempt of result.attempts) text += renderAttempt(attempt, paint)
  return text
}

function renderAttempt(attempt: SourceAttempt, paint: Paint): string {
  const mark = attempt.verdict === 'used' ? paint('green', 'used') : attempt.verdict === 'skipped' ? paint('dim', 'skipped') : paint('yellow', attempt.verdict)
  let line = `  ${terminalSafe(attempt.entry)}: ${mark}`
  if (attempt.read !== undefined) line += ` ${quoteInput(attempt.read, 200)}`
  // The reason names the path of a source that gave nothing; say where a value came from.
  if (attempt.origin !== undefined && attempt.read !== undefined) line += paint('dim', ` from ${attempt.origin}`)
  if (attempt.verdict === 'used' && attempt.value !== undefined && attempt.value !== attempt.read) line += ` → ${terminalSafe(attempt.value)}`
  if (attempt.reason) line += `\n    ${terminalSafe(attempt.reason)}`
  for (const note of attempt.notes ?? []) line += paint('dim', `\n    note: ${note}`)
  return `${line}\n`
}
