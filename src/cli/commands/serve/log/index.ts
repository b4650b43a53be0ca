import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import type {SigningLogEntry} from '../../../../service/index.js'

export default class ServeLog extends BaseCommand {
  static override description = `Lists the serial assertions the device service signed, newest first: when, brand and model, serial, revision (0 for a first issue, one more for each time the same device asked again) and the sha3-384 id of the device key each one certifies. Reads the database the config names; the service may be running.`

  static override enableJsonFlag = true

  static override examples = ['<%= config.bin %> <%= command.id %> --config serve.yaml', '<%= config.bin %> <%= command.id %> --config serve.yaml --serial ACME-000123 --json']

  static override flags = {
    brand: Flags.string({description: 'only this brand'}),
    config: Flags.string({char: 'c', description: 'the serve config (YAML)', helpValue: 'FILE', required: true}),
    limit: Flags.integer({description: 'at most this many entries', min: 1}),
    model: Flags.string({description: 'only this model'}),
    serial: Flags.string({description: 'only this serial'}),
  }

  static override summary = 'List the serials the device service signed.'

  async run(): Promise<{entries: SigningLogEntry[]}> {
    const {flags} = await this.parse(ServeLog)
    const {describeEntry, loadServiceDatabase, readSigningLog} = await import('../../../../service/index.js')
    const entries = await readSigningLog({database: loadServiceDatabase(flags.config)}, {brand: flags.brand, limit: flags.limit, model: flags.model, serial: flags.serial})
    if (!this.jsonEnabled()) this.log(entries.length === 0 ? 'no serials signed yet' : entries.map((e) => describeEntry(e)).join('\n'))
    return {entries}
  }
}
