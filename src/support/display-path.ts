/** How a file is named in messages and reports. */
import {isAbsolute, relative, sep} from 'node:path'

/**
 * `file` relative to `cwd` when it lies under it, else as given; with forward slashes, so a report
 * reads the same on every system. A relative `file` is already as the user gave it.
 */
export function displayPath(file: string, cwd?: string): string {
  let shown = file
  if (cwd !== undefined && isAbsolute(file)) {
    const rel = relative(cwd, file)
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) shown = rel
  }

  return shown.split(sep).join('/').replaceAll('\\', '/')
}
