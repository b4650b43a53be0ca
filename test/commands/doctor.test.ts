/**
 * `snap-gadget doctor` as a user runs it: the checklist, the cause and the fix on a state.json
 * snapd made, --json, the exit codes (0 registered, 1 a cause, 2 a usage or input error), the ssh
 * commands listed in --help, and text from the device that would drive a terminal.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {renderReport} from '../../src/cli/commands/doctor/present.js'
import {runDoctor} from '../../src/doctor/index.js'
import {SSH_COMMANDS} from '../../src/doctor/ssh.js'
import {painter} from '../../src/support/paint.js'
import {runCli} from '../helpers/cli.js'
import {fixtures} from '../helpers/paths.js'
import {FIXTURE_API_KEY, FIXTURE_SECRETS} from '../doctor/snapd/make-fixtures.js'
import {scratchDir} from '../helpers/scratch.js'

const state = (name: string, version = 'snapd-2.57.6') => fixtures('doctor', name, version, 'state.json')
const work = scratchDir('snap-gadget-doctor-cli-')

describe('snap-gadget doctor', () => {
  it('a failed registration: the checklist, the cause, the evidence and the fix; exit 1', async () => {
    const run = await runCli(['doctor', '--state', state('tls-unknown-authority'), '--snapd', '2.57.6'])
    assert.equal(run.code, 1, run.stderr)
    assert.match(run.stdout, /^not registered: model acme\/gw-100, gadget gw-100-gadget, snapd 2\.57\.6\n/)
    assert.match(run.stdout, /\n {2}✓ device key\n {2}✗ request-id\n {2}- prepare-serial-request hook +skipped: snapd 2\.57\.6 has no such hook \(2\.74\+\)\n {2}· serial request +not reached\n/)
    assert.match(run.stdout, /\ncause: TLS: unknown authority \(tls-unknown-authority, at request-id\)\n/)
    assert.match(
      run.stdout,
      /\nevidence\n {2}state\.json task 3 \(Request device serial, Error\):\n {4}\S+ ERROR cannot retrieve request-id for making a request for a serial: Post "https:\/\/127\.0\.0\.1:\d+\/v1\/request-id": x509: certificate signed by unknown authority\n/,
    )
    assert.match(run.stdout, /\nfix: serve a certificate from a CA in the device's system trust store/)
    assert.match(run.stdout, /\n {2}device-service\.headers: \{"api-key":"<redacted>"\}\n/)
    assert.match(run.stderr, /^error: not registered: TLS: unknown authority \(tls-unknown-authority, at request-id\)\n {2}hint: /)
    assert.ok(!run.stdout.includes(FIXTURE_API_KEY) && !run.stderr.includes(FIXTURE_API_KEY))
  })

  it('--json: the report, under the error when a cause is found', async () => {
    const failed = await runCli(['doctor', '--state', state('serial-taken', 'snapd-2.77.1'), '--json'])
    assert.equal(failed.code, 1)
    const {error} = JSON.parse(failed.stdout) as {error: {code: string; hint: string; details: {cause: {code: string; step: string}; registered: boolean; steps: {id: string; status: string}[]}}}
    assert.equal(error.code, 'E_DOCTOR_NOT_REGISTERED')
    assert.deepEqual([error.details.registered, error.details.cause.code, error.details.cause.step], [false, 'serial-taken', 'serial-request'])
    assert.equal(error.details.steps.find((s) => s.id === 'serial-request')?.status, 'failed')
    assert.ok(!failed.stdout.includes(FIXTURE_API_KEY))

    const registered = await runCli(['doctor', '--state', state('registered', 'snapd-2.77.1'), '--json'])
    assert.equal(registered.code, 0, registered.stderr)
    const report = JSON.parse(registered.stdout) as {registered: boolean; device: {serial: string}; cause?: unknown}
    assert.deepEqual([report.registered, report.device.serial, report.cause], [true, 'GW100-000123', undefined])
  })

  it('registered: exit 0, every step ok', async () => {
    const run = await runCli(['doctor', '--state', state('registered')])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /^registered: serial GW100-000123 \(model acme\/gw-100/)
    assert.match(run.stdout, /\n {2}✓ registered\n/)
    assert.equal(run.stderr, '')
  })

  it('input errors exit 2: no such state file, a file that is not a state, no socket, two probe targets', async () => {
    const missing = await runCli(['doctor', '--state', join(work, 'none.json')])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /cannot read .*none\.json: no such file or directory/)
    const notState = join(work, 'not-state.json')
    writeFileSync(notState, '{"changes": []}')
    const wrong = await runCli(['doctor', '--state', notState])
    assert.equal(wrong.code, 2)
    assert.match(wrong.stderr, /is not snapd's state: it has no data, changes and tasks/)
    const socket = await runCli(['doctor', '--socket', join(work, 'snapd.socket')])
    assert.equal(socket.code, 2)
    assert.match(socket.stderr, /cannot read snapd's API on .*: no such socket/)
    const both = await runCli(['doctor', '--service', 'https://x/v1/', '--probe'])
    assert.equal(both.code, 2)
  })

  it('no checklist shows a secret the fixtures hold (the api-keys, the bodies)', async () => {
    const root = fixtures('doctor')
    for (const name of readdirSync(root, {withFileTypes: true}).filter((e) => e.isDirectory())) {
      for (const version of readdirSync(join(root, name.name))) {
        const report = await runDoctor({state: join(root, name.name, version, 'state.json')})
        const text = renderReport(report, painter(false))
        for (const secret of FIXTURE_SECRETS) assert.ok(!text.includes(secret), `${name.name}/${version} shows ${secret}`)
      }
    }
  })

  it('--help lists the exact commands run over ssh, and says the service probe consumes a nonce', async () => {
    const help = await runCli(['doctor', '--help'])
    assert.equal(help.code, 0)
    const flat = help.stdout.replaceAll(/\s+/g, ' ')
    for (const argv of Object.values(SSH_COMMANDS)) assert.ok(flat.includes(argv.join(' ')), argv.join(' '))
    assert.match(flat, /consumes a request-id \(a nonce\) at the service/)
  })

  it('text from the device cannot drive the terminal: escapes and bidi controls are shown escaped, in text and in JSON', async () => {
    const parsed = JSON.parse(readFileSync(state('wrong-api-key'), 'utf8')) as {tasks: Record<string, {log?: string[]}>}
    const hostile = '\u001b]0;owned\u0007\u001b[2J\u202egnp.evil'
    parsed.tasks['3'].log = [`2026-12-07T07:26:12Z ERROR cannot retrieve request-id for making a request for a serial: ${hostile}`]
    const file = join(work, 'hostile.json')
    writeFileSync(file, JSON.stringify(parsed))
    const text = await runCli(['doctor', '--state', file])
    assert.equal(text.code, 1)
    for (const out of [text.stdout, text.stderr]) assert.ok(!/[\u001b\u0007\u202e]/.test(out), out)
    assert.match(text.stdout, /\\x1b\]0;owned\\x07\\x1b\[2J\\u202egnp\.evil/)
    const json = await runCli(['doctor', '--state', file, '--json'])
    assert.ok(!/[\u001b\u0007\u202e]/.test(json.stdout))
    const back = JSON.parse(json.stdout) as {error: {details: {cause: {evidence: {text: string}[]}}}}
    assert.ok(back.error.details.cause.evidence[0].text.endsWith(hostile), 'the JSON keeps the text, escaped')
  })
})
