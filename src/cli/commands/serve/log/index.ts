import {Flags} from '@oclif/core'

import {UserError} from '../../../../errors.js'
import {terminalSafe} from '../../../../support/echo.js'
import {BaseCommand} from '../../../base-command.js'
import {csvHeader, csvRow, jsonlRow} from './present.js'
import type {SigningLogEntry} from '../../../../service/index.js'

export default class ServeLog extends BaseCommand {
  static override description = `Lists the serial assertions the device service signed, newest first: when, brand and model, serial, revision (0 for a first issue, one more for each time the same device asked again) and the sha3-384 id of the device key each one certifies. Reads the database the config names, which must exist (a mistyped path is an error, never a new empty database); the service may be running.

--assertion SERIAL prints the serial assertion as it was signed (the newest revision, or --revision N), to send it again or to check it. --format jsonl or csv exports the entries with their assertions, a page at a time whatever the size of the log; CSV cells that a spreadsheet would run as a formula start with a quote.`

  static override enableJsonFlag = true

  static override examples = [
    '<%= config.bin %> <%= command.id %> --config serve.yaml',
    '<%= config.bin %> <%= command.id %> --config serve.yaml --serial ACME-000123 --json',
    '<%= config.bin %> <%= command.id %> --config serve.yaml --assertion ACME-000123 > ACME-000123.serial',
    '<%= config.bin %> <%= command.id %> --config serve.yaml --format csv > signing-log.csv',
  ]

  static override flags = {
    assertion: Flags.string({description: 'print the signed serial assertion of this serial (the newest revision unless --revision)', exclusive: ['format'], helpValue: 'SERIAL'}),
    brand: Flags.string({description: 'only this brand'}),
    config: Flags.string({char: 'c', description: 'the serve config (YAML)', helpValue: 'FILE', required: true}),
    format: Flags.option({description: 'text (default), or an export with the assertions: jsonl (one JSON object a line) or csv', options: ['text', 'jsonl', 'csv'] as const})(),
    limit: Flags.integer({description: 'at most this many entries', min: 1}),
    model: Flags.string({description: 'only this model'}),
    revision: Flags.integer({dependsOn: ['assertion'], description: 'with --assertion: this revision of the serial', min: 0}),
    serial: Flags.string({description: 'only this serial'}),
  }

  static override summary = 'List or export the serials the device service signed.'

  async run(): Promise<unknown> {
    const {flags} = await this.parse(ServeLog)
    const {describeEntry, exportSigningLog, loadServiceDatabase, readSigningLog} = await import('../../../../service/index.js')
    const database = loadServiceDatabase(flags.config)
    const filter = {brand: flags.brand, model: flags.model, serial: flags.serial}
    const filtered = Object.entries(filter).filter(([, v]) => v !== undefined)

    if (flags.assertion !== undefined) {
      const {entries, size} = await readSigningLog({database}, {...filter, serial: flags.assertion, withAssertion: true})
      const entry = flags.revision === undefined ? entries[0] : entries.find((e) => e.revision === flags.revision)
      if (!entry) {
        const wanted: [string, string][] = [['serial', flags.assertion]]
        if (flags.revision !== undefined) wanted.push(['revision', String(flags.revision)])
        throw noMatch(wanted, size)
      }

      if (!entry.assertion) {
        throw new UserError('E_SERVE_LOG', `serial ${flags.assertion} revision ${entry.revision} was signed before the log kept assertions: its text is not in the log`, {
          hint: 'ask the device for it (snap model --serial --assertion), or issue it again: the device asking again gets the next revision',
          kind: 'failed',
        })
      }

      if (this.jsonEnabled()) return entry
      process.stdout.write(entry.assertion.endsWith('\n') ? entry.assertion : `${entry.assertion}\n`)
      return undefined
    }

    if (flags.format === 'jsonl' || flags.format === 'csv') {
      // Written as it is read: the export of a large log never sits whole in memory.
      let count = 0
      if (flags.format === 'csv') process.stdout.write(csvHeader())
      for await (const entry of exportSigningLog({database}, filter)) {
        if (flags.limit !== undefined && count >= flags.limit) break
        process.stdout.write(flags.format === 'csv' ? csvRow(entry) : jsonlRow(entry))
        count++
      }

      return undefined
    }

    const {entries, size} = await readSigningLog({database}, {...filter, limit: flags.limit})
    if (entries.length === 0 && size > 0 && filtered.length > 0) throw noMatch(filtered as [string, string][], size)
    if (!this.jsonEnabled()) this.log(entries.length === 0 ? 'no serials signed yet' : entries.map((e: SigningLogEntry) => terminalSafe(describeEntry(e))).join('\n'))
    return {entries, size}
  }
}

function noMatch(filter: [string, string][], size: number): UserError {
  const what = filter.map(([name, value]) => `${name} ${JSON.stringify(value)}`).join(' and ')
  return new UserError('E_SERVE_LOG', `no entry of the signing log has ${what}; it holds ${size} ${size === 1 ? 'entry' : 'entries'}`, {
    hint: 'serve log without filters lists them, newest first',
    kind: 'failed',
  })
}
