/**
 * The built runtime bundle (dist/runtime/prepare-device.cjs), run as the hook runs it, on Node,
 * QuickJS 2025 and QuickJS as Ubuntu 24.04's 2021.03.27 (helpers.ts, ALL_ENGINES), with a
 * recording snapctl on PATH, on trees made from real board captures. The recorded argv must be
 * exactly right and the same on every engine; snapd's own `snapctl set` parsing (fake-snapctl,
 * built from snapd's Go source) must read every value back with the right Go type; every failure
 * exits non-zero with one line saying why and sets nothing; the identity key is kept and reused.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'

import {parse} from 'yaml'

import {verifyIdentity} from '../../src/identity/verify.js'
import {projectRoot, shared} from '../helpers/paths.js'
import {freshDir, scratchDir} from '../helpers/scratch.js'
import {API_KEY, CASES, caseNamed, KEY, type RuntimeCase} from './cases.js'
import {buildGoTool, fakeSnapctlSource, goUnavailable, fileRoots, hookEnv, hookRunDir, parseSnapdCheck, requireBundle, requireGo, runBundle, ALL_ENGINES, writeFakeSnapctl} from './helpers.js'
import {readSnapctlLog, writeRecordingSnapctl} from '../helpers/snapctl.js'

const work = scratchDir('snap-gadget-runtime-')
const root = fileRoots()

const bin = join(work, 'bin')
before(() => {
  requireBundle()
  writeRecordingSnapctl(bin)
})

interface Hook {
  dir: string
  log: string
  snapData: string
  env: NodeJS.ProcessEnv
}

/** A fresh hook environment: log file, SNAP_DATA (with the seeded key unless `seedKey` is false). */
function hook(connected: readonly string[], extra: NodeJS.ProcessEnv = {}, seedKey = true): Hook {
  const {dir, log, snapData} = hookRunDir(work, seedKey ? KEY : undefined)
  const env = hookEnv(bin, {MODEL_APIKEY: API_KEY, SNAP_DATA: snapData, SNAP_NAME: 'acme-gadget', SNAPCTL_CONNECTED: connected.join(','), SNAPCTL_LOG: log, ...extra})
  return {dir, env, log, snapData}
}

function writeConfig(dir: string, config: unknown): string {
  const file = join(dir, 'registration.json')
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2))
  return file
}

/** The one-line failure contract: non-zero, exactly one line on stderr, nothing set. */
function assertFailedOneLine(result: {code: null | number; stderr: string}, log: string, reason: RegExp, code = 1): void {
  assert.equal(result.code, code, result.stderr)
  assert.match(result.stderr, /^prepare-device: [^\n]+\n$/, 'one line on stderr')
  assert.match(result.stderr, reason)
  assert.deepEqual(
    readSnapctlLog(log).filter((argv) => argv[0] !== 'is-connected'),
    [],
    'nothing was set or unset',
  )
}

// Every case runs on every engine and must record exactly the same snapctl argv (c.expected).
for (const engine of ALL_ENGINES) {
  // Each run names its engine: node:test may start the suites of both engines side by side.
  const runOn = (args: readonly string[], options: Parameters<typeof runBundle>[1]) => runBundle(args, {...options, engine})
  describe(`on ${engine}`, () => {
    describe('fixture trees: the exact snapctl argv', () => {
      for (const c of CASES) {
        it(c.name, async () => {
          const h = hook(c.connected)
          const result = await runOn(['--config', c.config, '--root', await root(c.tree())], {env: h.env})
          assert.equal(result.code, 0, result.stderr)
          assert.equal(result.stderr, '')
          assert.deepEqual(readSnapctlLog(h.log), c.expected)
          assert.match(result.stdout, new RegExp(`^prepare-device: proposed serial ${c.serial} `))
        })
      }

      it('--dry-run prints the calls, runs no snapctl and writes no key', async () => {
        const c = caseNamed('Raspberry Pi')
        const h = hook([], {}, false)
        const result = await runOn(['--config', c.config, '--root', await root(c.tree()), '--dry-run'], {env: h.env})
        assert.equal(result.code, 0, result.stderr)
        assert.deepEqual(readSnapctlLog(h.log), [])
        assert.equal(existsSync(join(h.snapData, 'device-identity.key')), false)
        const lines = result.stdout.trimEnd().split('\n')
        assert.equal(lines[0], 'snapctl is-connected hardware-observe')
        assert.match(
          lines[1],
          /^snapctl set 'device-service\.url="https:\/\/serial-vault-partners\.canonical\.com\/v1\/"' 'device-service\.headers=\{"api-key":"<\$MODEL_APIKEY>"\}' 'registration\.proposed-serial="100000000fe69593"' 'registration\.body="/,
        )
        assert.doesNotMatch(result.stdout, new RegExp(API_KEY), 'the api-key is not printed')
        assert.equal(lines.length, 2)
      })

      it('--json prints the result, with the api-key redacted', async () => {
        const c = caseNamed('x86')
        const h = hook(c.connected)
        const result = await runOn(['--config', c.config, '--root', await root(c.tree()), '--json'], {env: h.env})
        assert.equal(result.code, 0, result.stderr)
        const json = JSON.parse(result.stdout) as {body: {text: string}; calls: string[][]; serial: {serial: string}}
        assert.equal(json.serial.serial, c.serial)
        assert.equal(json.body.text, c.body)
        assert.deepEqual(json.calls[1].slice(0, 3), ['set', 'device-service.url="https://api.snapcraft.io/v1/"', 'device-service.headers={"api-key":"<$MODEL_APIKEY>","x-factory-line":"line 3"}'])
        assert.doesNotMatch(result.stdout, new RegExp(API_KEY))
      })

      it('hardware text with terminal escapes is refused as a serial, and nothing raw reaches the hook output', async () => {
        const c = caseNamed('x86')
        const tree = c.tree()
        tree['/sys/devices/virtual/dmi/id/product_serial'] = 'UP\u001b]0;owned\u0007CHT\u009b31m01\n'
        const h = hook(c.connected)
        const config = writeConfig(h.dir, {deviceService: {preset: 'model-service'}, headers: {'api-key': {env: 'MODEL_APIKEY'}}, serial: {chain: ['dmi[product_serial]']}})
        const result = await runOn(['--config', config, '--root', await root(tree)], {env: h.env})
        assertFailedOneLine(result, h.log, /control or formatting character U\+001B at character 3/)
        assert.doesNotMatch(result.stderr + result.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no raw control character')
        const explained = await runOn(['--config', config, '--root', await root(tree), '--json'], {env: hook(c.connected).env})
        assert.doesNotMatch(explained.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
        assert.equal((JSON.parse(explained.stdout) as {error: {code: string}}).error.code, 'E_SERIAL_NONE')
      })

      it('finds the config at $SNAP/runtime/registration.json', async () => {
        const c = caseNamed('ONIE')
        const snap = freshDir('snap-gadget-snap-')
        mkdirSync(join(snap, 'runtime'), {recursive: true})
        writeFileSync(join(snap, 'runtime', 'registration.json'), readFileSync(c.config))
        const h = hook(c.connected, {SNAP: snap})
        const result = await runOn(['--root', await root(c.tree())], {env: h.env})
        assert.equal(result.code, 0, result.stderr)
        assert.deepEqual(readSnapctlLog(h.log), c.expected)
      })
    })

    describe("snapd's parsing of what the runtime set (fake-snapctl)", () => {
      let fake: string
      before(async () => {
        if (goUnavailable(['github.com/snapcore/snapd/jsonutil', 'gopkg.in/yaml.v2']) === undefined) fake = await buildGoTool(fakeSnapctlSource(), 'fake-snapctl')
      })

      /** Runs the case's hook against fake-snapctl; `earlier` are `snapctl set` arguments an earlier hook run left. */
      async function runWithFake(c: RuntimeCase, config = c.config, extra: NodeJS.ProcessEnv = {}, earlier: string[] = []): Promise<ReturnType<typeof parseSnapdCheck>> {
        const h = hook(c.connected, extra)
        const fakeBin = join(h.dir, 'fake-bin')
        writeFakeSnapctl(fakeBin, fake)
        const store = join(h.dir, 'store.json')
        const env = {...h.env, FAKE_CONNECTED: '1', FAKE_SNAPCTL_STORE: store, PATH: `${fakeBin}:${process.env.PATH}`}
        if (earlier.length > 0) execFileSync(fake, ['set', ...earlier], {env})
        const result = await runOn(['--config', config, '--root', await root(c.tree())], {env})
        assert.equal(result.code, 0, result.stderr)
        const output = execFileSync(fake, ['check'], {encoding: 'utf8', env})
        assert.doesNotMatch(output, /SNAPD READ ERROR|^ {2}!! /m, output)
        return parseSnapdCheck(output)
      }

      for (const c of CASES) {
        it(`${c.name}: every value read back as a Go string (headers as map[string]string)`, async (t) => {
          if (!requireGo(t, ['github.com/snapcore/snapd/jsonutil'])) return
          const readings = Object.fromEntries((await runWithFake(c)).map((r) => [r.key, r]))
          assert.equal(readings['registration.proposed-serial'].stored, c.expected.some((argv) => argv.some((a) => a.startsWith('registration.proposed-serial='))) ? c.serial : undefined)
          if (readings['registration.proposed-serial'].stored !== undefined) {
            assert.match(readings['registration.proposed-serial'].storedText, /^"/, 'a JSON string, not a number')
            assert.equal(readings['registration.proposed-serial'].outcome, `ok ${JSON.stringify(c.serial)}`)
          }

          assert.equal(readings['registration.body'].stored, c.body)
          assert.equal(readings['device-service.url'].stored, c.url)
          assert.deepEqual(readings['device-service.headers'].stored, c.headers)
          if (c.headers) assert.match(readings['device-service.headers'].outcome, /^ok map\[string\]string\{/)
          for (const reading of Object.values(readings)) assert.ok(reading.ok, `${reading.key}: ${reading.outcome}`)
        })
      }

      it('options an earlier run set and this config leaves out are gone afterwards', async (t) => {
        if (!requireGo(t, ['github.com/snapcore/snapd/jsonutil'])) return
        const c = caseNamed('ONIE')
        const readings = Object.fromEntries((await runWithFake(c, c.config, {}, ['device-service.headers={"api-key":"old"}', 'registration.proposed-serial="old-serial"'])).map((r) => [r.key, r]))
        assert.equal(readings['device-service.headers'].stored, undefined)
        assert.equal(readings['registration.proposed-serial'].stored, undefined)
        assert.equal(readings['registration.body'].stored, c.body)
      })

      it('hostile config values: quotes, newlines, $(…), backticks, unicode, emoji', async (t) => {
        if (!requireGo(t, ['github.com/snapcore/snapd/jsonutil'])) return
        const c = caseNamed('Raspberry Pi')
        const hostileKey = `"'$(reboot)\`id\`✓😀\\`
        const config = writeConfig(freshDir('snap-gadget-hostile-'), hostileConfig())
        const readings = Object.fromEntries((await runWithFake(c, config, {MODEL_APIKEY: hostileKey})).map((r) => [r.key, r]))
        assert.deepEqual(readings['device-service.headers'].stored, {'api-key': hostileKey, 'x-note': HOSTILE_HEADER})
        const body = parse(readings['registration.body'].stored as string, {version: '1.1'}) as Record<string, unknown>
        assert.deepEqual(body.notes, HOSTILE_FIELDS)
        assert.equal(verifyIdentity(body).valid, true)
      })
    })

    const HOSTILE_FIELDS = {
      backticks: '`reboot` and `id`',
      emoji: 'ok 😀 👩‍👩‍👧 🇺🇦',
      newlines: 'first\nsecond\r\nthird\n',
      quotes: 'say "hi" and \'bye\' \\"',
      subshell: '$(rm -rf /) ${HOME} $((1+1))',
      unicode: 'héllo wörld ✓ 日本語 \u2028 \u00A0',
      yaml: '- not: a list\n? key\n&a *a !!int 1e3 ~ null yes',
    }
    const HOSTILE_HEADER = `say "hi" $(id) \`id\` ✓ 😀 'x'`

    function hostileConfig(): unknown {
      return {
        body: {facts: ['serial-source'], fields: {notes: HOSTILE_FIELDS}},
        deviceService: {preset: 'serial-vault'},
        headers: {'api-key': {env: 'MODEL_APIKEY'}, 'x-note': HOSTILE_HEADER},
        serial: {board: 'raspberry-pi'},
      }
    }

    describe('hostile config values reach argv and body exactly', () => {
      it('through the recording snapctl', async () => {
        const c = caseNamed('Raspberry Pi')
        const hostileKey = `k"'$(id)\`x\`é😀`
        const h = hook(c.connected, {MODEL_APIKEY: hostileKey})
        const result = await runOn(['--config', writeConfig(h.dir, hostileConfig()), '--root', await root(c.tree())], {env: h.env})
        assert.equal(result.code, 0, result.stderr)
        const set = readSnapctlLog(h.log).find((argv) => argv[0] === 'set')!
        const value = (key: string) => JSON.parse(set.find((a) => a.startsWith(`${key}=`))!.slice(key.length + 1)) as unknown
        assert.deepEqual(value('device-service.headers'), {'api-key': hostileKey, 'x-note': HOSTILE_HEADER})
        const body = value('registration.body') as string
        const fields = parse(body, {version: '1.1'}) as Record<string, unknown>
        assert.deepEqual(fields.notes, HOSTILE_FIELDS)
        assert.equal(fields.serial, c.serial)
      })
    })

    describe('failures: non-zero, one line on stderr, nothing set', () => {
      const pi = caseNamed('Raspberry Pi')

      it('a missing plug names it and how to connect it', async () => {
        const h = hook([])
        const result = await runOn(['--config', pi.config, '--root', await root(pi.tree())], {env: h.env})
        assertFailedOneLine(
          result,
          h.log,
          /the gadget's plug hardware-observe \(for .*\) is not connected.*gadget\.yaml "connections: \[\{plug: <gadget snap id>:hardware-observe\}\]".*snap connect acme-gadget:hardware-observe/,
        )
      })

      it('a plug the gadget does not declare', async () => {
        const h = hook([], {SNAPCTL_UNDECLARED: 'hardware-observe'})
        const result = await runOn(['--config', pi.config, '--root', await root(pi.tree())], {env: h.env})
        assertFailedOneLine(result, h.log, /the gadget has no plug named "hardware-observe"/)
      })

      it('no serial source', async () => {
        const h = hook(pi.connected)
        const result = await runOn(['--config', pi.config, '--root', await root({'/proc/cpuinfo': readFileSync(shared('fixtures', 'hardware', 'raspberry-pi-4b', 'cpuinfo.no-rpi-lines'))})], {env: h.env})
        assertFailedOneLine(result, h.log, /no usable serial: none of the 4 source\(s\) of chain raspberry-pi gave one; devicetree-serial: absent.*; cpuinfo-serial: absent: \/proc\/cpuinfo has no Serial line/)
      })

      it('a placeholder only: refused, and no fallback', async () => {
        const h = hook(pi.connected)
        const config = writeConfig(h.dir, {deviceService: {preset: 'serial-vault'}, serial: {board: 'generic-arm'}})
        const result = await runOn(['--config', config, '--root', await root({'/proc/cpuinfo': readFileSync(shared('fixtures', 'hardware', 'ti-beagleboard-xm', 'cpuinfo'))})], {env: h.env})
        assertFailedOneLine(result, h.log, /cpuinfo-serial: refused: placeholder "0000000000000000"/)
      })

      it('a header variable that is not set', async () => {
        const h = hook(pi.connected, {MODEL_APIKEY: undefined})
        const result = await runOn(['--config', pi.config, '--root', await root(pi.tree())], {env: h.env})
        assertFailedOneLine(result, h.log, /header api-key: the environment variable MODEL_APIKEY is not set \(fix: set MODEL_APIKEY for the hook/)
        assert.deepEqual(readSnapctlLog(h.log), [], 'failed before any snapctl call')
      })

      it('snapctl failing', async () => {
        const h = hook(pi.connected, {SNAPCTL_FAIL: 'set'})
        const result = await runOn(['--config', pi.config, '--root', await root(pi.tree())], {env: h.env})
        assert.equal(result.code, 1)
        assert.equal(
          result.stderr,
          'prepare-device: snapctl set failed: snapctl exited 1: error: error running snapctl: cannot communicate with server: connection refused (fix: snapd retries the hook with back-off; check `snap changes` and the snapd journal)\n',
        )
      })

      it('a bad config: located, exit 2', async () => {
        const h = hook(pi.connected)
        const file = writeConfig(h.dir, '{\n  "deviceService": {"preset": "serial-vault"},\n  "serial": {"board": "raspberry-pi"},\n}\n')
        const result = await runOn(['--config', file, '--root', await root(pi.tree())], {env: h.env})
        assertFailedOneLine(result, h.log, new RegExp(`^prepare-device: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:1: not valid JSON: expected a key in double quotes, found "\\}" \\(fix: `), 2)
        const unknown = await runOn(['--config', writeConfig(h.dir, {deviceService: {preset: 'serial-vault'}, serial: {board: 'raspbery-pi'}}), '--root', await root(pi.tree())], {env: h.env})
        assertFailedOneLine(unknown, h.log, /:6:14: serial\.board: unknown board "raspbery-pi" \(fix: did you mean "raspberry-pi"\?/, 2)
      })

      it('no config and no $SNAP, a missing config file, an unknown argument', async () => {
        const h = hook(pi.connected)
        assertFailedOneLine(await runOn([], {env: h.env}), h.log, /\$SNAP is not set/, 2)
        assertFailedOneLine(await runOn(['--config', join(h.dir, 'nope.json')], {env: h.env}), h.log, /cannot read .*nope\.json: no such file or directory/, 2)
        assertFailedOneLine(await runOn(['--fallback-serial', 'X'], {env: h.env}), h.log, /unknown argument "--fallback-serial"/, 2)
      })

      it('--json failures also print the error object', async () => {
        const h = hook([])
        const result = await runOn(['--config', pi.config, '--root', await root(pi.tree()), '--json'], {env: h.env})
        assert.equal(result.code, 1)
        assert.equal((JSON.parse(result.stdout) as {error: {code: string}}).error.code, 'E_PLUG_NOT_CONNECTED')
      })
    })

    describe('the identity key', () => {
      const pi = caseNamed('Raspberry Pi')
      const bodyOf = (log: string) => {
        const set = readSnapctlLog(log).find((argv) => argv[0] === 'set')!
        return JSON.parse(set.at(-1)!.slice('registration.body='.length)) as string
      }

      it('is made on the first run in SNAP_SAVE_DATA (0600), reused by the retry, and signs a body that verifies', async () => {
        const first = hook(pi.connected, {}, false)
        const save = join(first.dir, 'save')
        const env = {...first.env, SNAP_SAVE_DATA: save}
        const tree = await root(pi.tree())
        assert.equal((await runOn(['--config', pi.config, '--root', tree], {env})).code, 0)
        const keyFile = join(save, 'device-identity.key')
        assert.equal(statSync(keyFile).mode & 0o777, 0o600)
        assert.equal(existsSync(join(first.snapData, 'device-identity.key')), false, 'SNAP_SAVE_DATA wins over SNAP_DATA')
        const retryLog = join(first.dir, 'retry.log')
        assert.equal((await runOn(['--config', pi.config, '--root', tree], {env: {...env, SNAPCTL_LOG: retryLog}})).code, 0)
        const [one, two] = [parse(bodyOf(first.log)) as Record<string, string>, parse(bodyOf(retryLog)) as Record<string, string>]
        assert.equal(two['identity-key'], one['identity-key'], 'the retry reuses the key')
        assert.equal(bodyOf(retryLog), bodyOf(first.log))
        assert.equal(verifyIdentity(one).valid, true)
      })

      it('a tampered body fails verification', async () => {
        const h = hook(pi.connected)
        assert.equal((await runOn(['--config', pi.config, '--root', await root(pi.tree())], {env: h.env})).code, 0)
        const fields = parse(bodyOf(h.log)) as Record<string, unknown>
        assert.equal(verifyIdentity(fields).valid, true)
        for (const tampered of [
          {...fields, serial: '100000000fe69594'},
          {...fields, 'board-revision': 'c03115'},
          {...fields, extra: 'x'},
        ]) {
          assert.equal(verifyIdentity(tampered).failure?.code, 'E_IDENTITY_SIGNATURE')
        }
      })

      it('a key file others could read is refused, with one line', async () => {
        const h = hook(pi.connected)
        execFileSync('chmod', ['0644', join(h.snapData, 'device-identity.key')])
        const result = await runOn(['--config', pi.config, '--root', await root(pi.tree())], {env: h.env})
        assertFailedOneLine(result, h.log, /may be read or changed by group or others \(mode 0644\); refusing to use it/)
      })
    })

    describe('the bundle', () => {
      it('--help and --version', async () => {
        const env = hookEnv(bin)
        const help = await runOn(['--help'], {env})
        assert.equal(help.code, 0)
        assert.match(help.stdout, /^usage: prepare-device \[--config FILE\] \[--root DIR\] \[--dry-run\] \[--json\]/)
        const version = await runOn(['--version'], {env})
        assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {version: string}).version)
      })
    })
  })
}

// The files themselves, the same whatever engine runs them.
describe('the runtimes', () => {
  for (const onboarding of ['api-key', 'hardware-identity'] as const) {
    it(`the ${onboarding} runtime is one file of at most 190 KB, without oclif, a YAML library or the other mode's cryptography`, () => {
      const text = readFileSync(requireBundle(onboarding), 'utf8')
      // scripts/build.mjs holds the same limit.
      assert.ok(Buffer.byteLength(text) <= 190_000, `${Buffer.byteLength(text)} bytes`)
      for (const marker of ['@oclif', 'YAMLParseError', 'tag:yaml.org,2002', 'ajv']) assert.ok(!text.includes(marker), `the bundle contains ${marker}`)
      // tweetnacl (Ed25519) by one of its messages, @noble/curves (ECDSA) by P-256's prime.
      const markers = {'api-key': 'bad secret key size', 'hardware-identity': 'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff'}
      assert.ok(text.includes(markers[onboarding]), `its own mode's library is in the ${onboarding} runtime`)
      assert.ok(!text.includes(markers[onboarding === 'api-key' ? 'hardware-identity' : 'api-key']), `the other mode's library is not in the ${onboarding} runtime`)
      // A script that requires only node: builtins (on Node, when the Node host calls them), and
      // tweetnacl's optional crypto (never reached: the hosts give it no random-bytes job).
      assert.doesNotMatch(text, /\bimport\s*(?:[\w$]+|\*\s*as\s+[\w$]+|\{[^}]*\})\s*from\s*["']/)
      const requires = [...text.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((m) => m[1])
      assert.ok(requires.length > 0)
      for (const spec of requires) assert.match(spec, /^(node:|crypto$)/, spec)
    })
  }
})
