/**
 * Hardware-identity onboarding on the device: the built runtime bundle run as the gadget's
 * prepare-device and prepare-serial-request hooks run it (Node, QuickJS 2025, QuickJS as Ubuntu
 * 24.04's 2021.03.27; QuickJS for arm64 and armhf under qemu), with a recording snapctl on PATH.
 *
 * - prepare-device unsets registration.body before anything else, makes the key once in
 *   $SNAP_SAVE_DATA (0600) and reuses it, writes the export a station reads to $SNAP_COMMON and
 *   sets it as the gadget option hardware-identity, with no body and no api-key;
 * - a key file whose mode, owner or size is wrong is refused, on both engines;
 * - prepare-serial-request signs the request-id: the signature QuickJS makes is byte for byte the
 *   one @noble/curves makes on Node for the same key and request-id (RFC 6979), verifies with
 *   node:crypto, and is the same on amd64, arm64 and armhf, for P-256 and P-384 (and a key QuickJS
 *   makes on each is read by node:crypto and signs as it verifies); RSA keys are
 *   signed on Node and refused on QuickJS with the reason.
 */
import assert from 'node:assert/strict'
import {createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, verify} from 'node:crypto'
import {chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it, test} from 'node:test'

import {scratchDir} from '../helpers/scratch.js'
import {readHardwareIdKey, verifyNonceSignature} from '../../src/assertions/hardware-identity.js'
import {readStationExports} from '../../src/identity/station-export.js'
import {ecSign} from '../../src/runtime/hosts/noble-keys.js'
import {ARM_ARCHES, type ArmArch} from '../helpers/arm.js'
import {quickJsCommand, requireQuickJs} from '../helpers/quickjs.js'
import {runProcess} from '../helpers/cli.js'
import {bodyOf, type DeviceOptions, type HookDevice, makeHookDevice, prepareDevice, prepareSerialRequest, SERIAL} from './hardware-device.js'
import {ALL_ENGINES, requireBundle, runBundle} from './helpers.js'
import {readSnapctlLog} from '../helpers/snapctl.js'

const work = scratchDir('snap-gadget-hardware-')
const makeDevice = (name: string, options: Omit<DeviceOptions, 'parent'> = {}) => makeHookDevice(name, {...options, parent: work})

/** Writes `key` as the device's hardware identity key (PKCS#8 PEM, 0600). */
function writeHardwareKey(device: HookDevice, key: KeyObject): string {
  mkdirSync(device.save, {recursive: true})
  const file = join(device.save, 'hardware-identity.key')
  writeFileSync(file, key.export({format: 'pem', type: 'pkcs8'}), {mode: 0o600})
  return file
}

describe('prepare-device in hardware-identity onboarding', () => {
  for (const engine of ALL_ENGINES) {
    it(`unsets the body first, makes the key once, exports it and sets no body nor api-key (${engine})`, async () => {
      const device = makeDevice(`prepare-${engine}`)
      const first = await prepareDevice(device, engine)
      assert.equal(first.code, 0, first.stderr)
      assert.match(first.stdout, new RegExp(`^prepare-device: proposed serial ${SERIAL} .*; hardware identity key ecdsa-p256 [\\w-]{64} \\(new\\)\\n$`))
      const keyFile = join(device.save, 'hardware-identity.key')
      assert.equal(statSync(keyFile).mode & 0o777, 0o600)
      assert.match(readFileSync(keyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/)
      const privateKey = createPrivateKey(readFileSync(keyFile))
      assert.equal(privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1', 'node:crypto reads the key the engine made')

      const exportFile = join(device.common, 'hardware-identity.json')
      const exported = JSON.parse(readFileSync(exportFile, 'utf8')) as Record<string, string>
      const spki = createPublicKey(privateKey).export({format: 'der', type: 'spki'}).toString('base64')
      const key = readHardwareIdKey(spki)
      assert.deepEqual(exported, {
        'hardware-id': SERIAL,
        'hardware-id-key': spki,
        'hardware-id-key-sha3-384': key.digest,
        'key-type': 'ecdsa-p256',
        'public-key-pem': createPublicKey(privateKey).export({format: 'pem', type: 'spki'}),
      })

      const calls = readSnapctlLog(device.log)
      assert.deepEqual(calls[0], ['unset', 'registration.body'], 'the body the last prepare-serial-request left is unset before anything else')
      assert.deepEqual(calls.slice(1), [
        [
          'set',
          'device-service.url="http://127.0.0.1:8642/v1/"',
          `registration.proposed-serial=${JSON.stringify(SERIAL)}`,
          `hardware-identity=${JSON.stringify(exported)}`,
          'device-service.headers!',
          'registration.body!',
        ],
      ])

      // The station's reader takes the export as it is: what `hardware-identity sign` signs.
      const rows = readStationExports([exportFile]).rows
      assert.deepEqual(
        rows.map((row) => [row.hardwareId, row.key.text, row.key.type]),
        [[SERIAL, spki, 'ecdsa-p256']],
      )

      // The next attempt (snapd reruns prepare-device): the same key, never a new one.
      const again = await prepareDevice(device, engine)
      assert.equal(again.code, 0, again.stderr)
      assert.match(again.stdout, /\(reused\)\n$/)
      assert.equal(
        createPublicKey(createPrivateKey(readFileSync(keyFile)))
          .export({format: 'der', type: 'spki'})
          .toString('base64'),
        spki,
      )
      assert.deepEqual(readSnapctlLog(device.log).slice(2), calls, 'the same calls again, unset first')
    })
  }

  it('--dry-run writes nothing and prints the export as comments after the calls', async () => {
    const device = makeDevice('dry-run')
    const result = await runBundle(['--config', device.config, '--root', device.root, '--dry-run'], {bundle: requireBundle('hardware-identity'), engine: 'quickjs', env: device.env()})
    assert.equal(result.code, 0, result.stderr)
    assert.equal(existsSync(device.save), false)
    assert.equal(existsSync(device.log), false)
    const lines = result.stdout.trimEnd().split('\n')
    assert.equal(lines[0], 'snapctl unset registration.body')
    assert.match(lines[1], /^snapctl set 'device-service\.url=/)
    assert.match(lines[2], /^# hardware identity: what the factory station reads/)
    assert.deepEqual(
      lines.slice(3, 7).map((line) => line.replace(/: .*/, '')),
      ['#   hardware-id', '#   hardware-id-key', '#   hardware-id-key-sha3-384', '#   key-type'],
    )
    assert.ok(lines.includes('#     -----BEGIN PUBLIC KEY-----'))
    assert.match(result.stderr, /note: the hardware identity key shown is a throwaway one/)
  })

  it('refuses an api-key header, a body and an identity in hardware-identity onboarding', async () => {
    const device = makeDevice('config')
    const config = JSON.parse(readFileSync(device.config, 'utf8')) as Record<string, unknown>
    for (const [extra, message] of [
      [{headers: {'API-Key': {env: 'MODEL_APIKEY'}}}, /an api-key header in hardware-identity onboarding/],
      [{body: {fields: {line: '3'}}}, /"body" has no effect in hardware-identity onboarding/],
      [{identity: true}, /"identity" has no effect/],
    ] as const) {
      writeFileSync(device.config, JSON.stringify({...config, ...extra}))
      const result = await prepareDevice(device, 'node', {MODEL_APIKEY: 'k'})
      assert.equal(result.code, 2, result.stderr)
      assert.match(result.stderr, message)
    }

    assert.equal(existsSync(device.log), false, 'no snapctl call before the config is checked')
  })
})

describe('the key file', () => {
  for (const engine of ['node', 'quickjs'] as const) {
    it(`is refused when its mode, owner or size is wrong, and nothing is set (${engine})`, async () => {
      const cases: [string, (file: string) => void, RegExp][] = [
        ['mode', (file) => chmodSync(file, 0o640), /the hardware identity key .* may be read or changed by group or others \(mode 0640\)/],
        ['owner', (file) => chownSync(file, 4321, 4321), /the hardware identity key .* belongs to user 4321, not to user 0/],
        ['size', (file) => writeFileSync(file, 'x'.repeat(9000)), /the hardware identity key .* is 9000 bytes/],
        ['format', (file) => writeFileSync(file, 'not a key\n'), /is not a PEM private key/],
      ]
      for (const [what, spoil, message] of cases) {
        if (what === 'owner' && process.getuid?.() !== 0) continue
        const device = makeDevice(`refused-${what}-${engine}`)
        const file = writeHardwareKey(device, generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey)
        spoil(file)
        const before = readFileSync(file)
        const result = await prepareDevice(device, engine)
        assert.equal(result.code, 1, `${what}: ${result.stderr}`)
        assert.match(result.stderr, message, what)
        assert.match(result.stderr, /the factory must certify and import again/, what)
        assert.deepEqual(readFileSync(file), before, `${what}: the key file is left as it was, never replaced`)
        assert.deepEqual(readSnapctlLog(device.log), [['unset', 'registration.body']], `${what}: nothing set`)
        const signing = await prepareSerialRequest(device, 'REQ-1', engine)
        assert.equal(signing.code, 1, signing.stderr)
        assert.match(signing.stderr, message)
      }
    })
  }
})

/** The request-id signature the bundle made on `arch`'s QuickJS with `key`, through the recording snapctl. */
async function signOnQuickJs(key: KeyObject, requestId: string, arch: 'amd64' | ArmArch): Promise<Buffer> {
  const device = makeDevice(`sign-${arch}`)
  writeHardwareKey(device, key)
  const [command, ...args] = quickJsCommand(arch, [requireBundle('hardware-identity'), 'prepare-serial-request'])
  const result = await runProcess(command, args, {env: device.env({SNAPCTL_GET_registration_request_id: requestId}), timeoutMs: 300_000})
  assert.equal(result.code, 0, `${arch}: ${result.stderr}`)
  const body = bodyOf(device)
  assert.deepEqual(readSnapctlLog(device.log)[0], ['get', 'registration.request-id'])
  return Buffer.from(body['request-id-signature'], 'base64')
}

describe('prepare-serial-request', () => {
  it('sets one JSON object: both digest names, the key, the signature over the request-id (Node and QuickJS)', async () => {
    for (const engine of ALL_ENGINES) {
      const device = makeDevice(`body-${engine}`)
      assert.equal((await prepareDevice(device, engine)).code, 0)
      const requestId = 'REQID-é-0123456789'
      const result = await prepareSerialRequest(device, requestId, engine)
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /^prepare-serial-request: signed request-id "REQID-é-0123456789" with the ecdsa-p256 hardware identity key [\w-]{64}\n$/)
      const body = bodyOf(device)
      assert.deepEqual(Object.keys(body), ['hardware-id-key', 'hardware-id-key-sha3-384', 'hardware-id-key-sha384', 'request-id-signature'])
      const exported = JSON.parse(readFileSync(join(device.common, 'hardware-identity.json'), 'utf8')) as Record<string, string>
      assert.equal(body['hardware-id-key'], exported['hardware-id-key'])
      assert.equal(body['hardware-id-key-sha3-384'], exported['hardware-id-key-sha3-384'])
      assert.equal(body['hardware-id-key-sha384'], exported['hardware-id-key-sha3-384'])
      assert.match(body['request-id-signature'], /^[A-Za-z0-9+/]+={0,2}$/, 'standard base64, padded')
      // snapd's VerifyNonceSignature rule accepts it (factory.test.ts has serve read it as snapd sends it).
      const key = readHardwareIdKey(body['hardware-id-key'])
      const signature = Buffer.from(body['request-id-signature'], 'base64')
      assert.deepEqual(verifyNonceSignature(key.key, requestId, signature, 'sha256'), {valid: true}, engine)
      assert.equal(verifyNonceSignature(key.key, `${requestId}\n`, signature, 'sha256').valid, false, 'the newline snapctl prints is not signed')
    }
  })

  it('says what is missing: no key, no request-id', async () => {
    const device = makeDevice('missing')
    const noKey = await prepareSerialRequest(device, 'REQ-1', 'quickjs')
    assert.equal(noKey.code, 1)
    assert.match(noKey.stderr, /^prepare-serial-request: there is no hardware identity key at .*hardware-identity\.key \(fix: prepare-device makes it in hardware-identity onboarding/)
    assert.equal(existsSync(device.log), false)
    writeHardwareKey(device, generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey)
    const noRequestId = await runBundle(['prepare-serial-request'], {bundle: requireBundle('hardware-identity'), engine: 'quickjs', env: device.env()})
    assert.equal(noRequestId.code, 1)
    assert.match(noRequestId.stderr, /snapctl get failed: snapctl exited 1: error: error running snapctl: snap "pi" has no "registration.request-id" configuration option/)
    assert.deepEqual(readSnapctlLog(device.log), [['get', 'registration.request-id']], 'nothing set')
  })

  it('RSA keys: signed on Node (PKCS#1 v1.5, SHA-256), refused on QuickJS with the reason', async () => {
    const device = makeDevice('rsa')
    writeHardwareKey(device, generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey)
    const onNode = await prepareSerialRequest(device, 'REQ-RSA', 'node')
    assert.equal(onNode.code, 0, onNode.stderr)
    const body = bodyOf(device)
    const key = readHardwareIdKey(body['hardware-id-key'])
    assert.equal(key.type, 'rsa-2048')
    assert.deepEqual(verifyNonceSignature(key.key, 'REQ-RSA', Buffer.from(body['request-id-signature'], 'base64'), 'sha256'), {valid: true})
    const onQuickJs = await prepareSerialRequest(device, 'REQ-RSA', 'quickjs')
    assert.equal(onQuickJs.code, 1)
    assert.match(onQuickJs.stderr, /needs the Node runtime: QuickJS makes and signs with ECDSA P-256 and P-384 keys only/)
  })
})

test('QuickJS signs as @noble/curves does on Node, byte for byte, on amd64, arm64 and armhf; node:crypto verifies, also with a key QuickJS made there', {concurrency: true}, async (t) => {
  const keys = {
    'ecdsa-p256': generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey,
    'ecdsa-p384': generateKeyPairSync('ec', {namedCurve: 'P-384'}).privateKey,
  }
  const requestId = 'REQ-DETERMINISTIC-7f3a'
  const expected = Object.fromEntries(Object.entries(keys).map(([type, key]) => [type, Buffer.from(ecSign(new Uint8Array(key.export({format: 'der', type: 'pkcs8'})), Buffer.from(requestId), () => new Uint8Array(64)))]))
  await Promise.all(
    (['amd64', ...ARM_ARCHES] as const).map((arch) =>
      t.test(arch, async (t) => {
        if (!requireQuickJs(t, arch)) return
        for (const [type, key] of Object.entries(keys)) {
          const signature = await signOnQuickJs(key, requestId, arch)
          assert.equal(signature.toString('hex'), expected[type].toString('hex'), `${type} on ${arch}: the DER noble makes on Node`)
          const hash = type === 'ecdsa-p384' ? 'sha384' : 'sha256'
          assert.ok(verify(hash, Buffer.from(requestId), {dsaEncoding: 'der', key: createPublicKey(key)}, signature), `${type} on ${arch}: node:crypto verifies`)
        }

        // A key made on this architecture's QuickJS by prepare-device: node:crypto reads it, and
        // what prepare-serial-request signs with it there verifies here.
        const device = makeDevice(`made-${arch}`)
        const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
          const [command, ...rest] = quickJsCommand(arch, [requireBundle('hardware-identity'), ...args])
          return runProcess(command, rest, {env: device.env(extra), timeoutMs: 300_000})
        }

        const made = await run(['--config', device.config, '--root', device.root])
        assert.equal(made.code, 0, `${arch}: ${made.stderr}`)
        const keyFile = join(device.save, 'hardware-identity.key')
        assert.equal(statSync(keyFile).mode & 0o777, 0o600)
        const publicKey = createPublicKey(createPrivateKey(readFileSync(keyFile)))
        const signed = await run(['prepare-serial-request'], {SNAPCTL_GET_registration_request_id: requestId})
        assert.equal(signed.code, 0, `${arch}: ${signed.stderr}`)
        const body = bodyOf(device)
        assert.equal(body['hardware-id-key'], publicKey.export({format: 'der', type: 'spki'}).toString('base64'))
        assert.ok(verify('sha256', Buffer.from(requestId), {dsaEncoding: 'der', key: publicKey}, Buffer.from(body['request-id-signature'], 'base64')), `${arch}: the key made there signs as node:crypto verifies`)
      }),
    ),
  )
})
