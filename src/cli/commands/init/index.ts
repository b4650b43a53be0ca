import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {painter, useColor} from '../../output.js'

export default class Init extends BaseCommand {
  static override args = {
    directory: Args.string({description: 'where the gadget project goes (default: the gadget name); it may exist, but no file in it is overwritten without --force'}),
  }

  static override description = `Writes a complete gadget snap project for a board: gadget.yaml (with the editor schema), snap/snapcraft.yaml (boot assets, Node.js and the registration runtime, the prepare-device hook's plugs), the prepare-device and configure hooks, runtime/registration.json, model.json for snap sign, and a README with the build, signing, image and factory steps.

Every name is checked with snapd's rules and the model with snap sign's before anything is written. On a terminal, init asks for what the flags leave open; elsewhere (or with --yes) it uses the defaults and needs at least --board and --brand. The api-key is never written: it comes from an environment variable at build time, or from "snap set <gadget> api-key=…" in the factory.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Ask for the board, brand and name on a terminal'},
    {command: '<%= config.bin %> <%= command.id %> --board pc-amd64 --brand acme acme-pc', description: 'A PC gadget for brand acme, in ./acme-pc'},
    {command: '<%= config.bin %> <%= command.id %> --board raspberry-pi --arch armhf --base core22 --brand acme --device-service model-service --dry-run', description: 'Show the files a 32-bit Raspberry Pi gadget would get'},
    {command: '<%= config.bin %> <%= command.id %> --board my-board --board-dir ./boards --brand acme --kernel acme-kernel', description: 'A gadget from your own board profile'},
  ]

  /** Runs without oclif from dist/fast/init.cjs when the arguments are plain (see src/cli/fast/launch.ts). */
  static fastEntry = 'init'

  static override flags = {
    'api-key-env': Flags.string({description: 'environment variable of the hook that holds the api-key (default SERIAL_VAULT_API_KEY)', helpValue: 'NAME'}),
    arch: Flags.string({description: "snap architecture (default: the board's first)", helpValue: 'ARCH'}),
    base: Flags.option({description: "Ubuntu Core base (default: the board's newest)", options: ['core22', 'core24'] as const})(),
    board: Flags.string({char: 'b', description: 'board profile (snap-gadget boards lists them)', helpValue: 'ID'}),
    'board-dir': Flags.string({description: 'your own board profiles: a profile directory or a directory of them', helpValue: 'DIR', multiple: true}),
    'body-fact': Flags.string({description: 'hardware fact for the registration body (default serial-source, board-model)', helpValue: 'FACT', multiple: true}),
    'body-field': Flags.string({description: 'fixed registration body field', helpValue: 'NAME=VALUE', multiple: true}),
    brand: Flags.string({description: 'brand account id', helpValue: 'ACCOUNT-ID'}),
    'device-service': Flags.string({description: 'serial-vault (default), model-service, local (snap-gadget serve at http://127.0.0.1:8642/v1/, for lab use), or the URL of your device service', helpValue: 'PRESET|URL'}),
    'display-name': Flags.string({description: "the model's display name", helpValue: 'TEXT'}),
    'dry-run': Flags.boolean({description: 'print the files init would write, and write nothing'}),
    force: Flags.boolean({description: 'overwrite files that exist'}),
    'gadget-channel': Flags.string({description: "the gadget's default channel in the model (default latest/stable)", helpValue: 'TRACK/RISK'}),
    'gadget-id': Flags.string({description: "the gadget's snap id (after snapcraft register): adds the connections to gadget.yaml and the id to model.json", helpValue: 'SNAP-ID'}),
    grade: Flags.option({description: 'model grade (default signed when the snap ids are known, else dangerous)', options: ['dangerous', 'signed', 'secured'] as const})(),
    header: Flags.string({description: 'extra, non-secret header for the device service', helpValue: 'NAME=VALUE', multiple: true}),
    identity: Flags.boolean({allowNo: true, default: true, description: 'sign the registration body with a device identity key'}),
    kernel: Flags.string({description: "kernel snap (default: the board's published kernel)", helpValue: 'NAME'}),
    'kernel-channel': Flags.string({description: "the kernel's default channel in the model", helpValue: 'TRACK/RISK'}),
    'kernel-id': Flags.string({description: "the kernel's snap id", helpValue: 'SNAP-ID'}),
    'legacy-model': Flags.boolean({description: 'write model.json in the UC16/UC18 form (gadget, kernel and required-snaps headers)'}),
    model: Flags.string({description: 'model name (default <board>-<track>)', helpValue: 'NAME'}),
    name: Flags.string({description: 'gadget snap name (default <brand>-<board>)', helpValue: 'NAME'}),
    'no-api-key': Flags.boolean({description: 'send no api-key header'}),
    'serial-board': Flags.string({description: "serial board profile whose chain the hook runs (default: the board's)", helpValue: 'ID'}),
    snap: Flags.string({description: 'another snap for the model', helpValue: 'NAME[=SNAP-ID][@CHANNEL]', multiple: true}),
    'snap-version': Flags.string({description: "the gadget snap's version (default <track>-0.1)", helpValue: 'VERSION'}),
    'storage-safety': Flags.option({description: "the model's storage safety", options: ['prefer-unencrypted', 'prefer-encrypted', 'encrypted'] as const})(),
    store: Flags.string({description: 'brand store id for the model', helpValue: 'STORE-ID'}),
    summary: Flags.string({description: "the gadget snap's summary (78 characters at most)", helpValue: 'TEXT'}),
    timestamp: Flags.string({description: "the model's timestamp (RFC 3339; default now)", helpValue: 'TIME'}),
    yes: Flags.boolean({char: 'y', description: 'never prompt: take the defaults'}),
  }

  static override summary = 'Create a gadget snap project for a board, with its prepare-device hook and model.'

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Init)
    const {runInit} = await import('./run.js')
    const {initJson, initText} = await import('./present.js')
    const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY)
    const outcome = await runInit({...flags, json: this.jsonEnabled()}, args.directory, {cwd: process.cwd(), interactive})
    if (this.jsonEnabled()) return initJson(outcome)
    process.stdout.write(initText(outcome, painter(useColor(process.stdout))))
    return undefined
  }
}
