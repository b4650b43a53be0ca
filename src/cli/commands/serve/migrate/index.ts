import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import type {MigrationResult} from '../../../../service/index.js'

export default class ServeMigrate extends BaseCommand {
  static override description = `Creates the device service's tables in the database the config names, or brings them to this snap-gadget's schema version; a database already up to date is left as it is.

On PostgreSQL, run it once before starting instances of a new version (or start one instance with serve --migrate): instances refuse a schema older than theirs rather than change it while others serve. Migrations take a lock in the database, so two runs at once apply each step once. A SQLite file is migrated when serve opens it.`

  static override enableJsonFlag = true

  static override examples = ['<%= config.bin %> <%= command.id %> --config serve.yaml', 'PGPASSWORD=… <%= config.bin %> <%= command.id %> --config serve.yaml --json']

  static override flags = {
    config: Flags.string({char: 'c', description: 'the serve config (YAML); only its database is read', helpValue: 'FILE', required: true}),
  }

  static override summary = "Create or upgrade the device service's database schema."

  async run(): Promise<{database: string} & MigrationResult> {
    const {flags} = await this.parse(ServeMigrate)
    const {describeDatabase, loadServiceDatabase, migrateDatabase} = await import('../../../../service/index.js')
    const location = loadServiceDatabase(flags.config)
    const result = await migrateDatabase(location)
    const database = describeDatabase(location)
    if (!this.jsonEnabled()) {
      this.log(result.applied.length === 0 ? `${database} is at schema version ${result.to}: nothing to do` : `${database}: schema version ${result.from} → ${result.to} (${result.applied.join('; ')})`)
    }

    return {database, ...result}
  }
}
