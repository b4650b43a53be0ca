/**
 * device register with a gadget that onboards by hardware identity (init --onboarding
 * hardware-identity): its prepare-serial-request hook runs as snapd 2.74 and later run it, with
 * the request-id serve issued, and the factory's timeline is walked against serve: the first
 * attempt is refused until the station's export is certified and imported, and the next one, with
 * the same device directory (the same hardware key), gets the serial.
 */
import assert from 'node:assert/strict'
import {chmodSync, existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {certifyHardwareIdentities} from '../../src/identity/certify.js'
import {readStationExports} from '../../src/identity/station-export.js'
import {loadServiceConfig, type RunningService, startDeviceService} from '../../src/service/index.js'
import {type DeviceOptions, readGadgetTree, readModel, readTrust, registerDevice, registerFleet, SerialPattern} from '../../src/simulate/index.js'
import {freshDir, scratchDir} from '../helpers/scratch.js'
import {generate, hardwareFor} from '../scaffold/helpers.js'
import {makeRoot, removeRoot} from '../serial/helpers/root.js'
import {GATE_API_KEY, type HardwareLab, makeHardwareLab} from '../service/hardware-lab.js'
import {API_KEY, brandKey} from '../service/helpers.js'
import {chain, signLabModel} from './helpers.js'

const scratch = scratchDir('snap-gadget-register-hardware-')
let lab: HardwareLab
let service: RunningService
let gadget: string
let gadgetName: string
let root: string
let modelFile: string
let trustFile: string

before(async () => {
  const made = await generate('pc-amd64', 'core24', {deviceService: 'local', onboarding: 'hardware-identity'})
  gadget = made.dir
  gadgetName = made.plan.name
  root = await makeRoot(hardwareFor('pc-amd64').tree)
  modelFile = join(scratch, 'model.assert')
  writeFileSync(modelFile, `${signLabModel(gadgetName).text}\n${chain.account.text}\n${chain.accountKey.text}`)
  trustFile = join(scratch, 'root.assert')
  writeFileSync(trustFile, `${chain.trusted[0].text}\n${chain.trusted[1].text}`)
  lab = makeHardwareLab()
  service = await startDeviceService(loadServiceConfig(lab.config, {env: {GATE_API_KEY, LAB_API_KEY: API_KEY}}), {version: 'test'})
})

after(async () => {
  await service?.close()
  await removeRoot(root)
})

function deviceOptions(extra: Partial<DeviceOptions> = {}): DeviceOptions {
  return {
    engine: {command: process.execPath, kind: 'node'},
    gadget: readGadgetTree(gadget),
    keyBits: 2048,
    model: readModel(modelFile),
    root,
    trusted: readTrust([trustFile]),
    url: service.url,
    ...extra,
  }
}

const checksOf = (result: {checks: {check: string; status: string}[]}): string[] => result.checks.map((c) => `${c.check}:${c.status}`)

describe('a hardware-identity gadget', () => {
  test('the factory timeline: refused until the identity is imported, then the serial is the hardware id', async () => {
    const deviceDir = freshDir('snap-gadget-device-dir-')
    const first = await registerDevice(deviceOptions({deviceDir}))
    assert.equal(first.verdict, 'refused', first.message)
    assert.equal(first.serviceCode, 'hardware-identity-unknown')
    assert.match(first.message ?? '', /hardware identity not imported yet/)
    assert.deepEqual(checksOf(first), ['hook:passed', 'request-id:passed', 'hook:passed', 'serial-status:failed'])

    // What stays on the device: the key in ubuntu-save (0600), the export for the station.
    const save = join(deviceDir, 'var', 'lib', 'snapd', 'save', 'snap', gadgetName)
    const exported = join(deviceDir, 'var', 'snap', gadgetName, 'common', 'hardware-identity.json')
    assert.ok(existsSync(exported), 'the export for the factory station')
    const keyFile = join(save, 'hardware-identity.key')
    assert.equal(statSync(keyFile).mode & 0o777, 0o600)
    const key = readFileSync(keyFile)

    // The station: certify the export, and the service imports it.
    const rows = readStationExports([exported]).rows
    assert.equal(rows.length, 1)
    const {text} = certifyHardwareIdentities(rows, {hardwareName: 'acme-pc', issuerId: 'acme', key: brandKey, manufacturer: 'Acme Devices Ltd.'})
    const identities = join(scratch, 'identities.assert')
    writeFileSync(identities, text)
    await lab.import([identities])

    const second = await registerDevice(deviceOptions({deviceDir}))
    assert.equal(second.verdict, 'accepted', second.message)
    assert.equal(second.serial?.serial, rows[0].hardwareId)
    assert.deepEqual(readFileSync(keyFile), key, 'prepare-device never makes the key again')
    // The body snapd sends is the object the hook set, as snapd keeps it (Go's encoding).
    const sent = second.steps.find((s) => s.kind === 'exchange' && s.exchange.endpoint === 'serial')
    assert.ok(sent?.kind === 'exchange')
    const request = (sent.exchange.sent ?? '').split('\n\n')
    const body = JSON.parse(request[1]) as Record<string, string>
    assert.deepEqual(Object.keys(body).sort(), ['hardware-id-key', 'hardware-id-key-sha3-384', 'hardware-id-key-sha384', 'request-id-signature'])
    assert.equal(
      request[1],
      `{${Object.keys(body)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${JSON.stringify(body[k])}`)
        .join(',')}}`,
    )
  })

  test('without --device-dir the data lives only as long as the registration: a new key each time', async () => {
    const result = await registerDevice(deviceOptions())
    assert.equal(result.serviceCode, 'hardware-identity-unknown', result.message)
  })

  test('a hook that fails, or leaves a body snapd cannot take, ends the attempt with snapd’s words', async () => {
    const cases: [string, RegExp][] = [
      ['exit 3', /^failed to run prepare serial request hook: cannot run prepare serial request hook: run hook "prepare-serial-request": .*exit status 3/],
      ['snapctl unset registration.body', /^failed to run prepare serial request hook: cannot get updated registration body: snap "[^"]+" has no "registration.body" configuration option$/],
      [
        `snapctl set registration.body='"a string"'`,
        /cannot unmarshal registration body as JSON \(hook did not overwrite or wrote incorrectly\?\): json: cannot unmarshal string into Go value of type map\[string\]interface \{\}$/,
      ],
      [`snapctl set registration.body='{"request-id-signature": "x"}'`, /'prepare-serial-request' hook did not set mandatory field "hardware-id-key-sha384" in registration body$/],
    ]
    for (const [script, message] of cases) {
      const {dir} = await generate('pc-amd64', 'core24', {deviceService: 'local', onboarding: 'hardware-identity'})
      const hook = join(dir, 'snap', 'hooks', 'prepare-serial-request')
      writeFileSync(hook, `#!/bin/sh\n${script}\n`)
      chmodSync(hook, 0o755)
      const result = await registerDevice(deviceOptions({gadget: readGadgetTree(dir)}))
      assert.equal(result.verdict, 'refused', script)
      assert.equal(result.decidedBy, 'hook', script)
      assert.match(result.message ?? '', message, script)
    }
  })

  test('a fleet of them is refused before any device registers', async () => {
    await assert.rejects(registerFleet({...deviceOptions(), concurrency: 2, count: 2, serialPattern: new SerialPattern('ACME-{n}')}), /onboards by hardware identity/)
  })
})
