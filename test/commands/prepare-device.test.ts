/**
 * `snap-gadget prepare-device` end to end: the same snapctl argv as the on-device bundle on the
 * fixture trees, --dry-run and --json, failures with their reason and exit code, and a body that
 * `snap-gadget identity verify` accepts (and refuses once tampered).
 */
import assert from 'node:assert/strict'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'

import {runCli} from '../helpers/cli.js'
import {freshDir, scratchDir} from '../helpers/scratch.js'
import {API_KEY, CASES, caseNamed, KEY} from '../runtime/cases.js'
import {fileRoots, hookEnv, hookRunDir} from '../runtime/helpers.js'
import {readSnapctlLog, writeRecordingSnapctl} from '../helpers/snapctl.js'

const work = scratchDir('snap-gadget-prepare-cli-')
const root = fileRoots()
const bin = join(work, 'bin')
before(() => writeRecordingSnapctl(bin))

function hook(connected: readonly string[], extra: NodeJS.ProcessEnv = {}, seedKey = true) {
  const {dir, log, snapData} = hookRunDir(work, seedKey ? KEY : undefined)
  const env = hookEnv(bin, {MODEL_APIKEY: API_KEY, SNAP: '', SNAP_DATA: snapData, SNAP_NAME: 'acme-gadget', SNAP_SAVE_DATA: '', SNAPCTL_CONNECTED: connected.join(','), SNAPCTL_LOG: log, ...extra})
  return {dir, env, log, snapData}
}

describe('prepare-device', {concurrency: true}, () => {
  for (const c of CASES) {
    it(`${c.name}: the same argv as the runtime bundle`, async () => {
      const h = hook(c.connected)
      const r = await runCli(['prepare-device', '--config', c.config, '--root', await root(c.tree())], {env: h.env})
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(readSnapctlLog(h.log), c.expected)
      assert.match(r.stdout, new RegExp(`^proposed serial ${c.serial} \\(`))
    })
  }

  it('--dry-run prints the calls and runs nothing', async () => {
    const c = caseNamed('ONIE')
    const h = hook([], {}, false)
    const r = await runCli(['prepare-device', '--config', c.config, '--root', await root(c.tree()), '--dry-run'], {env: h.env})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(readSnapctlLog(h.log), [])
    assert.equal(
      r.stdout,
      [
        'snapctl is-connected hardware-observe',
        `snapctl set 'device-service.url="http://localhost:8080/v1/"' 'registration.body="\\"serial\\": \\"acme-FAKE-SN-123456\\"\\n"' 'device-service.headers!' 'registration.proposed-serial!'`,
        '',
      ].join('\n'),
    )
  })

  it('--json: the result, api-key redacted', async () => {
    const c = caseNamed('Raspberry Pi')
    const h = hook(c.connected)
    const r = await runCli(['prepare-device', '--config', c.config, '--root', await root(c.tree()), '--json'], {env: h.env})
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout) as {body: {text: string}; calls: string[][]; identity: {publicKey: string}; plugs: {connected: boolean}[]}
    assert.equal(result.body.text, c.body)
    assert.equal(result.identity.publicKey, KEY.publicKey)
    assert.deepEqual(
      result.plugs.map((p) => p.connected),
      [true],
    )
    assert.equal(result.calls[1][2], 'device-service.headers={"api-key":"<$MODEL_APIKEY>"}')
    assert.doesNotMatch(r.stdout, new RegExp(API_KEY))
  })

  it('a missing plug: exit 1, the reason and the fix', async () => {
    const c = caseNamed('BeagleBone')
    const h = hook(['hardware-observe'])
    const r = await runCli(['prepare-device', '--config', c.config, '--root', await root(c.tree())], {env: h.env})
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^error: the gadget's plug net-observe \(network-observe, for mac, body fact mac-addresses\) is not connected/m)
    assert.match(r.stderr, /^ {2}hint: connect before the hook runs: gadget\.yaml "connections: \[\{plug: <gadget snap id>:net-observe\}\]".*snap connect acme-gadget:net-observe/m)
    assert.deepEqual(
      readSnapctlLog(h.log).filter((a) => a[0] !== 'is-connected'),
      [],
    )
  })

  it('a bad config: exit 2, located', async () => {
    const h = hook(['hardware-observe'])
    const file = join(h.dir, 'registration.json')
    writeFileSync(file, '{"deviceService": {"preset": "serial-vault"}, "serial": {"board": "x86"}, "headers": {"api-key": {"env": "MODEL APIKEY"}}}')
    const r = await runCli(['prepare-device', '--config', file, '--dry-run'], {env: h.env})
    assert.equal(r.code, 2)
    assert.match(r.stderr, new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1:106: headers\\.api-key\\.env: env must name an environment variable`, 'm'))
    const json = await runCli(['prepare-device', '--config', file, '--dry-run', '--json'], {env: h.env})
    assert.equal(json.code, 2)
    assert.equal((JSON.parse(json.stdout) as {error: {code: string; line: number}}).error.code, 'E_REGISTRATION_CONFIG')
  })

  it('no serial: exit 1 and every source tried', async () => {
    const c = caseNamed('x86')
    const h = hook(c.connected)
    const r = await runCli(['prepare-device', '--config', c.config, '--root', await root({'/proc/cpuinfo': 'processor\t: 0\n'})], {env: h.env})
    assert.equal(r.code, 1)
    assert.match(r.stderr, /no usable serial: none of the 4 source\(s\) of chain x86 gave one\n {2}dmi\[product_serial\]: absent/)
    // The hook takes no --board or --chain: the fix is in the registration config.
    assert.match(r.stderr, /hint: run `snap-gadget probe` on this hardware .* then set serial\.board or serial\.chain in the registration config/)
    assert.doesNotMatch(r.stderr, /--board|--chain/)
  })

  it('--dry-run without the api-key variable set: the plan, and notes on stderr for the variable and the throwaway key', async () => {
    const c = caseNamed('x86')
    const h = hook([], {MODEL_APIKEY: undefined}, false)
    const r = await runCli(['prepare-device', '--config', c.config, '--root', await root(c.tree()), '--dry-run'], {env: h.env})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /'device-service\.headers=\{"api-key":"<\$MODEL_APIKEY>","x-factory-line":"line 3"\}'/)
    assert.match(r.stderr, /^note: MODEL_APIKEY is not set here; the hook needs it set, and sends it as the api-key header$/m)
    assert.match(r.stderr, /^note: the identity signature in the body is made with a throwaway key \([\w-]+\): the device makes its own key on its first run$/m)
  })

  it('the body it sets passes `identity verify`, and a tampered one fails', async () => {
    const c = caseNamed('BeagleBone')
    const h = hook(c.connected, {}, false)
    const r = await runCli(['prepare-device', '--config', c.config, '--root', await root(c.tree())], {env: h.env})
    assert.equal(r.code, 0, r.stderr)
    assert.ok(existsSync(join(h.snapData, 'device-identity.key')))
    const set = readSnapctlLog(h.log).find((a) => a[0] === 'set')!
    const body = JSON.parse(set.at(-1)!.slice('registration.body='.length)) as string
    const good = join(h.dir, 'body.yaml')
    writeFileSync(good, body)
    const verified = await runCli(['identity', 'verify', good])
    assert.equal(verified.code, 0, verified.stdout + verified.stderr)
    assert.match(verified.stdout, /^identity verified: registration body/)
    const bad = join(h.dir, 'tampered.yaml')
    writeFileSync(bad, body.replace('"2313BBBK0099"', '"2313BBBK0100"'))
    const refused = await runCli(['identity', 'verify', bad])
    assert.equal(refused.code, 1)
    assert.match(refused.stdout, /identity NOT verified/)
  })

  it('--help shows the flags', async () => {
    const r = await runCli(['prepare-device', '--help'])
    assert.equal(r.code, 0)
    for (const flag of ['--config', '--root', '--dry-run', '--json']) assert.match(r.stdout, new RegExp(flag))
    // The default config is where init puts it.
    assert.match(r.stdout.replaceAll(/\s+/g, ' '), /default \$SNAP\/runtime\/registration\.json/)
    assert.doesNotMatch(r.stdout, /\$SNAP\/registration\.json/)
  })
})

describe('prepare-device in hardware-identity onboarding', () => {
  const config = join(work, 'hardware-identity.json')
  const tree = async () => {
    const dir = await root({'/etc/device-serial': 'ACME-CLI-0001\n'})
    writeFileSync(config, JSON.stringify({deviceService: {preset: 'local'}, onboarding: 'hardware-identity', serial: {chain: [{options: {path: '/etc/device-serial'}, source: 'file'}]}}))
    return dir
  }

  it('--dry-run prints the calls, then the export as # lines (hardware-id, key type, digest, PEM); writes nothing', async () => {
    const h = hook([], {SNAP_COMMON: join(work, 'common')}, false)
    const r = await runCli(['prepare-device', '--config', config, '--root', await tree(), '--dry-run'], {env: h.env})
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trimEnd().split('\n')
    assert.equal(lines[0], 'snapctl unset registration.body')
    assert.match(lines[1], /^snapctl set 'device-service\.url="http:\/\/127\.0\.0\.1:8642\/v1\/"' 'registration\.proposed-serial="ACME-CLI-0001"' 'hardware-identity=\{/)
    assert.doesNotMatch(lines[1], /api-key/)
    assert.equal(lines[2], '# hardware identity: what the factory station reads ($SNAP_COMMON/hardware-identity.json, and snap get <gadget> hardware-identity)')
    assert.equal(lines[3], '#   hardware-id: ACME-CLI-0001')
    assert.match(lines[5], /^# {3}hardware-id-key-sha3-384: [\w-]{64}$/)
    assert.equal(lines[6], '#   key-type: ecdsa-p256')
    assert.deepEqual([lines[7], lines[8], lines.at(-1)], ['#   public-key-pem:', '#     -----BEGIN PUBLIC KEY-----', '#     -----END PUBLIC KEY-----'])
    assert.match(r.stderr, /note: the hardware identity key shown is a throwaway one/)
    assert.equal(existsSync(join(work, 'common')), false)
    assert.equal(existsSync(join(h.snapData, 'hardware-identity.key')), false)
    assert.deepEqual(readSnapctlLog(h.log), [])
  })

  it('--json: the export and the key use, never the private key', async () => {
    const h = hook([], {SNAP_COMMON: join(freshDir('snap-gadget-prepare-cli-common-'), 'common')}, false)
    const r = await runCli(['prepare-device', '--config', config, '--root', await tree(), '--json'], {env: h.env})
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout) as {onboarding: string; hardwareIdentity: {created: boolean; keyType: string; export: Record<string, string>; keyFile: string}}
    assert.equal(result.onboarding, 'hardware-identity')
    assert.deepEqual([result.hardwareIdentity.created, result.hardwareIdentity.keyType, result.hardwareIdentity.export['hardware-id']], [true, 'ecdsa-p256', 'ACME-CLI-0001'])
    assert.doesNotMatch(r.stdout, /PRIVATE KEY/)
    assert.equal(result.hardwareIdentity.keyFile, join(h.snapData, 'hardware-identity.key'))
  })
})
