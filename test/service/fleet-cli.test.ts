/**
 * A fleet's operation end to end through bin/run.js, serve on loopback port 0: serve check before
 * the line starts (exit 0, or exit 1 with every problem and its fix, and serve refusing to start
 * with the same); serve import --serials into a running service's allowlist; a device refused,
 * then registered; serve block and unblock; serve log --refusal (every value a client chose
 * escaped), by code, model and time; GET /metrics of the running process.
 */
import assert from 'node:assert/strict'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import {runCli} from '../helpers/cli.js'
import {startServe} from './serve-process.js'
import {API_KEY, type Lab, makeLab, modelAssertion, TestDevice} from './helpers.js'

const labs: Lab[] = []
after(() => {
  for (const lab of labs) rmSync(lab.dir, {force: true, recursive: true})
})

const env = {LAB_API_KEY: API_KEY}

function allowlistLab(): Lab {
  const lab = makeLab()
  labs.push(lab)
  writeFileSync(lab.config, readFileSync(lab.config, 'utf8').replace('    chain:', '    serials: allowlist\n    chain:'))
  return lab
}

async function register(url: string, device: TestDevice, serial: string): Promise<{status: number; body: string}> {
  const nonce = ((await (await fetch(`${url}request-id`, {headers: {'api-key': API_KEY}, method: 'POST'})).json()) as {'request-id': string})['request-id']
  const answer = await fetch(`${url}serial`, {body: `${device.serialRequest(nonce, {serial})}\n${modelAssertion()}`, headers: {'api-key': API_KEY}, method: 'POST'})
  return {body: await answer.text(), status: answer.status}
}

describe('serve check', () => {
  test('exit 0 and what it found; exit 1 with each problem and its fix; serve refuses to start with them all (exit 2)', async () => {
    const lab = allowlistLab()
    const good = await runCli(['serve', 'check', '--config', lab.config], {env})
    assert.equal(good.code, 0, good.stderr)
    assert.match(good.stdout, /^warning: acme\/acme-pc issues serials from its allowlist, which is empty|model acme\/acme-pc: onboarding api-key, serials allowlist/m)
    assert.match(good.stdout, /model acme\/acme-pc: onboarding api-key, serials allowlist\n/)
    assert.match(good.stdout, /no problem found\n$/)

    const bad = makeLab()
    labs.push(bad)
    writeFileSync(bad.config, `${readFileSync(bad.config, 'utf8')}  - {brand: acme, model: acme-pi, api-key: {env: PI_API_KEY}, signing-key: serials.pem, chain: [acme.account, serials.account-key]}\n`)
    const failed = await runCli(['serve', 'check', '--config', bad.config], {env: {LAB_API_KEY: ''}})
    assert.equal(failed.code, 1, failed.stderr)
    assert.match(
      failed.stderr,
      /^error: .*serve\.yaml has 2 problems that would make devices fail to register:\n {2}- .*models\[0\]\.api-key\.env: the environment variable LAB_API_KEY is empty \(fix: export LAB_API_KEY=… before starting serve\)\n {2}- .*models\[1\]\.api-key\.env: the environment variable PI_API_KEY is not set/,
    )
    const json = await runCli(['serve', 'check', '--config', bad.config, '--json'], {env: {LAB_API_KEY: ''}})
    assert.equal(json.code, 1)
    const error = JSON.parse(json.stdout) as {error: {code: string; details: {message: string; fix: string}[]}}
    assert.equal(error.error.code, 'E_SERVE_CHECK')
    assert.equal(error.error.details.length, 2)

    const start = await runCli(['serve', '--config', bad.config], {env: {LAB_API_KEY: ''}, timeoutMs: 20_000})
    assert.equal(start.code, 2, 'a config serve cannot start with')
    assert.match(start.stderr, /has 2 problems that would make devices fail to register/)
    assert.equal(start.stdout, '', 'nothing listened')
  })
})

describe('a fleet on an allowlist', () => {
  test('import into a running serve, refusals in the log, block and unblock, metrics', async () => {
    const lab = allowlistLab()
    const serve = await startServe(lab.config, {args: ['--json']})
    try {
      const {metrics, url} = JSON.parse(serve.firstLine) as {url: string; metrics: string}
      assert.equal(metrics, url.replace(/v1\/$/, 'metrics'))
      const device = new TestDevice()
      const refused = await register(url, device, 'LINE-1')
      assert.equal(refused.status, 403)
      assert.match((JSON.parse(refused.body) as {message: string}).message, /^serial "LINE-1" is not on the allowlist of acme\/acme-pc/)
      // A serial a terminal would act on: refused, logged, shown escaped.
      assert.equal((await register(url, new TestDevice(), 'LINE-\u001b]0;pwned\u0007')).status, 400)
      assert.equal((await register(url, new TestDevice(), 'LINE-\u202eX')).status, 400)

      writeFileSync(join(lab.dir, 'line.csv'), 'serial,model\nLINE-1,acme/acme-pc\nLINE-2,acme/acme-pc\n')
      const imported = await runCli(['serve', 'import', '--config', lab.config, '--serials', join(lab.dir, 'line.csv')])
      assert.equal(imported.code, 0, imported.stderr)
      assert.match(imported.stdout, /: 2 serials added to allowlists; they hold acme\/acme-pc 2\n$/)
      const again = await runCli(['serve', 'import', '--config', lab.config, '--serials', join(lab.dir, 'line.csv'), '--json'])
      assert.deepEqual((JSON.parse(again.stdout) as {imported: number; unchanged: number}).imported, 0)
      assert.equal((await register(url, device, 'LINE-1')).status, 200)

      const blocked = await runCli(['serve', 'block', 'LINE-1', '--reason', 'returned: RMA 7', '--config', lab.config])
      assert.equal(blocked.code, 0, blocked.stderr)
      assert.match(blocked.stdout, /^blocked: \S+ {2}serial "LINE-1" {2}every model {2}reason "returned: RMA 7"\n$/)
      assert.equal((await register(url, device, 'LINE-1')).status, 403)
      const list = await runCli(['serve', 'block', '--config', lab.config, '--json'])
      assert.deepEqual(
        (JSON.parse(list.stdout) as {blocks: {value: string}[]}).blocks.map((b) => b.value),
        ['LINE-1'],
      )
      const noReason = await runCli(['serve', 'block', 'LINE-2', '--config', lab.config])
      assert.equal(noReason.code, 2)
      assert.match(noReason.stderr, /a block needs a reason/)

      const log = await runCli(['serve', 'log', '--config', lab.config, '--refusal'])
      assert.equal(log.code, 0, log.stderr)
      const lines = log.stdout.split('\n')
      assert.match(lines[0], /^\S+ {2}device-blocked {2}403 {2}"acme\/acme-pc" {2}serial "LINE-1" {2}device key \S{64} {2}from "127\.0\.0\.1"$/)
      assert.match(lines[1], /\[block reason: returned: RMA 7\]$/)
      assert.ok(!log.stdout.includes('\u001b'), 'no escape character reaches the terminal')
      assert.match(log.stdout, /serial-invalid {2}400 {2}"acme\/acme-pc" {2}serial "LINE-\\u001b\]0;pwned\\u0007"/)
      const byCode = await runCli(['serve', 'log', '--config', lab.config, '--refusal', 'serial-not-allowed', '--model', 'acme/acme-pc', '--since', '1h', '--json'])
      assert.deepEqual(
        (JSON.parse(byCode.stdout) as {refusals: {serial: string; verified: boolean}[]}).refusals.map((r) => [r.serial, r.verified]),
        [['LINE-1', true]],
      )
      const asJson = await runCli(['serve', 'log', '--config', lab.config, '--refusal', 'serial-invalid', '--json'])
      assert.ok(!asJson.stdout.includes('\u202e') && !asJson.stdout.includes('\u001b'), 'the JSON is inert in a terminal')
      assert.deepEqual(
        (JSON.parse(asJson.stdout) as {refusals: {serial: string}[]}).refusals.map((r) => r.serial),
        ['LINE-\u202eX', 'LINE-\u001b]0;pwned\u0007'],
      )
      const future = await runCli(['serve', 'log', '--config', lab.config, '--refusal', '--until', '2000-01-01', '--json'])
      assert.deepEqual(JSON.parse(future.stdout), {refusals: []})
      const typo = await runCli(['serve', 'log', '--config', lab.config, '--refusal', 'serial-not-alowed'])
      assert.equal(typo.code, 2)
      assert.match(typo.stderr, /did you mean serial-not-allowed\?/)
      const badTime = await runCli(['serve', 'log', '--config', lab.config, '--since', 'yesterday'])
      assert.equal(badTime.code, 2)
      assert.match(badTime.stderr, /--since "yesterday" is neither a date or time nor an age/)

      const unblocked = await runCli(['serve', 'unblock', 'LINE-1', '--reason', 'repaired', '--config', lab.config])
      assert.equal(unblocked.code, 0, unblocked.stderr)
      assert.equal((await register(url, device, 'LINE-1')).status, 200)
      const signed = await runCli(['serve', 'log', '--config', lab.config, '--since', '1h', '--json'])
      assert.deepEqual(
        (JSON.parse(signed.stdout) as {entries: {serial: string; revision: number}[]}).entries.map((e) => [e.serial, e.revision]),
        [
          ['LINE-1', 1],
          ['LINE-1', 0],
        ],
      )

      await new Promise((resolve) => setTimeout(resolve, 1100))
      const scraped = await (await fetch(metrics)).text()
      assert.match(scraped, /^snap_gadget_serve_registrations_total\{model="acme\/acme-pc"\} 2$/m)
      assert.match(scraped, /^snap_gadget_serve_refusals_total\{code="serial-not-allowed"\} 1$/m)
      assert.match(scraped, /^snap_gadget_serve_refusals_total\{code="device-blocked"\} 1$/m)
    } finally {
      assert.deepEqual(await serve.stop(), {code: 0, signal: null})
    }

    assert.ok(!serve.stderr().includes(API_KEY))
  })
})
