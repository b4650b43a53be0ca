/**
 * Re-registration on remodel, over HTTP on loopback as snapd sends it: the original gadget's
 * api-key, a serial-request for the new model with original-brand-id, original-model and
 * original-serial, signed by the same device key, and the stream serial-request, new model,
 * original serial. serve issues the new model's serial (the original number by default) when the
 * new model takes the original one and the original serial is its own; every other case is a
 * refusal with snapd's JSON shape and a message that says what to fix; the signing log keeps the
 * pair, in SQLite here and in PostgreSQL in the store tests.
 */
import assert from 'node:assert/strict'
import {copyFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {parseAssertions, serialView, verifyAssertionSignature} from '../../src/assertions/index.js'
import {loadServiceConfig, readSigningLog, type RequestEvent, type RunningService, startDeviceService} from '../../src/service/index.js'
import {makeBrandChain, makeSerialRequest, testKeys} from '../helpers/assertions.js'
import {fixtures} from '../helpers/paths.js'
import {API_KEY, BRAND, brandKey, type Lab, makeLab, MODEL, rootKey, TestDevice} from './helpers.js'

const NEW_MODEL = 'acme-pc-v2'
const CLOSED_MODEL = 'acme-kiosk'
const OTHER_BRAND = 'globex'
const OTHER_KEY = 'globex-api-key-0123456789abcdef'
const acme = makeBrandChain(rootKey, brandKey, {brandId: BRAND})
const globex = makeBrandChain(rootKey, testKeys().device, {brandId: OTHER_BRAND})

let lab: Lab
let service: RunningService
let config: ReturnType<typeof loadServiceConfig>
let url: string
const events: RequestEvent[] = []

before(async () => {
  lab = makeLab({
    models: `listen: 127.0.0.1:0
database: sqlite:serve.db
models:
  - {brand: ${BRAND}, model: ${MODEL}, api-key: {env: LAB_API_KEY}, signing-key: serials.pem, chain: [acme.account, serials.account-key]}
  - {brand: ${BRAND}, model: ${NEW_MODEL}, api-key: {env: LAB_API_KEY_V2}, signing-key: serials.pem, chain: [acme.account, serials.account-key], remodel-from: [${BRAND}/${MODEL}]}
  - {brand: ${BRAND}, model: ${CLOSED_MODEL}, api-key: {env: LAB_API_KEY_KIOSK}, signing-key: serials.pem, chain: [acme.account, serials.account-key]}
  - {brand: ${OTHER_BRAND}, model: globex-box, api-key: {env: GLOBEX_API_KEY}, signing-key: globex.pem, chain: [globex.account, globex.account-key], remodel-from: ["${BRAND}/*"], remodel-serial: request}
`,
  })
  copyFileSync(fixtures('assertions', 'device.pem'), join(lab.dir, 'globex.pem'))
  writeFileSync(join(lab.dir, 'globex.account'), globex.account.text)
  writeFileSync(join(lab.dir, 'globex.account-key'), globex.accountKey.text)
  config = loadServiceConfig(lab.config, {env: {GLOBEX_API_KEY: OTHER_KEY, LAB_API_KEY: API_KEY, LAB_API_KEY_KIOSK: 'kiosk-api-key-0123456789abcdef', LAB_API_KEY_V2: 'v2-api-key-0123456789abcdef'}})
  service = await startDeviceService(config, {onRequest: (e) => events.push(e), version: 'test'})
  url = service.url
})

after(async () => {
  await service?.close()
  if (lab) rmSync(lab.dir, {force: true, recursive: true})
})

interface Answer {
  status: number
  contentType: string
  text: string
}

async function post(path: string, body: string, apiKey: string | undefined): Promise<Answer> {
  const headers: Record<string, string> = {'Content-Type': 'application/x.ubuntu.assertion'}
  if (apiKey !== undefined) headers['api-key'] = apiKey
  const answer = await fetch(new URL(path, url), {body, headers, method: 'POST'})
  return {contentType: answer.headers.get('content-type') ?? '', status: answer.status, text: await answer.text()}
}

async function nonce(apiKey = API_KEY): Promise<string> {
  const answer = await post('request-id', '', apiKey)
  assert.equal(answer.status, 200, answer.text)
  return (JSON.parse(answer.text) as {'request-id': string})['request-id']
}

/** A device's first registration as acme/acme-pc: its serial assertion. */
async function firstSerial(device: TestDevice, serial: string): Promise<string> {
  const stream = `${device.serialRequest(await nonce(), {serial})}\n${acme.signModel({model: MODEL}).text}`
  const answer = await post('serial', stream, API_KEY)
  assert.equal(answer.status, 200, answer.text)
  return answer.text.slice(0, answer.text.indexOf('\ntype: account'))
}

interface Rereg {
  device: TestDevice
  original: string
  to?: {brand?: string; model?: string}
  apiKey?: string
  headers?: Record<string, string | undefined>
  proposed?: string
  /** What follows the serial-request: default the new model and the original serial. */
  rest?: string[]
}

/** What snapd's reregRemodelContext sends: the original gadget's api-key, the original-* headers, the stream. */
async function reregister(r: Rereg): Promise<Answer> {
  const view = serialView(parseAssertions(r.original)[0])
  const brand = r.to?.brand ?? BRAND
  const model = r.to?.model ?? NEW_MODEL
  const chain = brand === BRAND ? acme : globex
  const request = makeSerialRequest({
    brandId: brand,
    deviceKey: r.device.key,
    headers: {'original-brand-id': view.brandId, 'original-model': view.model, 'original-serial': view.serial, ...r.headers},
    model,
    requestId: await nonce(r.apiKey ?? API_KEY),
    serial: r.proposed,
  }).text
  const rest = r.rest ?? [chain.signModel({model}).text, r.original]
  return post('serial', [request, ...rest].join('\n'), r.apiKey ?? API_KEY)
}

function refusal(answer: Answer): {code: string; message: string} {
  assert.equal(answer.contentType, 'application/json', answer.text)
  return JSON.parse(answer.text) as {code: string; message: string}
}

describe('re-registration on remodel', () => {
  test("acme-pc → acme-pc-v2 with the original gadget's api-key: the new model's serial, the same number, the same device key; the signing log keeps the pair", async () => {
    const device = new TestDevice()
    const original = await firstSerial(device, 'ACME-R-0001')
    const answer = await reregister({device, original})
    assert.equal(answer.status, 200, answer.text)
    const issued = parseAssertions(answer.text)
    const serial = serialView(issued[0])
    assert.deepEqual([serial.brandId, serial.model, serial.serial, serial.deviceKeyId], [BRAND, NEW_MODEL, 'ACME-R-0001', device.keyId])
    assert.equal(verifyAssertionSignature(issued[0], brandKey.encodedPublicKey).valid, true)
    assert.deepEqual(
      issued.slice(1).map((a) => a.type),
      ['account', 'account-key'],
    )

    const {
      entries: [entry],
    } = await readSigningLog({database: config.database}, {limit: 1})
    assert.deepEqual([entry.model, entry.serial, entry.remodelledFrom], [NEW_MODEL, 'ACME-R-0001', {brand: BRAND, model: MODEL, serial: 'ACME-R-0001'}])
    const event = events.findLast((e) => e.path.endsWith('serial') && e.status === 200)
    assert.deepEqual(event?.remodelledFrom, {brand: BRAND, model: MODEL, serial: 'ACME-R-0001'})

    // Asked again (snapd reuses the request after a lost answer): the same serial, a new revision.
    const again = await reregister({device, original})
    assert.equal(again.status, 200, again.text)
    assert.equal(serialView(parseAssertions(again.text)[0]).revision, 1)
  })

  test("to another brand that takes acme's devices: with the new model's api-key, the serial the request proposes (remodel-serial: request), signed by the new brand", async () => {
    const device = new TestDevice()
    const original = await firstSerial(device, 'ACME-R-0002')
    const answer = await reregister({apiKey: OTHER_KEY, device, original, proposed: 'GLOBEX-0002', to: {brand: OTHER_BRAND, model: 'globex-box'}})
    assert.equal(answer.status, 200, answer.text)
    const serial = serialView(parseAssertions(answer.text)[0])
    assert.deepEqual([serial.authorityId, serial.brandId, serial.serial], [OTHER_BRAND, OTHER_BRAND, 'GLOBEX-0002'])
  })

  test('refusals, each with what to fix', async () => {
    const device = new TestDevice()
    const original = await firstSerial(device, 'ACME-R-0003')
    const expect = async (r: Partial<Rereg>, code: string, message: RegExp, status: number) => {
      const answer = await reregister({device, original, ...r})
      assert.equal(answer.status, status, answer.text)
      const body = refusal(answer)
      assert.equal(body.code, code, answer.text)
      assert.match(body.message, message)
    }

    await expect({to: {model: CLOSED_MODEL}}, 'remodel-not-allowed', /acme\/acme-kiosk does not take devices remodelled from "acme\/acme-pc".*remodel-from/, 403)
    await expect({to: {model: 'acme-unknown'}}, 'remodel-not-allowed', /"acme\/acme-unknown" is not a model this service registers/, 403)
    await expect({apiKey: 'kiosk-api-key-0123456789abcdef'}, 'api-key-invalid', /neither the one of the original model "acme\/acme-pc" nor of "acme\/acme-pc-v2"/, 401)
    await expect({device: new TestDevice()}, 'remodel-serial-mismatch', /certifies device key .* not the key .* that signed the serial-request/, 400)
    await expect({headers: {'original-serial': 'ACME-R-9999'}}, 'remodel-serial-mismatch', /original-\* headers say "acme\/acme-pc serial ACME-R-9999"/, 400)
    await expect({headers: {'original-model': undefined}}, 'remodel-headers', /has original-brand-id, original-serial but not original-model/, 400)
    await expect({rest: [acme.signModel({model: NEW_MODEL}).text]}, 'remodel-stream', /no original serial/, 400)

    // A serial this service never signed: the same device key, signed by a key serve does not hold.
    const stranger = makeBrandChain(rootKey, testKeys().device2048, {brandId: BRAND}).signSerial({deviceKey: device.key.encodedPublicKey, model: MODEL, serial: 'ACME-R-0003'}).text
    await expect({original: stranger}, 'remodel-serial-untrusted', /is signed by "acme" with key .* which this service does not hold/, 403)

    // A serial sent without the original-* headers is not a re-registration.
    const answer = await post('serial', `${device.serialRequest(await nonce())}\n${acme.signModel({model: MODEL}).text}\n${original}`, API_KEY)
    assert.equal(refusal(answer).code, 'stream-unexpected')
  })
})
