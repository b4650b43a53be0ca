/**
 * On arm64 and armhf through qemu:
 * - the identity module under Debian's ARM Node, bundled as one esbuild ESM file for Node 18: same
 *   Ed25519 key and signatures as x86 node:crypto, and the key file it makes is the one a retry
 *   reuses;
 * - the built runtime bundle itself (dist/runtime/prepare-device.cjs) under Debian trixie's ARM
 *   QuickJS, exactly as a gadget's hook runs it (`qjs --std BUNDLE …`), on the Raspberry Pi and
 *   BeagleBone fixture trees with the recording snapctl: the same argv as on x86, byte for byte.
 * Each qemu run costs seconds, so the runs are few.
 */
import assert from 'node:assert/strict'
import {createPrivateKey, createPublicKey, sign, verify} from 'node:crypto'
import {mkdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {before, test} from 'node:test'

import {build} from 'esbuild'
import {parse} from 'yaml'

import {freshDir} from '../helpers/scratch.js'
import {loadOrCreateIdentity} from '../../src/identity/key.js'
import {verifyIdentity} from '../../src/identity/verify.js'
import {ARM_ARCHES, type ArmArch, NODE_ARCH, requireArm, runOnArm} from '../helpers/arm.js'
import {runProcess} from '../helpers/cli.js'
import {quickJsCommand, requireQuickJs} from '../helpers/quickjs.js'
import {projectRoot} from '../helpers/paths.js'
import {makeRoot} from '../serial/helpers/root.js'
import {API_KEY, caseNamed, KEY, type RuntimeCase} from './cases.js'
import {hookEnv, requireBundle, writeKeyFile} from './helpers.js'
import {readSnapctlLog, writeRecordingSnapctl} from '../helpers/snapctl.js'

const RUNTIME_BANNER = "import {createRequire as __createRequire} from 'node:module';const require=__createRequire(import.meta.url);"
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SEED = Buffer.from('0123456789abcdeffedcba98765432100f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex')
const MESSAGE = Buffer.from('snap-gadget on ARM: héllo \u0000 wörld', 'utf8')

// What the bundle prints: the fixed-seed results, and the stored identity it made or reused.
const ENTRY = `
import {chmodSync, statSync} from 'node:fs'
import {DeviceIdentity, loadOrCreateIdentity, signWithIdentity} from './src/identity/key.js'

const [seedHex, messageBase64, keyDir] = process.argv.slice(2)
const identity = DeviceIdentity.fromSeed(Buffer.from(seedHex, 'hex'))
const signature = identity.sign(Buffer.from(messageBase64, 'base64'))
const stored = loadOrCreateIdentity(keyDir)
const body = signWithIdentity({serial: 'ARM-' + process.arch}, stored.identity)
process.stdout.write(JSON.stringify({
  arch: process.arch,
  node: process.version,
  publicKey: identity.publicKeyText,
  signature: Buffer.from(signature).toString('base64url'),
  stored: {created: stored.created, mode: statSync(stored.file).mode & 0o777, publicKey: stored.identity.publicKeyText},
  body,
}))
`

interface ArmReport {
  arch: string
  node: string
  publicKey: string
  signature: string
  stored: {created: boolean; mode: number; publicKey: string}
  body: Record<string, string>
}

let workDir: string
let bundle: string

before(async () => {
  workDir = freshDir('snap-gadget-arm-')
  bundle = join(workDir, 'identity-bundle.mjs')
  await build({
    banner: {js: RUNTIME_BANNER},
    bundle: true,
    format: 'esm',
    logLevel: 'silent',
    outfile: bundle,
    platform: 'node',
    stdin: {contents: ENTRY, loader: 'ts', resolveDir: projectRoot, sourcefile: 'arm-identity-entry.ts'},
    target: 'node18',
  })
})

function hostExpectation(): {publicKey: string; signature: string} {
  const privateKey = createPrivateKey({format: 'der', key: Buffer.concat([PKCS8_ED25519_PREFIX, SEED]), type: 'pkcs8'})
  const jwk = createPublicKey(privateKey).export({format: 'jwk'})
  return {publicKey: jwk.x as string, signature: sign(null, MESSAGE, privateKey).toString('base64url')}
}

async function runBundle(arch: ArmArch, keyDir: string): Promise<ArmReport> {
  const result = await runOnArm(arch, [bundle, SEED.toString('hex'), MESSAGE.toString('base64'), keyDir])
  assert.equal(result.code, 0, `bundle failed on ${arch}:\n${result.stderr}`)
  return JSON.parse(result.stdout) as ArmReport
}

test('the bundled identity module on Debian ARM Node matches x86 node:crypto', {concurrency: true}, async (t) => {
  const expected = hostExpectation()
  await Promise.all(
    ARM_ARCHES.map((arch) =>
      t.test(arch, async (t) => {
        if (!(await requireArm(t, arch))) return
        const keyDir = freshDir(`snap-gadget-arm-${arch}-key-`)

        const first = await runBundle(arch, keyDir)
        assert.equal(first.arch, NODE_ARCH[arch])
        assert.match(first.node, /^v18\./)
        assert.equal(first.publicKey, expected.publicKey, 'public key from the same seed')
        assert.equal(first.signature, expected.signature, 'signature byte-identical to node:crypto')
        const x86PublicKey = createPublicKey({format: 'jwk', key: {crv: 'Ed25519', kty: 'OKP', x: first.publicKey}})
        assert.ok(verify(null, MESSAGE, x86PublicKey, Buffer.from(first.signature, 'base64url')), 'x86 node:crypto verifies the ARM signature')

        assert.equal(first.stored.created, true)
        assert.equal(first.stored.mode, 0o600)
        assert.equal(statSync(join(keyDir, 'device-identity.key')).mode & 0o777, 0o600)
        assert.equal(verifyIdentity(first.body).valid, true, 'the body signed on ARM verifies on x86')

        const retry = loadOrCreateIdentity(keyDir)
        assert.equal(retry.created, false, 'a retry reuses the key the ARM run made')
        assert.equal(retry.identity.publicKeyText, first.stored.publicKey)
      }),
    ),
  )
})

const ARM_CASES = ['Raspberry Pi', 'BeagleBone'].map(caseNamed)

/** One hook run of the built bundle under Debian's QuickJS for ARM: the argv the recording snapctl saw. */
async function runRuntimeOnArm(arch: ArmArch, c: RuntimeCase, snapData: string, label: string, bundle = requireBundle()): Promise<string[][]> {
  const dir = freshDir(`snap-gadget-arm-${arch}-${label}-`)
  const bin = join(dir, 'bin')
  writeRecordingSnapctl(bin)
  const log = join(dir, 'snapctl.log')
  const root = await makeRoot(c.tree())
  const env = hookEnv(bin, {MODEL_APIKEY: API_KEY, SNAP_DATA: snapData, SNAP_NAME: 'acme-gadget', SNAP_SAVE_DATA: '', SNAPCTL_CONNECTED: c.connected.join(','), SNAPCTL_LOG: log})
  try {
    const [command, ...args] = quickJsCommand(arch, [bundle, '--config', c.config, '--root', root])
    const result = await runProcess(command, args, {env, timeoutMs: 300_000})
    assert.equal(result.code, 0, `runtime failed on ${arch}:\n${result.stderr}`)
    assert.match(result.stdout, new RegExp(`^prepare-device: proposed serial ${c.serial} `))
    return readSnapctlLog(log)
  } finally {
    rmSync(root, {force: true, recursive: true})
  }
}

test("the runtime bundle on Debian's QuickJS for ARM makes the same snapctl calls as Node on x86", {concurrency: true}, async (t) => {
  await Promise.all(
    ARM_ARCHES.map((arch) =>
      t.test(arch, async (t) => {
        if (!requireQuickJs(t, arch)) return
        for (const c of ARM_CASES) {
          const snapData = freshDir(`snap-gadget-arm-${arch}-data-`)
          writeKeyFile(snapData, KEY)
          // c.expected is what the x86 runs on Node and QuickJS produce too (test/runtime/main.test.ts),
          // its signature made by node:crypto: tweetnacl on ARM QuickJS signs byte-identically.
          assert.deepEqual(await runRuntimeOnArm(arch, c, snapData, 'seeded'), c.expected, `${c.name} on ${arch}`)
        }

        // A key made on ARM: 0600, reused by the retry, and its signature verifies on x86.
        const pi = ARM_CASES[0]
        const snapData = join(freshDir(`snap-gadget-arm-${arch}-fresh-`), 'data')
        mkdirSync(snapData)
        const first = await runRuntimeOnArm(arch, pi, snapData, 'first')
        assert.equal(statSync(join(snapData, 'device-identity.key')).mode & 0o777, 0o600)
        const retry = await runRuntimeOnArm(arch, pi, snapData, 'retry')
        assert.deepEqual(retry, first, 'the retry proposes the same body, signed by the same key')
        const body = JSON.parse(first.at(-1)!.at(-1)!.slice('registration.body='.length)) as string
        const fields = parse(body) as Record<string, string>
        assert.equal(verifyIdentity(fields).valid, true)
        assert.equal(fields['identity-key'], JSON.parse(readFileSync(join(snapData, 'device-identity.key'), 'utf8'))['public-key'])
      }),
    ),
  )
})
