/**
 * prepareDevice, the logic the runtime, the SDK and the command share: the exact snapctl calls
 * for a board tree, every failure path (and that it sets nothing then), dry runs, the identity key
 * (kept, reused, 0600, SNAP_SAVE_DATA first) and a body that fails verification once tampered.
 */
import assert from 'node:assert/strict'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {parse} from 'yaml'

import {freshDir} from '../helpers/scratch.js'
import {UserError} from '../../src/errors.js'
import {checkRegistrationConfig} from '../../src/device/config.js'
import {verifyIdentity} from '../../src/identity/verify.js'
import {prepareDevice, type PrepareDeviceOptions, type PrepareDeviceResult} from '../../src/device/prepare.js'
import type {SnapctlRunner} from '../../src/device/snapctl.js'
import {shared} from '../helpers/paths.js'
import {expectedSignature, fileRoots, knownKey, writeKeyFile} from '../runtime/helpers.js'
import {dtString, dtStrings, type Tree} from '../serial/helpers/root.js'

const root = fileRoots()
const snapDataDir = () => freshDir('snap-gadget-prepare-')
const HW = (...parts: string[]) => readFileSync(shared('fixtures', 'hardware', ...parts))
const KEY = knownKey('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')

// A Pi 4 whose firmware put an all-digit serial into the device tree (about 1 board in 43 has
// only decimal digits in its serial); the value is the reference's example, not a capture.
const PI_TREE: Tree = {
  '/proc/cpuinfo': HW('raspberry-pi-4b', 'cpuinfo.no-rpi-lines'),
  '/sys/firmware/devicetree/base/compatible': dtStrings('raspberrypi,4-model-b', 'brcm,bcm2711'),
  '/sys/firmware/devicetree/base/model': dtString('Raspberry Pi 4 Model B Rev 1.5'),
  '/sys/firmware/devicetree/base/serial-number': dtString('1000000012345678'),
}

const PI_CONFIG = {
  body: {facts: ['board-model', 'serial-source'], fields: {line: 'kiosk-2'}},
  deviceService: {preset: 'serial-vault'},
  headers: {'api-key': {env: 'MODEL_APIKEY'}},
  serial: {board: 'raspberry-pi'},
}

interface Recorder {
  calls: string[][]
  run: SnapctlRunner
}

/** An in-memory snapctl: records argv; connected plugs answer 0; `fail` makes that subcommand exit 1. */
function recorder(connected: readonly string[] = ['hardware-observe', 'network-observe', 'i2c'], fail?: string): Recorder {
  const calls: string[][] = []
  const run: SnapctlRunner = (args) => {
    calls.push([...args])
    if (args[0] === 'is-connected') return {status: connected.includes(args[1]) ? 0 : 1, stderr: '', stdout: ''}
    if (args[0] === fail) return {status: 1, stderr: 'error: cannot communicate with server: timeout\n', stdout: ''}
    return {status: 0, stderr: '', stdout: ''}
  }

  return {calls, run}
}

async function prepare(config: unknown, tree: Tree, options: Partial<PrepareDeviceOptions> & {env?: NodeJS.ProcessEnv} = {}): Promise<PrepareDeviceResult> {
  const {env, ...rest} = options
  return prepareDevice({
    config: checkRegistrationConfig(config, {file: 'registration.json'}),
    env: {MODEL_APIKEY: 'test-api-key', SNAP_DATA: snapDataDir(), SNAP_NAME: 'pi', ...env},
    root: await root(tree),
    ...rest,
  })
}

async function failure(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof UserError) return error
    throw error
  }

  return assert.fail('prepareDevice succeeded')
}

describe('the calls for a board', () => {
  it('Raspberry Pi with an all-digit serial: the exact argv, the serial a JSON string', async () => {
    const snapData = snapDataDir()
    writeKeyFile(snapData, KEY)
    const snapctl = recorder()
    const result = await prepare(PI_CONFIG, PI_TREE, {env: {SNAP_DATA: snapData}, snapctl: snapctl.run})

    const unsigned = {
      serial: '1000000012345678',
      'board-model': 'Raspberry Pi 4 Model B Rev 1.5',
      'serial-source': 'devicetree-serial',
      line: 'kiosk-2',
      'identity-scheme': 'snap-gadget-identity-v1',
      'identity-key': KEY.publicKey,
    }
    const body = [
      '"serial": "1000000012345678"',
      '"board-model": "Raspberry Pi 4 Model B Rev 1.5"',
      '"serial-source": "devicetree-serial"',
      '"line": "kiosk-2"',
      '"identity-scheme": "snap-gadget-identity-v1"',
      `"identity-key": "${KEY.publicKey}"`,
      `"identity-signature": "${expectedSignature(KEY, unsigned)}"`,
      '',
    ].join('\n')
    assert.deepEqual(snapctl.calls, [
      ['is-connected', 'hardware-observe'],
      [
        'set',
        'device-service.url="https://serial-vault-partners.canonical.com/v1/"',
        'device-service.headers={"api-key":"test-api-key"}',
        'registration.proposed-serial="1000000012345678"',
        `registration.body=${JSON.stringify(body)}`,
      ],
    ])
    assert.equal(result.body.text, body)
    assert.deepEqual(
      result.calls.map((c) => c.argv),
      snapctl.calls,
    )
    assert.deepEqual(result.identity, {created: false, ephemeral: false, keyFile: join(snapData, 'device-identity.key'), publicKey: KEY.publicKey})
    assert.deepEqual(result.plugs, [
      {connected: true, interface: 'hardware-observe', neededBy: ['devicetree-serial', 'devicetree-serial[system/linux,serial]', 'devicetree-serial[chosen/rpi-duid]', 'body fact board-model'], plug: 'hardware-observe'},
    ])
    assert.equal(result.serial.entry, 'devicetree-serial')
    assert.deepEqual(result.headers, [{env: 'MODEL_APIKEY', name: 'api-key'}])
    assert.doesNotMatch(JSON.stringify(result), /test-api-key/, 'the api-key is not in the serialised result')
  })

  it("checks every interface the chain and the facts need, under the gadget's plug names", async () => {
    const snapctl = recorder(['hw', 'net-observe'])
    const config = {...PI_CONFIG, body: {facts: ['mac-addresses']}, plugs: {'hardware-observe': 'hw', 'network-observe': 'net-observe'}}
    await prepare(config, PI_TREE, {snapctl: snapctl.run})
    assert.deepEqual(
      snapctl.calls.filter((c) => c[0] === 'is-connected'),
      [
        ['is-connected', 'hw'],
        ['is-connected', 'net-observe'],
      ],
    )
  })

  it('unsets the headers and the proposed serial, in the same set call, when the config does not set them', async () => {
    const snapctl = recorder()
    await prepare({deviceService: {preset: 'custom', url: 'http://localhost:8080/v1/'}, identity: false, proposedSerial: false, serial: {board: 'raspberry-pi'}}, PI_TREE, {snapctl: snapctl.run})
    assert.deepEqual(snapctl.calls.slice(1), [
      ['set', 'device-service.url="http://localhost:8080/v1/"', 'registration.body="\\"serial\\": \\"1000000012345678\\"\\n"', 'device-service.headers!', 'registration.proposed-serial!'],
    ])
  })

  it('carries hostile values exactly into argv and body', async () => {
    const hostile = ['"quoted" \'single\'', 'line\nbreak\r\n', '$(reboot) `id` ${HOME}', 'unicode héllo ✓ 日本語', 'emoji 😀 👩‍👩‍👧', '\\ back\\slash \u0000 \u007F \u0085 \u2028']
    const fields = Object.fromEntries(hostile.map((v, i) => [`f${i}`, v]))
    const headers = Object.fromEntries(hostile.filter((v) => !/[\n\r\u0000\u007F]/.test(v)).map((v, i) => [`x-h${i}`, v]))
    const apiKey = '$(cat /etc/shadow)"`id`\'✓😀'
    const snapctl = recorder()
    const result = await prepare({...PI_CONFIG, body: {fields}, headers: {...headers, 'api-key': {env: 'MODEL_APIKEY'}}}, PI_TREE, {env: {MODEL_APIKEY: apiKey}, snapctl: snapctl.run})
    const set = snapctl.calls.find((c) => c[0] === 'set')!
    const option = (key: string) => JSON.parse(set.find((a) => a.startsWith(`${key}=`))!.slice(key.length + 1)) as unknown
    assert.deepEqual(option('device-service.headers'), {...headers, 'api-key': apiKey})
    const body = option('registration.body') as string
    assert.equal(body, result.body.text)
    const parsed = parse(body, {version: '1.1'}) as Record<string, string>
    for (const [name, value] of Object.entries(fields)) assert.equal(parsed[name], value)
    assert.equal(verifyIdentity(parsed).valid, true)
  })
})

describe('failures: a reason, and nothing set', () => {
  const noSet = (snapctl: Recorder) =>
    assert.deepEqual(
      snapctl.calls.filter((c) => c[0] !== 'is-connected'),
      [],
      'no option was set',
    )

  it('a plug that is not connected names the plug and how to connect it', async () => {
    const snapctl = recorder([])
    const error = await failure(prepare(PI_CONFIG, PI_TREE, {snapctl: snapctl.run}))
    assert.equal(error.code, 'E_PLUG_NOT_CONNECTED')
    assert.equal(error.kind, 'failed')
    assert.match(error.message, /^the gadget's plug hardware-observe \(for devicetree-serial, .*body fact board-model\) is not connected/)
    assert.match(error.hint ?? '', /gadget\.yaml "connections: \[\{plug: <gadget snap id>:hardware-observe\}\]"/)
    assert.match(error.hint ?? '', /snap connect pi:hardware-observe/)
    noSet(snapctl)
  })

  it('several missing plugs are named together', async () => {
    const snapctl = recorder(['hardware-observe'])
    const error = await failure(prepare({...PI_CONFIG, serial: {board: 'beaglebone'}}, PI_TREE, {snapctl: snapctl.run}))
    assert.match(error.message, /plug network-observe \(for mac\) is not connected/)
    const both = await failure(prepare({...PI_CONFIG, plugs: {'network-observe': 'net'}, serial: {board: 'beaglebone'}}, PI_TREE, {snapctl: recorder([]).run}))
    assert.match(both.message, /plugs hardware-observe \(for beaglebone-eeprom, body fact board-model\) and net \(network-observe, for mac\) are not connected/)
  })

  it('no serial source: every source tried, and why', async () => {
    const snapctl = recorder()
    const error = await failure(prepare(PI_CONFIG, {'/proc/cpuinfo': HW('raspberry-pi-2b', 'cpuinfo.pytorch-no-serial')}, {snapctl: snapctl.run}))
    assert.equal(error.code, 'E_SERIAL_NONE')
    assert.match(error.message, /cpuinfo-serial: absent: \/proc\/cpuinfo has no Serial line/)
    noSet(snapctl)
  })

  it('a placeholder is never registered, and nothing else stands in for it', async () => {
    const snapctl = recorder()
    const error = await failure(prepare({...PI_CONFIG, serial: {board: 'generic-arm'}}, {'/proc/cpuinfo': HW('hardkernel-odroid-u2', 'cpuinfo')}, {snapctl: snapctl.run}))
    assert.equal(error.code, 'E_SERIAL_NONE')
    assert.match(error.message, /cpuinfo-serial: refused: placeholder/)
    noSet(snapctl)
  })

  it('a missing header variable fails before anything runs', async () => {
    const snapctl = recorder()
    const error = await failure(prepare(PI_CONFIG, PI_TREE, {env: {MODEL_APIKEY: undefined}, snapctl: snapctl.run}))
    assert.equal(error.code, 'E_HEADER_ENV')
    assert.match(error.message, /MODEL_APIKEY is not set/)
    assert.deepEqual(snapctl.calls, [])
  })

  it('snapctl failing is an error', async () => {
    const error = await failure(prepare(PI_CONFIG, PI_TREE, {snapctl: recorder(undefined, 'set').run}))
    assert.equal(error.code, 'E_SNAPCTL_FAILED')
    assert.equal(error.message, 'snapctl set failed: snapctl exited 1: error: cannot communicate with server: timeout')
    const unsetting = await failure(prepare({...PI_CONFIG, headers: undefined}, PI_TREE, {snapctl: recorder(undefined, 'set').run}))
    assert.match(unsetting.message, /^snapctl set failed/)
  })

  it('no directory for the identity key', async () => {
    const error = await failure(prepare(PI_CONFIG, PI_TREE, {env: {SNAP_DATA: undefined}, snapctl: recorder().run}))
    assert.equal(error.code, 'E_IDENTITY_DIR')
  })

  it('a root that is not there is an I/O error', async () => {
    const error = await failure(prepareDevice({config: checkRegistrationConfig(PI_CONFIG), env: {MODEL_APIKEY: 'k'}, root: join(snapDataDir(), 'missing'), snapctl: recorder().run}))
    assert.equal(error.kind, 'io')
  })
})

describe('the identity key', () => {
  it('is made once with mode 0600 and reused on every retry, in SNAP_SAVE_DATA when there is one', async () => {
    const save = join(snapDataDir(), 'not-yet-there')
    const data = snapDataDir()
    const env = {SNAP_DATA: data, SNAP_SAVE_DATA: save}
    const first = await prepare(PI_CONFIG, PI_TREE, {env, snapctl: recorder().run})
    const retry = await prepare(PI_CONFIG, PI_TREE, {env, snapctl: recorder().run})
    assert.equal(first.identity?.created, true)
    assert.equal(retry.identity?.created, false)
    assert.equal(retry.identity?.publicKey, first.identity?.publicKey)
    assert.equal(first.identity?.keyFile, join(save, 'device-identity.key'))
    assert.equal(statSync(join(save, 'device-identity.key')).mode & 0o777, 0o600)
    assert.equal(existsSync(join(data, 'device-identity.key')), false)
    assert.equal(retry.body.text, first.body.text, 'same hardware, same key: the same body')
  })

  it('a tampered body fails verification', async () => {
    const result = await prepare(PI_CONFIG, PI_TREE, {snapctl: recorder().run})
    const fields = parse(result.body.text) as Record<string, string>
    assert.equal(verifyIdentity(fields).valid, true)
    const tampered = verifyIdentity({...fields, serial: '1000000012345679'})
    assert.equal(tampered.valid, false)
    assert.equal(tampered.failure?.code, 'E_IDENTITY_SIGNATURE')
    assert.equal(verifyIdentity(parse(result.body.text.replace('kiosk-2', 'kiosk-3'))).valid, false)
  })

  it('identity off: no identity fields and no key file', async () => {
    const data = snapDataDir()
    const result = await prepare({...PI_CONFIG, identity: {enabled: false}}, PI_TREE, {env: {SNAP_DATA: data}, snapctl: recorder().run})
    assert.equal(result.identity, undefined)
    assert.doesNotMatch(result.body.text, /identity-/)
    assert.equal(existsSync(join(data, 'device-identity.key')), false)
  })
})

describe('dry run', () => {
  it('runs no snapctl, writes no key, and lists the calls it would make', async () => {
    const data = snapDataDir()
    const snapctl = recorder([])
    const result = await prepare(PI_CONFIG, PI_TREE, {dryRun: true, env: {SNAP_DATA: data}, snapctl: snapctl.run})
    assert.deepEqual(snapctl.calls, [])
    assert.equal(existsSync(join(data, 'device-identity.key')), false)
    assert.equal(result.identity?.ephemeral, true)
    assert.deepEqual(
      result.calls.map((c) => c.argv[0]),
      ['is-connected', 'set'],
    )
    assert.equal(result.plugs[0].connected, undefined)
    assert.equal(result.calls[1].redacted[2], 'device-service.headers={"api-key":"<$MODEL_APIKEY>"}')
  })

  it('uses the key that is there', async () => {
    const data = snapDataDir()
    writeKeyFile(data, KEY)
    const result = await prepare(PI_CONFIG, PI_TREE, {dryRun: true, env: {SNAP_DATA: data}, snapctl: recorder().run})
    assert.deepEqual(result.identity, {created: false, ephemeral: false, keyFile: join(data, 'device-identity.key'), publicKey: KEY.publicKey})
  })
})
