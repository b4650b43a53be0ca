import {Flags} from '@oclif/core'

import {UserError} from '../../../../errors.js'
import {inertJson, terminalSafe} from '../../../../support/echo.js'
import {didYouMean} from '../../../../support/suggest.js'
import {BaseCommand} from '../../../base-command.js'
import {csvHeader, csvRow, jsonlRow} from './present.js'
import type {SigningLogEntry} from '../../../../service/index.js'

export default class ServeLog extends BaseCommand {
  static override description = `Lists the serial assertions the device service signed, newest first: when, brand and model, serial, revision (0 for a first issue, one more for each time the same device asked again) and the sha3-384 id of the device key each one certifies. Reads the database the config names, which must exist (a mistyped path is an error, never a new empty database); the service may be running.

--refusal lists the refused requests instead (the refusal log: why each device was refused, with the message it was given; brand and model as the request proved them, or marked unverified as it claimed them), --refusal CODE those of one code of the README's table. --model, --brand, --since and --until filter either log; the refusal log keeps what refusal-log: in the config says (100,000 refusals and 90 days by default), issued serials are kept for ever.

--assertion SERIAL prints the serial assertion as it was signed (the newest revision, or --revision N), to send it again or to check it. --format jsonl or csv exports the entries with their assertions, a page at a time whatever the size of the log; CSV cells that a spreadsheet would run as a formula start with a quote.`

  static override enableJsonFlag = true

  static override examples = [
    '<%= config.bin %> <%= command.id %> --config serve.yaml',
    '<%= config.bin %> <%= command.id %> --config serve.yaml --serial ACME-000123 --json',
    '<%= config.bin %> <%= command.id %> --config serve.yaml --assertion ACME-000123 > ACME-000123.serial',
    '<%= config.bin %> <%= command.id %> --config serve.yaml --format csv > signing-log.csv',
    '<%= config.bin %> <%= command.id %> --config serve.yaml --refusal --since 24h',
    '<%= config.bin %> <%= command.id %> --config serve.yaml --refusal serial-not-allowed --model acme-pc --since 2026-12-01',
  ]

  static override flags = {
    assertion: Flags.string({description: 'print the signed serial assertion of this serial (the newest revision unless --revision)', exclusive: ['format'], helpValue: 'SERIAL'}),
    brand: Flags.string({description: 'only this brand'}),
    config: Flags.string({char: 'c', description: 'the serve config (YAML)', helpValue: 'FILE', required: true}),
    format: Flags.option({description: 'text (default), or an export with the assertions: jsonl (one JSON object a line) or csv', options: ['text', 'jsonl', 'csv'] as const})(),
    limit: Flags.integer({description: 'at most this many entries', min: 1}),
    model: Flags.string({description: 'only this model (its name, or BRAND/MODEL)'}),
    refusal: Flags.string({
      description: "the refusal log instead: every refusal, or those of CODE (a code of the README's table of refusals)",
      exclusive: ['assertion', 'format', 'serial'],
      helpValue: '[CODE]',
    }),
    since: Flags.string({description: 'only entries at or after TIME: an RFC 3339 date or time (2026-12-01, 2026-12-01T08:00:00Z), or an age (30m, 24h, 7d)', helpValue: 'TIME'}),
    until: Flags.string({description: 'only entries before TIME (as --since)', helpValue: 'TIME'}),
    revision: Flags.integer({dependsOn: ['assertion'], description: 'with --assertion: this revision of the serial', min: 0}),
    serial: Flags.string({description: 'only this serial'}),
  }

  static override summary = 'List or export the serials the device service signed.'

  async run(): Promise<unknown> {
    // --refusal takes an optional CODE: alone (last, or before another flag) it means every code.
    const argv = this.argv.flatMap((arg, i) => (arg === '--refusal' && (i + 1 === this.argv.length || this.argv[i + 1].startsWith('-')) ? [arg, ANY] : [arg]))
    const {flags} = await this.parse(ServeLog, argv)
    const {describeEntry, describeRefusal, exportSigningLog, loadServiceDatabase, readRefusalLog, readSigningLog, REFUSALS} = await import('../../../../service/index.js')
    const database = loadServiceDatabase(flags.config)
    const now = new Date()
    const since = flags.since === undefined ? undefined : parseTime(flags.since, now, '--since')
    const until = flags.until === undefined ? undefined : parseTime(flags.until, now, '--until')
    const [brand, model] = flags.model?.includes('/') ? [flags.brand ?? flags.model.slice(0, flags.model.indexOf('/')), flags.model.slice(flags.model.indexOf('/') + 1)] : [flags.brand, flags.model]

    if (flags.refusal !== undefined) {
      const code = flags.refusal === ANY ? undefined : flags.refusal
      if (code !== undefined && !Object.hasOwn(REFUSALS, code)) {
        const guess = didYouMean(code, Object.keys(REFUSALS))
        throw new UserError('E_FLAGS', `--refusal ${JSON.stringify(code)} is not a refusal code`, {
          hint: `${guess ? `did you mean ${guess}? ` : ''}the codes are the README's table of refusals: ${Object.keys(REFUSALS).join(', ')}`,
        })
      }

      const refusals = await readRefusalLog({database}, {brand, code, limit: flags.limit, model, since, until})
      if (!this.jsonEnabled()) this.log(refusals.length === 0 ? 'no refusal logged matches' : refusals.map((r) => describeRefusal(r)).join('\n'))
      return {refusals}
    }

    const filter = {brand, model, serial: flags.serial}
    const filtered = Object.entries(filter).filter(([, v]) => v !== undefined)
    const times = {...(since ? {since} : {}), ...(until ? {until} : {})}

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
      for await (const entry of exportSigningLog({database}, {...filter, ...times})) {
        if (flags.limit !== undefined && count >= flags.limit) break
        process.stdout.write(flags.format === 'csv' ? csvRow(entry) : jsonlRow(entry))
        count++
      }

      return undefined
    }

    const {entries, size} = await readSigningLog({database}, {...filter, ...times, limit: flags.limit})
    if (entries.length === 0 && size > 0 && filtered.length > 0) throw noMatch(filtered as [string, string][], size)
    if (entries.length === 0 && size > 0 && (since || until)) {
      throw noMatch([...(since ? [['since', since.toISOString()]] : []), ...(until ? [['until', until.toISOString()]] : [])] as [string, string][], size)
    }

    if (!this.jsonEnabled()) this.log(entries.length === 0 ? 'no serials signed yet' : entries.map((e: SigningLogEntry) => terminalSafe(describeEntry(e))).join('\n'))
    return {entries, size}
  }

  /** JSON that a terminal shows inert: serials and refusal messages are what clients sent. */
  override logJson(json: unknown): void {
    process.stdout.write(`${inertJson(json, 2)}\n`)
  }
}

/** What --refusal alone stands for. */
const ANY = '*'

/** An RFC 3339 date or time, or an age before `now` (30m, 24h, 7d). */
function parseTime(text: string, now: Date, flag: string): Date {
  const age = /^(\d{1,6})([mhd])$/.exec(text)
  if (age) return new Date(now.getTime() - Number(age[1]) * {d: 86_400_000, h: 3_600_000, m: 60_000}[age[2] as 'd' | 'h' | 'm'])
  const time = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$/.test(text) ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text) : Number.NaN
  if (Number.isNaN(time)) throw new UserError('E_FLAGS', `${flag} ${JSON.stringify(text)} is neither a date or time nor an age`, {hint: 'e.g. 2026-12-01, 2026-12-01T08:00:00Z, or 30m, 24h, 7d before now'})
  return new Date(time)
}

function noMatch(filter: [string, string][], size: number): UserError {
  const what = filter.map(([name, value]) => `${name} ${JSON.stringify(value)}`).join(' and ')
  return new UserError('E_SERVE_LOG', `no entry of the signing log has ${what}; it holds ${size} ${size === 1 ? 'entry' : 'entries'}`, {
    hint: 'serve log without filters lists them, newest first',
    kind: 'failed',
  })
}
