/**
 * GET /metrics and the clients that would abuse it: it is served on a loopback listener and not on
 * a public one unless asked, or alone on metrics-listen, where no device path answers; it reads no
 * body and opens no way around the api-key (paths that dress a device path as /metrics, or the
 * other way round, get 404 or 405); a client cannot put a label of its own into it (paths, claimed
 * models, serials); a crowd of scrapers costs one rendering a second, and the metrics listener
 * holds few connections per client. What it counts is what happened.
 */
import assert from 'node:assert/strict'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {request} from 'node:http'
import {connect, type Socket} from 'node:net'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import {loadServiceConfig, type RunningService, type ServiceStore, startDeviceService} from '../../src/service/index.js'
import {openSqliteStore} from '../../src/service/store/sqlite.js'
import {projectRoot} from '../helpers/paths.js'
import {API_KEY, type Lab, makeLab, modelAssertion, TestDevice} from './helpers.js'

const labs: Lab[] = []
const services: RunningService[] = []
after(async () => {
  for (const service of services) await service.close().catch(() => {})
  for (const lab of labs) rmSync(lab.dir, {force: true, recursive: true})
})

const env = {LAB_API_KEY: API_KEY}

async function serve(extra: string, listen = '127.0.0.1:0', options: {store?: ServiceStore} = {}): Promise<{lab: Lab; service: RunningService}> {
  const lab = makeLab({extraConfig: extra})
  labs.push(lab)
  writeFileSync(lab.config, readFileSync(lab.config, 'utf8').replace('listen: 127.0.0.1:0', `listen: ${listen}`))
  const config = loadServiceConfig(lab.config, {env})
  const service = await startDeviceService(config, {version: 'test', ...options})
  services.push(service)
  return {lab, service}
}

interface Raw {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

function raw(url: string, path: string, options: {method?: string; headers?: Record<string, string>; body?: string} = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const target = new URL(url)
    const req = request({headers: options.headers, host: target.hostname, method: options.method ?? 'GET', path, port: target.port}, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c.toString()))
      res.on('end', () => resolve({headers: res.headers, status: res.statusCode ?? 0, text}))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** A sample's value in the text format, by its name and labels as written; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

async function register(url: string, serial: string): Promise<number> {
  const nonce = ((await (await fetch(`${url}request-id`, {headers: {'api-key': API_KEY}, method: 'POST'})).json()) as {'request-id': string})['request-id']
  const answer = await fetch(`${url}serial`, {body: `${new TestDevice().serialRequest(nonce, {serial})}\n${modelAssertion()}`, headers: {'api-key': API_KEY}, method: 'POST'})
  await answer.arrayBuffer()
  return answer.status
}

describe('where /metrics is served', () => {
  test('on a loopback listener by default, in the text format, counting what happened', async () => {
    const {service} = await serve('')
    assert.equal(service.metricsUrl, service.url.replace(/v1\/$/, 'metrics'))
    assert.equal(await register(service.url, 'M-1'), 200)
    assert.equal(await register(service.url, 'M-1'), 400, 'another device key: serial-taken')
    await fetch(`${service.url}nowhere`)
    // A scrape made at most once a second: wait for the next one.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const answer = await raw(service.metricsUrl!, '/metrics')
    assert.equal(answer.status, 200)
    assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/)
    const text = answer.text
    assert.equal(sample(text, 'snap_gadget_serve_registrations_total{model="acme/acme-pc"}'), 1)
    assert.equal(sample(text, 'snap_gadget_serve_refusals_total{code="serial-taken"}'), 1)
    assert.equal(sample(text, 'snap_gadget_serve_refusals_total{code="not-found"}'), 1)
    assert.equal(sample(text, 'snap_gadget_serve_requests_total{endpoint="/v1/serial",status="200"}'), 1)
    assert.equal(sample(text, 'snap_gadget_serve_requests_total{endpoint="/v1/request-id",status="200"}'), 2)
    assert.equal(sample(text, 'snap_gadget_serve_requests_total{endpoint="other",status="404"}'), 1)
    assert.equal(sample(text, 'snap_gadget_serve_signing_seconds_count'), 1)
    assert.equal(sample(text, 'snap_gadget_serve_database_seconds_count{operation="issue_serial"}'), 2)
    assert.equal(sample(text, 'snap_gadget_serve_nonces_outstanding'), 0)
    assert.equal(sample(text, 'snap_gadget_serve_database_up'), 1)
    assert.ok(!text.includes(API_KEY))
  })

  test("the README's table of metrics is the service's, name for name and label for label", async () => {
    const {service} = await serve('')
    const text = (await raw(service.metricsUrl!, '/metrics')).text
    const served = [...text.matchAll(/^# TYPE (\S+) \w+$/gm)].map((m) => m[1])
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('#### Metrics'), readme.indexOf('#### The refusal log'))
    const rows = [...section.matchAll(/^\| `(snap_gadget_serve_\w+)(?:\{([\w,]+)\})?` \|/gm)].map((m) => [m[1], m[2] ?? ''])
    assert.deepEqual(rows.map(([name]) => name).sort(), served.sort())
    for (const [name, labels] of rows) {
      const used = new Set([...text.matchAll(new RegExp(`^${name}(?:_bucket|_sum|_count)?\\{([^}]*)\\}`, 'gm'))].flatMap((m) => m[1].split(',').map((pair) => pair.split('=')[0])))
      used.delete('le')
      if (used.size > 0) assert.deepEqual([...used].sort(), labels.split(',').sort(), name)
    }
  })

  test('not on a public listener unless metrics: true; metrics: false turns it off on loopback', async () => {
    const {service} = await serve('', '0.0.0.0:0')
    assert.equal(service.metricsUrl, undefined)
    const port = new URL(service.url).port
    const answer = await raw(`http://127.0.0.1:${port}`, '/metrics')
    assert.equal(answer.status, 404)
    assert.equal((JSON.parse(answer.text) as {code: string}).code, 'not-found')
    const off = await serve('metrics: false\n')
    assert.equal((await raw(off.service.url, '/metrics')).status, 404)
    const on = await serve('metrics: true\n', '0.0.0.0:0')
    assert.equal((await raw(`http://127.0.0.1:${new URL(on.service.url).port}`, '/metrics')).status, 200)
  })

  test('metrics-listen serves /metrics alone, and the main listener does not', async () => {
    const {service} = await serve('metrics-listen: 127.0.0.1:0\n')
    assert.match(service.metricsUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    assert.notEqual(new URL(service.metricsUrl!).port, new URL(service.url).port)
    assert.equal((await raw(service.metricsUrl!, '/metrics')).status, 200)
    assert.equal((await raw(service.url, '/metrics')).status, 404)
    for (const path of ['/v1/request-id', '/v1/serial', '/v1/health', '/v1/version']) {
      const answer = await raw(service.metricsUrl!, path, {headers: {'api-key': API_KEY}, method: path.endsWith('request-id') || path.endsWith('serial') ? 'POST' : 'GET'})
      assert.equal(answer.status, 404, path)
      assert.match((JSON.parse(answer.text) as {message: string}).message, /the device service answers \/metrics:/)
    }
  })
})

describe('hostile clients', () => {
  test('no way around the api-key through /metrics, and no body read', async () => {
    const {service} = await serve('')
    const paths = ['/metrics/../v1/request-id', '//v1/request-id', '/metrics%2F..%2Fv1%2Frequest-id', '/v1/request-id/../../metrics', '/v1//request-id']
    for (const path of paths) {
      const answer = await raw(service.url, path, {method: 'POST'})
      assert.ok(answer.status === 404 || answer.status === 405, `${path}: ${answer.status}`)
      assert.ok(!answer.text.includes('request-id"'), path)
    }

    // Without an api-key the device paths still refuse, metrics on or not.
    assert.equal((await raw(service.url, '/v1/request-id', {method: 'POST'})).status, 401)
    // POST with a body to /metrics: 405, the body unread, the connection closed.
    const post = await raw(service.url, '/metrics', {body: 'x'.repeat(100_000), headers: {'content-length': '100000'}, method: 'POST'})
    assert.equal(post.status, 405)
    assert.equal(post.headers.connection, 'close')
    const get = await raw(service.url, '/metrics', {body: 'x'.repeat(1000), headers: {'content-length': '1000'}})
    assert.equal(get.status, 200)
    assert.equal(get.headers.connection, 'close', 'a GET with a body is answered and its connection closed, the body unread')
  })

  test('nothing a client sends becomes a label', async () => {
    const {service} = await serve('')
    const hostile = ['/x\n# TYPE fake counter\nfake_total 1', '/"}evil{', `/${'a'.repeat(5000)}`]
    for (const path of hostile) await raw(service.url, encodeURI(path)).catch(() => {})
    // A claimed model and serial that are refused before they are believed.
    const nonce = ((await (await fetch(`${service.url}request-id`, {headers: {'api-key': API_KEY}, method: 'POST'})).json()) as {'request-id': string})['request-id']
    await fetch(`${service.url}serial`, {body: `${new TestDevice().serialRequest(nonce, {model: 'evil-model', serial: 'EVIL-SERIAL'})}`, headers: {'api-key': API_KEY}, method: 'POST'})
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const text = (await raw(service.url, '/metrics')).text
    for (const word of ['fake_total', 'evil', 'EVIL-SERIAL', 'aaaaaaaa']) assert.ok(!text.includes(word), word)
    const labels = [...text.matchAll(/\{([^}]*)\}/g)].flatMap((m) => m[1].split(',').map((pair) => pair.split('=')[0]))
    assert.ok(labels.length > 0)
    for (const label of new Set(labels)) assert.ok(['code', 'endpoint', 'le', 'model', 'operation', 'status'].includes(label), label)
    assert.equal(sample(text, 'snap_gadget_serve_refusals_total{code="api-key-invalid"}'), 1, 'the claimed model is counted by its refusal code')
  })

  test('a crowd of scrapes costs one rendering (and one read of the database) a second', async () => {
    const lab = makeLab()
    labs.push(lab)
    const store = openSqliteStore(':memory:')
    let counted = 0
    const counting: ServiceStore = Object.assign(Object.create(store) as ServiceStore, {
      nonceCount: async () => {
        counted++
        return store.nonceCount()
      },
    })
    const service = await startDeviceService(loadServiceConfig(lab.config, {env}), {store: counting, version: 'test'})
    services.push(service)
    const answers = await Promise.all(Array.from({length: 200}, () => raw(service.url, '/metrics')))
    assert.ok(answers.every((a) => a.status === 200))
    assert.ok(counted <= 2, `${counted} reads for 200 scrapes`)
  })

  test('the metrics listener holds 8 connections per client; more are closed as they arrive', async () => {
    const {service} = await serve('metrics-listen: 127.0.0.1:0\n')
    const port = Number(new URL(service.metricsUrl!).port)
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket))
        socket.on('error', reject)
      })
    const held = await Promise.all(Array.from({length: 8}, open))
    await new Promise((resolve) => setTimeout(resolve, 50))
    const extra = await open()
    const closed = await new Promise<boolean>((resolve) => {
      extra.once('close', () => resolve(true))
      setTimeout(() => resolve(false), 2000)
    })
    assert.ok(closed, 'the ninth connection is closed')
    for (const socket of held) socket.destroy()
    // And the listener still answers.
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal((await raw(service.metricsUrl!, '/metrics')).status, 200)
  })
})
