import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import type {BlockOutcome} from '../../../../service/index.js'

export default class ServeUnblock extends BaseCommand {
  static override args = {
    serial: Args.string({description: 'the serial serve block was given'}),
  }

  static override description = `Ends a block serve block set, named as it was set (the serial and --model, or --device-key): the device is issued serials again from its next request. The block stays in the record with when it ended and --reason (serve block --all lists it). A target that is not blocked is exit 1.`

  static override enableJsonFlag = true

  static override examples = ['<%= config.bin %> <%= command.id %> ACME-000123 --reason "repaired" --config serve.yaml', '<%= config.bin %> <%= command.id %> --device-key 6lbc…Zq --config serve.yaml']

  static override flags = {
    config: Flags.string({char: 'c', description: 'the serve config (YAML): its database and models are read', helpValue: 'FILE', required: true}),
    'device-key': Flags.string({description: 'the device key id the block names', helpValue: 'ID'}),
    model: Flags.string({description: 'the model the block names, if it named one', helpValue: 'BRAND/MODEL'}),
    reason: Flags.string({default: '', description: 'why: kept with the ended block', helpValue: 'TEXT'}),
  }

  static override summary = 'End a block: the device is issued serials again.'

  async run(): Promise<BlockOutcome> {
    const {args, flags} = await this.parse(ServeUnblock)
    const [{describeBlock, loadImportConfig, unblockDevice}, {terminalSafe}] = await Promise.all([import('../../../../service/index.js'), import('../../../../support/echo.js')])
    const outcome = await unblockDevice(loadImportConfig(flags.config), {deviceKey: flags['device-key'], model: flags.model, serial: args.serial}, flags.reason)
    this.log(terminalSafe(`unblocked: ${describeBlock(outcome.block)}`))
    return outcome
  }
}
