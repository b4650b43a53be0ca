/**
 * The runtime of each onboarding mode (scripts/build.mjs), which carries only the QuickJS
 * cryptography its mode uses: tweetnacl's Ed25519 in the api-key runtime, @noble/curves' ECDSA in
 * the hardware-identity one. On QuickJS a config of the other mode is refused with the fix before
 * a key is made or an option set; on Node (node:crypto) either runtime runs either mode; the hash
 * transform's SHA-512 is the same from tweetnacl, @noble/hashes and node:crypto.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import {describe, it} from 'node:test'

import {scratchDir} from '../helpers/scratch.js'
import {readSnapctlLog} from '../helpers/snapctl.js'
import {type HookDevice, makeHookDevice, SERIAL} from './hardware-device.js'
import {type Engine, type Onboarding, requireBundle, runBundle} from './helpers.js'

const work = scratchDir('snap-gadget-flavours-')
const SERVICE = '"deviceService": {"preset": "custom", "url": "http://127.0.0.1:8642/v1/"}'

/** A device whose config is in `mode`; in api-key mode with the Ed25519 identity on or off. */
function deviceIn(name: string, mode: Onboarding, options: {hash?: boolean; identity?: boolean} = {}): HookDevice {
  const device = makeHookDevice(name, {parent: work})
  const transforms = options.hash ? ', "transforms": [{"hash": {"length": 32, "salt": "acme"}}]' : ''
  const chain = `"serial": {"chain": [{"source": "file", "options": {"path": "/etc/device-serial"}${transforms}}]}`
  const rest = mode === 'hardware-identity' ? '"onboarding": "hardware-identity"' : `"identity": ${options.identity ?? true}`
  writeFileSync(device.config, `{${SERVICE}, ${chain}, ${rest}}\n`)
  return device
}

function run(device: HookDevice, runtime: Onboarding, engine: Engine, args: string[] = []) {
  return runBundle(['--config', device.config, '--root', device.root, ...args], {bundle: requireBundle(runtime), engine, env: device.env()})
}

describe('one runtime per onboarding mode', () => {
  it('on QuickJS the api-key runtime refuses a hardware-identity config with the fix, and makes no key', async () => {
    const device = deviceIn('ecdsa-missing', 'hardware-identity')
    const result = await run(device, 'api-key', 'quickjs')
    assert.equal(result.code, 1, result.stdout)
    assert.match(
      result.stderr,
      /^prepare-device: this gadget's runtime is built for api-key onboarding: on QuickJS it has no ECDSA for the hardware identity key of hardware-identity onboarding \(fix: "snap-gadget init --onboarding hardware-identity" ships the other runtime \(dist\/runtime\/prepare-device-hardware-identity\.cjs in snap-gadget\) as the gadget's runtime\/prepare-device\.cjs; or run the hooks with node\)\n$/,
    )
    assert.equal(existsSync(device.save) && readdirSync(device.save).length > 0, false, 'no key file')
    assert.deepEqual(
      readSnapctlLog(device.log).filter(([command]) => command === 'set'),
      [],
      'nothing set',
    )
  })

  it('on QuickJS the hardware-identity runtime refuses the Ed25519 identity of api-key onboarding with the fix', async () => {
    const device = deviceIn('ed25519-missing', 'api-key')
    const result = await run(device, 'hardware-identity', 'quickjs')
    assert.equal(result.code, 1, result.stdout)
    assert.match(
      result.stderr,
      /^prepare-device: this gadget's runtime is built for hardware-identity onboarding: on QuickJS it has no Ed25519 for the device identity that signs the body in api-key onboarding \(fix: ship the api-key runtime .* set "identity": false, or run the hooks with node\)\n$/,
    )
    assert.deepEqual(
      readSnapctlLog(device.log).filter(([command]) => command === 'set'),
      [],
      'nothing set',
    )
  })

  it('on Node either runtime runs either mode (node:crypto has both)', async () => {
    for (const [mode, runtime] of [
      ['hardware-identity', 'api-key'],
      ['api-key', 'hardware-identity'],
    ] as const) {
      const device = deviceIn(`node-${mode}`, mode)
      const result = await run(device, runtime, 'node')
      assert.equal(result.code, 0, `${mode} config, ${runtime} runtime: ${result.stderr}`)
      assert.match(result.stdout, new RegExp(`^prepare-device: proposed serial ${SERIAL} `))
    }
  })

  it('the hashed serial is the same from both runtimes on QuickJS and from Node', async () => {
    const expected = createHash('sha512').update(`acme\0${SERIAL}`).digest('hex').slice(0, 32)
    const runs: Array<[string, HookDevice, Onboarding, Engine]> = [
      ['hardware-identity runtime on QuickJS (@noble/hashes)', deviceIn('hash-hi', 'hardware-identity', {hash: true}), 'hardware-identity', 'quickjs'],
      ['api-key runtime on QuickJS (tweetnacl)', deviceIn('hash-api', 'api-key', {hash: true, identity: false}), 'api-key', 'quickjs'],
      ['Node (node:crypto)', deviceIn('hash-node', 'hardware-identity', {hash: true}), 'hardware-identity', 'node'],
    ]
    for (const [label, device, runtime, engine] of runs) {
      const result = await run(device, runtime, engine, ['--dry-run'])
      assert.equal(result.code, 0, `${label}: ${result.stderr}`)
      assert.ok(result.stdout.includes(`'registration.proposed-serial="${expected}"'`), `${label}:\n${result.stdout}`)
    }
  })
})
