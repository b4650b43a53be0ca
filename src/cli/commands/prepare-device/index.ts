import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import type {PrepareDeviceResult} from '../../../device/prepare.js'

export default class PrepareDevice extends BaseCommand {
  static override description = `Does what the gadget's prepare-device hook does with the on-device runtime (dist/runtime/prepare-device.cjs): reads the registration config, checks with snapctl is-connected that the plugs its serial sources and body facts need are connected, derives the serial (never a placeholder or fallback), builds the registration body as YAML with the device identity signature, and sets device-service.url, device-service.headers, registration.proposed-serial and registration.body with snapctl, every value a JSON literal; options the config no longer sets are unset.

With "onboarding": "hardware-identity" in the config (snapd 2.74 and later), it first unsets registration.body (a body the prepare-serial-request hook left would stop snapd's next attempt), makes the hardware identity key once in $SNAP_SAVE_DATA (else $SNAP_DATA), writes its export for the factory station to $SNAP_COMMON/hardware-identity.json and sets it as the gadget option hardware-identity, and sets no body and no api-key: the prepare-serial-request hook sets the body.

--dry-run prints the snapctl calls instead of making them (header values taken from the environment are shown as <$NAME>, and need not be set here) and writes no key file: without the device's key it signs with a throwaway one, and says so. In hardware-identity onboarding it also prints the export (hardware-id, key type, digest, public key PEM) as # comment lines. Exits 1 when the device cannot be prepared, with the reason.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --config registration.json --root ./captured-root --dry-run', description: 'The snapctl calls the hook would make on a captured tree'},
    {command: '<%= config.bin %> <%= command.id %> --dry-run --json', description: 'The plan as JSON, with $SNAP/runtime/registration.json'},
  ]

  static override flags = {
    config: Flags.string({description: 'registration config (JSON; default $SNAP/runtime/registration.json, where init puts it)', helpValue: 'FILE'}),
    'dry-run': Flags.boolean({default: false, description: 'print the snapctl calls instead of making them; write nothing'}),
    root: Flags.string({description: 'directory that plays / for hardware reads (a captured tree)', helpValue: 'DIR'}),
  }

  static override summary = 'Derive the serial, build the registration body and hand them to snapd (the prepare-device hook).'

  async run(): Promise<PrepareDeviceResult> {
    const {flags} = await this.parse(PrepareDevice)
    const {describeHardwareExport, describePreparation, dryRunNotes, prepareDevice} = await import('../../../device/prepare.js')
    const {terminalSafe} = await import('../../../support/echo.js')
    const result = await prepareDevice({config: flags.config, dryRun: flags['dry-run'], root: flags.root})
    if (!this.jsonEnabled()) {
      if (flags['dry-run']) {
        for (const call of result.calls) this.log(terminalSafe(call.toString()))
        // The hardware identity export, as comments: stdout stays a script a shell would run.
        for (const line of describeHardwareExport(result)) this.log(terminalSafe(line))
        // Notes go to stderr: stdout stays the calls, as a script would run them.
        for (const note of dryRunNotes(result)) process.stderr.write(`note: ${note}\n`)
      } else this.log(describePreparation(result))
    }

    return result
  }
}
