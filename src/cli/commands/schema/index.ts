import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'

export default class Schema extends BaseCommand {
  static override description = `Prints the JSON Schema (draft 2020-12) of gadget.yaml, for editors.

YAML editors that use yaml-language-server (VS Code's YAML extension, Neovim, JetBrains) pick a schema from a modeline on the first line of the file, which beats the unrelated "gadget.yaml" schema SchemaStore associates with the name:

  # yaml-language-server: $schema=./gadget.schema.json

Save the schema next to gadget.yaml with --output, or point the modeline at the copy in this package.`

  static override examples = ['<%= config.bin %> <%= command.id %> --output gadget.schema.json', '<%= config.bin %> <%= command.id %> > gadget.schema.json']

  static override flags = {
    force: Flags.boolean({description: 'overwrite the --output file if it exists'}),
    output: Flags.string({char: 'o', description: 'write the schema to this file (it is not overwritten without --force)'}),
  }

  static override summary = 'Print the gadget.yaml JSON Schema for editors.'

  async run(): Promise<void> {
    const {flags} = await this.parse(Schema)
    const {writeSchema, gadgetSchemaText} = await import('../../../gadget/schema-file.js')
    if (flags.output) {
      const written = writeSchema(flags.output, {force: flags.force})
      this.logToStderr(`wrote ${written}; add this first line to gadget.yaml:\n# yaml-language-server: $schema=./${flags.output.split('/').pop()}`)
      return
    }

    process.stdout.write(gadgetSchemaText())
  }
}
