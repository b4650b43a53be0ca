/**
 * Golden tests against snapd itself (2.57.6, Debian):
 *
 * 1. What we sign, snapd's own asserts package decodes and accepts: a Go program built on it
 *    (test/fixtures/assertions/snapd-check.go) adds our account, account-key, model and serial to a
 *    database that trusts only our root, and checks our serial-requests against their device keys.
 * 2. What `snap sign` signs, we parse and verify, and for the same key, headers and body our text
 *    is byte for byte `snap sign`'s. snap sign reads the key through an external key manager
 *    (SNAPD_EXT_KEYMGR, offline-signing.md §5) that serves the same PEM files we sign with.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, copyFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, test} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {type HeaderMap, parseAssertion} from '../../src/assertions/decode.js'
import {type SigningKey} from '../../src/assertions/keys.js'
import {type SignedAssertion, signAssertion} from '../../src/assertions/sign.js'
import {verifyAssertionSignature} from '../../src/assertions/verify.js'
import {type BrandChain, makeBrandChain, makeSerialRequest, SIGNATURE_TIME, signatureCreationTime, SNAPD_PACKAGES, snapdCheck, testKeys} from '../helpers/assertions.js'
import {requireTools} from '../helpers/key-tools.js'
import {fixtures} from '../helpers/paths.js'
import {buildGoTool, goUnavailable, requireGo} from '../runtime/helpers.js'

describe('snapd decodes and accepts what we sign', () => {
  let checker = ''
  let chain: BrandChain
  before(async () => {
    chain = makeBrandChain(testKeys().root, testKeys().brand)
    if (goUnavailable(SNAPD_PACKAGES) === undefined) checker = await buildGoTool(fixtures('assertions', 'snapd-check.go'), 'snapd-check')
  })

  test('a brand chain, models, serials and serial-requests: every header and body as we wrote them', async (t) => {
    if (!requireGo(t, SNAPD_PACKAGES)) return
    const {device, device2048} = testKeys()
    const cases: Record<string, SignedAssertion> = {
      account: chain.account,
      'account-key': chain.accountKey,
      'model (UC22: list of maps, unicode display-name, serial-authority list)': chain.signModel({
        'display-name': 'Acme Gateway — Größe M ✓',
        'serial-authority': ['acme-brand'],
        snaps: [
          {'default-channel': '22/stable', id: 'UqFziVZDHLSyO3TqSWgNBoAdHbLI4dAH', name: 'pc', type: 'gadget'},
          {'default-channel': '22/stable', id: 'pYVQrBcKmBa0mZ4CCN7ExT6jH8rY1hza', name: 'pc-kernel', type: 'kernel'},
          {'default-channel': 'latest/stable', modes: ['run'], name: 'network-manager', presence: 'optional'},
        ],
      }),
      'model (UC18, required-snaps, revision, a body)': chain.signModel(
        {base: 'core18', gadget: 'pc=18', grade: undefined, kernel: 'pc-kernel=18', model: 'acme-18', 'required-snaps': ['acme-agent', 'network-manager'], revision: '3', snaps: undefined},
        'notes: a model may carry a body\n',
      ),
      'serial (body ending in a newline, revision)': chain.signSerial({
        body: 'mac: "b8:27:eb:12:34:56"\ncpu-serial: "0000000012345678"\n',
        deviceKey: device.encodedPublicKey,
        model: 'acme-gateway',
        revision: '1',
        serial: 'ACME-0000000012345678',
      }),
      'serial (no body, 2048-bit device key, unicode serial)': chain.signSerial({deviceKey: device2048.encodedPublicKey, model: 'acme-gateway', serial: 'ÄCME-ü-42'}),
      'serial-request (serial, YAML body)': makeSerialRequest({
        body: 'mac: "b8:27:eb:12:34:56"\n',
        brandId: 'acme-brand',
        deviceKey: device,
        model: 'acme-gateway',
        requestId: 'REQ-0001',
        serial: 'ACME-1',
      }),
      'serial-request (minimal: no serial, empty body)': makeSerialRequest({body: '', brandId: 'acme-brand', deviceKey: device, model: 'acme-gateway', requestId: 'REQ-0002'}),
      'serial-request (2048-bit key; extra multi-line, empty, list and map headers)': makeSerialRequest({
        body: 'no final newline',
        brandId: 'acme-brand',
        deviceKey: device2048,
        headers: {
          extra: {flags: ['a', 'b'], 'multi-line': 'one\ntwo\n', nested: {empty: '', key: 'value'}},
          'extra-note': 'line one\n  indented line two\n\nafter an empty line',
          'extra-empty': '',
          'extra-list': ['x', 'multi\nline', ['nested', 'list'], {in: 'list'}],
          'original-brand-id': 'old-brand',
        },
        model: 'acme-gateway',
        requestId: 'REQ-0003',
      }),
    }

    // The model first: serials are checked against the brand's model when their authority differs.
    const names = Object.keys(cases)
    const verdicts = await snapdCheck(
      checker,
      chain.trusted,
      names.map((name) => cases[name].text),
    )
    for (const [index, name] of names.entries()) {
      const ours = cases[name].assertion
      const verdict = verdicts[index]
      assert.equal(verdict.check, 'ok', `${name}: snapd says ${verdict.check}`)
      assert.equal(verdict.type, ours.type, name)
      assert.deepEqual(verdict.headers, ours.headers, `${name}: snapd decodes other headers`)
      assert.equal(verdict.body, ours.body, name)
    }
  })

  test('snapd refuses a serial changed after signing, a serial signed by a key the brand does not have, a changed serial-request', async (t) => {
    if (!requireGo(t, SNAPD_PACKAGES)) return
    const {device} = testKeys()
    const serial = chain.signSerial({deviceKey: device.encodedPublicKey, model: 'acme-gateway', serial: 'S-1'})
    const changed = serial.text.replace('serial: S-1', 'serial: S-2')
    const headers = {...serial.assertion.headers}
    delete headers['sign-key-sha3-384']
    const signedByDevice = signAssertion({headers, type: 'serial'}, device, {signatureTime: SIGNATURE_TIME})
    const request = makeSerialRequest({brandId: 'acme-brand', deviceKey: device, model: 'acme-gateway', requestId: 'R-1'})
    const changedRequest = request.text.replace('request-id: R-1', 'request-id: R-2')
    const verdicts = await snapdCheck(checker, chain.trusted, [chain.account.text, chain.accountKey.text, serial.text, changed, signedByDevice.text, changedRequest])
    const checks = verdicts.map((v) => v.check)
    assert.deepEqual(checks.slice(0, 3), ['ok', 'ok', 'ok'])
    assert.match(checks[3], /failed signature verification/, 'a serial changed after signing')
    assert.match(checks[4], new RegExp(`no matching public key "${device.keyId}"`), 'a serial signed by a key the brand does not have')
    assert.match(checks[5], /failed signature verification/, 'a serial-request changed after signing')
  })
})

describe('snap sign and us: same key, same input, same bytes', () => {
  let work = ''
  let snapEnv: NodeJS.ProcessEnv = {}
  before(() => {
    work = freshDir('snap-gadget-snap-sign-')
    snapEnv = writeExternalKeyManager(work, {brand: 'brand.pem', device: 'device.pem'})
  })
  const inputs: Array<{name: string; key: 'brand' | 'device'; statement: () => Record<string, unknown>}> = [
    {
      key: 'device',
      name: 'serial-request with serial and a body ending in a newline',
      statement: () => ({
        body: 'mac: "b8:27:eb:12:34:56"\ncpu-serial: "0000000012345678"\n',
        'brand-id': 'acme-brand',
        'device-key': testKeys().device.encodedPublicKey,
        model: 'acme-gateway-22',
        'request-id': 'REQ-ID-FROM-SERVICE-0001',
        serial: 'ACME-0000000012345678',
        type: 'serial-request',
      }),
    },
    {
      key: 'device',
      name: 'serial-request, minimal',
      statement: () => ({'brand-id': 'acme-brand', 'device-key': testKeys().device.encodedPublicKey, model: 'acme-gateway-22', 'request-id': 'R', type: 'serial-request'}),
    },
    {
      key: 'brand',
      name: 'model with snaps (list of maps), a list, unicode and an empty value',
      statement: () => ({
        architecture: 'arm64',
        'authority-id': 'acme-brand',
        base: 'core22',
        'brand-id': 'acme-brand',
        'display-name': 'Acme — Gerät ✓',
        grade: 'signed',
        model: 'acme-gateway-22',
        'serial-authority': ['acme-brand', 'generic'],
        series: '16',
        snaps: [
          {'default-channel': '22/stable', id: 'PLACEHOLDERgadgetSnapIdXXXXXXXXX', name: 'acme-gateway-gadget', type: 'gadget'},
          {'default-channel': '22/stable', id: 'jeIuP6tfFrvAdic8DMWqHmoaoukAPNbJ', name: 'pi-kernel', type: 'kernel'},
          {'default-channel': '22/stable', id: 'RmBXKl6HO6YOC2DE4G2q1JzWImC04EUy', modes: ['run'], name: 'network-manager', presence: 'optional'},
        ],
        'storage-safety': 'prefer-encrypted',
        timestamp: '2024-01-01T00:00:00+00:00',
        type: 'model',
        'x-empty': '',
        'x-multi': 'first\nsecond\n',
      }),
    },
    {
      key: 'brand',
      name: 'serial with revision and body (as a vault signs it)',
      statement: () => ({
        'authority-id': 'acme-brand',
        body: 'serial: ÄCME-1\n',
        'brand-id': 'acme-brand',
        'device-key': testKeys().device.encodedPublicKey,
        'device-key-sha3-384': testKeys().device.keyId,
        model: 'acme-gateway-22',
        revision: '7',
        serial: 'ACME-1',
        timestamp: '2024-06-01T00:00:00Z',
        type: 'serial',
      }),
    },
    {
      key: 'brand',
      name: 'account-key (key in the body)',
      statement: () => ({
        'account-id': 'acme-brand',
        'authority-id': 'acme-brand',
        body: testKeys().device.encodedPublicKey,
        name: 'device-as-account-key',
        'public-key-sha3-384': testKeys().device.keyId,
        since: '2020-01-01T00:00:00Z',
        type: 'account-key',
      }),
    },
  ]

  for (const input of inputs) {
    test(input.name, (t) => {
      if (!requireTools(t, 'snap')) return
      const statement = input.statement()
      const result = spawnSync('snap', ['sign', '-k', input.key], {encoding: 'utf8', env: snapEnv, input: JSON.stringify(statement), timeout: 60_000})
      assert.equal(result.status, 0, `snap sign failed: ${result.stderr}`)
      const theirs = result.stdout
      const key: SigningKey = testKeys()[input.key]

      // What snap sign wrote, we parse and verify.
      const parsed = parseAssertion(theirs)
      assert.deepEqual(verifyAssertionSignature(parsed, key.encodedPublicKey), {keyId: key.keyId, valid: true})

      // snapd stamps the signature with the time of signing, the one thing that differs between two
      // runs: we read it from snap's signature packet and sign at that second. Then the whole text
      // (headers, body, and the signature, since RSA PKCS#1 v1.5 is deterministic) must be equal.
      const signedAt = signatureCreationTime(parsed.signature)
      assert.ok(Math.abs(signedAt.getTime() - Date.now()) < 10 * 60_000, `snap signed at ${signedAt.toISOString()}`)
      const {body, type, ...headers} = statement as {body?: string; type: string} & HeaderMap
      const ours = signAssertion({body, headers, type}, key, {signatureTime: signedAt})
      assert.equal(ours.text, theirs)
    })
  }

  test('a changed signature time changes the bytes: the comparison above is not vacuous', (t) => {
    if (!requireTools(t, 'snap')) return
    const statement = inputs[1].statement()
    const result = spawnSync('snap', ['sign', '-k', 'device'], {encoding: 'utf8', env: snapEnv, input: JSON.stringify(statement), timeout: 60_000})
    assert.equal(result.status, 0, result.stderr)
    const signedAt = signatureCreationTime(parseAssertion(result.stdout).signature)
    const {type, ...headers} = statement as {type: string} & HeaderMap
    const ours = signAssertion({headers, type}, testKeys().device, {signatureTime: new Date(signedAt.getTime() + 1000)})
    assert.notEqual(ours.text, result.stdout)
    assert.equal(ours.text.slice(0, ours.text.lastIndexOf('\n\n')), result.stdout.slice(0, result.stdout.lastIndexOf('\n\n')), 'only the signature differs')
  })
})

/**
 * An external key manager for snap (asserts/extkeypairmgr.go) serving PEM files from `dir`: snap
 * then signs with the very keys our signer uses, with no GnuPG. Returns the environment for snap.
 */
function writeExternalKeyManager(dir: string, keys: Record<string, string>): NodeJS.ProcessEnv {
  const keyDir = join(dir, 'keys')
  const script = join(dir, 'keymgr')
  spawnSync('mkdir', ['-p', keyDir])
  for (const [name, file] of Object.entries(keys)) {
    copyFileSync(fixtures('assertions', file), join(keyDir, `${name}.pem`))
    chmodSync(join(keyDir, `${name}.pem`), 0o600)
  }

  writeFileSync(
    script,
    `#!${process.execPath}
// snap's external key manager protocol: features, key-names, get-public-key -f DER -k NAME,
// sign -m RSA-PKCS -k NAME (stdin: SHA-512 DigestInfo; stdout: the PKCS#1 v1.5 signature).
const {constants, createPrivateKey, createPublicKey, privateEncrypt} = require('node:crypto')
const {readdirSync, readFileSync} = require('node:fs')
const dir = ${JSON.stringify(keyDir)}
const [op, ...args] = process.argv.slice(2)
const flag = (name) => args[args.indexOf(name) + 1]
const key = (name) => createPrivateKey(readFileSync(dir + '/' + name + '.pem'))
if (op === 'features') process.stdout.write(JSON.stringify({signing: ['RSA-PKCS'], 'public-keys': ['DER']}))
else if (op === 'key-names') process.stdout.write(JSON.stringify({'key-names': readdirSync(dir).filter((f) => f.endsWith('.pem')).map((f) => f.slice(0, -4))}))
else if (op === 'get-public-key') process.stdout.write(createPublicKey(key(flag('-k'))).export({format: 'der', type: 'spki'}))
else if (op === 'sign') process.stdout.write(privateEncrypt({key: key(flag('-k')), padding: constants.RSA_PKCS1_PADDING}, readFileSync(0)))
else process.exit(1)
`,
    {mode: 0o700},
  )
  return {HOME: dir, LANG: 'C.UTF-8', PATH: process.env.PATH, SNAPD_EXT_KEYMGR: script}
}
