/**
 * A test file's scratch directory: made under the system's temporary directory and removed when
 * the file's tests end, whatever they did.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after} from 'node:test'

/** A new directory named after `prefix`, removed after the file's tests. Call it at the top level of a test file. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  after(() => rmSync(dir, {force: true, recursive: true}))
  return dir
}
