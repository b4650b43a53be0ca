/** The shipped JSON Schema of gadget.yaml (schemas/gadget.schema.json), for editors. */
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {ioError, UserError} from '../errors.js'

/** Absolute path of the schema in the installed package. */
export const gadgetSchemaPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas', 'gadget.schema.json')

export function gadgetSchemaText(): string {
  return readFileSync(gadgetSchemaPath, 'utf8')
}

/** Writes the schema to `file`; an existing file is kept unless `force`. Returns the path written. */
export function writeSchema(file: string, options: {cwd?: string; force?: boolean} = {}): string {
  const path = resolve(options.cwd ?? process.cwd(), file)
  if (existsSync(path) && !options.force) {
    throw new UserError('E_EXISTS', `${file} already exists`, {file, hint: 'pass --force to overwrite it, or choose another --output', kind: 'usage'})
  }

  try {
    writeFileSync(path, gadgetSchemaText())
  } catch (error) {
    throw ioError(file, error, 'write')
  }

  return path
}
