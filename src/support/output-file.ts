/** A file a command writes for the user (--output): never over one that exists unless asked, and never half-written. */
import {existsSync, linkSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'

import {ioError, UserError} from '../errors.js'

/**
 * Writes `content` to `file` (relative to `cwd`) through a temporary file beside it; returns the
 * absolute path. Without force the temporary file is linked into place, which fails when the name
 * exists by then, so a file that appears meanwhile is not replaced either.
 */
export function writeNewFile(file: string, content: string | Uint8Array, options: {cwd?: string; force?: boolean} = {}): string {
  const path = resolve(options.cwd ?? process.cwd(), file)
  const exists = () => new UserError('E_EXISTS', `${file} already exists`, {file, hint: 'pass --force to overwrite it, or choose another --output', kind: 'usage'})
  if (existsSync(path) && !options.force) throw exists()
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  try {
    writeFileSync(temporary, content, {flag: 'wx'})
    if (options.force) {
      renameSync(temporary, path)
    } else {
      linkSync(temporary, path)
      rmSync(temporary)
    }
  } catch (error) {
    rmSync(temporary, {force: true})
    if ((error as NodeJS.ErrnoException).code === 'EEXIST' && !options.force) throw exists()
    throw ioError(file, error, 'write')
  }

  return path
}
