import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import type {RequestEvent} from '../../../service/index.js'

export default class Serve extends BaseCommand {
  static override description = `A device service for factories, labs and CI: answers snapd's request-id and serial requests on the Serial Vault's paths (/v1/request-id, /v1/serial, /v1/version, /v1/health), checks each serial-request (the model's api-key, the device key's signature, the model, a fresh single-use nonce, the proposed serial) and answers with a serial assertion signed by the brand's key, followed by the brand's account and account-key so the device needs no store.

Every issued serial is kept in the signing log (see serve log). A device asking again with the same key gets its serial again (next revision); a serial already issued to another device key is refused, and a device key never gets a second serial.

The database is a SQLite file (one machine) or PostgreSQL (database: postgres://…), where several instances behind a load balancer share the serials, nonces and signing log; see serve migrate.

Prints "listening on URL" (with --json: {"url": URL}) once it accepts requests, then one line per request on stderr. Stops on SIGINT or SIGTERM after the requests in flight.`

  static override enableJsonFlag = true

  static override examples = [
    {command: 'ACME_API_KEY=… <%= config.bin %> <%= command.id %> --config serve.yaml', description: 'Serve the models of serve.yaml'},
    {command: '<%= config.bin %> <%= command.id %> --config examples/serve/serve.yaml --json', description: 'Print the URL as JSON (for scripts and CI)'},
  ]

  static override flags = {
    config: Flags.string({char: 'c', description: 'the serve config (YAML; schemas/serve.schema.json)', helpValue: 'FILE', required: true}),
    migrate: Flags.boolean({default: false, description: "create or upgrade the database's schema before serving (PostgreSQL; a SQLite file always is): instances started together take turns"}),
    quiet: Flags.boolean({char: 'q', default: false, description: 'do not log each request'}),
  }

  static override summary = 'Run a device service that signs serials for snapd (request-id and serial).'

  async run(): Promise<void> {
    const {flags} = await this.parse(Serve)
    const {loadServiceConfig, startDeviceService} = await import('../../../service/index.js')
    const config = loadServiceConfig(flags.config)
    // A server's output goes on while it runs: written directly (oclif holds back --json output
    // for the command's end).
    const json = this.jsonEnabled()
    for (const warning of config.warnings) process.stderr.write(json ? `${JSON.stringify({warning})}\n` : `warning: ${warning}\n`)
    const service = await startDeviceService(config, {
      migrate: flags.migrate,
      onRequest: flags.quiet ? undefined : (event) => process.stderr.write(`${json ? JSON.stringify({time: new Date().toISOString(), ...event}) : describeRequest(event)}\n`),
      version: this.config.version,
    })
    const stopped = new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        service.close().then(resolve, resolve)
      }

      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
    // Only now: a script that signals as soon as it reads the URL gets a clean stop.
    process.stdout.write(json ? `${JSON.stringify({url: service.url})}\n` : `listening on ${service.url}\n`)
    await stopped
  }
}

function describeRequest(event: RequestEvent): string {
  const parts = [new Date().toISOString(), event.method, event.path, String(event.status)]
  if (event.brand) parts.push(`${event.brand}/${event.model ?? '?'}`)
  if (event.serial !== undefined) parts.push(`serial=${JSON.stringify(event.serial)}`)
  if (event.revision !== undefined) parts.push(`revision=${event.revision}`)
  if (event.code) parts.push(event.code)
  parts.push(`${event.ms.toFixed(1)}ms`)
  let line = parts.join(' ')
  if (event.note) line += `\n  note: ${event.note}`
  if (event.error) line += `\n  ${event.error.replaceAll('\n', '\n  ')}`
  return line
}
