/**
 * serve in hardware-identity onboarding, over HTTP as snapd's DeviceManager talks to it: the two
 * factory timelines (a first attempt before the station imported the identity, refused with
 * "hardware identity not imported yet", then registered; the identity imported before the first
 * boot), every key type, every refusal of this mode with its status and message, the models that
 * take either onboarding or an api-key as a gate, the bound on request-ids given without an
 * api-key, and serve import's checks.
 */
import assert from 'node:assert/strict'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {HARDWARE_KEY_TYPES, parseAssertions, verifyAssertionSignature} from '../../src/assertions/index.js'
import {UserError} from '../../src/errors.js'
import {loadServiceConfig, readSigningLog, type RequestEvent, type RunningService, startDeviceService} from '../../src/service/index.js'
import {requestLine} from '../../src/cli/commands/serve/present.js'
import {runCli} from '../helpers/cli.js'
import {hardwareKeyFrom, hardwareKeys, newHardwareKey, signRequestId} from '../helpers/hardware.js'
import {BOTH_MODEL, GATE_API_KEY, GATED_MODEL, hardwareStream, type HardwareLab, HW_MODEL, labModel, makeHardwareLab, ODM, OTHER_MODEL} from './hardware-lab.js'
import {API_KEY, brandKey, TestDevice} from './helpers.js'

interface Answer {
  status: number
  contentType: string
  text: string
}

async function post(url: string, path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const answer = await fetch(new URL(path, url), {body, headers: {'Content-Type': 'application/x.ubuntu.assertion', ...headers}, method: 'POST'})
  return {contentType: answer.headers.get('content-type') ?? '', status: answer.status, text: await answer.text()}
}

async function nonce(url: string, headers: Record<string, string> = {}): Promise<string> {
  const answer = await post(url, 'request-id', '', headers)
  assert.equal(answer.status, 200, answer.text)
  return (JSON.parse(answer.text) as {'request-id': string})['request-id']
}

function refusal(answer: Answer, code: string, status: number): string {
  assert.equal(answer.contentType, 'application/json', answer.text)
  const body = JSON.parse(answer.text) as {code: string; message: string}
  assert.deepEqual([answer.status, body.code], [status, code], answer.text)
  return body.message
}

let lab: HardwareLab
let service: RunningService
let url: string
let clock = Date.now()
const events: RequestEvent[] = []
const env = {GATE_API_KEY, LAB_API_KEY: API_KEY}

before(async () => {
  lab = makeHardwareLab({limits: 'limits: {anonymous-request-ids: 500, anonymous-request-ids-per-client: 400}\n'})
  service = await startDeviceService(loadServiceConfig(lab.config, {env}), {now: () => new Date(clock), onRequest: (e) => events.push(e), version: 'test'})
  url = service.url
})

after(async () => {
  await service.close()
  rmSync(lab.dir, {force: true, recursive: true})
})

/** One registration attempt as snapd makes it: a fresh request-id, the hook's body, the stream. */
async function attempt(device: TestDevice, key = hardwareKeys()['ecdsa-p256'], options: Parameters<typeof hardwareStream>[3] & {headers?: Record<string, string>} = {}): Promise<Answer> {
  const requestId = await nonce(url, options.headers)
  return post(url, 'serial', hardwareStream(device, key, requestId, options), options.headers)
}

describe('the factory timelines', () => {
  test('the first attempt before the station imported: 403 "hardware identity not imported yet"; the station imports; the next attempt registers', async () => {
    const key = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    const device = new TestDevice()
    const file = lab.identities([{hardwareId: 'ACME-T1-0001', key}])
    const early = await attempt(device, key)
    assert.match(refusal(early, 'hardware-identity-unknown', 403), /^hardware identity not imported yet: no imported identity has the key [\w-]{64}: the factory signs/)

    const imported = await lab.import([file])
    assert.deepEqual([imported.imported, imported.unchanged], [1, 0])
    const later = await attempt(device, key)
    assert.equal(later.status, 200, later.text)
    const [serial] = parseAssertions(later.text)
    assert.equal(serial.headers.serial, 'ACME-T1-0001', "the serial is the identity's hardware id")
    assert.equal(serial.headers.model, HW_MODEL)
    assert.ok(serial.body.startsWith('{"hardware-id-key":'), "the serial's body is the request's body")
    assert.equal((JSON.parse(serial.body) as Record<string, string>)['hardware-id-key-sha3-384'], key.id.digest)
    assert.ok(verifyAssertionSignature(serial, brandKey.encodedPublicKey).valid)
    const {entries} = await readSigningLog({database: loadServiceConfig(lab.config, {env}).database}, {serial: 'ACME-T1-0001'})
    assert.deepEqual(
      entries.map((e) => [e.hardwareId, e.hardwareIssuer, e.revision]),
      [['ACME-T1-0001', 'acme', 0]],
    )
    const logged = events.findLast((e) => e.path === '/v1/serial' && e.status === 200)!
    assert.match(requestLine(logged, new Date(0), false), /acme\/acme-pc serial="ACME-T1-0001" revision=0 hardware-id="ACME-T1-0001"/)
  })

  test('the line imports before the production image first boots (the key made in an earlier image, kept in ubuntu-save): the first attempt registers', async () => {
    const key = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    await lab.import([lab.identities([{hardwareId: 'ACME-T2-0001', key}])])
    const answer = await attempt(new TestDevice(), key, {serial: 'ACME-T2-0001'})
    assert.equal(answer.status, 200, answer.text)
    assert.equal(parseAssertions(answer.text)[0].headers.serial, 'ACME-T2-0001')
  })

  test('every key type registers; importing the same identities again changes nothing', async () => {
    const devices = HARDWARE_KEY_TYPES.map((type, n) => ({hardwareId: `ACME-TYPE-${n}`, key: hardwareKeys()[type]}))
    const file = lab.identities(devices, ODM)
    assert.equal((await lab.import([file])).imported, devices.length)
    const again = await lab.import([file])
    assert.deepEqual([again.imported, again.unchanged], [0, devices.length])
    for (const {hardwareId, key} of devices) {
      const answer = await attempt(new TestDevice(), key)
      assert.equal(answer.status, 200, `${key.type}: ${answer.text}`)
      assert.equal(parseAssertions(answer.text)[0].headers.serial, hardwareId)
    }
  })
})

describe('refusals', () => {
  const key = hardwareKeyFrom(newHardwareKey('ecdsa-p384'))
  const rsa = hardwareKeys()['rsa-3072']
  before(async () => {
    await lab.import([lab.identities([{hardwareId: 'ACME-R-1', key}])])
  })

  test('a body that is not the proof: YAML, an array, fields missing or of the wrong type, digests that differ, too large', async () => {
    const device = new TestDevice()
    const refused = async (body: string, reason: RegExp) => assert.match(refusal(await attempt(device, key, {body}), 'hardware-body-invalid', 400), reason)
    await refused('serial: ACME-R-1\n', /the serial-request body is not JSON/)
    await refused('["a"]', /is JSON, but an array, not an object/)
    await refused('{}', /has neither hardware-id-key-sha3-384 nor hardware-id-key-sha384/)
    await refused(`{"hardware-id-key-sha3-384":"${key.id.digest}"}`, /has no request-id-signature/)
    await refused(`{"hardware-id-key-sha3-384":"${key.id.digest}","request-id-signature":7}`, /request-id-signature that is not a string/)
    await refused(`{"hardware-id-key-sha3-384":"${key.id.digest}","hardware-id-key-sha384":"${rsa.id.digest}","request-id-signature":"AA=="}`, /differ/)
    await refused(`{"hardware-id-key-sha384":"short","request-id-signature":"AA=="}`, /key digest "short" that is not 64 characters/)
    await refused(`{"hardware-id-key-sha384":"${key.id.digest}","request-id-signature":"not base64!"}`, /request-id-signature is not base64/)
    await refused(`{"pad":"${'x'.repeat(20_000)}","hardware-id-key-sha384":"${key.id.digest}"}`, /is 20\d{3} bytes; a hardware identity proof is at most 16384/)
    await refused(`${'['.repeat(8000)}${']'.repeat(8000)}`, /array|not JSON/)
  })

  test('older snapd names the digest hardware-id-key-sha384 alone; the newer name alone; URL-safe unpadded signatures: all accepted', async () => {
    const id = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    const id2 = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    await lab.import([
      lab.identities([
        {hardwareId: 'ACME-OLD', key: id},
        {hardwareId: 'ACME-NEW', key: id2},
      ]),
    ])
    assert.equal((await attempt(new TestDevice(), id, {bodyOver: {'hardware-id-key': undefined, 'hardware-id-key-sha3-384': undefined}})).status, 200)
    const device = new TestDevice()
    const requestId = await nonce(url)
    const signature = signRequestId(id2, requestId).toString('base64url')
    const answer = await post(url, 'serial', hardwareStream(device, id2, requestId, {bodyOver: {'hardware-id-key-sha384': undefined, 'request-id-signature': signature}}))
    assert.equal(answer.status, 200, answer.text)
  })

  test('a signature that does not verify: another request-id, the newline snapctl prints, another key: 401', async () => {
    const device = new TestDevice()
    const requestId = await nonce(url)
    const other = await nonce(url)
    const wrong = (signed: string) => hardwareStream(device, key, requestId, {bodyOver: {'request-id-signature': signRequestId(key, signed).toString('base64')}})
    assert.match(refusal(await post(url, 'serial', wrong(other)), 'hardware-identity-signature', 401), /request-id-signature does not verify with the ecdsa-p384 key of hardware id "ACME-R-1"/)
    assert.match(refusal(await post(url, 'serial', wrong(`${requestId}\n`)), 'hardware-identity-signature', 401), /does not verify/)
    const stranger = hardwareKeys()['ecdsa-p384']
    const forged = hardwareStream(device, key, requestId, {bodyOver: {'request-id-signature': signRequestId(stranger, requestId).toString('base64')}})
    refusal(await post(url, 'serial', forged), 'hardware-identity-signature', 401)
    assert.equal((await post(url, 'serial', hardwareStream(device, key, requestId))).status, 200, 'the request-id was not used up by the refusals')
  })

  test('an unknown key, an identity of another brand, a body key that is not the digest key', async () => {
    const unknown = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    assert.match(refusal(await attempt(new TestDevice(), unknown), 'hardware-identity-unknown', 403), /hardware identity not imported yet/)
    const foreign = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    await lab.import([lab.identities([{hardwareId: 'OTHER-1', key: foreign}], 'other')])
    assert.match(
      refusal(await attempt(new TestDevice(), foreign), 'hardware-identity-issuer', 403),
      /issued by other; acme\/acme-pc accepts identities issued by acme or acme-odm: import the identity as the brand issued it/,
    )
    assert.equal((await attempt(new TestDevice(), foreign, {model: OTHER_MODEL})).status, 200, "the other brand's model takes it")
    assert.match(refusal(await attempt(new TestDevice(), key, {bodyOver: {'hardware-id-key': rsa.id.text}}), 'hardware-key-mismatch', 400), /not the key of/)
  })

  test('the request-id: expired after 600 s, used once, and given without an api-key only to requests without one', async () => {
    const id = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    await lab.import([lab.identities([{hardwareId: 'ACME-N-1', key: id}])])
    const device = new TestDevice()
    const old = await nonce(url)
    clock += 600_001
    try {
      assert.match(refusal(await post(url, 'serial', hardwareStream(device, id, old)), 'request-id-expired', 400), /older than 600 s/)
    } finally {
      clock -= 600_001
    }

    const requestId = await nonce(url)
    assert.equal((await post(url, 'serial', hardwareStream(device, id, requestId))).status, 200)
    refusal(await post(url, 'serial', hardwareStream(device, id, requestId)), 'request-id-unknown', 400)
    const keyed = await nonce(url, {'api-key': API_KEY})
    assert.match(refusal(await post(url, 'serial', hardwareStream(device, id, keyed)), 'request-id-model', 400), /issued for an api-key, and this serial-request has none/)
  })

  test('one device key per hardware identity: a second device is refused, the first asking again gets its serial; a device key keeps its identity', async () => {
    const id = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    const id2 = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    await lab.import([
      lab.identities([
        {hardwareId: 'ACME-K-1', key: id},
        {hardwareId: 'ACME-K-2', key: id2},
      ]),
    ])
    const first = new TestDevice()
    assert.equal((await attempt(first, id)).status, 200)
    const message = refusal(await attempt(new TestDevice(), id), 'hardware-identity-taken', 400)
    assert.match(message, new RegExp(`^hardware id "ACME-K-1" registered another device key \\(${first.keyId}\\), not this one`))
    const again = await attempt(first, id)
    assert.equal(again.status, 200, again.text)
    assert.equal(parseAssertions(again.text)[0].headers.revision, '1', 'the same serial, next revision')
    assert.match(refusal(await attempt(first, id2), 'device-has-identity', 400), /this device key registered with hardware id "ACME-K-1" of acme, not with "ACME-K-2"/)
  })

  test("a proposed serial that is not the identity's hardware id", async () => {
    assert.match(refusal(await attempt(new TestDevice(), key, {serial: 'ACME-SOMEONE-ELSE'}), 'serial-not-hardware-id', 400), /proposes serial "ACME-SOMEONE-ELSE", and its hardware identity is hardware id "ACME-R-1"/)
  })

  test('without an api-key, a model that onboards by api-key (or is not served) is refused as before', async () => {
    const answer = await post(url, 'serial', `${new TestDevice().serialRequest(await nonce(url), {model: 'acme-unknown', serial: 'X'})}\n${labModel('acme-unknown')}`)
    assert.match(refusal(answer, 'api-key-missing', 401), /no api-key, and "acme\/acme-unknown" is not a model this service registers by hardware identity alone/)
    const gated = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    await lab.import([lab.identities([{hardwareId: 'ACME-G-1', key: gated}])])
    refusal(await attempt(new TestDevice(), gated, {model: GATED_MODEL}), 'api-key-missing', 401)
    const withGate = await attempt(new TestDevice(), gated, {headers: {'api-key': GATE_API_KEY}, model: GATED_MODEL})
    assert.equal(withGate.status, 200, 'the api-key is a gate; the hardware proof is still checked')
    const noProof = await post(url, 'serial', `${new TestDevice().serialRequest(await nonce(url, {'api-key': GATE_API_KEY}), {body: 'serial: X\n', model: GATED_MODEL})}\n${labModel(GATED_MODEL)}`, {
      'api-key': GATE_API_KEY,
    })
    refusal(noProof, 'hardware-body-invalid', 400)
  })

  test('a model taking either onboarding: the api-key with a YAML body, or the hardware proof with or without the api-key', async () => {
    const withKey = {'api-key': API_KEY}
    const yaml = await post(url, 'serial', `${new TestDevice().serialRequest(await nonce(url, withKey), {body: 'serial: ACME-B-1\n', model: BOTH_MODEL})}\n${labModel(BOTH_MODEL)}`, withKey)
    assert.equal(yaml.status, 200, yaml.text)
    const id = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    await lab.import([lab.identities([{hardwareId: 'ACME-B-2', key: id}])])
    const anonymous = await attempt(new TestDevice(), id, {model: BOTH_MODEL, serial: 'ACME-B-2'})
    assert.equal(anonymous.status, 200, anonymous.text)
    const forged = await attempt(new TestDevice(), id, {bodyOver: {'request-id-signature': signRequestId(id, 'another').toString('base64')}, headers: withKey, model: BOTH_MODEL, serial: 'ACME-B-3'})
    refusal(forged, 'hardware-identity-signature', 401)
    refusal(await attempt(new TestDevice(), id, {model: BOTH_MODEL}), 'serial-missing', 400)
  })
})

describe('request-ids without an api-key are bounded', () => {
  test('past the limit: 503, which snapd retries a minute later; api-key requests are not counted', async () => {
    const small = makeHardwareLab({limits: 'limits: {anonymous-request-ids: 5, anonymous-request-ids-per-client: 3}\n'})
    let now = Date.now()
    const running = await startDeviceService(loadServiceConfig(small.config, {env}), {now: () => new Date(now), version: 'test'})
    try {
      const statuses = async (count: number, headers: Record<string, string> = {}) => {
        const out: number[] = []
        for (let i = 0; i < count; i++) out.push((await post(running.url, 'request-id', '', headers)).status)
        return out
      }

      assert.deepEqual(await statuses(4), [200, 200, 200, 503], 'three per client')
      assert.deepEqual(await statuses(2, {'api-key': API_KEY}), [200, 200])
      const busy = await post(running.url, 'request-id', '')
      assert.match(refusal(busy, 'request-id-busy', 503), /in the last 600 s/)
      now += 600_000
      assert.deepEqual(await statuses(1), [200], 'the window moves on')
    } finally {
      await running.close()
      rmSync(small.dir, {force: true, recursive: true})
    }
  })
})

describe('serve import', () => {
  test('what it refuses: another type, an issuer no model accepts, a key the config does not hold, a changed identity, a key no device can use', async () => {
    const key = hardwareKeys()['ecdsa-p256']
    const refused = async (file: string, code: string, reason: RegExp) =>
      assert.rejects(lab.import([file]), (error: unknown) => error instanceof UserError && error.code === code && reason.test(error.message), reason.source)
    const model = join(lab.dir, 'model.assert')
    writeFileSync(model, labModel(HW_MODEL))
    await refused(model, 'E_SERVE_IMPORT', /model\.assert:1: a model assertion; serve import takes hardware-identity assertions/)
    const strangerFile = lab.identities([{hardwareId: 'S-1', key}], 'acme')
    writeFileSync(strangerFile, readFileSync(strangerFile, 'utf8').replaceAll('acme', 'acmf'))
    await refused(strangerFile, 'E_SERVE_IMPORT', /no model of .* accepts hardware identities issued by "acmf"/)
    const changed = lab.identities([{hardwareId: 'S-2', key}])
    writeFileSync(changed, readFileSync(changed, 'utf8').replace('hardware-id: S-2', 'hardware-id: S-3'))
    await refused(changed, 'E_SERVE_IMPORT', /the signature of the identity of "S-3" does not verify/)
  })

  test('a key under two hardware ids, or a hardware id with two keys, stops the import with nothing written', async () => {
    const a = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    const b = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    const c = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    await lab.import([lab.identities([{hardwareId: 'C-1', key: a}])])
    const fresh = lab.identities([{hardwareId: 'C-2', key: c}])
    const twice = lab.identities([{hardwareId: 'C-1-again', key: a}])
    await assert.rejects(
      lab.import([fresh, twice]),
      (error: unknown) => error instanceof UserError && error.code === 'E_HARDWARE_IDENTITY_CONFLICT' && /is held already as hardware id "C-1" of acme: nothing was imported/.test(error.message),
    )
    assert.equal((await attempt(new TestDevice(), c)).status, 403, 'C-2, in the same import, was not imported')
    const otherKey = lab.identities([{hardwareId: 'C-1', key: b}])
    await assert.rejects(lab.import([otherKey]), /hardware id "C-1" .* is held already with the key/)
  })

  test('the command: no api-key or signing key needed; --json; exit 1 on a conflict', async () => {
    const key = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
    const file = lab.identities([{hardwareId: 'CLI-1', key}])
    const result = await runCli(['serve', 'import', '--config', lab.config, file, '--json'], {env: {GATE_API_KEY: '', LAB_API_KEY: ''}})
    assert.equal(result.code, 0, result.stderr)
    const report = JSON.parse(result.stdout) as {imported: number; held: number; identities: {hardwareId: string}[]}
    assert.equal(report.imported, 1)
    assert.deepEqual(
      report.identities.map((i) => i.hardwareId),
      ['CLI-1'],
    )
    const text = await runCli(['serve', 'import', '--config', lab.config, file])
    assert.match(text.stdout, /serve\.db: 0 hardware identities imported, 1 held already; it holds \d+/)
    const conflict = await runCli(['serve', 'import', '--config', lab.config, lab.identities([{hardwareId: 'CLI-2', key}])])
    assert.equal(conflict.code, 1)
    assert.match(conflict.stderr, /error: the key .* is held already as hardware id "CLI-1"/)
  })
})
