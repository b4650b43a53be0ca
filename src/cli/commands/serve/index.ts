import {Flags} from '@oclif/core'

import type {UserError} from '../../../errors.js'
import {LineLog} from '../../../support/line-log.js'
import {BaseCommand} from '../../base-command.js'
import {requestLine} from './present.js'

export default class Serve extends BaseCommand {
  static override description = `A device service for factories, labs and CI: answers snapd's request-id and serial requests on the Serial Vault's paths (/v1/request-id, /v1/serial, /v1/version, /v1/health), checks each serial-request (the model's api-key, compared before any body is read; the device key's signature; the model; a fresh single-use nonce; the proposed serial) and answers with a serial assertion signed by the brand's key, followed by the brand's account and account-key so the device needs no store.

Every issued serial is kept in the signing log (see serve log). A device asking again with the same key gets its serial again (next revision); a serial already issued to another device key is refused, and a device key never gets a second serial.

Before it listens it makes the checks of serve check (each model's signing key, model assertion and api-key), and says every problem at once (exit 2).

Each model may hold its devices to a serial policy (serials: any, allowlist or a pattern; see serve import --serials), and the operator may block a device (serve block); refusals are kept in the refusal log (serve log --refusal). GET /metrics answers in Prometheus' text format on a loopback listener (metrics: in the config), or on metrics-listen.

The database is a SQLite file (one machine) or PostgreSQL (database: postgres://…), where several instances behind a load balancer share the serials, nonces and signing log; see serve migrate. GET /v1/health answers 200 only while the database takes writes.

Prints "listening on URL" (with --json: {"url": URL}) once it accepts requests, then one line per request on stderr; a log that cannot be written is said once and counted, and serving goes on. Stops on SIGINT or SIGTERM after the requests in flight, and says so.`

  static override enableJsonFlag = true

  static override examples = [
    {command: 'ACME_PC_API_KEY=… <%= config.bin %> <%= command.id %> --config serve.yaml', description: 'Serve the models of serve.yaml'},
    {
      command: 'ACME_PC_API_KEY=… <%= config.bin %> <%= command.id %> --config examples/serve/serve.yaml --json',
      description: 'The sample config (examples/serve/README.md makes its key), the URL as JSON for scripts and CI',
    },
  ]

  static override flags = {
    config: Flags.string({char: 'c', description: "the serve config (YAML; its schema is schemas/serve.schema.json in snap-gadget's package)", helpValue: 'FILE', required: true}),
    migrate: Flags.boolean({default: false, description: "create or upgrade the database's schema before serving (PostgreSQL; a SQLite file always is): instances started together take turns"}),
    quiet: Flags.boolean({char: 'q', default: false, description: 'do not log each request'}),
  }

  static override summary = 'Run a device service that signs serials for snapd (request-id and serial).'

  async run(): Promise<void> {
    const {flags} = await this.parse(Serve)
    const {checkFailure, loadServiceConfig, problemOf, startDeviceService} = await import('../../../service/index.js')
    // The checks of serve check: every problem of every model said at once, before anything listens.
    const problems: UserError[] = []
    const config = loadServiceConfig(flags.config, {problems})
    // One is said as itself (its file and line); several together. A config mistake either way: exit 2.
    if (problems.length === 1) throw problems[0]
    if (problems.length > 1) throw checkFailure(flags.config, problems.map(problemOf), 'usage')
    // A server's output goes on while it runs: written directly (oclif holds back --json output
    // for the command's end).
    const json = this.jsonEnabled()
    const say = (text: string, value: Record<string, unknown>): void => {
      try {
        process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`)
      } catch {}
    }

    const log = new LineLog(process.stderr, {
      onFirstFailure: (reason) => say(`warning: the request log cannot be written (${reason}); serve goes on answering and counts the lines lost (GET /v1/health shows them)`, {warning: 'request log unwritable', reason}),
    })
    for (const warning of config.warnings) log.write(json ? JSON.stringify({warning}) : `warning: ${warning}`)
    const service = await startDeviceService(config, {
      logLinesLost: () => log.linesLost,
      migrate: flags.migrate,
      onRequest: flags.quiet ? undefined : (event) => log.write(requestLine(event, new Date(), json)),
      version: this.config.version,
    })
    const stopped = new Promise<string>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        service.close().then(
          () => resolve(signal),
          () => resolve(signal),
        )
      }

      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
    // Only now: a script that signals as soon as it reads the URL gets a clean stop.
    say(`listening on ${service.url}`, {url: service.url, ...(service.metricsUrl ? {metrics: service.metricsUrl} : {})})
    const signal = await stopped
    const answered = service.answered()
    const lost = log.linesLost > 0 ? `; ${log.linesLost} log lines could not be written` : ''
    say(`stopped on ${signal} after ${answered.total} requests (${answered.refused} refused, ${answered.failed} failed on the service's side)${lost}`, {
      answered,
      linesLost: log.linesLost,
      stopped: signal,
    })
  }
}
