/**
 * What a hostile user and a careless set-up did to `serve`, kept from coming back, on loopback:
 * bodies of deeply nested YAML and alias bombs sent again and again to one process; a request log
 * that cannot be written (a full disk, a reader gone); forged log lines and terminal escapes in
 * what a request claims; a thousand connections holding bodies; degenerate device keys; serials
 * no log or terminal should carry; a health check that must see a read-only or full database;
 * and operator mistakes that must be exit 2 with the file and the fix, not a stack.
 */
import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {generateKeyPairSync} from 'node:crypto'
import {chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs'
import {connect, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import {signAssertion, signingKeyFromKeyObject} from '../../src/assertions/index.js'
import {loadServiceConfig, type RunningService, startDeviceService} from '../../src/service/index.js'
import {runCli} from '../helpers/cli.js'
import {API_KEY, BRAND, type Lab, makeLab, MODEL, modelAssertion, TestDevice} from './helpers.js'
import {startServe} from './serve-process.js'

const labs: Lab[] = []
after(() => {
  for (const lab of labs) rmSync(lab.dir, {force: true, recursive: true})
})

function lab(options: Parameters<typeof makeLab>[0] = {}): Lab {
  const made = makeLab(options)
  labs.push(made)
  return made
}

const withKey = {'api-key': API_KEY}

async function nonce(url: string): Promise<string> {
  const answer = await fetch(`${url}request-id`, {headers: withKey, method: 'POST', signal: AbortSignal.timeout(20_000)})
  assert.equal(answer.status, 200, await answer.clone().text())
  return ((await answer.json()) as {'request-id': string})['request-id']
}

async function postSerial(url: string, stream: string, headers: Record<string, string> = withKey): Promise<{status: number; code?: string; message?: string}> {
  const answer = await fetch(`${url}serial`, {body: stream, headers, method: 'POST', signal: AbortSignal.timeout(20_000)})
  const text = await answer.text()
  if (answer.headers.get('content-type') !== 'application/json') return {status: answer.status}
  const {code, message} = JSON.parse(text) as {code?: string; message?: string}
  return {code, message, status: answer.status}
}

async function register(url: string, options: {serial?: string; body?: string; device?: TestDevice} = {}): Promise<{status: number; code?: string; message?: string}> {
  const device = options.device ?? new TestDevice()
  return postSerial(url, `${device.serialRequest(await nonce(url), {body: options.body, serial: options.serial})}\n${modelAssertion()}`)
}

async function health(url: string): Promise<{status: number; body: Record<string, unknown>}> {
  const answer = await fetch(`${url}health`, {signal: AbortSignal.timeout(20_000)})
  return {body: (await answer.json()) as Record<string, unknown>, status: answer.status}
}

const nested = (depth: number): string => `mac: "00:11:22:33:44:55"\nnested: ${'['.repeat(depth)}${']'.repeat(depth)}\n`
const laughs = (): string => {
  let text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
  for (let i = 1; i < 9; i++) text += `a${i}: &a${i} [${Array.from({length: 9}, () => `*a${i - 1}`).join(', ')}]\n`
  return text
}

describe('one serve process takes hostile bodies again and again', () => {
  test('deep nesting and alias bombs get a 400 each, the process lives, and an honest device then registers', async () => {
    const serve = await startServe(lab().config)
    try {
      for (let round = 0; round < 8; round++) {
        for (const body of [nested(1000), nested(20_000), laughs()]) {
          const answer = await register(serve.url, {body})
          assert.equal(answer.status, 400, `round ${round}: ${answer.message}`)
          assert.equal(answer.code, 'body-invalid')
        }
      }

      const deep = await register(serve.url, {body: nested(1000)})
      assert.match(deep.message ?? '', /cannot be read as YAML \(line 2\): it nests more than 32 levels deep/)
      assert.equal((await register(serve.url, {serial: 'HONEST-1'})).status, 200)
      assert.equal(serve.child.exitCode, null, 'serve is still running')
    } finally {
      await serve.stop()
    }
  })
})

describe('a request log that cannot be written never takes serve down', () => {
  test('stderr on a full disk (/dev/full): requests answered, the failure said once on stdout, the lines counted', async () => {
    const full = openSync('/dev/full', 'w')
    const serve = await startServe(lab().config, {stderr: full})
    closeSync(full)
    try {
      for (let i = 0; i < 4; i++) assert.equal((await register(serve.url, {serial: `FULL-${i}`})).status, 200)
      const {body, status} = await health(serve.url)
      assert.equal(status, 200)
      assert.ok(((body.log as {'lines-lost': number})['lines-lost'] ?? 0) >= 8, JSON.stringify(body))
    } finally {
      const exit = await serve.stop()
      assert.deepEqual(exit, {code: 0, signal: null})
    }

    const warnings = serve
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('warning: the request log cannot be written'))
    assert.equal(warnings.length, 1, serve.stdout())
    assert.match(warnings[0], /\(ENOSPC: .*\); serve goes on answering and counts the lines lost/)
    assert.match(serve.stdout(), /stopped on SIGTERM after \d+ requests \(0 refused, 0 failed on the service's side\); \d+ log lines could not be written/)
  })

  test('a reader of stderr that goes away (EPIPE): serve keeps answering', async () => {
    const serve = await startServe(lab().config)
    try {
      assert.equal((await register(serve.url, {serial: 'PIPE-0'})).status, 200)
      serve.child.stderr!.destroy()
      for (let i = 1; i < 4; i++) assert.equal((await register(serve.url, {serial: `PIPE-${i}`})).status, 200)
      assert.ok(((await health(serve.url)).body.log as {'lines-lost': number})['lines-lost'] > 0)
      assert.equal(serve.child.exitCode, null)
    } finally {
      assert.deepEqual(await serve.stop(), {code: 0, signal: null})
    }

    assert.equal(serve.stdout().match(/warning: the request log cannot be written \(EPIPE/g)?.length, 1)
  })
})

describe('what a request claims is escaped and marked as a claim, in every log format', () => {
  const forged = `${BRAND}\n2026-01-01T00:00:00.000Z 127.0.0.1 POST "/v1/serial" 200 acme/acme-pc serial="FORGED"\u001b[2J\u009b31m\u202e`
  const hostile = (requestId: string): string => {
    const device = new TestDevice()
    const request = signAssertion(
      {headers: {'brand-id': forged, 'device-key': device.key.encodedPublicKey, model: `${MODEL}\u0007\u2066x`, 'request-id': requestId, serial: 'S\u001b]0;title\u0007'}, type: 'serial-request'},
      device.key,
    ).text
    return `${request}\n${modelAssertion()}`
  }

  const unsafe = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/

  for (const format of ['text', 'json'] as const) {
    test(`${format}: one line a request, nothing a terminal acts on, the unverified brand only as a claim`, async () => {
      const serve = await startServe(lab().config, {args: format === 'json' ? ['--json'] : []})
      try {
        const answer = await postSerial(serve.url, hostile(await nonce(serve.url)))
        assert.equal(answer.status, 401)
        await postSerial(serve.url, hostile(await nonce(serve.url)), {'api-key': 'wrong'})
        await fetch(`${serve.url}../..\u001b[31m/x`).catch(() => undefined)
        await fetch(`${serve.url.replace(/\/v1\/$/, '')}/%1b%5b31m%0a200`)
      } finally {
        await serve.stop()
      }

      const lines = serve
        .stderr()
        .split('\n')
        .filter((line) => line !== '')
      assert.ok(!unsafe.test(serve.stderr()), 'no control or bidi character in the log')
      assert.equal(lines.length, 6, lines.join('\n'))
      assert.ok(!lines.some((line) => /^\S+ 127\.0\.0\.1 POST "\/v1\/serial" 200/.test(line)), 'no line says a serial was issued')
      if (format === 'json') {
        const events = lines.map((line) => JSON.parse(line) as {brand?: string; claimed?: {brand?: string}; status: number})
        const refused = events.find((e) => e.claimed?.brand !== undefined)!
        assert.equal(refused.claimed!.brand, forged, 'JSON escapes, and a reader gets the claim back whole')
        assert.equal(refused.brand, BRAND, 'brand is the api-key holder’s, verified')
      } else {
        const line = lines.find((l) => l.includes('claimed='))!
        const claim = String.raw`claimed="acme\n2026-01-01T00:00:00.000Z 127.0.0.1 POST \"/v1/serial\" 200 acme/acme-pc serial=\"FORGED\"\u001b[2J\x9b31m\u202e/acme-pc\u0007\u2066x"`
        assert.ok(line.includes(` 401 acme/acme-pc api-key-invalid ${claim} `), line)
      }
    })
  }
})

describe('connections and bodies are bounded before anyone is authenticated', () => {
  test('a body is not read before the api-key is compared: 401 at once, the connection closed', async () => {
    const serve = await startServe(lab().config, {args: ['--quiet']})
    try {
      const url = new URL(serve.url)
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname)
        let text = ''
        socket.on('data', (c: Buffer) => (text += c.toString('latin1')))
        socket.on('close', () => resolve(text))
        socket.on('error', reject)
        // Declares 4 MB, sends none of it: the answer must not wait for it.
        socket.write('POST /v1/serial HTTP/1.1\r\nHost: x\r\napi-key: wrong\r\nContent-Length: 4000000\r\n\r\n')
        setTimeout(() => socket.destroy(new Error('no answer within 10 s')), 10_000).unref()
      })
      assert.match(answer, /^HTTP\/1\.1 401 /)
      assert.match(answer, /\r\nConnection: close\r\n/i)
      assert.match(answer, /"code":"api-key-invalid"/)
    } finally {
      await serve.stop()
    }
  })

  test('1,000 held connections from eight addresses, each announcing 4 MB, with the api-key every device carries: RSS stays within 128 MiB of its start', async (t) => {
    // The limits at their defaults: 64 MiB of bodies in total, 16 MiB and 256 connections per address.
    const serve = await startServe(lab().config, {args: ['--quiet']})
    const sockets: Socket[] = []
    try {
      const url = new URL(serve.url)
      assert.equal((await register(serve.url, {serial: 'BEFORE-1'})).status, 200)
      const before = serve.rss()
      const statuses = new Map<string, number>()
      const chunk = Buffer.alloc(64 * 1024, 0x61)
      await Promise.all(
        Array.from(
          {length: 1000},
          (_, i) =>
            new Promise<void>((resolve) => {
              const socket = connect({host: url.hostname, localAddress: `127.0.0.${2 + (i % 8)}`, port: Number(url.port)})
              sockets.push(socket)
              let answered = false
              const done = (status: string): void => {
                if (answered) return
                answered = true
                statuses.set(status, (statuses.get(status) ?? 0) + 1)
                resolve()
              }

              socket.on('data', (c: Buffer) => done(/^HTTP\/1\.1 (\d+)/.exec(c.toString('latin1'))?.[1] ?? 'other'))
              socket.on('error', () => done('closed'))
              socket.on('close', () => done('closed'))
              socket.on('connect', () => {
                socket.write(`POST /v1/serial HTTP/1.1\r\nHost: x\r\napi-key: ${API_KEY}\r\nContent-Length: 4000000\r\n\r\n`)
                // 1 MiB each, then hold: what is held is what the service holds.
                for (let n = 0; n < 16; n++) socket.write(chunk)
                setTimeout(() => done('held'), 3000)
              })
            }),
        ),
      )
      const peak = serve.rss()
      t.diagnostic(`RSS ${Math.round(before / 1048576)} MiB before, ${Math.round(peak / 1048576)} MiB holding the connections; answers: ${JSON.stringify(Object.fromEntries(statuses))}`)
      // How many are answered within the wait depends on the machine's load; that some are told the
      // service is busy, and that memory stays bounded, does not.
      assert.ok((statuses.get('503') ?? 0) > 0, `some are told the service is busy: ${JSON.stringify([...statuses])}`)
      assert.ok(peak - before < 128 * 1024 * 1024, `RSS grew by ${Math.round((peak - before) / 1024 / 1024)} MiB (before ${Math.round(before / 1024 / 1024)} MiB)`)
      for (const socket of sockets) socket.destroy()
      // Once they are gone, an honest device registers.
      assert.equal((await register(serve.url, {serial: 'AFTER-1'})).status, 200)
    } finally {
      for (const socket of sockets) socket.destroy()
      await serve.stop()
    }
  })

  test('connections over the per-client limit are closed as they arrive; other addresses still get in', async () => {
    const made = lab({extraConfig: 'limits: {connections: 64, connections-per-client: 8}\n'})
    const serve = await startServe(made.config, {args: ['--quiet']})
    const sockets: Socket[] = []
    try {
      const url = new URL(serve.url)
      const open = (localAddress: string) =>
        new Promise<'closed' | 'open'>((resolve) => {
          const socket = connect({host: url.hostname, localAddress, port: Number(url.port)})
          sockets.push(socket)
          socket.on('close', () => resolve('closed'))
          socket.on('error', () => resolve('closed'))
          socket.on('connect', () => setTimeout(() => resolve(socket.destroyed ? 'closed' : 'open'), 500))
        })
      const fromOne = await Promise.all(Array.from({length: 20}, () => open('127.0.0.2')))
      assert.equal(fromOne.filter((s) => s === 'open').length, 8)
      assert.equal(await open('127.0.0.3'), 'open')
    } finally {
      for (const socket of sockets) socket.destroy()
      await serve.stop()
    }
  })
})

describe('checks a device key and a serial cannot pass', () => {
  let service: RunningService
  let url: string
  const made = lab({extraConfig: 'limits: {serial-length: 64}\n'})

  test('set-up', async () => {
    service = await startDeviceService(loadServiceConfig(made.config, {env: {LAB_API_KEY: API_KEY}}), {version: 'test'})
    url = service.url
  })

  test('device keys with exponent 3, or of 1024 bits, get no serial', async () => {
    for (const options of [{modulusLength: 2048, publicExponent: 3}, {modulusLength: 1024}]) {
      const device = new TestDevice(generateKeyPairSync('rsa', options).privateKey)
      const answer = await register(url, {device, serial: `WEAK-${options.modulusLength}`})
      assert.equal(answer.status, 400)
      assert.equal(answer.code, 'device-key-invalid')
      assert.match(answer.message ?? '', /exponent is 3; only 65537|1024 bits; keys under 2048 bits are refused \(snapd makes 4096-bit keys\)/)
    }

    assert.equal((await register(url, {device: new TestDevice(signingKeyFromKeyObject(generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey).privateKey), serial: 'STRONG-1'})).status, 200)
  })

  test('serials with C1 controls, bidi overrides, zero-width characters, or over the length limit', async () => {
    for (const [serial, why] of [
      ['ACME\u009b31m', /U\+009B at character 5/],
      ['ACME\u202eEVIL', /U\+202E at character 5/],
      ['ACME\u200b1', /U\+200B/],
      ['A'.repeat(100_000), /100000 characters long, more than 64/],
      ['A'.repeat(65), /65 characters long, more than 64/],
    ] as const) {
      const answer = await register(url, {serial})
      assert.equal(answer.status, 400, serial.slice(0, 10))
      assert.equal(answer.code, 'serial-invalid')
      assert.match(answer.message ?? '', why)
      assert.ok(!/[\u0080-\u009f\u202a-\u202e\u200b]/.test(answer.message ?? ''), 'the message quotes the serial escaped')
    }

    assert.equal((await register(url, {serial: 'A'.repeat(64)})).status, 200)
  })

  test('tear-down', async () => {
    await service.close()
  })
})

/** Whether this process may mount a tmpfs (root, and a kernel that lets it). */
function canMount(): boolean {
  if (process.getuid?.() !== 0) return false
  const probe = mkdtempSync(join(tmpdir(), 'mount-probe-'))
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]).status === 0
  if (mounted) spawnSync('umount', [probe])
  rmSync(probe, {force: true, recursive: true})
  return mounted
}

describe('health says whether a serial can be issued now', {skip: canMount() ? false : 'needs root (to play an unprivileged operator) and tmpfs mounts (to make a full file system)'}, () => {
  test('a database file the service may read but not write: health says read-only, requests get 503', async () => {
    // Root writes any file; an operator's service user does not. Played by nobody.
    const made = lab()
    const nobody = {gid: 65_534, uid: 65_534}
    chmodSync(made.dir, 0o755)
    for (const file of ['', 'serials.pem', 'acme.account', 'serials.account-key', 'serve.yaml']) chownSync(join(made.dir, file), nobody.uid, nobody.gid)
    const env = {HOME: made.dir}
    const first = await startServe(made.config, {env, user: nobody})
    try {
      assert.equal((await register(first.url, {serial: 'RO-1'})).status, 200)
      assert.equal((await health(first.url)).status, 200)
    } finally {
      await first.stop()
    }

    chmodSync(join(made.dir, 'serve.db'), 0o444)
    const readOnly = await startServe(made.config, {env, user: nobody})
    try {
      const down = await health(readOnly.url)
      assert.equal(down.status, 503, JSON.stringify(down.body))
      assert.equal(down.body.database, 'read-only')
      assert.equal(down.body.healthy, false)
      assert.match(String(down.body.message), /the database cannot be written \(read-only\): no serial can be issued/)
      const refused = await fetch(`${readOnly.url}request-id`, {headers: withKey, method: 'POST'})
      assert.equal(refused.status, 503)
    } finally {
      await readOnly.stop()
    }
  })

  test('a full disk: health says full, and recovers when space is freed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-full-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir])
    const made = lab()
    writeFileSync(
      made.config,
      `listen: 127.0.0.1:0\ndatabase: sqlite:${join(dir, 'serve.db')}\nmodels:\n  - {brand: acme, model: acme-pc, api-key: {env: LAB_API_KEY}, signing-key: serials.pem, chain: [acme.account, serials.account-key]}\n`,
    )
    const service = await startDeviceService(loadServiceConfig(made.config, {env: {LAB_API_KEY: API_KEY}}), {version: 'test'})
    try {
      assert.equal((await register(service.url, {serial: 'FULL-1'})).status, 200)
      spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=64k', 'count=1000'])
      // Fill what the WAL could still take, whatever the block size.
      for (let i = 0; i < 200; i++) spawnSync('dd', ['if=/dev/zero', `of=${join(dir, `filler-${i}`)}`, 'bs=512', 'count=8'])
      await new Promise((resolve) => setTimeout(resolve, 1100))
      let down = await health(service.url)
      for (let i = 0; i < 20 && down.status === 200; i++) {
        // The WAL may still have room for a page or two: use it up through the probe itself.
        await new Promise((resolve) => setTimeout(resolve, 1100))
        down = await health(service.url)
      }

      assert.equal(down.status, 503, JSON.stringify(down.body))
      assert.equal(down.body.database, 'full')
      rmSync(join(dir, 'filler'), {force: true})
      for (let i = 0; i < 200; i++) rmSync(join(dir, `filler-${i}`), {force: true})
      await new Promise((resolve) => setTimeout(resolve, 1100))
      assert.equal((await health(service.url)).status, 200)
    } finally {
      await service.close()
      spawnSync('umount', ['-l', dir])
      rmSync(dir, {force: true, recursive: true})
    }
  })
})

describe("an operator's mistakes are exit 2 with the file and the fix, never a stack", () => {
  const expectUsage = async (config: string, message: RegExp, hint: RegExp): Promise<void> => {
    const result = await runCli(['serve', '--config', config], {env: {LAB_API_KEY: API_KEY}})
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, message)
    assert.match(result.stderr, hint)
    assert.doesNotMatch(result.stderr, /internal error| {4}at /)
  }

  test('a database directory that cannot be created', async () => {
    const made = lab()
    writeFileSync(join(made.dir, 'a-file'), '')
    writeFileSync(
      made.config,
      `listen: 127.0.0.1:0\ndatabase: sqlite:a-file/db/serve.db\nmodels:\n  - {brand: acme, model: acme-pc, api-key: {env: LAB_API_KEY}, signing-key: serials.pem, chain: [acme.account, serials.account-key]}\n`,
    )
    await expectUsage(made.config, /cannot create the directory of the sqlite database .*a-file\/db\/serve\.db: a part of the path is a file/, /point database: at a directory the serve user may write/)
  })

  test('a TLS certificate that is not PEM, and a key that is not the certificate’s', async () => {
    const made = lab()
    mkdirSync(join(made.dir, 'tls'))
    for (const name of ['a', 'b']) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', `tls/${name}.key`, '-out', `tls/${name}.crt`], {
        cwd: made.dir,
        stdio: 'ignore',
      })
    }

    const config = (certificate: string, key: string) =>
      writeFileSync(
        made.config,
        `tls: {certificate: ${certificate}, key: ${key}}\nlisten: 127.0.0.1:0\nmodels:\n  - {brand: acme, model: acme-pc, api-key: {env: LAB_API_KEY}, signing-key: serials.pem, chain: [acme.account, serials.account-key]}\n`,
      )
    config('serve.yaml', 'tls/a.key')
    await expectUsage(made.config, /serve\.yaml:1:\d+: tls\.certificate: serve\.yaml is not a PEM certificate/, /hint: give the certificate chain as PEM/)
    config('tls/a.crt', 'tls/b.key')
    await expectUsage(made.config, /tls\.key: tls\/b\.key is not the key of the certificate tls\/a\.crt/, /hint: give the private key the certificate was issued for/)
  })

  test('a billion-laughs config', async () => {
    const made = lab()
    writeFileSync(made.config, `${laughs().replaceAll('"lol"', 'lol')}models: []\n`)
    await expectUsage(made.config, /serve\.yaml:\d+:\d+: refused: it holds more than 200000 values once its aliases are expanded/, /hint: a config is a few plain keys and lists/)
  })
})
