/**
 * Runs JavaScript under Debian's own Node for arm64 and armhf through qemu-user-static (no
 * binfmt), via scripts/arm-node.sh, which keeps the sysroots in .cache/arm/<arch>/.
 *
 *     test('bundle on arm64', async (t) => {
 *       if (!(await requireArm(t, 'arm64'))) return
 *       const result = await runOnArm('arm64', [bundle, '--dry-run'])
 *       assert.equal(result.code, 0, result.stderr)
 *     })
 *
 * In CI (CI=true) a machine that cannot run ARM Node fails the test; elsewhere the test is skipped
 * with the reason, but only when this user cannot prepare it (not root and tools missing).
 */
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import type {TestContext} from 'node:test'

import {runProcess} from './cli.js'
import {projectRoot} from './paths.js'

export type ArmArch = 'arm64' | 'armhf'
export const ARM_ARCHES: readonly ArmArch[] = ['arm64', 'armhf']
/** `process.arch` as the Node of each Debian architecture reports it. */
export const NODE_ARCH: Record<ArmArch, string> = {arm64: 'arm64', armhf: 'arm'}

const script = join(projectRoot, 'scripts', 'arm-node.sh')

export interface ArmAvailability {
  /** ARM Node can run now, or this user can prepare it. */
  ok: boolean
  /** Already prepared: runs start at once. */
  ready: boolean
  /** What the script said: the state, or what is missing and how to get it. */
  reason: string
}

/** Whether ARM Node for `arch` is ready, can be prepared by this user, or cannot (and why). */
export function armAvailable(arch: ArmArch): ArmAvailability {
  const result = spawnSync('bash', [script, 'status', arch], {encoding: 'utf8'})
  const reason = `${result.stdout}${result.stderr}`.trim() || `arm-node.sh status exited ${result.status}`
  if (result.status === 0) return {ok: true, ready: true, reason}
  if (result.status === 10) return {ok: true, ready: false, reason}
  return {ok: false, ready: false, reason}
}

/** Downloads and unpacks the sysroot once (cached); throws with the script's output on failure. */
export async function prepareArm(arch: ArmArch): Promise<void> {
  const result = await run('bash', [script, 'prepare', arch], {timeoutMs: 600_000})
  if (result.code !== 0) throw new Error(`scripts/arm-node.sh prepare ${arch} failed (exit ${result.code}):\n${result.stderr}`)
}

/** In CI, ARM runs are mandatory. */
export function armRequired(): boolean {
  return process.env.CI === 'true'
}

/**
 * Prepares ARM Node for a test. Returns false after skipping the test when this machine cannot run
 * it and that is allowed (not CI); throws (fails the test) in CI or when preparing fails.
 */
export async function requireArm(t: TestContext, arch: ArmArch): Promise<boolean> {
  const availability = armAvailable(arch)
  if (!availability.ok) {
    if (armRequired()) throw new Error(`ARM Node for ${arch} is required in CI but unavailable: ${availability.reason}`)
    t.skip(`ARM Node for ${arch} unavailable: ${availability.reason}`)
    return false
  }

  if (!availability.ready) await prepareArm(arch)
  return true
}

export interface ArmRunOptions {
  cwd?: string
  /** Added to the environment (which loses NODE_OPTIONS and the test runner's variables). */
  env?: NodeJS.ProcessEnv
  input?: string
  timeoutMs?: number
}

export interface ArmRunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Wall time of the run, qemu start-up included. */
  ms: number
}

/** Runs `node <args…>` under ARM Node for `arch` (prepared first if needed). */
export function runOnArm(arch: ArmArch, args: string[], options: ArmRunOptions = {}): Promise<ArmRunResult> {
  const env: NodeJS.ProcessEnv = {...process.env, ...options.env}
  // The host's node options (tsx, test runner) mean nothing to, or break, Node 18 on ARM.
  delete env.NODE_OPTIONS
  delete env.NODE_TEST_CONTEXT
  for (const [key, value] of Object.entries(options.env ?? {})) env[key] = value
  return run('bash', [script, 'run', arch, '--', ...args], {...options, env})
}

async function run(command: string, args: string[], options: ArmRunOptions): Promise<ArmRunResult> {
  const started = performance.now()
  const result = await runProcess(command, args, {...options, timeoutMs: options.timeoutMs ?? 120_000})
  return {...result, ms: Math.round(performance.now() - started)}
}
