/**
 * `snap-gadget serve` and `serve log` end to end through bin/run.js: the URL line scripts wait for,
 * a registration through it, the signing log, a clean stop on SIGTERM and SIGINT, and config
 * mistakes as exit 2 with the place.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import {parseAssertions, verifyAssertionSignature} from '../../src/assertions/index.js'
import {runCli} from '../helpers/cli.js'
import {binRun, projectRoot} from '../helpers/paths.js'
import {API_KEY, brandKey, type Lab, makeLab, modelAssertion, TestDevice} from './helpers.js'

const labs: Lab[] = []
after(() => {
  for (const lab of labs) rmSync(lab.dir, {force: true, recursive: true})
})

interface Running {
  child: ChildProcess
  firstLine: string
  stderr: () => string
  exit: Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

/** Starts serve and waits (bounded) for its first line on stdout. */
function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, [binRun, 'serve', ...args], {env: {...process.env, LAB_API_KEY: API_KEY, NO_COLOR: '1', ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  const exit = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.on('exit', (code, signal) => resolve({code, signal})))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`serve printed no line within 20 s; stderr: ${stderr}`))
    }, 20_000)
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString()
      const newline = stdout.indexOf('\n')
      if (newline === -1) return
      clearTimeout(timer)
      resolve({child, exit, firstLine: stdout.slice(0, newline), stderr: () => stderr})
    })
    void exit.then(({code}) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code} before printing its URL: ${stderr}`))
    })
  })
}

async function registerThrough(url: string, serial: string): Promise<Response> {
  const answer = await fetch(`${url}request-id`, {headers: {'api-key': API_KEY}, method: 'POST'})
  const nonce = ((await answer.json()) as {'request-id': string})['request-id']
  return fetch(`${url}serial`, {body: `${new TestDevice().serialRequest(nonce, {serial})}\n${modelAssertion()}`, headers: {'api-key': API_KEY}, method: 'POST'})
}

describe('the sample config in examples/serve', () => {
  test('starts as its README says (its port made free for the test), answers health, and says it has no chain', async () => {
    const lab = makeLab()
    labs.push(lab)
    const sample = readFileSync(join(projectRoot, 'examples', 'serve', 'serve.yaml'), 'utf8')
    assert.match(sample, /^listen: 127\.0\.0\.1:8642$/m)
    writeFileSync(lab.config, sample.replace('listen: 127.0.0.1:8642', 'listen: 127.0.0.1:0'))
    const serve = await startServe(['--config', lab.config], {ACME_PC_API_KEY: 'sample-key'})
    try {
      const url = serve.firstLine.replace(/^listening on /, '')
      const health = await fetch(`${url}health`)
      assert.equal(health.status, 200)
      const nonce = await fetch(`${url}request-id`, {headers: {'api-key': 'sample-key'}, method: 'POST'})
      assert.equal(nonce.status, 200)
      assert.match(serve.stderr(), /warning: models\[0\] \(acme\/acme-pc\) has no chain/)
    } finally {
      serve.child.kill('SIGTERM')
      assert.deepEqual(await serve.exit, {code: 0, signal: null})
    }
  })

  test('serve --help names it, and it exists', async () => {
    const help = await runCli(['serve', '--help'])
    assert.match(help.stdout, /examples\/serve\/serve\.yaml/)
    assert.ok(existsSync(join(projectRoot, 'examples', 'serve', 'serve.yaml')))
    assert.ok(existsSync(join(projectRoot, 'examples', 'serve', 'README.md')))
  })
})

describe('serve', () => {
  test('--json prints the URL; a device registers; serve log lists it; SIGTERM stops it cleanly', async () => {
    const lab = makeLab()
    labs.push(lab)
    const running = await startServe(['--config', lab.config, '--json'])
    const {url} = JSON.parse(running.firstLine) as {url: string}
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1\/$/)
    const answer = await registerThrough(url, 'ACME-CLI-1')
    assert.equal(answer.status, 200)
    assert.equal(parseAssertions(await answer.text())[0].headers.serial, 'ACME-CLI-1')

    const log = await runCli(['serve', 'log', '--config', lab.config, '--json'], {env: {LAB_API_KEY: ''}})
    assert.equal(log.code, 0, log.stderr)
    const entries = (JSON.parse(log.stdout) as {entries: {serial: string; revision: number; brand: string; model: string}[]}).entries
    assert.deepEqual(
      entries.map((e) => [e.brand, e.model, e.serial, e.revision]),
      [['acme', 'acme-pc', 'ACME-CLI-1', 0]],
    )
    const text = await runCli(['serve', 'log', '--config', lab.config])
    assert.match(text.stdout, /acme\/acme-pc {2}ACME-CLI-1 {2}revision 0 {2}device key [A-Za-z0-9_-]{64}/)

    running.child.kill('SIGTERM')
    assert.deepEqual(await running.exit, {code: 0, signal: null})
    // One JSON line per request on stderr, none with the api-key.
    const lines = running.stderr().trim().split('\n')
    assert.ok(lines.length >= 2, running.stderr())
    for (const line of lines) assert.equal(typeof JSON.parse(line).status, 'number')
    assert.ok(!running.stderr().includes(API_KEY))
  })

  test('serve log: the assertion as it was signed, exports, a filter with no match, and a database that is not there', async () => {
    const lab = makeLab()
    labs.push(lab)
    const running = await startServe(['--config', lab.config, '--quiet'])
    const url = running.firstLine.replace(/^listening on /, '')
    for (const serial of ['LOG-1', 'LOG-2', '=cmd|calc']) assert.equal((await registerThrough(url, serial)).status, 200)
    running.child.kill('SIGTERM')
    await running.exit

    // --assertion: the serial assertion, which verifies against the brand key.
    const printed = await runCli(['serve', 'log', '--config', lab.config, '--assertion', 'LOG-2'])
    assert.equal(printed.code, 0, printed.stderr)
    const [serial] = parseAssertions(printed.stdout)
    assert.equal(serial.type, 'serial')
    assert.equal(serial.headers.serial, 'LOG-2')
    assert.ok(verifyAssertionSignature(serial, brandKey.encodedPublicKey).valid)

    const jsonl = await runCli(['serve', 'log', '--config', lab.config, '--format', 'jsonl'])
    const rows = jsonl.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as {serial: string; assertion: string})
    assert.deepEqual(
      rows.map((r) => r.serial),
      ['=cmd|calc', 'LOG-2', 'LOG-1'],
    )
    assert.ok(rows.every((r) => r.assertion.startsWith('type: serial\n')))
    const csv = await runCli(['serve', 'log', '--config', lab.config, '--format', 'csv', '--limit', '1'])
    assert.match(
      csv.stdout,
      /^signed,brand,model,serial,revision,device_key_sha3_384,hardware_id,hardware_issuer,original_brand,original_model,original_serial,assertion\r\n"[^"]+","acme","acme-pc","'=cmd\|calc","0","[\w-]{64}","","","","","","type: serial\n/,
    )

    const none = await runCli(['serve', 'log', '--config', lab.config, '--serial', 'NOPE'])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /^error: no entry of the signing log has serial "NOPE"; it holds 3 entries/)

    const mistyped = join(lab.dir, 'elsewhere.yaml')
    writeFileSync(mistyped, readFileSync(lab.config, 'utf8').replace('sqlite:serve.db', 'sqlite:serv.db'))
    const missing = await runCli(['serve', 'log', '--config', mistyped])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, new RegExp(`^error: there is no database at ${join(lab.dir, 'serv.db').replaceAll('.', '\\.')}`))
    assert.ok(!existsSync(join(lab.dir, 'serv.db')), 'nothing was created')
  })

  test('without --json it says where it listens, and stops on SIGINT', async () => {
    const lab = makeLab()
    labs.push(lab)
    const running = await startServe(['--config', lab.config, '--quiet'])
    assert.match(running.firstLine, /^listening on http:\/\/127\.0\.0\.1:\d+\/v1\/$/)
    running.child.kill('SIGINT')
    assert.deepEqual(await running.exit, {code: 0, signal: null})
    assert.equal(running.stderr(), '')
  })

  test('a config mistake is exit 2 with the file and line; nothing listens', async () => {
    const lab = makeLab({models: 'models:\n  - brand: acme\n    model: acme-pc\n    api-key: {env: LAB_API_KEY}\n    signing-key: missing.pem\n'})
    labs.push(lab)
    const result = await runCli(['serve', '--config', lab.config], {env: {LAB_API_KEY: API_KEY}})
    assert.equal(result.code, 2)
    assert.match(result.stderr, /serve\.yaml:5:\d+: .*missing\.pem/)
  })

  test('a port in use is exit 2 with the fix', async () => {
    const lab = makeLab()
    labs.push(lab)
    const first = await startServe(['--config', lab.config, '--json'])
    const port = new URL((JSON.parse(first.firstLine) as {url: string}).url).port
    const second = makeLab()
    labs.push(second)
    writeFileSync(second.config, readFileSync(second.config, 'utf8').replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`))
    const result = await runCli(['serve', '--config', second.config], {env: {LAB_API_KEY: API_KEY}, timeoutMs: 20_000})
    first.child.kill('SIGTERM')
    await first.exit
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, /cannot listen on 127\.0\.0\.1:\d+: the address is in use/)
    assert.match(result.stderr, /port 0 picks a free one/)
  })
})
