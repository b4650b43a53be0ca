/**
 * snapd's overlord/devicestate tests with fixtures_test.go, the re-registration and onboarding
 * suites and their shared helpers (OUR_GO_FILES) beside them, built in GOPATH mode like
 * test/service/snapd-registration.test.ts builds its own:
 * a temporary GOPATH entry holds a copy of overlord/ (its own Go files and devicestate/); the rest
 * of snapd resolves from the version's source tree.
 *
 * - 2.57.6: Debian 12's golang-github-snapcore-snapd-dev under /usr/share/gocode, the system Go.
 * - 2.77.1: sid's, unpacked with Go 1.26 by ../shared/tools/snapd-newest-go.sh into a directory
 *   whose env.sh says where (SNAP_GADGET_SNAPD_NEWEST, else .cache/snapd-newest-go here).
 *
 * The binary is cached under node_modules/.cache by a digest of our Go files, Go's version and
 * the snapd source's version; Go's own build cache is GOCACHE when set, else for 2.77 the one
 * beside its source (shared with the other proofs built against it), else a directory in the
 * temporary directory shared with the other Go builds of the tests.
 */
import {spawn, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {projectRoot} from '../../helpers/paths.js'

export type SnapdLine = '2.57' | '2.77'
export const SNAPD_LINES: readonly SnapdLine[] = ['2.57', '2.77']

/**
 * Our Go suites built beside snapd's devicestate tests, one binary per snapd line (each run picks
 * its suite with -check.f): doctor's fixture cases, the re-registration on remodel, and (2.77)
 * secure onboarding with live hooks. Paths are relative to test/.
 */
const OUR_GO_FILES: Record<SnapdLine, readonly string[]> = {
  '2.57': ['service/snapd/compat_2_57_test.go', 'service/snapd/state_text_test.go', 'service/snapd/serve_process_test.go', 'doctor/snapd/fixtures_test.go', 'service/snapd/remodel/rereg_test.go'],
  '2.77': [
    'service/snapd/compat_2_77_test.go',
    'service/snapd/state_text_test.go',
    'service/snapd/serve_process_test.go',
    'doctor/snapd/fixtures_test.go',
    'doctor/snapd/compat_2_77_test.go',
    'service/snapd/remodel/rereg_test.go',
    'service/snapd/onboarding/onboarding_test.go',
  ],
}
const TEST_DIR = join(projectRoot, 'test')
/** How long a test waits for another one building the same binary. */
const BUILD_WAIT_MS = 3_600_000
const SNAPD_PATH = join('src', 'github.com', 'snapcore', 'snapd')

export interface SnapdSource {
  line: SnapdLine
  /** The package version of the source (2.57.6-1+deb12u1, 2.77.1-2). */
  version: string
  /** snapd's source tree. */
  snapd: string
  /** The environment Go runs in: GOPATH, and GOROOT and PATH for a Go of its own. */
  env: NodeJS.ProcessEnv
}

/** Where the newest snapd source was unpacked (snapd-newest-go.sh --dest). */
export function newestDir(): string {
  return process.env.SNAP_GADGET_SNAPD_NEWEST ?? join(projectRoot, '.cache', 'snapd-newest-go')
}

/** The source of a snapd line, or why it is not here. */
export function snapdSource(line: SnapdLine): SnapdSource | string {
  if (line === '2.57') {
    const gopath = '/usr/share/gocode'
    const snapd = join(gopath, SNAPD_PATH)
    const go = spawnSync('go', ['version'], {encoding: 'utf8'})
    if (go.error || go.status !== 0) return 'go is not installed (apt-get install golang-go)'
    if (!existsSync(join(snapd, 'overlord', 'devicestate'))) return `snapd's source is not under ${gopath} (apt-get install golang-github-snapcore-snapd-dev)`
    for (const dep of ['gopkg.in/check.v1', 'gopkg.in/tomb.v2', 'github.com/boltdb/bolt', 'gopkg.in/retry.v1', 'gopkg.in/macaroon.v1']) {
      if (!existsSync(join(gopath, 'src', dep))) return `${dep} is not under ${gopath}/src (scripts/system-deps.sh installs it)`
    }

    const version = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'golang-github-snapcore-snapd-dev'], {encoding: 'utf8'}).stdout.trim()
    return {env: {GOPATH: gopath}, line, snapd, version: version || 'unknown'}
  }

  const dir = newestDir()
  const envFile = join(dir, 'env.sh')
  if (!existsSync(envFile)) return `snapd 2.77's source is not unpacked in ${dir} (../shared/tools/snapd-newest-go.sh --dest ${dir}, or set SNAP_GADGET_SNAPD_NEWEST)`
  const env: NodeJS.ProcessEnv = {}
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const match = /^export (.+)$/.exec(line.trim())
    if (!match) continue
    for (const assignment of match[1].split(/\s+/)) {
      const eq = assignment.indexOf('=')
      if (eq > 0)
        env[assignment.slice(0, eq)] = assignment
          .slice(eq + 1)
          .replaceAll('$PATH', process.env.PATH ?? '')
          .replaceAll('$GOROOT', env.GOROOT ?? '')
    }
  }

  const gopath = (env.GOPATH ?? '').split(':')[0]
  const snapd = join(gopath, SNAPD_PATH)
  if (!existsSync(join(snapd, 'overlord', 'devicestate'))) return `${envFile} names no snapd source (${snapd})`
  const versionFile = readFileSync(join(snapd, 'snapdtool', 'version_generated.go'), 'utf8')
  const version = /Version = "([^"]+)"/.exec(versionFile)?.[1] ?? 'unknown'
  // The env file's GOCACHE (beside the unpacked source) is shared with the other builds against
  // it, unless GOCACHE says otherwise.
  if (process.env.GOCACHE) delete env.GOCACHE
  return {env, line, snapd, version}
}

/** Go's build cache: GOCACHE when set, else the source's own (2.77), else one shared by the tests' Go builds. */
export function goCache(source?: SnapdSource): string {
  return process.env.GOCACHE ?? source?.env.GOCACHE ?? join(tmpdir(), 'snap-gadget-go-cache')
}

/** Go test files built beside snapd's devicestate tests: per snapd line, relative to `dir`; `name` tells the binaries apart. */
/**
 * The devicestate test binary of `source` with our suites, built once per digest of their files;
 * tests running at once wait for the one that builds it.
 */
export async function buildFixtureTests(source: SnapdSource, log: (line: string) => void = () => {}): Promise<string> {
  const env: NodeJS.ProcessEnv = {...process.env, ...source.env, GO111MODULE: 'off', GOCACHE: goCache(source), GOFLAGS: '', GOTOOLCHAIN: 'local'}
  const goVersion = spawnSync('go', ['version'], {encoding: 'utf8', env}).stdout
  const files = OUR_GO_FILES[source.line]
  const hash = createHash('sha256').update(goVersion).update(source.version)
  for (const file of files) hash.update(file).update(readFileSync(join(TEST_DIR, file)))
  const digest = hash.digest('hex').slice(0, 16)
  const cache = join(projectRoot, 'node_modules', '.cache', 'snap-gadget-snapd')
  const prefix = `devicestate-${source.line}-`
  const binary = join(cache, `${prefix}${digest}.test`)
  if (existsSync(binary)) return binary

  mkdirSync(cache, {recursive: true})
  // One build at a time: another test file may be building this very binary.
  const lock = `${binary}.lock`
  const started = Date.now()
  for (;;) {
    try {
      mkdirSync(lock)
      writeFileSync(join(lock, 'pid'), String(process.pid))
      break
    } catch {
      if (existsSync(binary)) return binary
      // A build whose process is gone (killed, timed out) leaves its lock: take it over.
      if (lockOwnerGone(lock)) {
        rmSync(lock, {force: true, recursive: true})
        continue
      }

      if (Date.now() - started > BUILD_WAIT_MS) throw new Error(`${lock} held for ${BUILD_WAIT_MS / 1000} s: remove it if no build runs`)
      await new Promise((resolve) => setTimeout(resolve, 2000))
    }
  }

  if (existsSync(binary)) {
    rmSync(lock, {force: true, recursive: true})
    return binary
  }

  const build = mkdtempSync(join(tmpdir(), 'snap-gadget-devicestate-build-'))
  try {
    const overlord = join(build, 'gopath', SNAPD_PATH, 'overlord')
    // GOPATH mode takes the first entry that has the directory: overlord/ needs its own Go files too.
    mkdirSync(overlord, {recursive: true})
    for (const file of readdirSync(join(source.snapd, 'overlord'))) {
      if (file.endsWith('.go') && !file.endsWith('_test.go')) cpSync(join(source.snapd, 'overlord', file), join(overlord, file))
    }

    cpSync(join(source.snapd, 'overlord', 'devicestate'), join(overlord, 'devicestate'), {recursive: true})
    for (const file of files) cpSync(join(TEST_DIR, file), join(overlord, 'devicestate', `snap_gadget_${file.replaceAll('/', '_')}`))
    const out = join(build, 'devicestate.test')
    log(`building snapd ${source.version}'s devicestate tests with our suites (GOCACHE ${env.GOCACHE})`)
    const result = await run('go', ['test', '-tags', 'nosecboot', '-vet=off', '-c', '-o', out, 'github.com/snapcore/snapd/overlord/devicestate'], {
      cwd: build,
      env: {...env, GOPATH: `${join(build, 'gopath')}:${env.GOPATH ?? ''}`},
      timeout: 3_600_000,
    })
    if (result.code !== 0) throw new Error(`building snapd ${source.version}'s devicestate tests failed:\n${result.output}`)
    renameSync(out, binary)
    for (const file of readdirSync(cache)) {
      if (file.startsWith(prefix) && file.endsWith('.test') && join(cache, file) !== binary) rmSync(join(cache, file), {force: true})
    }
  } finally {
    rmSync(build, {force: true, recursive: true})
    rmSync(lock, {force: true, recursive: true})
  }

  return binary
}

/** Whether the process that took `lock` has ended (a lock without its pid after 10 s counts as ended). */
function lockOwnerGone(lock: string): boolean {
  let pid: number
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'))
  } catch {
    try {
      return Date.now() - statSync(lock).mtimeMs > 10_000
    } catch {
      return false
    }
  }

  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

export function run(command: string, args: readonly string[], options: {cwd: string; env: NodeJS.ProcessEnv; timeout: number}): Promise<{code: null | number; output: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {...options, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, output}))
  })
}
