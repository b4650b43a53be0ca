import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import type {IdentityImport} from '../../../../service/index.js'

export default class ServeImport extends BaseCommand {
  static override args = {
    files: Args.string({description: 'hardware-identity assertion files (what hardware-identity sign wrote)', required: true}),
  }

  static override description = `Imports hardware-identity assertions into the database the config names, for the models that onboard their devices by hardware identity (onboarding: hardware-identity): a device then registers by signing the request-id with its hardware key, without an api-key.

Every identity is checked first: it decodes as snapd decodes it, its key is one snapd verifies a request-id signature with, its issuer is accepted by a model (the brand, or an account of the model's issuers:), and it is signed by an account-key of the issuer that a chain of the config holds, valid now. Then all are imported or none: an identity already held is left as it is (importing the same file again is harmless); a key held under another hardware id, or a hardware id held with another key, stops the import (exit 1) with nothing written.

Needs neither the api-keys nor the signing keys of the config: a station may run it where only the database is at hand. serve may be running: a device refused with "hardware identity not imported yet" registers on its next attempt.`

  static override enableJsonFlag = true

  static override examples = ['<%= config.bin %> <%= command.id %> --config serve.yaml identities.assert', 'PGPASSWORD=… <%= config.bin %> <%= command.id %> --config serve.yaml line-1/*.assert --json']

  static override flags = {
    config: Flags.string({char: 'c', description: 'the serve config (YAML): its database, models and issuers are read', helpValue: 'FILE', required: true}),
  }

  static override strict = false

  static override summary = 'Import hardware-identity assertions for devices that onboard by hardware identity.'

  async run(): Promise<IdentityImport> {
    const {argv, flags} = await this.parse(ServeImport)
    const [{importHardwareIdentities, loadImportConfig}, {terminalSafe}] = await Promise.all([import('../../../../service/index.js'), import('../../../../support/echo.js')])
    const result = await importHardwareIdentities(loadImportConfig(flags.config), argv as string[])
    this.log(
      terminalSafe(
        `${result.database}: ${result.imported} hardware ${result.imported === 1 ? 'identity' : 'identities'} imported${result.unchanged > 0 ? `, ${result.unchanged} held already` : ''}; it holds ${result.held}`,
      ),
    )
    return result
  }
}
