/**
 * `snap-gadget device register` end to end through bin/run.js: a gadget made by `init`, the
 * captured UP board as the hardware root, serve on loopback; the hook on Node and on QuickJS; each
 * step printed as it happens, the verdict and exit code (0 accepted, 1 not, 2 usage), --json,
 * --output, many devices, and a hostile service that cannot drive the terminal.
 */
import assert from 'node:assert/strict'
import {chmodSync, existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {loadServiceConfig, type RunningService, startDeviceService} from '../../src/service/index.js'
import {initLab} from '../../src/simulate/lab.js'
import type {FleetSummary, RegistrationResult} from '../../src/simulate/index.js'
import {runCli} from '../helpers/cli.js'
import {projectRoot} from '../helpers/paths.js'
import {requireQuickJs} from '../helpers/quickjs.js'
import {API_KEY, craftedService, makeSimulationLab, type SimulationLab, startLabServe} from '../simulate/helpers.js'

let lab: SimulationLab
let serve: RunningService

before(async () => {
  lab = await makeSimulationLab()
  serve = await startLabServe(lab)
})

after(async () => {
  await serve.close()
  await lab.cleanup()
})

const env = {LAB_KEY: API_KEY}
const base = (): string[] => ['device', 'register', lab.gadget, '--model', lab.modelFile, '--trust', lab.trustFile, '--root', lab.root, '--api-key-env', 'LAB_KEY', '--key-bits', '2048']
const register = (...args: string[]) => runCli([...base(), ...args], {env, timeoutMs: 240_000})

describe('device register', () => {
  test('on Node: every step as it happens, then the verdict and the serial; exit 0', async () => {
    const run = await register('--url', serve.url, '--engine', 'node')
    assert.equal(run.code, 0, run.stdout + run.stderr)
    const order = [
      /^device key {3}RSA-2048 [\w-]{64}, made in .*\(snapd makes RSA-4096 device keys\)$/m,
      /^hook {9}\$SNAP\/meta\/hooks\/prepare-device: exit 0 in /m,
      /^ {2}snapctl is-connected hardware-observe → connected$/m,
      /^ {4}registration\.proposed-serial {2}"19620608"$/m,
      /^ {2}override device-service\.url: /m,
      /^→ POST http:\/\/127\.0\.0\.1:\d+\/v1\/request-id \(0 bytes\)$/m,
      /^ {4}Api-Key: <api-key>$/m,
      /^← 200 application\/json, 57 bytes, in /m,
      /^✓ request-id {7}200 with request-id [0-9a-f]{40}$/m,
      /^→ POST http:\/\/127\.0\.0\.1:\d+\/v1\/serial \(\d+ bytes: the serial-request, then the model\)$/m,
      /^✓ serial-status {4}200/m,
      /^✓ one-serial {7}one serial: 19620608$/m,
      /^✓ device-identity/m,
      /^✓ serial-authority signed by the brand, acme$/m,
      /^✓ signing-chain {4}signed by account-key [\w-]{64} of acme .*signed by test-root, a trusted root$/m,
      /^accepted: snapd would accept this serial$/m,
      /^type: serial\nauthority-id: acme\nbrand-id: acme\nmodel: acme-pc\nserial: 19620608\n/m,
    ]
    let at = 0
    for (const pattern of order) {
      const found = pattern.exec(run.stdout.slice(at))
      assert.ok(found, `${pattern} after offset ${at} in:\n${run.stdout}`)
      at += found.index + found[0].length
    }

    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(API_KEY))
  })

  test('on QuickJS, as the gadget ships it; --json prints the whole result; --output keeps the serial, never over a file without --force', async (t) => {
    if (!requireQuickJs(t, 'amd64')) return
    const qjs = join(lab.dir, 'qjs')
    writeFileSync(qjs, `#!/bin/sh\nexec bash ${JSON.stringify(join(projectRoot, 'scripts', 'quickjs.sh'))} run amd64 -- "$@"\n`)
    chmodSync(qjs, 0o755)
    const output = join(lab.dir, 'serial.assert')
    const run = await register('--url', serve.url, '--qjs', qjs, '--serial-pattern', 'QJS-{n:03}', '--json', '--output', output)
    assert.equal(run.code, 0, run.stdout + run.stderr)
    const result = JSON.parse(run.stdout) as RegistrationResult
    assert.equal(result.verdict, 'accepted')
    assert.equal(result.serial?.serial, 'QJS-001')
    const hook = result.steps.find((s) => s.kind === 'hook')
    assert.ok(hook?.kind === 'hook')
    // QuickJS read the captured board; the pattern replaced what it proposed.
    assert.equal(hook.hook.exitCode, 0)
    assert.match(hook.hook.output, /proposed serial 19620608/)
    assert.deepEqual(
      hook.overrides.map((o) => o.split(':')[0]),
      ['device-service.url', 'registration.proposed-serial'],
    )
    assert.equal(readFileSync(output, 'utf8'), result.serial?.text)
    assert.doesNotMatch(run.stdout, new RegExp(API_KEY))

    const again = await register('--url', serve.url, '--engine', 'node', '--serial-pattern', 'QJS-{n:03}', '--output', output)
    assert.equal(again.code, 2)
    assert.match(again.stderr, /serial\.assert already exists/)
    assert.equal(again.stdout, '', 'refused before a device registers')
  })

  test("refused by the service: exit 1, the failed check with snapd's words", async () => {
    const run = await register('--url', serve.url, '--engine', 'node')
    assert.equal(run.code, 1, run.stdout + run.stderr)
    assert.match(run.stdout, /^✗ serial-status {4}400: snapd does not retry 4xx and 500 within the attempt/m)
    assert.match(run.stdout, /^ {4}snapd: cannot deliver device serial request: serial 19620608 of acme\/acme-pc was issued to another device key/m)
    assert.match(run.stdout, /^refused: snapd would fail this attempt/m)
  })

  test('many devices: a summary with registrations/s and latency percentiles; no progress bar off a terminal', async () => {
    const run = await register('--url', serve.url, '--engine', 'node', '--count', '4', '--concurrency', '2', '--serial-pattern', 'CLI-{n:04}')
    assert.equal(run.code, 0, run.stdout + run.stderr)
    assert.match(run.stdout, /^4 devices, 2 at a time, RSA-2048 keys \(snapd makes RSA-4096\), the hook run once for all \(serial pattern\)$/m)
    assert.match(run.stdout, /^ {2}accepted +4$/m)
    assert.match(run.stdout, /^registrations\/s {2}\d+\.\d$/m)
    assert.match(run.stdout, /^exchange ms {6}p50 \d+\.\d {2}p90 \d+\.\d {2}p99 \d+\.\d {2}max \d+\.\d$/m)
    assert.doesNotMatch(run.stderr, /\[#/)
    const json = await register('--url', serve.url, '--engine', 'node', '--count', '2', '--serial-pattern', 'CLI-{n:04}', '--json')
    assert.equal(json.code, 1)
    const summary = JSON.parse(json.stdout) as FleetSummary
    assert.deepEqual(
      summary.refusals.map((r) => [r.reason, r.count]),
      [['serial-taken', 2]],
    )
  })

  test('what a hostile service says cannot drive the terminal', async () => {
    const hostile = await craftedService(() => ({body: JSON.stringify({message: 'refused \u001b[2J\u001b]0;owned\u0007 \u202e'}), contentType: 'application/json', status: 400}))
    try {
      const run = await register('--url', hostile.url, '--engine', 'node', '--serial-pattern', 'HOSTILE-{n}')
      assert.equal(run.code, 1)
      assert.doesNotMatch(run.stdout, /\u001b|\u0007|\u202e/)
      assert.match(run.stdout, /snapd: cannot deliver device serial request: refused \\x1b\[2J\\x1b\]0;owned\\x07 \\u202e/)
      const json = await register('--url', hostile.url, '--engine', 'node', '--serial-pattern', 'HOSTILE-{n}', '--json')
      assert.equal(json.code, 1)
      assert.doesNotMatch(json.stdout, /\u001b|\u0007|\u202e/)
      assert.match((JSON.parse(json.stdout) as RegistrationResult).message ?? '', /refused \u001b\[2J\u001b\]0;owned\u0007 \u202e$/)
    } finally {
      await hostile.close()
    }
  })

  test("a lab made by lab init, as its README runs it: the gadget as an argument, the api-key from the lab's file", async () => {
    const made = join(lab.dir, 'lab')
    const result = await initLab({directory: made})
    const config = loadServiceConfig(join(made, 'serve.yaml'), {env: {LAB_API_KEY: readFileSync(join(made, 'api-key'), 'utf8').trim()}})
    // A free port instead of the lab's own, which the gadget's hook names (--url replaces it).
    const service = await startDeviceService({...config, listen: {host: '127.0.0.1', port: 0}}, {version: 'test'})
    try {
      const run = await runCli(
        [
          'device',
          'register',
          result.gadget,
          '--model',
          'model.assert',
          '--trust',
          'assertions/trusted.assert',
          '--api-key-file',
          'api-key',
          '--root',
          lab.root,
          '--url',
          service.url,
          '--engine',
          'node',
          '--key-bits',
          '2048',
        ],
        {cwd: made, timeoutMs: 240_000},
      )
      assert.equal(run.code, 0, run.stdout + run.stderr)
      assert.match(run.stdout, /^✓ signing-chain {4}signed by account-key [\w-]{64} of acme .*signed by lab-root, a trusted root/m)
      assert.doesNotMatch(run.stdout, new RegExp(readFileSync(join(made, 'api-key'), 'utf8').trim()))
    } finally {
      await service.close()
    }
  })

  test('usage and input errors exit 2 and say what to fix', async () => {
    const cases: [string[], RegExp][] = [
      [['device', 'register', lab.gadget], /Missing required flag model/],
      [[...base(), '--engine', 'python'], /Expected --engine=python to be one of: auto, qjs, node/],
      [['device', 'register', lab.gadget, '--model', lab.modelFile, '--api-key-env', 'NOT_SET_ANYWHERE'], /the environment variable NOT_SET_ANYWHERE is not set/],
      [['device', 'register', lab.gadget, '--model', lab.modelFile, '--api-key-env', 'LAB_KEY', '--api-key-file', lab.modelFile], /--api-key-file=[^]*cannot also[^]*be provided when using --api-key-env/],
      [[...base(), '--qjs', join(lab.dir, 'no-such-qjs')], /no-such-qjs is not an executable file/],
      [['device', 'register', lab.dir, '--model', lab.modelFile], /is neither a gadget project \(snap\/snapcraft\.yaml\) nor a built snap tree/],
      [[...base(), '--count', '3'], /3 devices need 3 serials, and nothing makes them differ/],
      [[...base(), '--serial-pattern', 'NO-PLACEHOLDER'], /has no \{n\}: every device would propose the same serial/],
      [['device', 'register', lab.gadget, '--model', lab.trustFile], /holds 0 model assertions/],
      [[...base(), '--count', '2', '--serial-pattern', 'ACME-{n}', '--device-dir', join(lab.dir, 'devices')], /--device-dir holds one device's data directories: it takes one device/],
      [[...base(), '--device-dir', lab.modelFile], /model\.assert is not a directory/],
    ]
    for (const [args, message] of cases) {
      const run = await runCli(args, {env, timeoutMs: 120_000})
      assert.equal(run.code, 2, `${args.join(' ')}\n${run.stdout}${run.stderr}`)
      assert.match(run.stderr, message, args.join(' '))
    }

    const other = join(lab.dir, 'other-model.json')
    writeFileSync(other, JSON.stringify({type: 'model'}))
    const json = await runCli(['device', 'register', lab.gadget, '--model', other], {env})
    assert.equal(json.code, 2)
    assert.match(json.stderr, /is a model input \(JSON\), not a signed model assertion/)
    assert.ok(!existsSync(join(lab.dir, 'serial.json')))
  })
})
