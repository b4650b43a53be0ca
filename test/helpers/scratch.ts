/**
 * Scratch directories for tests, made under the system's temporary directory and removed whatever
 * the tests did: `scratchDir` for a whole test file, `freshDir` for one test (or one run inside a
 * test) that needs a directory of its own.
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

const fresh: string[] = []
let removing = false

/**
 * A new, empty directory named after `prefix`, removed when the test file's process ends (node's
 * test runner runs each file in a process of its own, which ends after the file's tests). Call it
 * anywhere: in a test, a hook or a helper.
 */
export function freshDir(prefix: string): string {
  if (!removing) process.on('exit', removeFresh)
  removing = true
  const dir = mkdtempSync(join(tmpdir(), prefix))
  fresh.push(dir)
  return dir
}

function removeFresh(): void {
  for (const dir of fresh.splice(0)) {
    try {
      rmSync(dir, {force: true, recursive: true})
    } catch {
      // Left behind (a test made it unremovable): the process is ending either way.
    }
  }
}
