import {existsSync} from 'node:fs'
import {resolve} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {UserError} from '../../../../errors.js'
import type {FleetSummary, RegistrationResult} from '../../../../simulate/index.js'
import {readBoundedFile} from '../../../../support/bounded-read.js'
import {inertJson} from '../../../../support/echo.js'
import {painter, useColor} from '../../../../support/paint.js'
import {BaseCommand} from '../../../base-command.js'

export default class DeviceRegister extends BaseCommand {
  static override args = {
    gadget: Args.string({default: '.', description: 'the gadget: a project directory (made by init) or a built snap tree'}),
  }

  static override description = `Plays snapd's side of a registration (snapd 2.57.6's DeviceManager) against any device service, without snapd: for the lab, CI, and sizing a service before the factory line starts.

For each device: an RSA device key as snapd makes it (4096 bits; --key-bits 2048 is faster); the gadget's own prepare-device hook (snap/hooks/ of a project, meta/hooks/ of a built snap), with $SNAP/usr/bin/qjs running QuickJS (qjs on PATH, or --qjs) or Node over the captured hardware of --root (this machine's without it), and a snapctl that types every value as snapd's snapctl set does (snapctl get api-key answers what --api-key-env or --api-key-file gives; every plug is connected unless --disconnected says otherwise); then what snapd reads, with snapd's types; request-id; the gadget's prepare-serial-request hook when it has one (hardware-identity onboarding, as snapd 2.74 and later run it: registration.request-id set to the nonce, and the registration.body the hook sets as the request's body); the serial-request signed by the device key, followed by the model; the serial POST with snapd's headers; and snapd's own checks of the answer, in snapd's order and words: the status (what snapd retries, what ends the attempt, and when it shows the service's message), one serial in the stream, brand, model and device key, the signer against the model's serial-authority, and the signing chain up to the roots --trust gives (without --trust, only as far as the stream goes: the verdict is then "unverified").

Prints each step as it happens, then the verdict and the serial assertion; --json prints the whole result at the end. Exits 0 only when snapd would accept the serial, 1 when it would not (refused, retried, polled or unverified), 2 for a usage or I/O error.

With --count N, N distinct devices (their own keys; serials from --serial-pattern, or hardware from --root-template with {n} where the serial is) register --concurrency at a time, with a progress bar on a terminal and a summary: registrations per second, exchange latency percentiles, refusals by reason.`

  static override enableJsonFlag = true

  static override examples = [
    {
      command: 'ACME_API_KEY=… <%= config.bin %> <%= command.id %> --gadget . --model model.assert --trust lab/root.assert --root captured/up-board --api-key-env ACME_API_KEY --url http://127.0.0.1:8642/v1/',
      description: 'One device of this gadget against a local serve, over a captured board',
    },
    {
      command:
        'ACME_API_KEY=… <%= config.bin %> <%= command.id %> --gadget . --model model.assert --trust lab/root.assert --root captured/up-board --api-key-env ACME_API_KEY --count 500 --concurrency 16 --serial-pattern ACME-{n:06} --key-bits 2048',
      description: 'Size a service: 500 devices, 16 at a time',
    },
  ]

  static override flags = {
    'api-key-env': Flags.string({
      description: 'environment variable holding the api-key: what snapctl get api-key answers (the factory\'s "snap set <gadget> api-key=…"); never printed',
      exclusive: ['api-key-file'],
      helpValue: 'NAME',
    }),
    'api-key-file': Flags.string({description: 'file holding the api-key (its first line), as --api-key-env; never printed', helpValue: 'FILE'}),
    concurrency: Flags.integer({default: 4, description: 'with --count: devices registering at the same time', helpValue: 'C', min: 1}),
    count: Flags.integer({default: 1, description: 'how many distinct devices to register', helpValue: 'N', min: 1}),
    'device-dir': Flags.string({
      description:
        "the device's data directories, kept between runs (made when missing): the hardware identity key prepare-device makes stays in var/lib/snapd/save/snap/<gadget>/, and its export for the factory station in var/snap/<gadget>/common/; one device",
      helpValue: 'DIR',
    }),
    disconnected: Flags.string({description: 'a plug snapctl is-connected reports as not connected (repeatable; every plug is connected otherwise)', helpValue: 'PLUG', multiple: true}),
    engine: Flags.option({default: 'auto', description: 'what runs $SNAP/usr/bin/qjs: QuickJS, Node, or qjs when PATH has one and Node otherwise', options: ['auto', 'qjs', 'node'] as const})(),
    force: Flags.boolean({default: false, description: 'overwrite the --output file if it exists'}),
    'hook-timeout': Flags.integer({default: 600, description: "seconds the hook may run before it is killed (snapd's limit: 600)", helpValue: 'SECONDS', min: 1}),
    'key-bits': Flags.option({default: '4096', description: 'device key size: snapd makes 4096-bit keys; 2048 is faster to make', options: ['4096', '2048'] as const})(),
    model: Flags.string({
      description: "the device's model assertion (optionally followed by the brand's account and account-key, as a seed holds them), or the project's model input (model.json) with --sign-key",
      helpValue: 'FILE',
      required: true,
    }),
    output: Flags.string({description: 'write the accepted serial assertion to this file', helpValue: 'FILE'}),
    qjs: Flags.string({description: 'the QuickJS binary that runs the hook (default: qjs on PATH)', helpValue: 'FILE'}),
    root: Flags.string({description: "captured hardware: a directory laid out like the device's / (the runtime's --root)", exclusive: ['root-template'], helpValue: 'DIR'}),
    'root-template': Flags.string({description: 'captured hardware with {n} (or {n:06}) where the serial is: device n reads its own copy', helpValue: 'DIR'}),
    'serial-pattern': Flags.string({description: "the proposed serial of device n, replacing the hook's: e.g. ACME-{n:06}", helpValue: 'PATTERN'}),
    'sign-key': Flags.string({description: "the brand's PEM key, to sign a model input given with --model", helpValue: 'FILE'}),
    timeout: Flags.integer({default: 30, description: "seconds an exchange with the service may take (snapd's: 30)", helpValue: 'SECONDS', min: 1}),
    trust: Flags.string({description: "a trusted root's account and account-key assertions (repeatable): the chain is checked up to it", helpValue: 'FILE', multiple: true}),
    url: Flags.string({description: 'the device service, replacing the device-service.url the hook set', helpValue: 'URL'}),
  }

  static override summary = "Register simulated devices with a device service as snapd would, and check the answer with snapd's own checks."

  /** JSON carries what the service and the hardware said: formatting characters as \u escapes, so no terminal acts on them. */
  override logJson(json: unknown): void {
    process.stdout.write(`${inertJson(json, 2)}\n`)
  }

  async run(): Promise<FleetSummary | RegistrationResult> {
    const {args, flags} = await this.parse(DeviceRegister)
    const simulate = await import('../../../../simulate/index.js')
    const {fleetText, progressText, stepText, verdictText} = await import('./present.js')
    const json = this.jsonEnabled()
    const paint = painter(useColor(process.stdout))
    const say = (text: string): void => {
      if (!json) process.stdout.write(`${text}\n`)
    }

    const apiKey = readApiKey(flags['api-key-env'], flags['api-key-file'])

    if (flags.output !== undefined && flags.count > 1) throw new UserError('E_USAGE', '--output writes one serial assertion: it takes one device', {hint: 'leave out --output, or --count'})
    if (flags['device-dir'] !== undefined && flags.count > 1) throw new UserError('E_USAGE', "--device-dir holds one device's data directories: it takes one device", {hint: 'leave out --device-dir, or --count'})
    // Refused before a device registers, not after.
    if (flags.output !== undefined && !flags.force && existsSync(flags.output)) {
      throw new UserError('E_EXISTS', `${flags.output} already exists`, {file: flags.output, hint: 'pass --force to overwrite it, or choose another --output'})
    }

    const gadget = simulate.readGadgetTree(args.gadget)
    const model = simulate.readModel(flags.model, {signKey: flags['sign-key']})
    if (model.gadget !== gadget.name) {
      throw new UserError('E_REGISTER_GADGET', `the model names the gadget ${model.gadget}, and ${args.gadget} is the gadget ${gadget.name}`, {
        hint: "snapd runs the model's gadget's hook and reads that gadget's configuration: give the model of this gadget",
      })
    }

    const trusted = simulate.readTrust(flags.trust ?? [])
    const engine = simulate.resolveEngine(flags.engine, flags.qjs)
    const serialPattern = flags['serial-pattern'] === undefined ? undefined : new simulate.SerialPattern(flags['serial-pattern'])
    const rootTemplate = flags['root-template'] === undefined ? undefined : simulate.RootTemplate.read(flags['root-template'])
    // The hook runs in its own working directory: a relative --root is the user's, from here.
    const capturedRoot = flags.root === undefined ? undefined : resolve(flags.root)
    const abort = new AbortController()
    const stop = (): void => abort.abort()
    process.once('SIGINT', stop)
    const common = {
      apiKey,
      disconnected: flags.disconnected,
      engine,
      gadget,
      keyBits: Number(flags['key-bits']),
      limits: {hookTimeoutMs: flags['hook-timeout'] * 1000, httpTimeoutMs: flags.timeout * 1000},
      model,
      signal: abort.signal,
      trusted,
      url: flags.url,
    }
    try {
      if (flags.count > 1) {
        const tty = process.stderr.isTTY && !json
        let last = 0
        const summary = await simulate.registerFleet({
          ...common,
          concurrency: flags.concurrency,
          count: flags.count,
          onProgress: tty
            ? (progress) => {
                const now = performance.now()
                if (now - last < 100 && progress.done !== progress.total) return
                last = now
                process.stderr.write(`\r${progressText(progress)}\u001B[K`)
              }
            : undefined,
          root: capturedRoot,
          rootTemplate,
          serialPattern,
        })
        if (tty) process.stderr.write('\r\u001B[K')
        say(fleetText(summary, paint))
        if (summary.accepted !== summary.count) process.exitCode = 1
        return summary
      }

      const root = rootTemplate ? await rootTemplate.materialize(1) : capturedRoot
      try {
        const deviceDir = flags['device-dir'] === undefined ? undefined : simulate.deviceDataDir(flags['device-dir'])
        const result = await simulate.registerDevice({...common, deviceDir, onStep: (step) => say(stepText(step, paint)), proposedSerial: serialPattern?.serial(1), root})
        say(verdictText(result, paint))
        if (result.verdict === 'accepted' && flags.output !== undefined) simulate.writeSerialAssertion(flags.output, result.serial!.text, {force: flags.force})
        if (result.verdict !== 'accepted') process.exitCode = 1
        return result
      } finally {
        if (rootTemplate && root) await rootTemplate.remove(root)
      }
    } finally {
      process.off('SIGINT', stop)
    }
  }
}

/** An api-key is a line of text; a file much larger is not one. */
const MAX_API_KEY_FILE_BYTES = 4096

/** The api-key from the variable or the file named, or none. */
function readApiKey(variable: string | undefined, file: string | undefined): string | undefined {
  if (variable !== undefined) {
    const value = process.env[variable]
    if (value === undefined || value === '') throw new UserError('E_USAGE', `the environment variable ${variable} is not set`, {hint: `set ${variable} to the api-key of the model, or leave out --api-key-env`})
    return value
  }

  if (file === undefined) return undefined
  const value = readBoundedFile(file, MAX_API_KEY_FILE_BYTES, {what: 'api-key'}).toString('utf8').split('\n')[0].trim()
  if (value === '') throw new UserError('E_USAGE', `${file} holds no api-key`, {file, hint: 'write the api-key on the first line of the file'})
  return value
}
