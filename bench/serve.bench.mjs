// The device service under load: registrations per second through `snap-gadget serve` on SQLite
// (request-id + serial, RSA-4096 brand key), against the limit of the machine for the same work,
// RSA-4096 signatures per second with node:crypto on one core, measured in the same run. The
// service runs as its own process (one core); the devices are this process, on the other core:
// each has its own RSA-2048 key made before the timed part, and signs a real serial-request with
// the nonce it was given.
import {spawn} from 'node:child_process'
import {generateKeyPair, generateKeyPairSync} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {encodePublicKey, signAssertion, signingKeyFromKeyObject} from '../dist/assertions/index.js'
import {fmt, median, percentile, signingLimit} from './lib.mjs'

const DEVICES = Number(process.env.SERVE_BENCH_DEVICES ?? 400)
const CONCURRENCY = 25
const API_KEY = 'bench-api-key'

const dir = mkdtempSync(join(tmpdir(), 'serve-bench-'))
try {
  const brand = signingKeyFromKeyObject(generateKeyPairSync('rsa', {modulusLength: 4096}).privateKey)
  const root = signingKeyFromKeyObject(generateKeyPairSync('rsa', {modulusLength: 4096}).privateKey)
  const since = '2020-01-01T00:00:00Z'
  writeFileSync(join(dir, 'brand.pem'), brand.privateKey.export({format: 'pem', type: 'pkcs8'}))
  writeFileSync(join(dir, 'account'), signAssertion({headers: {'account-id': 'acme', 'authority-id': 'root', 'display-name': 'Acme', timestamp: since, validation: 'verified'}, type: 'account'}, root).text)
  writeFileSync(
    join(dir, 'account-key'),
    signAssertion({body: brand.encodedPublicKey, headers: {'account-id': 'acme', 'authority-id': 'root', name: 'serials', 'public-key-sha3-384': brand.keyId, since}, type: 'account-key'}, root).text,
  )
  writeFileSync(join(dir, 'serve.yaml'), `listen: 127.0.0.1:0\ndatabase: sqlite:serve.db\nmodels:\n  - {brand: acme, model: acme-pc, api-key: ${API_KEY}, signing-key: brand.pem, chain: [account, account-key]}\n`)
  const model = signAssertion(
    {
      headers: {
        architecture: 'amd64',
        'authority-id': 'acme',
        base: 'core24',
        'brand-id': 'acme',
        grade: 'signed',
        model: 'acme-pc',
        series: '16',
        snaps: [{id: 'x'.repeat(32), name: 'pc', type: 'gadget'}],
        timestamp: since,
      },
      type: 'model',
    },
    brand,
  ).text

  // The limit: what one core can sign, the one cost no service can avoid.
  const signLimit = signingLimit(brand.privateKey, Buffer.from(model))

  const makeKey = promisify(generateKeyPair)
  const devices = await Promise.all(
    Array.from({length: DEVICES}, async () => {
      const {privateKey} = await makeKey('rsa', {modulusLength: 2048})
      const key = signingKeyFromKeyObject(privateKey)
      return {encoded: encodePublicKey(key.publicKey), key}
    }),
  )

  const serve = spawn(process.execPath, ['bin/run.js', 'serve', '--config', join(dir, 'serve.yaml'), '--json', '--quiet'], {stdio: ['ignore', 'pipe', 'inherit']})
  const url = await new Promise((resolve, reject) => {
    let out = ''
    serve.stdout.on('data', (c) => {
      out += c
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))).url)
    })
    serve.once('exit', (code) => reject(new Error(`serve exited with ${code}`)))
  })

  const register = async (device, n) => {
    const started = performance.now()
    const answer = await fetch(`${url}request-id`, {headers: {'api-key': API_KEY}, method: 'POST'})
    const nonce = (await answer.json())['request-id']
    const request = signAssertion(
      {body: `serial: "BENCH-${n}"\n`, headers: {'brand-id': 'acme', 'device-key': device.encoded, model: 'acme-pc', 'request-id': nonce, serial: `BENCH-${n}`}, type: 'serial-request'},
      device.key,
    ).text
    const serial = await fetch(`${url}serial`, {body: `${request}\n${model}`, headers: {'api-key': API_KEY, 'Content-Type': 'application/x.ubuntu.assertion'}, method: 'POST'})
    const text = await serial.text()
    if (serial.status !== 200) throw new Error(`registration ${n}: ${serial.status} ${text}`)
    return performance.now() - started
  }

  // Warm-up: the service's first requests compile its code.
  for (let i = 0; i < 10; i++) await register(devices[i], i)
  const latencies = []
  let next = 10
  const loadStart = performance.now()
  await Promise.all(
    Array.from({length: CONCURRENCY}, async () => {
      while (next < devices.length) {
        const n = next++
        latencies.push(await register(devices[n], n))
      }
    }),
  )
  const seconds = (performance.now() - loadStart) / 1000
  serve.kill('SIGTERM')
  await new Promise((resolve) => serve.once('exit', resolve))

  const rate = latencies.length / seconds
  console.log(`RSA-4096 signatures, node:crypto, one core: ${signLimit.toFixed(1)}/s (the limit)`)
  console.log(`serve on SQLite, ${latencies.length} devices, ${CONCURRENCY} at a time: ${rate.toFixed(1)} registrations/s = ${((rate / signLimit) * 100).toFixed(0)}% of the limit (target ≥ 70%)`)
  console.log(`latency of one registration (request-id + serial): p50 ${fmt(median(latencies))}, p99 ${fmt(percentile(latencies, 99))}`)
} finally {
  rmSync(dir, {force: true, recursive: true})
}
