/**
 * The simulator's SDK on loopback: a device of a gadget made by `init`, its real prepare-device
 * hook on Node over the captured UP board, registering with `serve` started in-process (accepted;
 * an issued serial refused for another device; a wrong api-key; no trusted root), and with crafted
 * services for each of snapd's decisions on the answer, in snapd's words. Then many devices: a
 * serial pattern, a hardware template.
 */
import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import type {RunningService} from '../../src/service/index.js'
import {
  exchangeSerial,
  prepareSimulatedDevice,
  type PreparedDevice,
  readGadgetTree,
  readModel,
  registerDevice,
  registerFleet,
  type RegistrationResult,
  type RegistrationStep,
  RootTemplate,
  SerialPattern,
} from '../../src/simulate/index.js'
import {hardwareFor} from '../scaffold/helpers.js'
import {addToRoot} from '../serial/helpers/root.js'
import {AGREEMENT_CASES, API_KEY, chain, craftedService, labDeviceOptions, makeSimulationLab, type SimulationLab, signLabModel, startLabServe} from './helpers.js'

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

const checksOf = (result: RegistrationResult): string[] => result.checks.map((c) => `${c.check}:${c.status}`)

describe('one device with serve', () => {
  test('is accepted: every step reported as it happens, every check of snapd passed in its order, no secret in the result', async () => {
    const steps: RegistrationStep[] = []
    const result = await registerDevice(labDeviceOptions(lab, {onStep: (s) => steps.push(s), url: serve.url}))
    assert.equal(result.verdict, 'accepted', result.message)
    assert.equal(result.serial?.serial, lab.serial)
    assert.equal(result.serial?.authority, 'acme')
    assert.deepEqual(checksOf(result), [
      'hook:passed',
      'request-id:passed',
      'serial-status:passed',
      'serial-stream:passed',
      'one-serial:passed',
      'device-identity:passed',
      'serial-authority:passed',
      'signing-chain:passed',
    ])
    assert.deepEqual(
      steps.map((s) => (s.kind === 'exchange' ? `exchange:${s.exchange.endpoint}:${s.exchange.status}` : s.kind === 'check' ? `check:${s.check.check}` : s.kind)),
      [
        'device-key',
        'hook',
        'check:hook',
        'exchange:request-id:200',
        'check:request-id',
        'exchange:serial:200',
        'check:serial-status',
        'check:serial-stream',
        'check:one-serial',
        'check:device-identity',
        'check:serial-authority',
        'check:signing-chain',
      ],
    )
    const hook = steps.find((s) => s.kind === 'hook')
    assert.ok(hook?.kind === 'hook')
    assert.deepEqual(
      hook.hook.calls.map((c) => c.argv[0]),
      ['get', 'is-connected', 'set'],
    )
    assert.equal(hook.hook.config?.proposedSerial, lab.serial)
    assert.deepEqual(hook.overrides, [`device-service.url: ${serve.url} (the hook set http://127.0.0.1:8642/v1/)`])
    const serial = steps.find((s) => s.kind === 'exchange' && s.exchange.endpoint === 'serial')
    assert.ok(serial?.kind === 'exchange')
    assert.deepEqual(
      serial.exchange.headers.map(([name]) => name),
      ['User-Agent', 'Snap-Device-Capabilities', 'Api-Key', 'Content-Type'],
    )
    assert.match(serial.exchange.sent ?? '', /^type: serial-request\n/)
    assert.doesNotMatch(JSON.stringify(result), new RegExp(API_KEY))
    assert.match(JSON.stringify(result), /<api-key>/)
  })

  test('a second device proposing the same serial is refused with the message serve sends', async () => {
    const result = await registerDevice(labDeviceOptions(lab, {url: serve.url}))
    assert.equal(result.verdict, 'refused')
    assert.equal(result.decidedBy, 'serial-status')
    assert.equal(result.serviceCode, 'serial-taken')
    assert.match(result.message ?? '', new RegExp(`^cannot deliver device serial request: serial ${lab.serial} of acme/acme-pc was issued to another device key`))
  })

  test('a wrong api-key ends at request-id with the message serve sends', async () => {
    const result = await registerDevice(labDeviceOptions(lab, {apiKey: 'not-the-lab-key', url: serve.url}))
    assert.equal(result.verdict, 'refused')
    assert.equal(result.decidedBy, 'request-id')
    assert.match(result.message ?? '', /^cannot retrieve request-id for making a request for a serial: the api-key is not one this service knows/)
  })

  test('without a trusted root the chain is checked only as far as the stream goes: unverified', async () => {
    const result = await registerDevice(labDeviceOptions(lab, {proposedSerial: 'LAB-UNROOTED', trusted: [], url: serve.url}))
    assert.equal(result.verdict, 'unverified')
    assert.equal(result.checks.at(-1)?.status, 'skipped')
    assert.match(result.message ?? '', /no trusted root was given \(--trust\), so whether the device trusts test-root is not checked/)
  })

  test("a plug reported as not connected fails the hook, in snapd's words, and nothing is sent", async () => {
    const result = await registerDevice(labDeviceOptions(lab, {disconnected: ['hardware-observe'], url: serve.url}))
    assert.equal(result.verdict, 'refused')
    assert.equal(result.decidedBy, 'hook')
    assert.match(result.message ?? '', /^run hook "prepare-device": /)
    assert.match(result.message ?? '', /hardware-observe/)
    assert.equal(result.steps.filter((s) => s.kind === 'exchange').length, 0)
  })
})

describe("snapd's decisions on crafted answers", () => {
  let prepared: PreparedDevice
  before(async () => {
    prepared = await prepareSimulatedDevice(labDeviceOptions(lab))
  })

  /** The lab device, its hook's values, against `url`. */
  const against = (url: string, extra: Partial<Parameters<typeof exchangeSerial>[1]> = {}): Promise<RegistrationResult> => exchangeSerial({...prepared, config: {...prepared.config!, url}}, labDeviceOptions(lab, extra))

  const expected: Record<string, [RegistrationResult['verdict'], string | RegExp]> = {
    '202 accepted, poll': ['poll', 'Will poll for device serial assertion in 60 seconds'],
    '4xx with a message': ['refused', 'cannot deliver device serial request: Serial vault refused the request: model not enabled'],
    '4xx with a message snapd does not show': ['refused', 'cannot deliver device serial request: unexpected status 403'],
    '500': ['refused', 'cannot deliver device serial request: unexpected status 500'],
    '5xx': ['retry', 'cannot deliver device serial request: unexpected status 503'],
    'accepted serial': ['accepted', ''],
    'accepted serial alone (the signing key from the seed)': ['accepted', ''],
    'broken chain': ['refused', /^cannot accept stream of assertions from device service: cannot resolve prerequisite assertion: account-key \([\w-]{64}\)$/],
    'signer allowed by serial-authority': ['accepted', ''],
    'signer not allowed': ['refused', 'obtained serial assertion is signed by authority "acme-partner" different from brand "acme" without model assertion with serial-authority set to to allow for them'],
    'two serials': ['refused', 'cannot accept more than a single device serial assertion from the device service'],
    'wrong brand': ['refused', /^obtained serial assertion does not match provided device identity information \(brand, model, key id\): acme-other \/ acme-pc \/ /],
    'wrong device key': ['refused', /^obtained serial assertion does not match provided device identity information \(brand, model, key id\): acme \/ acme-pc \/ [\w-]{64} != acme \/ acme-pc \/ /],
    'wrong model': ['refused', /^obtained serial assertion does not match provided device identity information \(brand, model, key id\): acme \/ acme-pc-other \/ /],
  }
  for (const crafted of AGREEMENT_CASES) {
    test(crafted.name, async () => {
      const service = await craftedService(crafted.serial)
      try {
        let model = undefined
        if (crafted.partnerAllowed) {
          const file = join(lab.dir, 'partner-model.assert')
          writeFileSync(file, [signLabModel(lab.gadgetName, {'serial-authority': ['acme-partner']}).text, chain.account.text, chain.accountKey.text].join('\n'))
          model = readModel(file)
        }

        const result = await against(service.url, model ? {model} : {})
        const [verdict, message] = expected[crafted.name]
        assert.equal(result.verdict, verdict, result.message)
        if (message instanceof RegExp) assert.match(result.message ?? '', message)
        else assert.equal(result.message ?? '', message)
        assert.equal(service.requests.length, 1)
      } finally {
        await service.close()
      }
    })
  }

  test('the request-id answer: not JSON is retried, no request-id refused, a number for it retried', async () => {
    for (const [body, verdict, message] of [
      ['<html>', 'retry', 'cannot read response with request-id for making a request for a serial: invalid character "<" looking for beginning of value'],
      ['{"other": 1}', 'refused', 'assertion serial-request: "request-id" header should not be empty'],
      ['{"request-id": 7}', 'retry', 'cannot read response with request-id for making a request for a serial: json: cannot unmarshal number into Go struct field requestIDResp.request-id of type string'],
    ] as const) {
      const service = await craftedService(
        () => ({body: '', status: 500}),
        () => ({body, contentType: 'application/json', status: 200}),
      )
      try {
        const result = await against(service.url)
        assert.equal(result.verdict, verdict, body)
        assert.equal(result.message, message)
      } finally {
        await service.close()
      }
    }
  })

  test('an empty stream has no serial; a stream that is not assertions is retried', async () => {
    for (const [body, verdict, message] of [
      ['', 'refused', /^cannot proceed, received assertion stream from the device service missing device serial assertion$/],
      ['not an assertion', 'retry', /^cannot read response to request for a serial: /],
    ] as const) {
      const service = await craftedService(() => ({body, contentType: 'application/x.ubuntu.assertion', status: 200}))
      try {
        const result = await against(service.url)
        assert.equal(result.verdict, verdict)
        assert.match(result.message ?? '', message)
      } finally {
        await service.close()
      }
    }
  })

  test('nothing listening: request-id is retried, as snapd retries a refused connection', async () => {
    const service = await craftedService(() => ({body: '', status: 500}))
    const url = service.url
    await service.close()
    const result = await against(url)
    assert.equal(result.verdict, 'retry')
    assert.match(result.message ?? '', /^cannot retrieve request-id for making a request for a serial: Post "http:\/\/127\.0\.0\.1:\d+\/v1\/request-id": dial tcp 127\.0\.0\.1:\d+: connect: connection refused$/)
  })

  test('redirects are followed as Go follows them, at most 10', async () => {
    let hops = 0
    const target = await craftedService(AGREEMENT_CASES[0].serial)
    const redirecting = createServer((req, res) => {
      hops++
      // 307 keeps the POST and its body.
      res.writeHead(307, {'Content-Length': 0, Location: new URL(req.url!, target.url).toString()})
      res.end()
    })
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(redirecting.address() as {port: number}).port}/v1/`
      const result = await against(url)
      assert.equal(result.verdict, 'accepted', result.message)
      assert.equal(hops, 2)
      const loop = createServer((req, res) => {
        res.writeHead(302, {Location: req.url!, 'Content-Length': 0})
        res.end()
      })
      await new Promise<void>((resolve) => loop.listen(0, '127.0.0.1', resolve))
      try {
        const looping = await against(`http://127.0.0.1:${(loop.address() as {port: number}).port}/v1/`)
        assert.equal(looping.verdict, 'refused')
        assert.match(looping.message ?? '', /: stopped after 10 redirects$/)
      } finally {
        loop.closeAllConnections()
        loop.close()
      }
    } finally {
      redirecting.closeAllConnections()
      redirecting.close()
      await target.close()
    }
  })

  test('a service that never answers is given up after the timeout, and retried as snapd retries it', async () => {
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const result = await against(`http://127.0.0.1:${(silent.address() as {port: number}).port}/v1/`, {limits: {httpTimeoutMs: 300}})
      assert.equal(result.verdict, 'retry')
      assert.match(result.message ?? '', /Client\.Timeout exceeded/)
    } finally {
      silent.closeAllConnections()
      silent.close()
    }
  })
})

describe('a built snap tree with a hand-written hook', () => {
  /** meta/snap.yaml and meta/hooks/prepare-device (a shell script), as unsquashfs lays a gadget out. */
  const builtGadget = (name: string, hook: string): string => {
    const tree = join(lab.dir, name)
    mkdirSync(join(tree, 'meta', 'hooks'), {recursive: true})
    writeFileSync(
      join(tree, 'meta', 'snap.yaml'),
      `name: ${lab.gadgetName}\nversion: '1'\ntype: gadget\nplugs:\n  hw:\n    interface: hardware-observe\nhooks:\n  prepare-device:\n    environment:\n      GREETING: hello-$SNAP_NAME\n`,
    )
    writeFileSync(join(tree, 'meta', 'hooks', 'prepare-device'), `#!/bin/sh\n${hook}\n`)
    chmodSync(join(tree, 'meta', 'hooks', 'prepare-device'), 0o755)
    return tree
  }

  test('an all-digit serial set without quotes: the hook succeeds, and snapd cannot read the option', async () => {
    const tree = builtGadget('digits', `snapctl set device-service.url='"${serve.url}"' registration.proposed-serial=12345678`)
    const result = await registerDevice(labDeviceOptions(lab, {gadget: readGadgetTree(tree)}))
    assert.equal(result.verdict, 'refused')
    assert.equal(result.decidedBy, 'options')
    assert.equal(result.message, `internal error: cannot unmarshal snap "${lab.gadgetName}" option "registration.proposed-serial" into *string: json: cannot unmarshal number into Go value of type string, json: 12345678`)
  })

  test("the hook's environment from snap.yaml, and is-connected for the snap's own plug name", async () => {
    const tree = builtGadget(
      'environment',
      `snapctl is-connected hw || exit 3\nsnapctl set device-service.url='"${serve.url}"' registration.proposed-serial='"'"$GREETING"'"' registration.body='"model: x"'\necho "$SNAP_NAME $SNAP_REVISION" >&2; exit 1`,
    )
    const result = await registerDevice(labDeviceOptions(lab, {gadget: readGadgetTree(tree)}))
    assert.equal(result.verdict, 'refused')
    // A hook that exits non-zero: snapd drops what it set, and shows its output.
    assert.equal(result.message, `run hook "prepare-device": ${lab.gadgetName} x1`)
    const hook = result.steps.find((s) => s.kind === 'hook')
    assert.ok(hook?.kind === 'hook')
    assert.equal(hook.hook.calls[0].status, 0)
    assert.match(hook.hook.calls[1].argv[2], new RegExp(`hello-${lab.gadgetName}`))
  })

  test('a hook that runs past the timeout is killed with its children, as snapd kills it', async () => {
    const tree = builtGadget('slow', 'echo started; sleep 60 & sleep 60')
    const started = performance.now()
    const result = await registerDevice(labDeviceOptions(lab, {gadget: readGadgetTree(tree), limits: {hookTimeoutMs: 500}}))
    assert.ok(performance.now() - started < 20_000)
    assert.equal(result.verdict, 'refused')
    assert.equal(result.message, 'run hook "prepare-device": \n-----\nstarted\n\n<exceeded maximum runtime of 500ms>\n-----')
  })

  test('a gadget without the hook: snapd skips it, and registration goes to the Canonical store, which the simulator does not play', async () => {
    const tree = builtGadget('no-hook', '')
    rmSync(join(tree, 'meta', 'hooks', 'prepare-device'))
    await assert.rejects(registerDevice(labDeviceOptions(lab, {gadget: readGadgetTree(tree)})), {code: 'E_REGISTER_URL'})
    // Pointed at serve: without the hook nothing sets the api-key header.
    const result = await registerDevice(labDeviceOptions(lab, {gadget: readGadgetTree(tree), url: serve.url}))
    assert.equal(result.checks[0].status, 'skipped')
    assert.equal(result.verdict, 'refused')
    assert.match(result.message ?? '', /^cannot retrieve request-id for making a request for a serial: the request has no api-key header/)
  })
})

describe('many devices', () => {
  test('a serial pattern: distinct keys and serials, the hook run once, a summary with rates and percentiles', async () => {
    const summary = await registerFleet({...labDeviceOptions(lab, {url: serve.url}), concurrency: 3, count: 6, serialPattern: new SerialPattern('FLEET-{n:04}')})
    assert.equal(summary.accepted, 6, JSON.stringify(summary.refusals))
    assert.equal(summary.hookRuns, 1)
    assert.deepEqual(
      summary.devices.map((d) => d.serial),
      ['FLEET-0001', 'FLEET-0002', 'FLEET-0003', 'FLEET-0004', 'FLEET-0005', 'FLEET-0006'],
    )
    assert.equal(new Set(summary.devices.map((d) => d.keyId)).size, 6)
    assert.ok(summary.registrationsPerSecond > 0)
    assert.ok(summary.latencyMs.p50 > 0 && summary.latencyMs.p50 <= summary.latencyMs.p99 && summary.latencyMs.p99 <= summary.latencyMs.max)
  })

  test('the same serials again: every device refused, grouped under the reason serve gave', async () => {
    const summary = await registerFleet({...labDeviceOptions(lab, {url: serve.url}), concurrency: 2, count: 3, serialPattern: new SerialPattern('FLEET-{n:04}')})
    assert.equal(summary.accepted, 0)
    assert.deepEqual(
      summary.refusals.map((r) => [r.verdict, r.reason, r.count]),
      [['refused', 'serial-taken', 3]],
    )
  })

  test('a hardware template: each device reads its own serial from its own root', async () => {
    const template = join(lab.dir, 'template')
    mkdirSync(template)
    const tree = hardwareFor('pc-amd64').tree
    await addToRoot(template, tree)
    const serialFile = join(template, 'sys/devices/virtual/dmi/id/product_serial')
    chmodSync(serialFile, 0o600)
    writeFileSync(serialFile, 'TPL{n:03}\n')
    chmodSync(serialFile, 0o400)
    const summary = await registerFleet({...labDeviceOptions(lab, {url: serve.url}), concurrency: 2, count: 3, rootTemplate: RootTemplate.read(template)})
    assert.equal(summary.accepted, 3, JSON.stringify(summary.refusals))
    assert.equal(summary.hookRuns, 3)
    assert.deepEqual(
      summary.devices.map((d) => d.serial),
      ['TPL001', 'TPL002', 'TPL003'],
    )
  })

  test("many at once under the caller's signal: no listener warnings; an abort stops the run", async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name)
    }

    process.on('warning', onWarning)
    try {
      const signal = new AbortController().signal
      const summary = await registerFleet({...labDeviceOptions(lab, {url: serve.url}), concurrency: 12, count: 12, serialPattern: new SerialPattern('WIDE-{n:04}'), signal})
      assert.equal(summary.accepted, 12, JSON.stringify(summary.refusals))
      await new Promise((resolve) => setImmediate(resolve))
      assert.deepEqual(warnings, [])
    } finally {
      process.off('warning', onWarning)
    }

    const stop = new AbortController()
    await assert.rejects(
      registerFleet({
        ...labDeviceOptions(lab, {url: serve.url}),
        concurrency: 1,
        count: 3,
        onProgress: (p) => p.phase === 'register' && stop.abort(),
        serialPattern: new SerialPattern('STOP-{n}'),
        signal: stop.signal,
      }),
      {code: 'E_USAGE', message: 'stopped before every device registered'},
    )
  })

  test('N devices need N serials', async () => {
    await assert.rejects(registerFleet({...labDeviceOptions(lab, {url: serve.url}), concurrency: 2, count: 2}), {code: 'E_REGISTER_PATTERN'})
    assert.throws(() => new SerialPattern('ACME-1'), {code: 'E_REGISTER_PATTERN'})
    assert.throws(() => new SerialPattern('ACME-{m}-{n}'), {code: 'E_REGISTER_PATTERN'})
    assert.equal(new SerialPattern('ACME-{n:06}').serial(42), 'ACME-000042')
  })
})
