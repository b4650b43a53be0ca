import {Args, Flags} from '@oclif/core'

import {terminalSafe} from '../../../../support/echo.js'
import {BaseCommand} from '../../../base-command.js'
import {progressOnTerminal} from '../../../progress.js'
import type {LabResult} from '../../../../simulate/lab.js'

export default class LabInit extends BaseCommand {
  static override args = {
    directory: Args.string({description: 'where the lab goes: a new or empty directory', required: true}),
  }

  static override description = `Makes everything a lab needs to run serve and a simulated device offline, without the store: a test root authority and its account-key, the brand's account and account-keys signed by it, the serial signing key serve signs with (PEM), a model assertion signed by the brand, a serve config, the api-key its devices send, a gadget made as init --device-service local makes it, and a README saying what to run.

Real devices trust only the store's root: nothing signed by the lab's test root is accepted on one. The keys are RSA 4096, written with mode 0600. The directory must be new or empty (--force replaces what it holds).`

  static override enableJsonFlag = true

  static override examples = ['<%= config.bin %> <%= command.id %> lab', '<%= config.bin %> <%= command.id %> lab --brand acme --board raspberry-pi --json']

  static override flags = {
    board: Flags.string({default: 'pc-amd64', description: "the board profile of the lab's gadget (snap-gadget boards lists them)"}),
    brand: Flags.string({default: 'acme', description: "the brand's account id"}),
    force: Flags.boolean({default: false, description: 'replace what the directory holds'}),
  }

  static override summary = 'Make a store-free registration lab: a test root, a brand, keys, a model, a serve config and a gadget.'

  async run(): Promise<LabResult> {
    const {args, flags} = await this.parse(LabInit)
    const {describeLabPath, initLab} = await import('../../../../simulate/lab.js')
    progressOnTerminal(`making ${args.directory}: three RSA 4096 keys, the chain, the model and the gadget…`)
    const lab = await initLab({board: flags.board, brand: flags.brand, directory: args.directory, force: flags.force})
    if (!this.jsonEnabled()) {
      const where = terminalSafe(describeLabPath(lab))
      this.log(`Made a lab for ${lab.brand}/${lab.model} in ${where}:`)
      for (const file of lab.files) this.log(`  ${file.path.padEnd(34)} ${file.what}`)
      this.log(`\nNext: cd ${where} && export LAB_API_KEY="$(cat api-key)" && snap-gadget serve --config serve.yaml`)
      this.log('Then, in another terminal there: snap-gadget device register gadget --model model.assert --trust assertions/trusted.assert --api-key-file api-key')
      this.log(`Real devices trust only the store's root: nothing signed by this lab's test root is accepted on one.`)
    }

    return lab
  }
}
