import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import type {BlockOutcome, DeviceBlock} from '../../../../service/index.js'

export default class ServeBlock extends BaseCommand {
  static override args = {
    serial: Args.string({description: 'the serial of the device to block (as serve log shows it)'}),
  }

  static override description = `Refuses any further serial to a device: a first issue and a device asking again alike, whatever the model's serial policy, until serve unblock. The device is named by its serial (in every model of the config, or in --model only) or by its device key (--device-key, the sha3-384 id serve log shows). The reason is kept with the block, and each refusal it causes is in the refusal log with it (serve log --refusal device-blocked); the device is told only that it is blocked, and since when.

A running serve sees the block at the next request. Without a serial or --device-key, lists the blocks (--all: ended ones too).`

  static override enableJsonFlag = true

  static override examples = [
    '<%= config.bin %> <%= command.id %> ACME-000123 --reason "returned: RMA 4711" --config serve.yaml',
    '<%= config.bin %> <%= command.id %> --device-key 6lbc…Zq --reason "key leaked from a test rig" --config serve.yaml',
    '<%= config.bin %> <%= command.id %> --config serve.yaml',
  ]

  static override flags = {
    all: Flags.boolean({default: false, description: 'when listing: ended blocks too'}),
    config: Flags.string({char: 'c', description: 'the serve config (YAML): its database and models are read', helpValue: 'FILE', required: true}),
    'device-key': Flags.string({description: 'block the device with this device key id (sha3-384, as serve log shows it)', helpValue: 'ID'}),
    model: Flags.string({description: 'only in this model (default: every model of the config)', helpValue: 'BRAND/MODEL'}),
    reason: Flags.string({description: 'why: kept with the block and in the refusal log', helpValue: 'TEXT'}),
  }

  static override summary = 'Refuse any further serial to a device, by serial or device key; or list the blocks.'

  async run(): Promise<BlockOutcome | {blocks: DeviceBlock[]}> {
    const {args, flags} = await this.parse(ServeBlock)
    const [{blockDevice, describeBlock, listBlocks, loadImportConfig}, {terminalSafe}, {UserError}] = await Promise.all([
      import('../../../../service/index.js'),
      import('../../../../support/echo.js'),
      import('../../../../errors.js'),
    ])
    const config = loadImportConfig(flags.config)
    if (args.serial === undefined && flags['device-key'] === undefined) {
      const blocks = await listBlocks(config, flags.all)
      this.log(blocks.length === 0 ? (flags.all ? 'no device was ever blocked' : 'no device is blocked') : blocks.map((b) => terminalSafe(describeBlock(b))).join('\n'))
      return {blocks}
    }

    if (flags.reason === undefined) throw new UserError('E_SERVE_BLOCK', 'a block needs a reason', {hint: 'give --reason "…": why the device is refused, for whoever reads the log later'})
    const outcome = await blockDevice(config, {deviceKey: flags['device-key'], model: flags.model, serial: args.serial}, flags.reason)
    this.log(terminalSafe(`${outcome.kind === 'held' ? 'already blocked' : 'blocked'}: ${describeBlock(outcome.block)}`))
    return outcome
  }
}
