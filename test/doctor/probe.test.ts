/**
 * `--service`: the device service probed from here, against `serve` itself (in this process) over
 * HTTP and HTTPS (a throwaway certificate made by openssl), a closed port and a name that never
 * resolves; what the probe finds becomes the cause, or evidence for the device's.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {diagnose} from '../../src/doctor/diagnose.js'
import {runDoctor} from '../../src/doctor/index.js'
import {probeService} from '../../src/doctor/probe.js'
import {stateView} from '../../src/doctor/state-file.js'
import {loadServiceConfig, type RunningService, startDeviceService} from '../../src/service/index.js'
import {fixtures} from '../helpers/paths.js'
import {API_KEY, type Lab, makeLab} from '../service/helpers.js'

let plain: RunningService
let secure: RunningService
let plainLab: Lab
let tlsLab: Lab
let certificate: string

before(async () => {
  plainLab = makeLab()
  plain = await startDeviceService(loadServiceConfig(plainLab.config, {env: {LAB_API_KEY: API_KEY}}), {version: 'test'})
  tlsLab = makeLab({extraConfig: 'tls: {certificate: serve.crt, key: serve.key}\n'})
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(tlsLab.dir, 'serve.key'),
      '-out',
      join(tlsLab.dir, 'serve.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=device-service.test',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    {stdio: 'ignore'},
  )
  certificate = readFileSync(join(tlsLab.dir, 'serve.crt'), 'utf8')
  secure = await startDeviceService(loadServiceConfig(tlsLab.config, {env: {LAB_API_KEY: API_KEY}}), {version: 'test'})
})

after(async () => {
  await plain?.close()
  await secure?.close()
  for (const lab of [plainLab, tlsLab]) if (lab) rmSync(lab.dir, {force: true, recursive: true})
})

describe('the service, probed from here', () => {
  it('serve, healthy, with the right api-key: a request-id is issued (and the report says it consumed one)', async () => {
    const probe = await probeService({headers: {'api-key': API_KEY}, headersFrom: 'test', url: plain.url, urlFrom: '--service'})
    assert.equal(probe.tcp?.ok, true)
    assert.equal(probe.tls, undefined)
    assert.equal(probe.health?.status, 200)
    assert.equal(probe.health?.healthy, true)
    assert.deepEqual([probe.requestId?.sent, probe.requestId?.status, probe.requestId?.headerNames], [true, 200, ['api-key']])
    assert.match(probe.notes.join('\n'), /consumed one request-id \(nonce\)/)
    const diagnosis = diagnose({probe})
    assert.equal(diagnosis.cause, undefined)
    assert.ok(!JSON.stringify(probe).includes(API_KEY))
  })

  it("a wrong api-key: 401 with serve's message, as snapd would log it", async () => {
    const probe = await probeService({headers: {'api-key': 'not-the-key'}, url: plain.url, urlFrom: '--service'})
    assert.equal(probe.requestId?.status, 401)
    assert.equal(probe.requestId?.contentType, 'application/json')
    assert.equal(probe.requestId?.refusal, 'api-key-invalid')
    assert.match(probe.requestId?.snapdWouldSay ?? '', /^cannot retrieve request-id for making a request for a serial: the api-key is not one this service knows: /)
    const diagnosis = diagnose({probe})
    assert.equal(diagnosis.cause?.code, 'api-key-invalid')
    assert.equal(diagnosis.steps.find((s) => s.id === 'request-id')?.status, 'failed')
    assert.ok(!JSON.stringify(probe).includes('not-the-key'))
  })

  it("a URL that is not the service's base: serve's 404 names the fix", async () => {
    const probe = await probeService({headers: {'api-key': API_KEY}, url: plain.url.replace(/v1\/$/, 'api/'), urlFrom: '--service'})
    assert.equal(probe.requestId?.status, 404)
    assert.equal(diagnose({probe}).cause?.code, 'service-url-wrong')
  })

  it('--no-request-id: nothing is posted', async () => {
    const probe = await probeService({requestId: false, url: plain.url, urlFrom: '--service'})
    assert.deepEqual([probe.requestId?.sent, probe.requestId?.skipped], [false, '--no-request-id'])
    assert.equal(probe.notes.length, 0)
  })

  it('a self-signed certificate: not trusted here, its dates shown, and no api-key is handed to it', async () => {
    const probe = await probeService({headers: {'api-key': API_KEY}, url: secure.url, urlFrom: '--service'})
    assert.equal(probe.tls?.ok, true)
    assert.equal(probe.tls?.trusted, false)
    assert.equal(probe.tls?.verifyError, 'DEPTH_ZERO_SELF_SIGNED_CERT')
    assert.equal(probe.tls?.certificate?.selfSigned, true)
    assert.equal(probe.tls?.certificate?.subject, 'device-service.test')
    assert.match(probe.tls?.certificate?.validFrom ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    assert.equal(probe.requestId?.sent, false)
    const diagnosis = diagnose({probe})
    assert.equal(diagnosis.cause?.code, 'tls-unknown-authority')
    assert.match(diagnosis.cause!.evidence.map((e) => e.text).join('\n'), /issued by itself \(self-signed\), valid \S+ to \S+/)
  })

  it('--ca with that certificate (as the device trusts its store-certs): trusted, and the request-id is asked for', async () => {
    const probe = await probeService({ca: [certificate], headers: {'api-key': API_KEY}, url: secure.url, urlFrom: '--service'})
    assert.equal(probe.tls?.trusted, true)
    assert.equal(probe.requestId?.status, 200)
  })

  it("the device's clock before the certificate's start: the clock is the cause", () => {
    const view = stateView(JSON.parse(readFileSync(fixtures('doctor', 'clock-behind-retrying', 'snapd-2.77.1', 'state.json'), 'utf8')), 'state.json')
    view.deviceTime = {from: '`date -u` on the device', time: new Date('2020-01-01T00:00:00Z')}
    const probe = {
      chain: [],
      notes: [],
      tls: {certificate: {fingerprint256: 'x', issuer: 'CA', selfSigned: false, subject: 's', validFrom: '2026-01-01T00:00:00Z', validTo: '2027-01-01T00:00:00Z'}, chain: [], ok: true, trusted: true},
      url: 'https://s/v1/',
      urlFrom: 'test',
    }
    const diagnosis = diagnose({probe, view})
    assert.equal(diagnosis.cause?.code, 'clock-behind-retrying')
    assert.match(diagnosis.cause!.evidence.map((e) => e.text).join('\n'), /TLS: the device's clock \(2020-01-01T00:00:00.000Z, `date -u` on the device\) is before the certificate's start \(2026-01-01T00:00:00Z\)/)
  })

  it('nothing listens: the connection is refused', async () => {
    const port = await closedPort()
    const probe = await probeService({url: `http://127.0.0.1:${port}/v1/`, urlFrom: '--service'})
    assert.equal(probe.tcp?.ok, false)
    assert.match(probe.tcp?.error ?? '', /ECONNREFUSED/)
    assert.equal(diagnose({probe}).cause?.code, 'service-unreachable')
  })

  it('a name that never resolves: DNS', async () => {
    const probe = await probeService({timeoutMs: 5000, url: 'https://device-service.invalid/v1/', urlFrom: '--service'})
    assert.equal(probe.dns?.ok, false)
    assert.equal(diagnose({probe}).cause?.code, 'dns')
  })

  it("with the device's state: the URL and the headers are the device's, and the probe is evidence for the device's cause", async () => {
    // The fixture's service is long gone: the probe finds its port closed, as the device would.
    const report = await runDoctor({service: true, state: fixtures('doctor', 'service-down', 'snapd-2.57.6', 'state.json'), timeoutMs: 3000})
    assert.equal(report.cause?.code, 'service-unreachable')
    assert.equal(report.probe?.urlFrom, "the device's device-service.url")
    assert.match(report.cause!.evidence.map((e) => `${e.from}: ${e.text}`).join('\n'), /probe http:\/\/127\.0\.0\.1:\d+\/v1\/: TCP: .*ECONNREFUSED/)
  })

  it('refuses what is not an http(s) URL, or one with credentials in it', async () => {
    await assert.rejects(probeService({url: 'ftp://x/v1/', urlFrom: '--service'}), /is not http or https/)
    await assert.rejects(probeService({url: 'https://user:secret@x/v1/', urlFrom: '--service'}), /user name or password/)
    await assert.rejects(probeService({url: 'not a url', urlFrom: '--service'}), /is not a URL/)
  })
})

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}
