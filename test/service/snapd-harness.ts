/**
 * snapd 2.57.6's overlord/devicestate tests, built from Debian's source
 * (golang-github-snapcore-snapd-dev) with test/service/snapd/registration_test.go beside them: the
 * real DeviceManager, driven by our Go tests. Shared by snapd-registration.test.ts (snapd against
 * `serve`) and test/simulate/agreement.test.ts (snapd's verdicts against the simulator's).
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {projectRoot} from '../helpers/paths.js'
import {GOPATH, goUnavailable} from '../runtime/helpers.js'

const SNAPD = join(GOPATH, 'src', 'github.com', 'snapcore', 'snapd')
const OUR_GO_TEST = join(projectRoot, 'test', 'service', 'snapd', 'registration_test.go')
/** serve as a process for the Go tests, shared with the fixture suites (test/doctor/snapd/build.ts). */
const SERVE_PROCESS = join(projectRoot, 'test', 'service', 'snapd', 'serve_process_test.go')
const NEEDED_GO_SOURCES = ['github.com/snapcore/snapd/overlord/devicestate', 'gopkg.in/check.v1', 'gopkg.in/tomb.v2', 'github.com/boltdb/bolt', 'gopkg.in/retry.v1', 'gopkg.in/macaroon.v1']

/** Why snapd's devicestate tests cannot be built here (undefined when they can); CI must have them. */
export function devicestateUnavailable(): string | undefined {
  const unavailable = goUnavailable(NEEDED_GO_SOURCES)
  if (unavailable !== undefined && process.env.CI === 'true') throw new Error(`snapd's Go source is required in CI: ${unavailable}`)
  return unavailable
}

/**
 * The devicestate test binary with our Go test beside snapd's, built in GOPATH mode from a
 * temporary GOPATH entry holding a copy of overlord/ (its own files and devicestate/; the rest of
 * snapd resolves from Debian's tree). Cached under node_modules/.cache by a digest of our Go files,
 * Go's version and the snapd source's package version.
 */
export async function buildDevicestateTests(): Promise<string> {
  const goVersion = spawnSync('go', ['version'], {encoding: 'utf8'}).stdout
  const snapdVersion = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'golang-github-snapcore-snapd-dev'], {encoding: 'utf8'}).stdout
  const digest = createHash('sha256').update(readFileSync(OUR_GO_TEST)).update(readFileSync(SERVE_PROCESS)).update(goVersion).update(snapdVersion).digest('hex').slice(0, 16)
  const cache = join(projectRoot, 'node_modules', '.cache', 'snap-gadget-snapd')
  const binary = join(cache, `devicestate-${digest}.test`)
  if (existsSync(binary)) return binary

  mkdirSync(cache, {recursive: true})
  const build = mkdtempSync(join(tmpdir(), 'snap-gadget-devicestate-build-'))
  try {
    const overlord = join(build, 'gopath', 'src', 'github.com', 'snapcore', 'snapd', 'overlord')
    // GOPATH mode takes the first entry that has the directory: overlord/ needs its own Go files too.
    mkdirSync(overlord, {recursive: true})
    for (const file of readdirSync(join(SNAPD, 'overlord'))) {
      if (file.endsWith('.go') && !file.endsWith('_test.go')) cpSync(join(SNAPD, 'overlord', file), join(overlord, file))
    }

    cpSync(join(SNAPD, 'overlord', 'devicestate'), join(overlord, 'devicestate'), {recursive: true})
    cpSync(OUR_GO_TEST, join(overlord, 'devicestate', 'snap_gadget_serve_test.go'))
    cpSync(SERVE_PROCESS, join(overlord, 'devicestate', 'snap_gadget_serve_process_test.go'))
    const out = join(build, 'devicestate.test')
    const result = await runProgram('go', ['test', '-tags', 'nosecboot', '-c', '-o', out, 'github.com/snapcore/snapd/overlord/devicestate'], {
      cwd: build,
      env: {...process.env, GO111MODULE: 'off', GOCACHE: join(tmpdir(), 'snap-gadget-go-cache'), GOFLAGS: '', GOPATH: `${join(build, 'gopath')}:${GOPATH}`},
      timeout: 600_000,
    })
    assert.equal(result.code, 0, `building snapd's devicestate tests failed:\n${result.output}`)
    // Rename is atomic: a concurrent build of the same digest just replaces it with the same file.
    renameSync(out, binary)
    // Builds for an older Go test or snapd source are of no more use (30 MB each).
    for (const file of readdirSync(cache)) {
      if (/^devicestate-[\da-f]+\.test$/.test(file) && join(cache, file) !== binary) rmSync(join(cache, file), {force: true})
    }
  } finally {
    rmSync(build, {force: true, recursive: true})
  }

  return binary
}

/** Runs a program to its end, bounded in time; its exit code and its output (stdout and stderr together). */
export function runProgram(command: string, args: readonly string[], options: {cwd: string; env: NodeJS.ProcessEnv; timeout: number}): Promise<{code: null | number; output: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {...options, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, output}))
  })
}
