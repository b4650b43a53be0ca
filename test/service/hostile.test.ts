/**
 * Hostile clients while honest devices register: oversized bodies (declared and streamed), slow
 * senders trickling a body byte by byte, garbage instead of assertions, a replayed
 * serial-request, and 1,000 request-ids never followed by a serial-request. Each gets a clear
 * 4xx, every honest device gets its serial, and the unused nonces expire and are purged (the
 * service's clock is moved past their lifetime), so the table does not grow without bound.
 *
 * The request timeout is shortened for the test (1.5 s instead of 30 s); how long honest devices
 * take meanwhile is the benchmark's to measure (bench/serve-scale.bench.mjs), not a test's.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {rmSync} from 'node:fs'
import {connect} from 'node:net'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import Database from 'better-sqlite3'

import {loadServiceConfig, MAX_SERIAL_REQUEST_BYTES, NONCE_LIFETIME_MS, type RunningService, startDeviceService} from '../../src/service/index.js'
import {deviceKeys} from './device-keys.js'
import {type Device, registerFleet} from './fleet.js'
import {API_KEY, type Lab, makeLab, modelAssertion, TestDevice} from './helpers.js'

const REQUEST_TIMEOUT_MS = 1500
const HONEST_DEVICES = 100
const IDLE_NONCES = 1000

let lab: Lab
let service: RunningService
let clockOffset = 0
let devices: Device[]

before(async () => {
  lab = makeLab()
  const config = loadServiceConfig(lab.config, {env: {LAB_API_KEY: API_KEY}})
  service = await startDeviceService(config, {now: () => new Date(Date.now() + clockOffset), purgeEveryMs: 100, requestTimeoutMs: REQUEST_TIMEOUT_MS, version: 'test'})
  devices = (await deviceKeys(HONEST_DEVICES)).map((key, i) => ({key, serial: `HONEST-${i}`}))
})

after(async () => {
  await service.close()
  rmSync(lab.dir, {force: true, recursive: true})
})

const withKey = {'api-key': API_KEY}

async function status(path: string, init: RequestInit): Promise<{status: number; code?: string}> {
  const answer = await fetch(new URL(path, service.url), {...init, signal: AbortSignal.timeout(30_000)})
  const text = await answer.text()
  return {code: answer.headers.get('content-type') === 'application/json' ? (JSON.parse(text) as {code?: string}).code : undefined, status: answer.status}
}

async function nonce(): Promise<string> {
  const answer = await fetch(new URL('request-id', service.url), {headers: withKey, method: 'POST'})
  return ((await answer.json()) as {'request-id': string})['request-id']
}

const post = (lengthHeader: string): string => `POST /v1/serial HTTP/1.1\r\nHost: x\r\napi-key: ${API_KEY}\r\nContent-Type: application/x.ubuntu.assertion\r\n${lengthHeader}\r\n\r\n`

/**
 * Sends `head`, then `count` times `chunk`, one every `everyMs`; resolves with the first line of
 * what the service answers ('' when it closes without one) once it closes the connection, and
 * whether the whole body had been sent by then.
 */
function rawExchange(head: string, body: {chunk: string; count: number; everyMs: number}): Promise<{firstLine: string; finished: boolean; text: string}> {
  const url = new URL(service.url)
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname)
    let received = ''
    let sent = 0
    let timer: NodeJS.Timeout | undefined
    const bound = setTimeout(() => socket.destroy(new Error('no answer within 20 s')), 20_000)
    socket.on('connect', () => {
      socket.write(head)
      timer = setInterval(() => {
        if (sent++ < body.count && socket.writable) socket.write(body.chunk)
      }, body.everyMs)
    })
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')))
    // A reset after the answer (the service closed while data was still coming) is the refusal.
    socket.on('error', () => {})
    socket.on('close', () => {
      clearInterval(timer)
      clearTimeout(bound)
      resolve({finished: sent >= body.count, firstLine: received.split('\r\n')[0], text: received})
    })
  })
}

test('hostile clients get clear 4xx while honest devices register; unused nonces are purged', async () => {
  const honest = registerFleet(devices, {concurrency: 20, deadline: Date.now() + 120_000, urls: () => [service.url]})

  // Raw sockets: fetch would refuse to lie about a length, and fails when the service closes early.
  const declaredTooLarge = Array.from({length: 20}, () => rawExchange(post(`Content-Length: ${MAX_SERIAL_REQUEST_BYTES + 1}`), {chunk: 'x'.repeat(1024), count: 1, everyMs: 10}))
  const chunk = `40000\r\n${'a'.repeat(0x40000)}\r\n`
  const streamedTooLarge = Array.from({length: 3}, () => rawExchange(post('Transfer-Encoding: chunked'), {chunk, count: Math.ceil(MAX_SERIAL_REQUEST_BYTES / 0x40000) + 4, everyMs: 5}))
  const slowSenders = Array.from({length: 10}, () => rawExchange(post('Content-Length: 100000'), {chunk: 'x', count: 100_000, everyMs: 100}))
  const garbage = [randomBytes(4096), 'type: serial-request\n\nnot signed', 'type: serial-request\nbrand-id: acme\nbody-length: 9999999999\n\nx', `${'header: value\n'.repeat(50_000)}\n\nsig`, '\u0000\u0001\u0002'].map(
    (body) => status('serial', {body, headers: {...withKey, 'Content-Type': 'application/x.ubuntu.assertion'}, method: 'POST'}),
  )
  const idle = (async () => {
    const answers: number[] = []
    for (let i = 0; i < IDLE_NONCES; i += 50) answers.push(...(await Promise.all(Array.from({length: 50}, () => status('request-id', {headers: withKey, method: 'POST'})))).map((a) => a.status))
    return answers
  })()

  // A replayed serial-request: the very bytes a device sent, sent again.
  const replayDevice = new TestDevice()
  const stream = `${replayDevice.serialRequest(await nonce(), {serial: 'REPLAYED-1'})}\n${modelAssertion()}`
  const first = await status('serial', {body: stream, headers: withKey, method: 'POST'})
  const replayed = await status('serial', {body: stream, headers: withKey, method: 'POST'})
  assert.equal(first.status, 200)
  assert.deepEqual(replayed, {code: 'request-id-unknown', status: 400})

  for (const {firstLine} of [...(await Promise.all(declaredTooLarge)), ...(await Promise.all(streamedTooLarge))]) assert.equal(firstLine, 'HTTP/1.1 413 Payload Too Large')
  for (const answer of await Promise.all(garbage)) {
    assert.equal(answer.status, 400)
    assert.match(answer.code ?? '', /^(stream-invalid|stream-empty|serial-request-signature)$/)
  }

  for (const {finished, firstLine, text} of await Promise.all(slowSenders)) {
    assert.equal(firstLine, 'HTTP/1.1 408 Request Timeout', `a trickling request is ended by the request timeout: ${text}`)
    assert.equal(finished, false, 'the service ended it, not the sender')
  }

  assert.deepEqual(new Set(await idle), new Set([200]))
  const result = await honest
  assert.deepEqual(result.failures, new Map(), 'honest devices never failed')
  assert.equal(result.registered.length, HONEST_DEVICES)

  // The unused nonces: held until they expire, then purged.
  const db = new Database(join(lab.dir, 'serve.db'), {readonly: true})
  try {
    const nonces = (): number => (db.prepare('SELECT count(*) AS n FROM nonce').get() as {n: number}).n
    assert.ok(nonces() >= IDLE_NONCES, `the unused nonces are kept while they may be used (${nonces()})`)
    const early = await nonce()
    clockOffset = NONCE_LIFETIME_MS + 1000
    const deadline = Date.now() + 10_000
    while (nonces() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(nonces(), 0, 'every expired nonce was purged')
    const late = await status('serial', {body: `${new TestDevice().serialRequest(early, {serial: 'LATE-1'})}\n${modelAssertion()}`, headers: withKey, method: 'POST'})
    assert.equal(late.status, 400)
    assert.match(late.code ?? '', /^request-id-(expired|unknown)$/)
  } finally {
    db.close()
  }
})
