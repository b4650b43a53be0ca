/**
 * Shared by the runtime tests: the environment and directory of a hook run, root trees, the built
 * runtime bundle, Go tools built from source in GOPATH mode (snapd's fake-snapctl, the yaml.v2
 * round-trip program), and identity key files with a fixed seed so that bodies are byte-for-byte
 * predictable. The recording snapctl is in ../helpers/snapctl.ts.
 */
import assert from 'node:assert/strict'
import {execFile, spawn, spawnSync} from 'node:child_process'
import {createHash, createPrivateKey, createPublicKey, sign} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {after, type TestContext} from 'node:test'
import {promisify} from 'node:util'

import {projectRoot, shared} from '../helpers/paths.js'
import {freshDir} from '../helpers/scratch.js'
import {makeRoot, removeRoot, type Tree} from '../serial/helpers/root.js'

/** The runtime of each onboarding mode, as a gadget of that mode ships it (scripts/build.mjs). */
export const BUNDLES = {
  'api-key': join(projectRoot, 'dist', 'runtime', 'prepare-device.cjs'),
  'hardware-identity': join(projectRoot, 'dist', 'runtime', 'prepare-device-hardware-identity.cjs'),
} as const
export type Onboarding = keyof typeof BUNDLES
/**
 * The engines the bundle runs on: Node; Debian trixie's QuickJS 2025.04.26 through
 * scripts/quickjs.sh (what a core22 gadget builds); and `quickjs-2021`, QuickJS 2021.03.27 as
 * Ubuntu 24.04 packages it for core24 gadgets: the same 2025 engine with what 2021.03.27 lacks
 * removed first (test/fixtures/runtime/quickjs-2021.js), or a real 2021.03.27 `qjs` named by
 * $SNAP_GADGET_QJS_2021.
 */
export type Engine = 'node' | 'quickjs' | 'quickjs-2021'
export const ENGINES: readonly Engine[] = ['node', 'quickjs']
export const ALL_ENGINES: readonly Engine[] = [...ENGINES, 'quickjs-2021']
const QUICKJS = join(projectRoot, 'scripts', 'quickjs.sh')
const AS_2021 = join(projectRoot, 'test', 'fixtures', 'runtime', 'quickjs-2021.js')

/**
 * The command line that runs `bundle` on an engine: `node BUNDLE` or `qjs --std BUNDLE`, exactly
 * what a gadget's hook runs (no other qjs option: the 2021 engine of Ubuntu 24.04 knows none of
 * the 2025 one's, and the bundle needs none).
 */
export function engineCommand(which: Engine, bundle: string, arch = 'amd64'): string[] {
  if (which === 'node') return [process.execPath, bundle]
  if (which === 'quickjs-2021') {
    const real = process.env.SNAP_GADGET_QJS_2021
    return real ? [real, '--std', bundle] : ['bash', QUICKJS, 'run', arch, '--', '--std', '--include', AS_2021, bundle]
  }

  return ['bash', QUICKJS, 'run', arch, '--', '--std', bundle]
}

const snapshots = new Map<Onboarding, string>()

/**
 * A copy of the built runtime of `onboarding` mode, taken once per test process: dist/ is shared,
 * and a build started meanwhile must not swap the file between the runs of one test file. Fails
 * with the fix when there is no bundle.
 */
export function requireBundle(onboarding: Onboarding = 'api-key'): string {
  const taken = snapshots.get(onboarding)
  if (taken) return taken
  const bundle = BUNDLES[onboarding]
  assert.ok(existsSync(bundle), `${bundle} is missing: run "node scripts/build.mjs" first`)
  const text = readFileSync(bundle, 'utf8')
  // tsc writes an unbundled file at the same path before esbuild replaces it.
  assert.doesNotMatch(text, /\bfrom\s*["']\.\.?\//, `${bundle} imports relative modules: it is not the bundle (a build is running?)`)
  const snapshot = join(freshDir('snap-gadget-bundle-'), 'prepare-device.cjs')
  writeFileSync(snapshot, text)
  snapshots.set(onboarding, snapshot)
  return snapshot
}

/** The environment of a hook run: nothing of the caller's snap variables, PATH led by `binDir`. */
export function hookEnv(binDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('SNAP') || key === 'MODEL_APIKEY' || key === 'NODE_OPTIONS' || key === 'NODE_TEST_CONTEXT') continue
    env[key] = value
  }

  return {...env, PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, ...extra}
}

/** One hook run's directory under `parent`: SNAP_DATA (`data`, holding `key` as the identity key file when given) and the recording snapctl's log. */
export function hookRunDir(parent: string, key?: KnownKey): {dir: string; log: string; snapData: string} {
  const dir = mkdtempSync(join(parent, 'run-'))
  const snapData = join(dir, 'data')
  mkdirSync(snapData)
  if (key) writeKeyFile(snapData, key)
  return {dir, log: join(dir, 'snapctl.log'), snapData}
}

/** What makes root trees (serial/helpers/root.ts) for a test file, all removed after its tests. Call it at the top level. */
export function fileRoots(): (tree: Tree) => Promise<string> {
  const roots: string[] = []
  after(() => Promise.all(roots.map(removeRoot)))
  return async (tree) => {
    const dir = await makeRoot(tree)
    roots.push(dir)
    return dir
  }
}

export interface RunResult {
  code: null | number
  stdout: string
  stderr: string
}

/** Runs the bundle on an engine, Node by default (the test process's copy of the bundle, unless `bundle` names another). */
export function runBundle(args: readonly string[], options: {bundle?: string; cwd?: string; engine?: Engine; env: NodeJS.ProcessEnv}): Promise<RunResult> {
  const [command, ...prefix] = engineCommand(options.engine ?? 'node', options.bundle ?? requireBundle())
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args], {cwd: options.cwd ?? projectRoot, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stderr, stdout}))
  })
}

// --- identity keys with a known seed ----------------------------------------------------------------

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

export interface KnownKey {
  seed: Buffer
  /** Unpadded base64url of the public key, as the body carries it. */
  publicKey: string
  /** Ed25519 signature by node:crypto (independent of tweetnacl). */
  sign(message: Uint8Array): string
}

export function knownKey(seedHex: string): KnownKey {
  const seed = Buffer.from(seedHex, 'hex')
  const privateKey = createPrivateKey({format: 'der', key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), type: 'pkcs8'})
  const publicKey = createPublicKey(privateKey).export({format: 'jwk'}).x as string
  return {publicKey, seed, sign: (message) => sign(null, message, privateKey).toString('base64url')}
}

/** Writes `key` as the device identity key file (documented format, mode 0600) into `dir`. */
export function writeKeyFile(dir: string, key: KnownKey): string {
  mkdirSync(dir, {recursive: true})
  const file = join(dir, 'device-identity.key')
  const data = {format: 'snap-gadget-identity-key', version: 1, algorithm: 'ed25519', seed: key.seed.toString('base64url'), 'public-key': key.publicKey}
  writeFileSync(file, `${JSON.stringify(data)}\n`, {mode: 0o600})
  chmodSync(file, 0o600)
  return file
}

/**
 * The identity signature over string-only body fields, computed here from the documented rule
 * (domain prefix + canonical JSON with sorted keys), not with the code under test.
 */
export function expectedSignature(key: KnownKey, fields: Record<string, unknown>): string {
  const canonical = (value: unknown): string => {
    if (typeof value === 'string') return JSON.stringify(value)
    if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
    const object = value as Record<string, unknown>
    return `{${Object.keys(object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(object[k])}`)
      .join(',')}}`
  }

  return key.sign(Buffer.from(`snap-gadget-identity-v1\n${canonical(fields)}`, 'utf8'))
}

// --- Go tools, GOPATH mode ----------------------------------------------------------------------------

export const GOPATH = '/usr/share/gocode'

/** Why Go tools cannot be built here, or undefined when they can. */
export function goUnavailable(packages: readonly string[] = ['gopkg.in/yaml.v2']): string | undefined {
  const go = spawnSync('go', ['version'], {encoding: 'utf8'})
  if (go.error || go.status !== 0) return 'go is not installed (apt-get install golang-go)'
  for (const pkg of packages) {
    if (!existsSync(join(GOPATH, 'src', pkg))) return `${pkg} is not under ${GOPATH}/src (apt-get install the Debian golang-…-dev package)`
  }

  return undefined
}

/** Skips the test without Go (fails it in CI, where the tools must be there). */
export function requireGo(t: TestContext, packages?: readonly string[]): boolean {
  const reason = goUnavailable(packages)
  if (reason === undefined) return true
  if (process.env.CI === 'true') throw new Error(`Go tools are required in CI: ${reason}`)
  t.skip(reason)
  return false
}

/**
 * Builds a single-file Go program in GOPATH mode against Debian's packaged sources (nothing is
 * downloaded), once per source text: later calls, also from other test files, reuse the binary.
 */
export async function buildGoTool(source: string, name: string): Promise<string> {
  const version = spawnSync('go', ['version'], {encoding: 'utf8'}).stdout
  const digest = createHash('sha256').update(readFileSync(source)).update(version).digest('hex').slice(0, 16)
  const dir = join(tmpdir(), 'snap-gadget-go-tools')
  const binary = join(dir, `${name}-${digest}`)
  if (existsSync(binary)) return binary
  mkdirSync(dir, {recursive: true})
  const work = mkdtempSync(join(dir, `${name}-build-`))
  try {
    await promisify(execFile)('go', ['build', '-o', join(work, name), source], {
      env: {...process.env, GO111MODULE: 'off', GOCACHE: join(tmpdir(), 'snap-gadget-go-cache'), GOFLAGS: '', GOPATH},
      timeout: 300_000,
    })
    // Rename is atomic: a concurrent build of the same source just replaces it with the same file.
    renameSync(join(work, name), binary)
  } finally {
    rmSync(work, {force: true, recursive: true})
  }

  return binary
}

/**
 * The newest snapd Go source Debian has (sid's, with its Go), unpacked under .cache/snapd-newest-go
 * by scripts/system-deps.sh (../shared/tools/snapd-newest-go.sh): `build` compiles a program
 * against it in GOPATH mode with snapd's nosecboot tag, cached by the source's digest.
 */
export function newestSnapdGo(): {unavailable?: string; build(source: string, name: string): Promise<string>} {
  const dir = join(projectRoot, '.cache', 'snapd-newest-go')
  const envFile = join(dir, 'env.sh')
  const build = async (source: string, name: string): Promise<string> => {
    const env = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .split('\n')
        .map((line) => /^export (\w+)=(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null && m[1] !== 'PATH' && !m[2].includes(' '))
        .map((m) => [m[1], m[2]]),
    )
    const go = join(env.GOROOT, 'bin', 'go')
    const digest = createHash('sha256').update(readFileSync(source)).update(readFileSync(envFile)).digest('hex').slice(0, 16)
    const out = join(tmpdir(), 'snap-gadget-go-tools')
    const binary = join(out, `${name}-${digest}`)
    if (existsSync(binary)) return binary
    mkdirSync(out, {recursive: true})
    const workDir = mkdtempSync(join(out, `${name}-build-`))
    try {
      await promisify(execFile)(go, ['build', '-tags', 'nosecboot', '-o', join(workDir, name), source], {
        env: {...process.env, ...env, GO111MODULE: 'off', GOFLAGS: '', GOTOOLCHAIN: 'local', PATH: `${join(env.GOROOT, 'bin')}:${process.env.PATH}`},
        timeout: 900_000,
      })
      renameSync(join(workDir, name), binary)
    } finally {
      rmSync(workDir, {force: true, recursive: true})
    }

    return binary
  }

  if (!existsSync(envFile)) return {build, unavailable: `the newest snapd Go source is not unpacked (${relative(projectRoot, dir)}: scripts/system-deps.sh makes it with ../shared/tools/snapd-newest-go.sh)`}
  return {build}
}

/** snapd's fake-snapctl (../shared/tools/go), which parses `set` exactly as snapd 2.57.6 does. */
export function fakeSnapctlSource(): string {
  return shared('tools', 'go', 'fake-snapctl.go')
}

/**
 * `snapctl` for a device whose snapd is fake-snapctl: snapd 2.57.6 also reads `key!` in
 * `snapctl set` as unsetting the key (overlord/hookstate/ctlcmd/set.go); fake-snapctl knows only
 * `key=value`, so this removes those keys from its store ($FAKE_SNAPCTL_STORE), as snapd's
 * transaction does, and hands every other argument to it.
 */
export function writeFakeSnapctl(dir: string, fake: string): string {
  mkdirSync(dir, {recursive: true})
  const file = join(dir, 'snapctl')
  const source = `
const {existsSync, readFileSync, writeFileSync} = require('node:fs')
const {spawnSync} = require('node:child_process')
let args = process.argv.slice(2)
if (args[0] === 'set') {
  const unsets = (arg) => !arg.includes('=') && arg.endsWith('!')
  const store = process.env.FAKE_SNAPCTL_STORE
  if (args.some(unsets) && existsSync(store)) {
    const values = JSON.parse(readFileSync(store, 'utf8'))
    for (const arg of args.filter(unsets)) delete values[arg.slice(0, -1)]
    writeFileSync(store, JSON.stringify(values))
  }
  args = args.filter((arg) => !unsets(arg))
}
process.exitCode = spawnSync(${JSON.stringify(fake)}, args, {stdio: 'inherit'}).status ?? 1
`
  writeFileSync(file, `#!${process.execPath}\n${source}`)
  chmodSync(file, 0o755)
  return file
}

export interface SnapdReading {
  key: string
  /** The JSON snapd stored for the option. */
  stored: unknown
  /** The raw stored text (a JSON number shows as bare digits). */
  storedText: string
  ok: boolean
  /** `ok …` value as Go prints it (%#v), or the read error. */
  outcome: string
}

/** The options `fake-snapctl check` reads, in its order. */
const CHECKED_OPTIONS = ['device-service.url', 'device-service.headers', 'registration.proposed-serial', 'registration.body']

/**
 * Parses `fake-snapctl check` output: per option, the stored JSON (indented over several lines
 * for objects) and what snapd's read gave.
 */
export function parseSnapdCheck(output: string): SnapdReading[] {
  const starts = [...output.matchAll(new RegExp(`^ {2}(${CHECKED_OPTIONS.map((o) => o.replace(/\./g, '\\.')).join('|')}) +stored=`, 'gm'))]
  return starts.map((match, n) => {
    const from = match.index! + match[0].length
    const segment = output.slice(from, n + 1 < starts.length ? starts[n + 1].index : output.length)
    // The stored JSON ends at the first " -> " that leaves a complete JSON value (or nothing) before it.
    let at = segment.indexOf(' -> ')
    while (at !== -1 && at !== 0 && !isJson(segment.slice(0, at))) at = segment.indexOf(' -> ', at + 1)
    assert.notEqual(at, -1, `cannot read fake-snapctl output for ${match[1]}: ${segment}`)
    const storedText = segment.slice(0, at)
    const outcome = segment.slice(at + 4).split('\n')[0]
    return {key: match[1], ok: outcome.startsWith('ok '), outcome, stored: storedText === '' ? undefined : JSON.parse(storedText), storedText}
  })
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
