/**
 * The factory timelines of hardware-identity onboarding, end to end on this machine: the gadget's
 * hooks from the built bundle on QuickJS (as the device runs them, with a recording snapctl), snapd's
 * side played step by step as devicestate does it (request-id, the hook, the serial-request signed
 * by the device key with the body snapd stored), the station's `snap-gadget hardware-identity sign`
 * and `snap-gadget serve import` run as commands on the device's export, and a real `serve` on
 * loopback in hardware-identity mode.
 *
 * 1. First boot in the factory makes the key and exports it; the first attempt comes before the
 *    station imported it: 403 "hardware identity not imported yet"; the station signs and imports;
 *    snapd's next attempt reruns prepare-device (the key reused, the body unset first) and the hook,
 *    and registers, with the device's serial as the hardware id.
 * 2. The key was made by an earlier factory image and kept in ubuntu-save, and the line imported it
 *    before the production image first boots: the first attempt registers.
 */
import assert from 'node:assert/strict'
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {parseAssertions} from '../../src/assertions/index.js'
import {loadServiceConfig, type RunningService, startDeviceService} from '../../src/service/index.js'
import {runCli} from '../helpers/cli.js'
import {goJson} from '../helpers/hardware.js'
import {GATE_API_KEY, type HardwareLab, HW_MODEL, labModel, makeHardwareLab} from '../service/hardware-lab.js'
import {API_KEY, TestDevice} from '../service/helpers.js'
import {bodyOf, type HookDevice, makeHookDevice, prepareDevice, prepareSerialRequest} from './hardware-device.js'
import {readSnapctlLog} from '../helpers/snapctl.js'

let lab: HardwareLab
let service: RunningService
// Removed when the process ends, after the service is closed.
const work = freshDir('snap-gadget-factory-')

before(async () => {
  lab = makeHardwareLab()
  service = await startDeviceService(loadServiceConfig(lab.config, {env: {GATE_API_KEY, LAB_API_KEY: API_KEY}}), {version: 'test'})
})

after(async () => {
  await service.close()
  rmSync(lab.dir, {force: true, recursive: true})
})

interface Answer {
  status: number
  text: string
}

async function post(path: string, body: string): Promise<Answer> {
  const answer = await fetch(new URL(path, service.url), {body, headers: {'Content-Type': 'application/x.ubuntu.assertion'}, method: 'POST'})
  return {status: answer.status, text: await answer.text()}
}

/**
 * One "Request device serial" step as snapd takes it after prepare-device ran: a request-id
 * (no api-key: the hook set no headers), the prepare-serial-request hook, the serial-request with
 * the body as snapd stored it (Go's json.Marshal of the object) and the proposed serial prepare-device set.
 */
async function requestSerial(device: HookDevice, snapdKey: TestDevice): Promise<Answer> {
  const set = readSnapctlLog(device.log).findLast((call) => call[0] === 'set' && call.some((arg) => arg.startsWith('device-service.url=')))!
  assert.ok(set.includes('device-service.headers!'), 'no api-key, no header at all')
  const serial = JSON.parse(set.find((arg) => arg.startsWith('registration.proposed-serial='))!.slice('registration.proposed-serial='.length)) as string
  const idAnswer = await post('request-id', '')
  assert.equal(idAnswer.status, 200, idAnswer.text)
  const requestId = (JSON.parse(idAnswer.text) as {'request-id': string})['request-id']
  const hook = await prepareSerialRequest(device, requestId, 'quickjs')
  assert.equal(hook.code, 0, hook.stderr)
  const body = goJson(bodyOf(device))
  return post('serial', `${snapdKey.serialRequest(requestId, {body, model: HW_MODEL, serial})}\n${labModel(HW_MODEL)}`)
}

/** The station: `hardware-identity sign` on the device's export, then `serve import`, as commands. */
async function importExport(device: HookDevice, name: string): Promise<void> {
  const assertions = join(work, `${name}.assert`)
  const signed = await runCli([
    'hardware-identity',
    'sign',
    join(device.common, 'hardware-identity.json'),
    '--issuer',
    'acme',
    '--key',
    join(lab.dir, 'serials.pem'),
    '--manufacturer',
    'Acme Devices Ltd.',
    '--hardware-name',
    'acme-gw-r2',
    '--out',
    assertions,
  ])
  assert.equal(signed.code, 0, signed.stderr)
  const imported = await runCli(['serve', 'import', '--config', lab.config, assertions])
  assert.equal(imported.code, 0, imported.stderr)
}

test('the first attempt before the station imported is refused with "hardware identity not imported yet"; after the import the next attempt registers', async () => {
  const device = makeHookDevice('first', {parent: work, serial: 'ACME-F1-0001', url: service.url})
  const snapdKey = new TestDevice()

  // First boot in the factory: the key is made and exported; snapd asks at once.
  const first = await prepareDevice(device, 'quickjs')
  assert.equal(first.code, 0, first.stderr)
  assert.match(first.stdout, /hardware identity key ecdsa-p256 [\w-]{64} \(new\)/)
  const early = await requestSerial(device, snapdKey)
  assert.equal(early.status, 403, early.text)
  const refusal = JSON.parse(early.text) as {code: string; message: string}
  assert.equal(refusal.code, 'hardware-identity-unknown')
  assert.match(refusal.message, /^hardware identity not imported yet: no imported identity has the key /)

  await importExport(device, 'first')

  // snapd's next "Initialize device" change: prepare-device again, then the serial request.
  const second = await prepareDevice(device, 'quickjs')
  assert.equal(second.code, 0, second.stderr)
  assert.match(second.stdout, /\(reused\)/)
  const calls = readSnapctlLog(device.log)
  const rerun = calls.slice(calls.findIndex((call, n) => n > 0 && call[0] === 'unset'))
  assert.deepEqual(rerun[0], ['unset', 'registration.body'], 'the object the last hook left is unset before anything else')
  const later = await requestSerial(device, snapdKey)
  assert.equal(later.status, 200, later.text)
  const [serial] = parseAssertions(later.text)
  assert.equal(serial.headers.serial, 'ACME-F1-0001', "the serial is the device's hardware id")
  assert.equal(serial.headers['device-key-sha3-384'], snapdKey.keyId)
  const exported = JSON.parse(readFileSync(join(device.common, 'hardware-identity.json'), 'utf8')) as Record<string, string>
  assert.equal((JSON.parse(serial.body) as Record<string, string>)['hardware-id-key-sha3-384'], exported['hardware-id-key-sha3-384'], "the serial's body is the hook's proof")
})

test('the key made by an earlier factory image and kept in ubuntu-save, imported before the production image first boots: the first attempt registers', async () => {
  // The factory image: the key is made in ubuntu-save and exported; the line imports it.
  const factory = makeHookDevice('factory-image', {parent: work, serial: 'ACME-F2-0001', url: service.url})
  assert.equal((await prepareDevice(factory, 'quickjs')).code, 0)
  await importExport(factory, 'factory-image')
  const keyFile = readFileSync(join(factory.save, 'hardware-identity.key'))

  // The production image: ubuntu-data is new (SNAP_DATA, SNAP_COMMON), ubuntu-save is the same.
  const production = makeHookDevice('production', {parent: work, save: factory.save, serial: 'ACME-F2-0001', url: service.url})
  const boot = await prepareDevice(production, 'quickjs')
  assert.equal(boot.code, 0, boot.stderr)
  assert.match(boot.stdout, /\(reused\)/)
  assert.deepEqual(readFileSync(join(production.save, 'hardware-identity.key')), keyFile, 'the key is never made again')
  const answer = await requestSerial(production, new TestDevice())
  assert.equal(answer.status, 200, answer.text)
  assert.equal(parseAssertions(answer.text)[0].headers.serial, 'ACME-F2-0001')
})
