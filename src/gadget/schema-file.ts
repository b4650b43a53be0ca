/** The shipped JSON Schema of gadget.yaml (schemas/gadget.schema.json), for editors. */
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {writeNewFile} from '../support/output-file.js'

/** Absolute path of the schema in the installed package. */
const gadgetSchemaPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas', 'gadget.schema.json')

export function gadgetSchemaText(): string {
  return readFileSync(gadgetSchemaPath, 'utf8')
}

/** Writes the schema to `file`; an existing file is kept unless `force`. Returns the path written. */
export function writeSchema(file: string, options: {cwd?: string; force?: boolean} = {}): string {
  return writeNewFile(file, gadgetSchemaText(), options)
}
