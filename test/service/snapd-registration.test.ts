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
import {spawnSync} from 'node:child_process'
import {generateKeyPairSync} from 'node:crypto'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'

import {binRun} from '../helpers/paths.js'
import {assembleSnapTree, generate, hardwareFor, installHookEngine} from '../scaffold/helpers.js'
import {makeRoot, removeRoot} from '../serial/helpers/root.js'
import {buildDevicestateTests, devicestateUnavailable, runProgram} from './snapd-harness.js'
import {freshDir, scratchDir} from '../helpers/scratch.js'
import {readSnapctlLog, writeRecordingSnapctl} from '../helpers/snapctl.js'

/** Where `init --device-service local` points a gadget: serve on the factory's own machine. */
const LAB_URL = 'http://127.0.0.1:8642/v1/'
const API_KEY = 'lab-api-key-not-secret'
const unavailable = devicestateUnavailable()

const work = scratchDir('snap-gadget-snapd-registration-')
let testBinary: string
let inputFile: string

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
    // `get api-key` answers what the factory set (`snap set <gadget> api-key=…`): $SNAPCTL_GET_api_key.
    writeRecordingSnapctl(bin, {unset: 'empty'})
    const log = join(project, 'snapctl.log')
    mkdirSync(join(project, 'data'))
    const hook = spawnSync('sh', [join(tree, 'meta', 'hooks', 'prepare-device')], {
      encoding: 'utf8',
      env: {HOME: project, PATH: `${bin}:/usr/bin:/bin`, SNAP: tree, SNAP_DATA: join(project, 'data'), SNAP_NAME: plan.name, SNAPCTL_GET_api_key: API_KEY, SNAPCTL_CONNECTED: plan.plugs.join(','), SNAPCTL_LOG: log},
      timeout: 60_000,
    })
    assert.equal(hook.status, 0, hook.stderr)
    const calls = readSnapctlLog(log)
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

/** Runs one test of our suite in the binary, against `node bin/run.js serve`. */
function runSuite(binary: string, name: string): Promise<{code: null | number; output: string}> {
  const scratch = freshDir('snap-gadget-snapd-registration-run-')
  return runProgram(binary, ['-test.run', '^TestDeviceManager$', '-check.f', `^snapGadgetServeSuite\\.${name}$`, '-check.v'], {
    cwd: scratch,
    env: {...process.env, SNAP_GADGET_COMMAND: JSON.stringify([process.execPath, binRun]), SNAP_GADGET_REGISTRATION: inputFile, TMPDIR: scratch},
    timeout: 240_000,
  })
}
