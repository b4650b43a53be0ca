import {existsSync} from 'node:fs'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {UserError} from '../../../errors.js'
import type {DoctorReport} from '../../../doctor/index.js'
import {SSH_COMMANDS} from '../../../doctor/ssh.js'
import {inertJson} from '../../../support/echo.js'

const DEFAULT_SOCKET = '/run/snapd.socket'
const sshList = Object.values(SSH_COMMANDS)
  .map((argv) => `  ${argv.join(' ')}`)
  .join('\n')

export default class Doctor extends BaseCommand {
  static override description = `Says why a device did not get its serial, and what to fix: a checklist of snapd's registration in snapd's order (model, prepare-device hook, device key, request-id, prepare-serial-request hook, serial request, serial checks, registered), each step ok, failed or not reached, then the cause in one sentence, the evidence (task log lines, HTTP status and message, certificate dates) and the fix. Knows snapd 2.57 … 2.77: their messages, the silent clock-skew retries (2.58.1+), store-certs (2.59+), device-service.access=offline (2.61+) and the prepare-serial-request hook (2.74+).

Inputs, any one, several combine:
  --state FILE     a copy of the device's /var/lib/snapd/state.json, read offline
  --socket PATH    snapd's REST API on this machine (read-only GETs; the gadget's config needs root)
  --ssh USER@HOST  the device over ssh, read with these commands only (each word quoted, nothing installed):
${sshList}
  --service URL    the device service probed from here: DNS, TCP, TLS (chain, self-signed, validity against the device's clock when known), GET health, and one POST request-id with the device's (or the gadget project's) headers. That POST consumes a request-id (a nonce) at the service; --no-request-id skips it. --probe does the same for the URL the device or the gadget project sets.
  --gadget DIR     the gadget project: what its hook would set, compared with what the device has
With no input, doctor reads ${DEFAULT_SOCKET} when it is there.

Secrets never appear: header values (the api-key) and the registration body are masked, in snapd's log lines too. Exits 0 when the device is registered (or, for the service alone, nothing is wrong), 1 when a cause is found, 2 on a usage or input error.`

  static override enableJsonFlag = true

  static override examples = [
    {command: 'sudo <%= config.bin %> <%= command.id %>', description: 'On the device: read snapd through its socket'},
    {command: '<%= config.bin %> <%= command.id %> --ssh ubuntu@192.168.1.50 --ssh-sudo --probe', description: 'From a desk: the device over ssh, and its service probed from here'},
    {command: '<%= config.bin %> <%= command.id %> --state state.json --gadget ./my-gadget', description: 'A state.json copied from the device, compared with the gadget project'},
    {command: '<%= config.bin %> <%= command.id %> --service https://serial-vault-partners.canonical.com/v1/ --gadget ./my-gadget', description: "The service alone, with the gadget project's headers"},
  ]

  static override flags = {
    ca: Flags.string({description: 'a CA certificate (PEM) the device trusts (its /var/lib/snapd/ssl/store-certs), for the service probe', helpValue: 'FILE', multiple: true}),
    gadget: Flags.string({description: 'the gadget project (snap/snapcraft.yaml, runtime/registration.json, snap/hooks)', helpValue: 'DIR'}),
    probe: Flags.boolean({default: false, description: 'probe the device service the device (or the gadget project) sets, as --service does'}),
    'request-id': Flags.boolean({allowNo: true, default: true, description: 'let the service probe POST request-id (it consumes a nonce at the service)'}),
    service: Flags.string({description: 'probe this device service URL from here (DNS, TCP, TLS, health, one request-id)', helpValue: 'URL'}),
    snapd: Flags.string({description: "the device's snapd version, when the inputs do not say it (2.57 … 2.77)", helpValue: 'VERSION'}),
    socket: Flags.string({description: `snapd's REST socket on this machine (${DEFAULT_SOCKET})`, helpValue: 'PATH'}),
    ssh: Flags.string({description: 'read the device over ssh with read-only snap commands', helpValue: 'USER@HOST'}),
    'ssh-option': Flags.string({description: 'an ssh option for --ssh (Port=2222, IdentityFile=…, UserKnownHostsFile=…)', helpValue: 'NAME=VALUE', multiple: true}),
    'ssh-sudo': Flags.boolean({default: false, description: "read the gadget's config with sudo -n over ssh (snapd gives it to root only)"}),
    state: Flags.string({description: "a copy of the device's /var/lib/snapd/state.json", helpValue: 'FILE'}),
    timeout: Flags.integer({default: 10, description: 'seconds each network wait may take (the socket, the service probe; ssh commands get three times as long)', helpValue: 'SECONDS', max: 300, min: 1}),
  }

  static override summary = 'Say why a device did not register, and what to fix.'

  async run(): Promise<DoctorReport> {
    const {flags} = await this.parse(Doctor)
    const {runDoctor} = await import('../../../doctor/index.js')
    if (flags.service !== undefined && flags.probe) throw new UserError('E_FLAGS', '--service URL and --probe both say which service to probe', {hint: 'give one of them'})
    const deviceInput = flags.state !== undefined || flags.socket !== undefined || flags.ssh !== undefined
    const anyInput = deviceInput || flags.service !== undefined || flags.gadget !== undefined
    const socket = flags.socket ?? (!anyInput && existsSync(DEFAULT_SOCKET) ? DEFAULT_SOCKET : undefined)
    const timeoutMs = flags.timeout * 1000
    const report = await runDoctor({
      ca: flags.ca,
      gadget: flags.gadget,
      requestId: flags['request-id'],
      service: flags.service ?? (flags.probe ? true : undefined),
      snapd: flags.snapd,
      socket,
      ssh: flags.ssh === undefined ? undefined : {destination: flags.ssh, options: flags['ssh-option'], sudo: flags['ssh-sudo'], timeoutMs: timeoutMs * 3},
      state: flags.state,
      timeoutMs,
    })

    if (!this.jsonEnabled()) {
      const {painter, useColor} = await import('../../../support/paint.js')
      const {renderReport} = await import('./present.js')
      process.stdout.write(renderReport(report, painter(useColor(process.stdout))))
    }

    if (!report.registered && report.cause) {
      throw new UserError('E_DOCTOR_NOT_REGISTERED', `not registered: ${report.cause.title} (${report.cause.code}, at ${report.cause.step})`, {
        details: report,
        hint: report.cause.fix,
        kind: 'failed',
      })
    }

    return report
  }

  /** JSON that a terminal shows inert: the report quotes the device and the network. */
  override logJson(json: unknown): void {
    process.stdout.write(`${inertJson(json, 2)}\n`)
  }
}
