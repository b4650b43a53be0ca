/**
 * The device service over HTTP on loopback, as snapd's DeviceManager talks to it: request-id,
 * then the serial-request stream; every refusal a device can meet, with the status snapd acts on
 * and a JSON message snapd shows; and the promise that the api-key appears in no answer and no
 * log line.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {request} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {availableParallelism} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {parseAssertions, verifyAssertionSignature} from '../../src/assertions/index.js'
import {loadServiceConfig, type RequestEvent, type RunningService, startDeviceService} from '../../src/service/index.js'
import {defaultSigningThreads} from '../../src/service/registration.js'
import {API_KEY, BRAND, brandKey, type Lab, makeLab, MODEL, modelAssertion, TestDevice} from './helpers.js'

interface Answer {
  status: number
  contentType: string
  text: string
}

function post(url: string, path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return send('POST', url, path, body, headers)
}

function send(method: string, url: string, path: string, body: string | Buffer = '', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), {headers: {'Content-Length': Buffer.byteLength(body), ...headers}, method}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const answer = {contentType: String(res.headers['content-type']), status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8')}
        answers.push(answer.text)
        resolve(answer)
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

const answers: string[] = []
const withKey = {'api-key': API_KEY}
const assertionType = {'Content-Type': 'application/x.ubuntu.assertion'}

async function nonce(url: string): Promise<string> {
  const answer = await post(url, 'request-id', '', withKey)
  assert.equal(answer.status, 200, answer.text)
  return (JSON.parse(answer.text) as {'request-id': string})['request-id']
}

async function register(url: string, device: TestDevice, options: {serial?: string; body?: string; modelAssertion?: string} = {}): Promise<Answer> {
  const stream = `${device.serialRequest(await nonce(url), {body: options.body, serial: options.serial})}\n${options.modelAssertion ?? modelAssertion()}`
  return post(url, 'serial', stream, {...withKey, ...assertionType})
}

function refusal(answer: Answer): {code: string; message: string} {
  // Exactly application/json: snapd shows the message to the user only then.
  assert.equal(answer.contentType, 'application/json', answer.text)
  return JSON.parse(answer.text) as {code: string; message: string}
}

let lab: Lab
let service: RunningService
let url: string
const events: RequestEvent[] = []

before(async () => {
  lab = makeLab()
  const config = loadServiceConfig(lab.config, {env: {LAB_API_KEY: API_KEY}})
  service = await startDeviceService(config, {onRequest: (e) => events.push(e), version: 'test'})
  url = service.url
})

after(async () => {
  await service.close()
  rmSync(lab.dir, {force: true, recursive: true})
})

describe('a registration', () => {
  test('request-id gives a single-use 40-hex nonce to a known api-key', async () => {
    const answer = await post(url, 'request-id', '', withKey)
    assert.equal(answer.status, 200)
    assert.match(JSON.parse(answer.text)['request-id'], /^[0-9a-f]{40}$/)
  })

  test('the serial comes back signed by the brand key, followed by the chain', async () => {
    const device = new TestDevice()
    const answer = await register(url, device, {body: 'serial-source: dmi\n', serial: 'ACME-0001'})
    assert.equal(answer.status, 200, answer.text)
    assert.equal(answer.contentType, 'application/x.ubuntu.assertion')
    const [serial, ...chain] = parseAssertions(answer.text)
    assert.equal(serial.type, 'serial')
    assert.deepEqual(
      chain.map((a) => a.type),
      ['account', 'account-key'],
    )
    assert.equal(answer.text.slice(answer.text.indexOf('type: account\n')), `${lab.chain[0]}\n${lab.chain[1]}`, 'the chain is returned as the files hold it')
    const h = serial.headers
    assert.equal(h['authority-id'], BRAND)
    assert.equal(h['brand-id'], BRAND)
    assert.equal(h.model, MODEL)
    assert.equal(h.serial, 'ACME-0001')
    assert.equal(h['device-key-sha3-384'], device.keyId)
    assert.equal(h.revision, undefined, 'a first issue is revision 0, which snapd leaves out')
    assert.match(String(h.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    assert.equal(serial.body, 'serial-source: dmi\n', "the serial's body is the request's body")
    assert.equal(verifyAssertionSignature(serial, brandKey.encodedPublicKey).valid, true)
  })

  test('without a serial header the serial comes from `serial:` in the YAML body', async () => {
    const answer = await register(url, new TestDevice(), {body: 'serial: "ACME-0002"\nmac: 00:11:22:33:44:55\n'})
    assert.equal(answer.status, 200, answer.text)
    assert.equal(parseAssertions(answer.text)[0].headers.serial, 'ACME-0002')
  })

  test('the same device asking again (an answer lost on the way) gets its serial again, one revision up', async () => {
    const device = new TestDevice()
    await register(url, device, {serial: 'ACME-0003'})
    const again = await register(url, device, {serial: 'ACME-0003'})
    assert.equal(again.status, 200, again.text)
    const serial = parseAssertions(again.text)[0]
    assert.equal(serial.headers.serial, 'ACME-0003')
    assert.equal(serial.headers.revision, '1')
  })
})

describe('refusals a device is told about', () => {
  test('a wrong or missing api-key: 401, and request-id too', async () => {
    const device = new TestDevice()
    const wrong = await post(url, 'request-id', '', {'api-key': 'not-the-key'})
    assert.equal(wrong.status, 401)
    assert.equal(refusal(wrong).code, 'api-key-invalid')
    const missing = await post(url, 'request-id', '')
    assert.equal(refusal(missing).code, 'api-key-missing')
    const stream = `${device.serialRequest(await nonce(url), {serial: 'X-1'})}\n${modelAssertion()}`
    const serialWrong = await post(url, 'serial', stream, {'api-key': 'not-the-key', ...assertionType})
    assert.equal(serialWrong.status, 401)
    assert.match(refusal(serialWrong).message, /the api-key is not one this service knows/)
  })

  test('without a valid api-key, a served model and an unserved one get the same answer: models cannot be enumerated', async () => {
    const device = new TestDevice()
    const answers = []
    for (const model of ['acme-pc', 'acme-pi']) {
      const stream = `${device.serialRequest(await nonce(url), {model, serial: 'ENUM-1'})}\n${modelAssertion({model})}`
      answers.push(await post(url, 'serial', stream, {'api-key': 'guessed', ...assertionType}))
    }

    assert.equal(answers[0].status, 401)
    assert.deepEqual(answers[0], answers[1])
  })

  test('a nonce is used once', async () => {
    const device = new TestDevice()
    const stream = `${device.serialRequest(await nonce(url), {serial: 'ACME-0100'})}\n${modelAssertion()}`
    assert.equal((await post(url, 'serial', stream, {...withKey, ...assertionType})).status, 200)
    const replay = await post(url, 'serial', stream, {...withKey, ...assertionType})
    assert.equal(replay.status, 400)
    assert.equal(refusal(replay).code, 'request-id-unknown')
  })

  test('an invented nonce is unknown', async () => {
    const answer = await post(url, 'serial', `${new TestDevice().serialRequest('f'.repeat(40), {serial: 'ACME-0101'})}\n${modelAssertion()}`, withKey)
    assert.equal(refusal(answer).code, 'request-id-unknown')
  })

  test('a model the service does not know', async () => {
    const device = new TestDevice()
    const answer = await register(url, device, {modelAssertion: modelAssertion({model: 'acme-pi'}), serial: 'ACME-0102'})
    // The serial-request is still for acme-pc: the model does not match it.
    assert.equal(refusal(answer).code, 'model-mismatch')
    const stream = `${device.serialRequest(await nonce(url), {model: 'acme-pi', serial: 'ACME-0102'})}\n${modelAssertion({model: 'acme-pi'})}`
    // The api-key is acme-pc's: a request for any other model is refused the same way, served or not.
    const unknown = await post(url, 'serial', stream, withKey)
    assert.equal(unknown.status, 401)
    assert.equal(refusal(unknown).code, 'api-key-invalid')
    assert.match(refusal(unknown).message, /the api-key is not the one of model "acme\/acme-pi" that the serial-request names/)
  })

  test('a second device proposing an issued serial is refused; a device never gets a second serial', async () => {
    const first = new TestDevice()
    assert.equal((await register(url, first, {serial: 'ACME-0200'})).status, 200)
    const taken = await register(url, new TestDevice(), {serial: 'ACME-0200'})
    assert.equal(taken.status, 400)
    assert.equal(refusal(taken).code, 'serial-taken')
    const second = await register(url, first, {serial: 'ACME-0201'})
    assert.equal(refusal(second).code, 'device-has-serial')
  })

  test('a serial-request not signed by its device key', async () => {
    const device = new TestDevice()
    const other = new TestDevice()
    const genuine = device.serialRequest(await nonce(url), {serial: 'ACME-0300'})
    // Same headers, another key's signature block.
    const forged = other.serialRequest('x', {serial: 'ACME-0300'})
    const tampered = genuine.slice(0, genuine.lastIndexOf('\n\n') + 2) + forged.slice(forged.lastIndexOf('\n\n') + 2)
    const answer = await post(url, 'serial', `${tampered}\n${modelAssertion()}`, withKey)
    assert.equal(refusal(answer).code, 'serial-request-signature')
  })

  test("a model not signed by the brand's key is refused when that key is known", async () => {
    const device = new TestDevice()
    const answer = await register(url, device, {modelAssertion: modelAssertion({signer: device.key}), serial: 'ACME-0301'})
    // The device's key is not one the config knows: the signature cannot be checked, and is noted.
    assert.equal(answer.status, 200, answer.text)
    const forged = modelAssertion()
    const bad = forged.replace('architecture: amd64', 'architecture: arm64')
    assert.notEqual(bad, forged)
    const refused = await register(url, new TestDevice(), {modelAssertion: bad, serial: 'ACME-0302'})
    assert.equal(refusal(refused).code, 'model-signature')
    // The service remembers a model that verified by its bytes and signature: the genuine one,
    // the tampered one again, and the genuine one once more are judged as each deserves.
    assert.equal((await register(url, new TestDevice(), {modelAssertion: forged, serial: 'ACME-0303'})).status, 200)
    assert.equal(refusal(await register(url, new TestDevice(), {modelAssertion: bad, serial: 'ACME-0304'})).code, 'model-signature')
    const resigned = `${forged.slice(0, forged.lastIndexOf('\n\n') + 2)}${modelAssertion({signer: device.key}).slice(modelAssertion({signer: device.key}).lastIndexOf('\n\n') + 2)}`
    assert.equal(refusal(await register(url, new TestDevice(), {modelAssertion: resigned, serial: 'ACME-0305'})).code, 'model-signature', 'the genuine content under another signature')
    assert.equal((await register(url, new TestDevice(), {modelAssertion: forged, serial: 'ACME-0306'})).status, 200)
  })

  test('streams that are not a serial-request and a model', async () => {
    const device = new TestDevice()
    const request = device.serialRequest(await nonce(url), {serial: 'ACME-0400'})
    const cases: [string, string][] = [
      ['', 'stream-empty'],
      ['not an assertion', 'stream-invalid'],
      [modelAssertion(), 'stream-order'],
      [`${request}\n${modelAssertion()}\n${modelAssertion()}`, 'stream-unexpected'],
      [`${request}\n${lab.chain[0]}`, 'stream-unexpected'],
    ]
    for (const [body, code] of cases) {
      const answer = await post(url, 'serial', body, withKey)
      assert.equal(answer.status, 400, `${code}: ${answer.text}`)
      assert.equal(refusal(answer).code, code)
    }
  })

  test('serials snapd would refuse: with "/", control characters, none at all', async () => {
    for (const [serial, code] of [
      ['ACME/1', 'serial-invalid'],
      ['ACME\t1', 'serial-invalid'],
      [undefined, 'serial-missing'],
    ] as const) {
      const answer = await register(url, new TestDevice(), {serial})
      assert.equal(refusal(answer).code, code, String(serial))
    }

    const numeric = await register(url, new TestDevice(), {body: 'serial: 12345\n'})
    assert.match(refusal(numeric).message, /must be a string/)
  })

  test("a body over snapd's limits is refused before it is read", async () => {
    const answer = await post(url, 'serial', Buffer.alloc(5 * 1024 * 1024 + 1, 0x61), withKey)
    assert.equal(answer.status, 413)
    assert.equal(refusal(answer).code, 'body-too-large')
  })

  test('unknown paths and wrong methods', async () => {
    const unknown = await send('GET', url, 'nope')
    assert.equal(unknown.status, 404)
    assert.match(refusal(unknown).message, /the device service answers (\/metrics, )?\/v1\/health, \/v1\/request-id, \/v1\/serial, \/v1\/version:/)
    assert.equal((await send('GET', url, 'serial')).status, 405)
    assert.equal(refusal(await send('GET', url, 'request-id')).code, 'method-not-allowed')
  })
})

describe('the service itself', () => {
  test('version and health', async () => {
    const version = await send('GET', url, 'version')
    assert.deepEqual(JSON.parse(version.text), {service: 'snap-gadget serve', version: 'test'})
    const health = await send('GET', url, 'health')
    assert.equal(health.status, 200)
    assert.equal(JSON.parse(health.text).healthy, true)
  })

  test('the api-key is in no answer and no event', async () => {
    assert.ok(events.length > 10 && answers.length > 10)
    assert.ok(!JSON.stringify(events).includes(API_KEY), 'an event holds the api-key')
    assert.ok(!answers.some((a) => a.includes(API_KEY)), 'an answer holds the api-key')
  })
})

describe('where serials are signed', () => {
  test('on the event loop and on the thread pool, the same checks and a serial signed by the brand', async () => {
    for (const signingThreads of [0, 2]) {
      const threadsLab = makeLab()
      const running = await startDeviceService(loadServiceConfig(threadsLab.config, {env: {LAB_API_KEY: API_KEY}}), {signingThreads, version: 'test'})
      try {
        const devices = [new TestDevice(), new TestDevice(), new TestDevice()]
        const answers = await Promise.all(devices.map((device, i) => register(running.url, device, {serial: `THREADS-${i}`})))
        for (const [i, answer] of answers.entries()) {
          assert.equal(answer.status, 200, `${signingThreads} threads: ${answer.text}`)
          const serial = parseAssertions(answer.text)[0]
          assert.equal(serial.headers['device-key-sha3-384'], devices[i].keyId)
          assert.equal(verifyAssertionSignature(serial, brandKey.encodedPublicKey).valid, true)
        }

        assert.equal(refusal(await register(running.url, new TestDevice(), {serial: 'THREADS-0'})).code, 'serial-taken')
      } finally {
        await running.close()
        rmSync(threadsLab.dir, {force: true, recursive: true})
      }
    }
  })

  test('by default one signature per core on the thread pool, leaving one of its threads free; none on one core', () => {
    const cores = availableParallelism()
    const saved = process.env.UV_THREADPOOL_SIZE
    try {
      delete process.env.UV_THREADPOOL_SIZE
      assert.equal(defaultSigningThreads(), cores === 1 ? 0 : Math.min(cores, 3))
      process.env.UV_THREADPOOL_SIZE = '2'
      assert.equal(defaultSigningThreads(), cores === 1 ? 0 : 1)
      process.env.UV_THREADPOOL_SIZE = '64'
      assert.equal(defaultSigningThreads(), cores === 1 ? 0 : cores)
    } finally {
      if (saved === undefined) delete process.env.UV_THREADPOOL_SIZE
      else process.env.UV_THREADPOOL_SIZE = saved
    }
  })
})

describe('TLS and stopping', () => {
  test('with tls: it speaks HTTPS with the configured certificate', async () => {
    const tlsLab = makeLab({extraConfig: 'tls: {certificate: serve.crt, key: serve.key}\n'})
    // A throwaway certificate for 127.0.0.1, made by the openssl command line (node:crypto makes no X.509).
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(tlsLab.dir, 'serve.key'), '-out', join(tlsLab.dir, 'serve.crt'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      {stdio: 'ignore'},
    )
    const tls = await startDeviceService(loadServiceConfig(tlsLab.config, {env: {LAB_API_KEY: API_KEY}}), {version: 'test'})
    try {
      assert.match(tls.url, /^https:\/\/127\.0\.0\.1:\d+\/v1\/$/)
      const ca = readFileSync(join(tlsLab.dir, 'serve.crt'))
      const text = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(new URL('request-id', tls.url), {ca, headers: withKey, method: 'POST'}, (res) => {
          let body = ''
          res.on('data', (c: Buffer) => (body += c.toString()))
          res.on('end', () => resolve(body))
        })
        req.on('error', reject)
        req.end()
      })
      assert.match(JSON.parse(text)['request-id'], /^[0-9a-f]{40}$/)
    } finally {
      await tls.close()
      rmSync(tlsLab.dir, {force: true, recursive: true})
    }
  })

  test('a stop lets the request in flight finish, then refuses new connections', async () => {
    const stopLab = makeLab()
    const running = await startDeviceService(loadServiceConfig(stopLab.config, {env: {LAB_API_KEY: API_KEY}}), {version: 'test'})
    try {
      const device = new TestDevice()
      const requestId = await nonce(running.url)
      const stream = Buffer.from(`${device.serialRequest(requestId, {serial: 'ACME-STOP-1'})}\n${modelAssertion()}`)
      // Half the body now, the rest after the stop has begun.
      const answer = new Promise<Answer>((resolve, reject) => {
        const req = request(new URL('serial', running.url), {headers: {'Content-Length': stream.length, ...withKey}, method: 'POST'}, (res) => {
          let body = ''
          res.on('data', (c: Buffer) => (body += c.toString()))
          res.on('end', () => resolve({contentType: String(res.headers['content-type']), status: res.statusCode ?? 0, text: body}))
        })
        req.on('error', reject)
        req.write(stream.subarray(0, 100))
        setTimeout(() => req.end(stream.subarray(100)), 300)
      })
      await new Promise((resolve) => setTimeout(resolve, 100))
      const closed = running.close()
      const finished = await answer
      assert.equal(finished.status, 200, finished.text)
      assert.equal(parseAssertions(finished.text)[0].headers.serial, 'ACME-STOP-1')
      await closed
      await assert.rejects(send('GET', running.url, 'version'), /ECONNREFUSED/)
    } finally {
      await running.close()
      rmSync(stopLab.dir, {force: true, recursive: true})
    }
  })
})
