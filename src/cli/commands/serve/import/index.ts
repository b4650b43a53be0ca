import {Args, Flags} from '@oclif/core'

import {UserError} from '../../../../errors.js'
import {BaseCommand} from '../../../base-command.js'
import type {IdentityImport, SerialsImport} from '../../../../service/index.js'

export default class ServeImport extends BaseCommand {
  static override args = {
    files: Args.string({description: 'hardware-identity assertion files (what hardware-identity sign wrote)'}),
  }

  static override description = `Imports hardware-identity assertions into the database the config names, for the models that onboard their devices by hardware identity (onboarding: hardware-identity): a device then registers by signing the request-id with its hardware key, without an api-key.

Every identity is checked first: it decodes as snapd decodes it, its key is one snapd verifies a request-id signature with, its issuer is accepted by a model (the brand, or an account of the model's issuers:), and it is signed by an account-key of the issuer that a chain of the config holds, valid now. Then all are imported or none: an identity already held is left as it is (importing the same file again is harmless); a key held under another hardware id, or a hardware id held with another key, stops the import (exit 1) with nothing written.

--serials FILE imports the factory's list of serials into the allowlists of the models that issue serials from one (serials: allowlist): a CSV file with a header line (a serial column, and brand and model columns or a model column as BRAND/MODEL), or JSON lines ({"serial": …, "model": "BRAND/MODEL"}); rows that name no model take --model. Every row is checked first, then all are imported in one transaction or none; a serial on the list already is left as it is.

Needs neither the api-keys nor the signing keys of the config: a station may run it where only the database is at hand. serve may be running: a device refused with "hardware identity not imported yet" or "not on the model's allowlist" registers on its next attempt.`

  static override enableJsonFlag = true

  static override examples = [
    '<%= config.bin %> <%= command.id %> --config serve.yaml identities.assert',
    'PGPASSWORD=… <%= config.bin %> <%= command.id %> --config serve.yaml line-1/*.assert --json',
    '<%= config.bin %> <%= command.id %> --config serve.yaml --serials line-1-serials.csv',
    '<%= config.bin %> <%= command.id %> --config serve.yaml --serials serials.jsonl --model acme/acme-pc',
  ]

  static override flags = {
    config: Flags.string({char: 'c', description: 'the serve config (YAML): its database, models and issuers are read', helpValue: 'FILE', required: true}),
    model: Flags.string({dependsOn: ['serials'], description: 'with --serials: the model of the rows that name none', helpValue: 'BRAND/MODEL'}),
    serials: Flags.string({description: "a list of serials for models' allowlists (CSV with a header, or JSON lines); may be given more than once", helpValue: 'FILE', multiple: true}),
  }

  static override strict = false

  static override summary = "Import hardware-identity assertions, or lists of serials for models' allowlists."

  async run(): Promise<IdentityImport | SerialsImport> {
    const {argv, flags} = await this.parse(ServeImport)
    const [{importAllowedSerials, importHardwareIdentities, loadImportConfig}, {terminalSafe}] = await Promise.all([import('../../../../service/index.js'), import('../../../../support/echo.js')])
    const files = argv as string[]
    if (flags.serials !== undefined) {
      if (files.length > 0) throw new UserError('E_USAGE', 'give --serials or hardware-identity files, not both', {hint: 'run serve import once for each'})
      const result = await importAllowedSerials(loadImportConfig(flags.config), flags.serials, {model: flags.model})
      for (const warning of result.warnings) this.logToStderr(terminalSafe(`warning: ${warning}`))
      const held = result.models.map((m) => `${m.model} ${m.held}`).join(', ')
      this.log(
        terminalSafe(
          `${result.database}: ${result.imported} ${result.imported === 1 ? 'serial' : 'serials'} added to allowlists${result.unchanged > 0 ? `, ${result.unchanged} on them already` : ''}${held === '' ? '' : `; they hold ${held}`}`,
        ),
      )
      return result
    }

    if (files.length === 0) throw new UserError('E_USAGE', 'nothing to import', {hint: 'give hardware-identity assertion files, or --serials FILE'})
    const result = await importHardwareIdentities(loadImportConfig(flags.config), files)
    this.log(
      terminalSafe(
        `${result.database}: ${result.imported} hardware ${result.imported === 1 ? 'identity' : 'identities'} imported${result.unchanged > 0 ? `, ${result.unchanged} held already` : ''}; it holds ${result.held}`,
      ),
    )
    return result
  }
}
