/**
 * snapctl calls: every option a JSON literal, the headers a JSON object of strings, unset for
 * what is not set, secrets redacted in what is shown, exit statuses checked; and snapd's own
 * parsing (fake-snapctl, built from snapd's Go source) reading every value back with its Go type.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {inspect} from 'node:util'
import {before, describe, it} from 'node:test'

import {UserError} from '../../src/errors.js'
import {emitRegistrationBody} from '../../src/device/body.js'
import {isConnected, MANAGED_OPTIONS, registrationCall, runSnapctl, SnapctlCall, spawnSnapctl, stringOption, unsetOption} from '../../src/device/snapctl.js'
import {buildGoTool, fakeSnapctlSource, goUnavailable, hookEnv, parseSnapdCheck, requireGo} from '../runtime/helpers.js'
import {readSnapctlLog, writeRecordingSnapctl} from '../helpers/snapctl.js'
import {freshDir, scratchDir} from '../helpers/scratch.js'

const work = scratchDir('snap-gadget-snapctl-')

const SERIALS = ['1000000012345678', '12345678', '100000001e234567', '12345e67', '0000000012345678', '10000000afbf721a', 'true', 'null', '-123', '1.5', '"quoted"', "it's", '{"a":1}', '[1]', ' spaced ']
const HOSTILE = ['$(reboot)', '`id`', '"; rm -rf / #', "'single'", 'back\\slash', 'new\nline', 'tab\tand\r', 'héllo ✓ 日本', 'emoji 😀 👩‍👩‍👧', '\u2028\u2029', '\u0000nul', 'key=value=more']

describe('argument encoding', () => {
  it('writes every string as a JSON string literal, whatever it looks like', () => {
    for (const value of [...SERIALS, ...HOSTILE]) {
      const arg = stringOption('registration.proposed-serial', value)
      assert.ok(arg.startsWith('registration.proposed-serial="'))
      assert.equal(JSON.parse(arg.slice('registration.proposed-serial='.length)), value)
      assert.doesNotMatch(arg, /\u0000/, 'no NUL can reach argv')
    }

    assert.equal(stringOption('registration.proposed-serial', '1000000012345678'), 'registration.proposed-serial="1000000012345678"')
  })

  it('sets url, headers (one JSON object), proposed serial and body, in that order', () => {
    const headers = new Map([
      ['api-key', {env: 'MODEL_APIKEY', value: 's3cret"$(x)'}],
      ['x-line', {value: 'line 3'}],
    ])
    const set = registrationCall({body: '"serial": "1000000012345678"\n', headers, proposedSerial: '1000000012345678', url: 'https://serial-vault-partners.canonical.com/v1/'})
    assert.deepEqual(set.argv, [
      'set',
      'device-service.url="https://serial-vault-partners.canonical.com/v1/"',
      'device-service.headers={"api-key":"s3cret\\"$(x)","x-line":"line 3"}',
      'registration.proposed-serial="1000000012345678"',
      'registration.body="\\"serial\\": \\"1000000012345678\\"\\n"',
    ])
    assert.ok(
      set.argv.every((arg) => !arg.endsWith('!')),
      'nothing unset',
    )
  })

  it('unsets the options a config no longer sets, as key! in the same set call', () => {
    const set = registrationCall({body: 'b', headers: new Map(), url: 'http://localhost/v1/'})
    assert.deepEqual(set.argv, ['set', 'device-service.url="http://localhost/v1/"', 'registration.body="b"', 'device-service.headers!', 'registration.proposed-serial!'])
    assert.equal(unsetOption('registration.body'), 'registration.body!')
    assert.deepEqual(MANAGED_OPTIONS, ['device-service.url', 'device-service.headers', 'registration.proposed-serial', 'registration.body'])
  })

  it('shows values from the environment as <$NAME>: in toString, JSON and inspect, never the value', () => {
    const headers = new Map([['api-key', {env: 'MODEL_APIKEY', value: 's3cret'}]])
    const set = registrationCall({body: 'b', headers, proposedSerial: 'S1', url: 'https://x/v1/'})
    assert.match(set.argv[2], /s3cret/)
    assert.equal(set.redacted[2], 'device-service.headers={"api-key":"<$MODEL_APIKEY>"}')
    for (const shown of [set.toString(), JSON.stringify(set), JSON.stringify({calls: [set]}), inspect(set)]) assert.doesNotMatch(shown, /s3cret/)
    assert.equal(set.toString(), `snapctl set 'device-service.url="https://x/v1/"' 'device-service.headers={"api-key":"<$MODEL_APIKEY>"}' 'registration.proposed-serial="S1"' 'registration.body="b"'`)
  })

  it('quotes for display so that a shell would read the same words', () => {
    const call = new SnapctlCall(['set', `registration.body="it's $(x) \`y\`"`])
    const words = execFileSync('sh', ['-c', `for w in ${call.toString()}; do printf '%s\\0' "$w"; done`], {encoding: 'utf8'})
      .split('\0')
      .slice(0, -1)
    assert.deepEqual(words, ['snapctl', ...call.argv])
  })

  it('refuses an argument Linux would refuse (128 KiB)', () => {
    assert.throws(
      () => new SnapctlCall(['set', `registration.body="${'x'.repeat(128 * 1024)}"`]),
      (error: UserError) => error.code === 'E_SNAPCTL_ARGUMENT',
    )
  })
})

describe('running snapctl', () => {
  const bin = join(work, 'bin')
  const log = join(work, 'log')
  before(() => writeRecordingSnapctl(bin))
  const runner = (extra: NodeJS.ProcessEnv = {}) => spawnSnapctl({env: hookEnv(bin, {SNAPCTL_LOG: log, ...extra})})
  const failure = async (fn: () => unknown): Promise<UserError> => {
    try {
      await fn()
    } catch (error) {
      if (error instanceof UserError) return error
      throw error
    }

    return assert.fail('no error')
  }

  it('passes argv exactly, without a shell', async () => {
    rmSync(log, {force: true})
    const call = new SnapctlCall(['set', ...HOSTILE.map((v, i) => stringOption(`k${i}`, v))])
    await runSnapctl(runner(), call)
    assert.deepEqual(readSnapctlLog(log), [call.argv])
  })

  it('answers is-connected: connected, not connected, no such plug', async () => {
    assert.equal(await isConnected(runner({SNAPCTL_CONNECTED: 'hardware-observe'}), 'hardware-observe'), true)
    assert.equal(await isConnected(runner({SNAPCTL_CONNECTED: 'hardware-observe'}), 'network-observe'), false)
    const undeclared = await failure(() => isConnected(runner({SNAPCTL_UNDECLARED: 'i2c'}), 'i2c'))
    assert.equal(undeclared.code, 'E_PLUG_UNDECLARED')
    assert.match(undeclared.message, /the gadget has no plug named "i2c": error: error running snapctl: snap "pi" has no plug or slot named "i2c"/)
    assert.match(undeclared.hint ?? '', /hooks: prepare-device: plugs: \[i2c\]/)
  })

  it('a non-zero exit, a missing snapctl, a signal and a timeout are errors with the reason', async () => {
    const exit = await failure(() => runSnapctl(runner({SNAPCTL_FAIL: 'set'}), new SnapctlCall(['set', 'a="b"'])))
    assert.equal(exit.code, 'E_SNAPCTL_FAILED')
    assert.equal(exit.kind, 'failed')
    assert.equal(exit.message, 'snapctl set failed: snapctl exited 1: error: error running snapctl: cannot communicate with server: connection refused')

    const missing = await failure(() => runSnapctl(spawnSnapctl({command: join(work, 'no-such-snapctl')}), new SnapctlCall(['set', 'a="b"'])))
    assert.equal(missing.message, 'snapctl set failed: snapctl was not found on PATH')

    writeFileSync(join(work, 'killed'), '#!/bin/sh\nkill -TERM $$\n', {mode: 0o755})
    assert.match((await failure(() => runSnapctl(spawnSnapctl({command: join(work, 'killed')}), new SnapctlCall(['unset', 'x'])))).message, /^snapctl unset failed: snapctl was killed by SIGTERM$/)

    writeFileSync(join(work, 'slow'), '#!/bin/sh\nexec sleep 5\n', {mode: 0o755})
    assert.match((await failure(() => runSnapctl(spawnSnapctl({command: join(work, 'slow'), timeoutMs: 200}), new SnapctlCall(['set', 'a="b"'])))).message, /did not answer in time/)

    // is-connected: only "exit 1, nothing said" means "not connected"; anything else is a failure.
    writeFileSync(join(work, 'odd'), '#!/bin/sh\necho "error: cannot communicate with server" >&2\nexit 1\n', {mode: 0o755})
    assert.equal((await failure(() => isConnected(spawnSnapctl({command: join(work, 'odd')}), 'hardware-observe'))).code, 'E_SNAPCTL_FAILED')
  })
})

describe("snapd's own parsing (fake-snapctl from snapd's Go source)", () => {
  let fake: string
  before(async () => {
    if (goUnavailable(['github.com/snapcore/snapd/jsonutil', 'gopkg.in/yaml.v2']) === undefined) fake = await buildGoTool(fakeSnapctlSource(), 'fake-snapctl')
  })

  const check = (argvs: readonly (readonly string[])[]) => {
    const store = join(freshDir('snap-gadget-snapctl-store-'), 'store.json')
    const env = {...process.env, FAKE_SNAPCTL_STORE: store}
    for (const argv of argvs) execFileSync(fake, argv, {env})
    return parseSnapdCheck(execFileSync(fake, ['check'], {encoding: 'utf8', env}))
  }

  it('reads every serial, body and header value back as a Go string or map of strings', (t) => {
    if (!requireGo(t, ['github.com/snapcore/snapd/jsonutil'])) return
    for (const serial of [...SERIALS, ...HOSTILE]) {
      const body = emitRegistrationBody({line: serial, serial})
      const headers = new Map([['api-key', {value: serial.replace(/[\n\r\u0000]/g, ' ')}]])
      const set = registrationCall({body, headers, proposedSerial: serial, url: 'https://serial-vault-partners.canonical.com/v1/'})
      const readings = check([set.argv])
      assert.equal(readings.length, 4)
      for (const reading of readings) assert.ok(reading.ok, `${JSON.stringify(serial)}: ${reading.key} -> ${reading.outcome}`)
      const byKey = Object.fromEntries(readings.map((r) => [r.key, r]))
      assert.equal(byKey['registration.proposed-serial'].stored, serial)
      assert.match(byKey['registration.proposed-serial'].storedText, /^"/, 'stored as a JSON string')
      assert.equal(byKey['registration.body'].stored, body)
      assert.deepEqual(byKey['device-service.headers'].stored, Object.fromEntries([...headers].map(([k, v]) => [k, v.value])))
      assert.equal(byKey['device-service.url'].stored, 'https://serial-vault-partners.canonical.com/v1/')
    }
  })

  it('control: the unquoted forms that break real hooks are read errors', (t) => {
    if (!requireGo(t, ['github.com/snapcore/snapd/jsonutil'])) return
    const readings = check([
      ['set', 'registration.proposed-serial=1000000012345678', 'registration.body={"mac":"x"}'],
      ['set', '-s', 'device-service.headers={"api-key":"k"}'],
    ])
    const byKey = Object.fromEntries(readings.map((r) => [r.key, r]))
    for (const key of ['registration.proposed-serial', 'registration.body', 'device-service.headers']) assert.match(byKey[key].outcome, /^SNAPD READ ERROR/, key)
  })
})
