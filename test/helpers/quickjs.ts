/**
 * Runs the runtime bundle under Debian trixie's QuickJS for amd64, arm64 and armhf (ARM through
 * qemu-user-static), via scripts/quickjs.sh, which keeps the unpacked packages in
 * .cache/quickjs/<arch>/. CI (system-deps.sh) has apt-get, dpkg and qemu, so there these runs are
 * mandatory; elsewhere a machine that cannot fetch the packages skips with the reason.
 */
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import type {TestContext} from 'node:test'

import {projectRoot} from './paths.js'

export type QuickJsArch = 'amd64' | 'arm64' | 'armhf'
export const QUICKJS_ARCHES: readonly QuickJsArch[] = ['amd64', 'arm64', 'armhf']
const script = join(projectRoot, 'scripts', 'quickjs.sh')

/** Prepares QuickJS for `arch` (cached); false after skipping the test when this machine cannot, outside CI. */
export function requireQuickJs(t: TestContext, arch: QuickJsArch): boolean {
  const status = spawnSync('bash', [script, 'status', arch], {encoding: 'utf8'})
  if (status.status === 3) {
    if (process.env.CI === 'true') throw new Error(`QuickJS for ${arch} is required in CI but unavailable: ${status.stdout}${status.stderr}`)
    t.skip(`QuickJS for ${arch} unavailable: ${status.stdout.trim()}`)
    return false
  }

  if (status.status !== 0) {
    const prepared = spawnSync('bash', [script, 'prepare', arch], {encoding: 'utf8', timeout: 600_000})
    if (prepared.status !== 0) throw new Error(`scripts/quickjs.sh prepare ${arch} failed (exit ${prepared.status}):\n${prepared.stderr}`)
  }

  return true
}

/** The command line that runs `qjs --std` with `args` on `arch`. */
export function quickJsCommand(arch: QuickJsArch, args: readonly string[]): string[] {
  return ['bash', script, 'run', arch, '--', '--std', ...args]
}
