/**
 * snapd's own registration code against `snap-gadget serve`: snapd 2.57.6's overlord/devicestate
 * tests, built from Debian's source (golang-github-snapcore-snapd-dev) with
 * test/service/snapd/registration_test.go beside them, drive the real DeviceManager through a
 * whole registration on 127.0.0.1. The device's gadget config comes from the prepare-device hook
 * of a gadget made by `init`, run here with a recording snapctl; the Go side replays those calls
 * through snapd's own snapctl. Also: a wrong api-key, a request-id used twice, a model serve does
 * not know, a second device proposing an issued serial, and serve down then up.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {createHash, generateKeyPairSync} from 'node:crypto'
import {chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {binRun, projectRoot} from '../helpers/paths.js'
import {GOPATH, goUnavailable} from '../runtime/helpers.js'
import {assembleSnapTree, generate, hardwareFor, installHookEngine} from '../scaffold/helpers.js'
import {makeRoot, removeRoot} from '../serial/helpers/root.js'

/** Where `init --device-service local` points a gadget: serve on the factory's own machine. */
const LAB_URL = 'http://127.0.0.1:8642/v1/'
const API_KEY = 'lab-api-key-not-secret'
const SNAPD = join(GOPATH, 'src', 'github.com', 'snapcore', 'snapd')
const OUR_GO_TEST = join(projectRoot, 'test', 'service', 'snapd', 'registration_test.go')
const NEEDED_GO_SOURCES = ['github.com/snapcore/snapd/overlord/devicestate', 'gopkg.in/check.v1', 'gopkg.in/tomb.v2', 'github.com/boltdb/bolt', 'gopkg.in/retry.v1', 'gopkg.in/macaroon.v1']

const unavailable = goUnavailable(NEEDED_GO_SOURCES)
if (unavailable !== undefined && process.env.CI === 'true') throw new Error(`snapd's Go source is required in CI: ${unavailable}`)

const work = mkdtempSync(join(tmpdir(), 'snap-gadget-snapd-registration-'))
let testBinary: string
let inputFile: string

after(() => rmSync(work, {force: true, recursive: true}))

describe("snapd's DeviceManager registers with snap-gadget serve", {skip: unavailable}, () => {
  before(async () => {
    // The build takes longest: it runs while the gadget is made and its hook runs.
    const building = buildDevicestateTests()
    inputFile = await gadgetRegistration()
    testBinary = await building
  })

  const cases: [string, string][] = [
    ['the device gets the serial the hook proposed, over the body the hook built, from the brand', 'TestRegistersWithTheHooksValues'],
    ["a wrong api-key fails the change with serve's message", 'TestWrongAPIKeyFailsWithTheServicesMessage'],
    ['a model serve does not know is refused', 'TestUnknownModelIsRefused'],
    ['a second device proposing an issued serial is refused', 'TestSecondDeviceCannotTakeAnIssuedSerial'],
    ['a request-id is used once: snapd given a used one is refused, then registers with a fresh one', 'TestRequestIDIsSingleUse'],
    ['serve down: snapd retries; serve up on that address: the same change registers', 'TestServiceDownThenUpRegisters'],
  ]
  for (const [title, name] of cases) {
    it(title, async () => {
      const run = await runSuite(testBinary, name)
      assert.equal(run.code, 0, run.output)
      assert.match(run.output, new RegExp(`\\nPASS: .*snapGadgetServeSuite\\.${name}\\t`))
      assert.match(run.output, /\nOK: 1 passed\n/)
    })
  }
})

// --- the gadget's side --------------------------------------------------------------------------

/**
 * Makes a pc-amd64 gadget with `init --device-service local`, runs its prepare-device hook (as
 * snapd would, with a recording snapctl whose `get api-key` answers what the factory set) on a
 * captured UP board, and writes what the Go side needs; returns that file.
 */
async function gadgetRegistration(): Promise<string> {
  const {dir, plan} = await generate('pc-amd64', 'core24', {deviceService: 'local', legacyModel: true})
  assert.equal(plan.deviceService.url, LAB_URL)
  const project = join(dir, '..')
  const {tree} = assembleSnapTree(dir, join(project, 'prime'))
  const hardware = hardwareFor('pc-amd64')
  const root = await makeRoot(hardware.tree)
  try {
    // $SNAP/usr/bin/qjs, the hook's interpreter: QuickJS, reading the captured board.
    installHookEngine(tree, root)
    const bin = join(project, 'bin')
    writeFactorySnapctl(bin)
    const log = join(project, 'snapctl.log')
    mkdirSync(join(project, 'data'))
    const hook = spawnSync('sh', [join(tree, 'meta', 'hooks', 'prepare-device')], {
      encoding: 'utf8',
      env: {HOME: project, PATH: `${bin}:/usr/bin:/bin`, SNAP: tree, SNAP_DATA: join(project, 'data'), SNAP_NAME: plan.name, SNAPCTL_API_KEY: API_KEY, SNAPCTL_CONNECTED: plan.plugs.join(','), SNAPCTL_LOG: log},
      timeout: 60_000,
    })
    assert.equal(hook.status, 0, hook.stderr)
    const calls = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string[])
    const sets = calls.filter((argv) => argv[0] === 'set' || argv[0] === 'unset')
    assert.equal(sets.length, 1, JSON.stringify(calls))

    // What the hook set, read here from its argv (each value a JSON literal), not by the code under test.
    const values = new Map(sets[0].slice(1).flatMap((arg) => (arg.includes('=') ? [[arg.slice(0, arg.indexOf('=')), JSON.parse(arg.slice(arg.indexOf('=') + 1)) as unknown]] : [])))
    assert.equal(values.get('device-service.url'), LAB_URL)
    assert.deepEqual(values.get('device-service.headers'), {'api-key': API_KEY})
    assert.equal(values.get('registration.proposed-serial'), hardware.serial)
    const body = values.get('registration.body')
    assert.ok(typeof body === 'string' && body.includes(hardware.serial), String(body))

    const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>
    assert.equal(model.gadget, plan.name)
    const brandKey = join(work, 'brand.pem')
    const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 4096})
    writeFileSync(brandKey, privateKey.export({format: 'pem', type: 'pkcs8'}), {mode: 0o600})

    const input = join(work, 'registration.json')
    const registration = {'api-key': API_KEY, body, 'brand-key': brandKey, 'lab-url': LAB_URL, model, 'proposed-serial': hardware.serial, snapctl: sets}
    writeFileSync(input, `${JSON.stringify(registration, null, 2)}\n`)
    return input
  } finally {
    await removeRoot(root)
    rmSync(project, {force: true, recursive: true})
  }
}

/** A recording snapctl (argv as JSON lines in $SNAPCTL_LOG) whose `get api-key` prints $SNAPCTL_API_KEY, as `snap set <gadget> api-key=…` in the factory. */
function writeFactorySnapctl(dir: string): void {
  mkdirSync(dir, {recursive: true})
  const script = `#!${process.execPath}
const {appendFileSync} = require('node:fs')
const args = process.argv.slice(2)
appendFileSync(process.env.SNAPCTL_LOG, JSON.stringify(args) + '\\n')
if (args[0] === 'get' && args[1] === 'api-key') process.stdout.write(process.env.SNAPCTL_API_KEY || '')
if (args[0] === 'is-connected') process.exit((process.env.SNAPCTL_CONNECTED || '').split(',').includes(args[1]) ? 0 : 1)
`
  writeFileSync(join(dir, 'snapctl'), script)
  chmodSync(join(dir, 'snapctl'), 0o755)
}

// --- snapd's side -------------------------------------------------------------------------------

/**
 * The devicestate test binary with our Go test beside snapd's, built in GOPATH mode from a
 * temporary GOPATH entry holding a copy of overlord/ (its own files and devicestate/; the rest of
 * snapd resolves from Debian's tree). Cached under node_modules/.cache by a digest of our Go file,
 * Go's version and the snapd source's package version.
 */
async function buildDevicestateTests(): Promise<string> {
  const goVersion = spawnSync('go', ['version'], {encoding: 'utf8'}).stdout
  const snapdVersion = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'golang-github-snapcore-snapd-dev'], {encoding: 'utf8'}).stdout
  const digest = createHash('sha256').update(readFileSync(OUR_GO_TEST)).update(goVersion).update(snapdVersion).digest('hex').slice(0, 16)
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
    const out = join(build, 'devicestate.test')
    const result = await run('go', ['test', '-tags', 'nosecboot', '-c', '-o', out, 'github.com/snapcore/snapd/overlord/devicestate'], {
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

/** Runs one test of our suite in the binary, against `node bin/run.js serve`. */
function runSuite(binary: string, name: string): Promise<{code: null | number; output: string}> {
  const scratch = mkdtempSync(join(work, 'run-'))
  return run(binary, ['-test.run', '^TestDeviceManager$', '-check.f', `^snapGadgetServeSuite\\.${name}$`, '-check.v'], {
    cwd: scratch,
    env: {...process.env, SNAP_GADGET_COMMAND: JSON.stringify([process.execPath, binRun]), SNAP_GADGET_REGISTRATION: inputFile, TMPDIR: scratch},
    timeout: 240_000,
  })
}

function run(command: string, args: readonly string[], options: {cwd: string; env: NodeJS.ProcessEnv; timeout: number}): Promise<{code: null | number; output: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {...options, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, output}))
  })
}
