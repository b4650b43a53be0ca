/**
 * snapd's newest Go source that Debian packages (2.77: hardware identity, prepare-serial-request)
 * with the Go toolchain it needs, unpacked by scripts/system-deps.sh into .cache/snapd-newest-go/
 * (its env.sh sets GOROOT, GOPATH and GO111MODULE=off). Programs built against it are judged by
 * snapd's own code. Without it a test skips with the reason, except in CI, where it fails.
 */
import {execFile, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import {promisify} from 'node:util'

import {projectRoot} from './paths.js'

export const SNAPD_NEWEST_DIR = join(projectRoot, '.cache', 'snapd-newest-go')

let cached: {env?: NodeJS.ProcessEnv; reason?: string} | undefined

/** The environment of env.sh, or why there is none. */
export function snapdNewest(): {env?: NodeJS.ProcessEnv; reason?: string} {
  cached ??= load()
  return cached
}

function load(): {env?: NodeJS.ProcessEnv; reason?: string} {
  const script = join(SNAPD_NEWEST_DIR, 'env.sh')
  const setUp = 'scripts/system-deps.sh unpacks it with ../shared/tools/snapd-newest-go.sh'
  if (!existsSync(script)) return {reason: `snapd's newest Go source is not in ${SNAPD_NEWEST_DIR} (${setUp})`}
  const printed = spawnSync('bash', ['-c', `. "${script}" && env -0`], {encoding: 'utf8'})
  if (printed.status !== 0) return {reason: `${script} fails: ${printed.stderr}`}
  const env = Object.fromEntries(
    printed.stdout
      .split('\0')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  ) as NodeJS.ProcessEnv
  const snapd = (env.GOPATH ?? '').split(':').find((dir) => existsSync(join(dir, 'src', 'github.com', 'snapcore', 'snapd', 'asserts', 'hardware_identity.go')))
  if (snapd === undefined) return {reason: `no snapd source with asserts/hardware_identity.go on GOPATH ${env.GOPATH} (${setUp})`}
  const go = spawnSync('go', ['version'], {encoding: 'utf8', env})
  if (go.status !== 0) return {reason: `the Go toolchain of ${script} does not run: ${go.stderr}`}
  return {env}
}

/** The environment to build with, or undefined after skipping `t` (in CI: an error). */
export function requireSnapdNewest(t: TestContext): NodeJS.ProcessEnv | undefined {
  const {env, reason} = snapdNewest()
  if (env) return env
  if (process.env.CI === 'true') throw new Error(`snapd's newest Go source is required in CI: ${reason}`)
  t.skip(reason)
  return undefined
}

/** The version of the unpacked snapd source (2.77.1-2), from its package file name. */
export function snapdNewestVersion(): string | undefined {
  const debs = join(SNAPD_NEWEST_DIR, 'sid', 'debs-amd64')
  if (!existsSync(debs)) return undefined
  const listed = spawnSync('ls', [debs], {encoding: 'utf8'}).stdout
  return /golang-github-snapcore-snapd-dev_([^_]+)_all\.deb/.exec(listed)?.[1]
}

/**
 * Builds a single-file Go program in GOPATH mode against that source, once per source and
 * toolchain (the binary is kept in the temporary directory by its digest).
 */
export async function buildSnapdNewestTool(env: NodeJS.ProcessEnv, source: string, name: string): Promise<string> {
  const version = spawnSync('go', ['version'], {encoding: 'utf8', env}).stdout
  const digest = createHash('sha256')
    .update(readFileSync(source))
    .update(version)
    .update(snapdNewestVersion() ?? '')
    .digest('hex')
    .slice(0, 16)
  const dir = join(tmpdir(), 'snap-gadget-go-tools')
  const binary = join(dir, `${name}-${digest}`)
  if (existsSync(binary)) return binary
  mkdirSync(dir, {recursive: true})
  const work = mkdtempSync(join(dir, `${name}-build-`))
  try {
    await promisify(execFile)('go', ['build', '-o', join(work, name), source], {env, timeout: 900_000})
    renameSync(join(work, name), binary)
  } finally {
    rmSync(work, {force: true, recursive: true})
  }

  return binary
}
