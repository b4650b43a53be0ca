import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {progressOnTerminal} from '../../progress.js'
import {painter, useColor} from '../../../support/paint.js'
import {initFlags} from './flags.js'

export default class Init extends BaseCommand {
  static override args = {
    directory: Args.string({description: 'where the gadget project goes (default: the gadget name); it may exist, but no file in it is overwritten without --force'}),
  }

  static override description = `Writes a complete gadget snap project for a board: gadget.yaml (with the editor schema), snap/snapcraft.yaml (boot assets, QuickJS and the registration runtime, the prepare-device hook's plugs), the prepare-device and configure hooks, runtime/registration.json, model.json for snap sign, and a README with the build, signing, image and factory steps.

Every name is checked with snapd's rules and the model with snap sign's before anything is written. On a terminal, init asks for what the flags leave open; elsewhere (or with --yes) it uses the defaults and needs at least --board and --brand. The api-key is never written: it comes from an environment variable at build time, or from "snap set <gadget> api-key=…" in the factory.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Ask for the board, brand and name on a terminal'},
    {command: '<%= config.bin %> <%= command.id %> --board pc-amd64 --brand acme acme-pc', description: 'A PC gadget for brand acme, in ./acme-pc'},
    {
      command: '<%= config.bin %> <%= command.id %> --board raspberry-pi --arch armhf --base core22 --brand acme --device-service model-service --dry-run',
      description: 'Show the files a 32-bit Raspberry Pi gadget would get',
    },
    {command: '<%= config.bin %> <%= command.id %> --board my-board --board-dir ./boards --brand acme --kernel acme-kernel', description: 'A gadget from your own board profile'},
  ]

  static override flags = initFlags

  static override summary = 'Create a gadget snap project for a board, with its prepare-device hook and model.'

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Init)
    const {runInit} = await import('./run.js')
    const {initJson, initText} = await import('./present.js')
    const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY)
    const outcome = await runInit({...flags, json: this.jsonEnabled()}, args.directory, {cwd: process.cwd(), interactive, onProgress: progressOnTerminal})
    if (this.jsonEnabled()) return initJson(outcome)
    process.stdout.write(initText(outcome, painter(useColor(process.stdout))))
    return undefined
  }
}
