import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import type {ServiceCheck} from '../../../../service/index.js'

export default class ServeCheck extends BaseCommand {
  static override description = `Says, before the line starts, what would make devices fail to register or silently reject their serial, each problem with its fix:
- each model's signing key is the account-key its chain returns, registered to the brand (or to the account serial-authority: names), and valid now;
- each model assertion the config gives (model-assertion:) is the brand's, of that model, and lists the serial authority when it is not the brand;
- every api-key variable the config names is set;
- the database can be reached and is at this snap-gadget's schema version (serve migrate).
Warnings follow (an empty allowlist, no chain, a key others may read, …). serve makes the same checks when it starts.

Exit 0 when there is no problem, 1 when there is one or more, 2 when the config cannot be read.`

  static override enableJsonFlag = true

  static override examples = ['ACME_PC_API_KEY=… <%= config.bin %> <%= command.id %> --config serve.yaml', 'PGPASSWORD=… <%= config.bin %> <%= command.id %> --config serve.yaml --json']

  static override flags = {
    config: Flags.string({char: 'c', description: 'the serve config (YAML), checked with the environment serve will have', helpValue: 'FILE', required: true}),
  }

  static override summary = 'Check a serve config, its keys and its database before serving.'

  async run(): Promise<ServiceCheck> {
    const {flags} = await this.parse(ServeCheck)
    const [{checkFailure, checkService}, {terminalSafe}] = await Promise.all([import('../../../../service/index.js'), import('../../../../support/echo.js')])
    const result = await checkService(flags.config)
    if (!this.jsonEnabled()) {
      const lines = [...result.warnings.map((w) => `warning: ${w}`), ...result.models.map((m) => `model ${m.name}: onboarding ${m.onboarding.join(' or ')}, serials ${m.serials}`)]
      if (result.database) lines.push(`database ${result.database}: schema version ${result.schema?.found ?? 'none yet'} (this snap-gadget: ${result.schema?.needed ?? '?'})`)
      if (result.problems.length === 0) lines.push('no problem found')
      this.log(terminalSafe(lines.join('\n')))
    }

    // Each problem with its fix, on stderr, and exit 1 (with --json: the error, the problems in its details).
    if (result.problems.length > 0) throw checkFailure(flags.config, result.problems)
    return result
  }
}
