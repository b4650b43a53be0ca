/**
 * Secure onboarding judged by snapd 2.77.1's own DeviceManager: its overlord/devicestate tests,
 * built from sid's source with test/service/snapd/onboarding/onboarding_test.go beside them, run a
 * gadget made by `init --onboarding hardware-identity` whose prepare-device and
 * prepare-serial-request hooks run live on QuickJS over a captured board, their snapctl answered
 * by snapd's own ctlcmd in the hook's context, against `serve` taking the model by hardware
 * identity. The factory's timelines (the first attempt before the station imported the identity,
 * then registered; imported before the production image boots) and the refusals (a signature over
 * another nonce, an identity of another brand, a body that is not an object).
 */
import assert from 'node:assert/strict'
import {createPrivateKey, generateKeyPairSync} from 'node:crypto'
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {buildFixtureTests, run, snapdSource} from '../doctor/snapd/build.js'
import {binRun, fixtures} from '../helpers/paths.js'
import {scratchDir} from '../helpers/scratch.js'
import {assembleSnapTree, generate, hardwareFor, installHookEngine} from '../scaffold/helpers.js'
import {makeRoot, removeRoot} from '../serial/helpers/root.js'

const CASES: [string, string][] = [
  ['the first boot before the station imported the identity is refused with serve’s message; after the import the next attempt registers, with the hardware id as the serial', 'TestFirstBootBeforeImportThenRegisters'],
  ['an identity imported before the production image boots (its key kept in ubuntu-save) registers at once', 'TestImportedBeforeBootRegistersAtOnce'],
  ['a signature over another nonce is refused with serve’s message', 'TestSignatureOverAnotherNonceIsRefused'],
  ['an identity of another brand is refused with serve’s message', 'TestIdentityOfAnotherBrandIsRefused'],
  ['a hook that leaves the body a string fails in snapd', 'TestAStringBodyFailsInSnapd'],
]
const work = scratchDir('snap-gadget-snapd-onboarding-')
const source = snapdSource('2.77')
if (typeof source === 'string' && process.env.CI === 'true') throw new Error(`snapd 2.77's source is required in CI: ${source}`)

describe("snapd 2.77's DeviceManager onboards a device by hardware identity through serve, the gadget's hooks live on QuickJS", {skip: typeof source === 'string' ? source : undefined}, () => {
  let binary: string
  let input: string
  let root: string
  before(async () => {
    if (typeof source === 'string') return
    const building = buildFixtureTests(source)
    ;({input, root} = await onboardingInput())
    binary = await building
  })
  after(async () => {
    if (root) await removeRoot(root)
  })

  for (const [title, test] of CASES) {
    it(title, async () => {
      const scratch = join(work, `run-${test}`)
      mkdirSync(scratch)
      const result = await run(binary, ['-test.run', '^TestDeviceManager$', '-check.f', `^snapGadgetOnboardingSuite\\.${test}$`, '-check.v'], {
        cwd: scratch,
        env: {...process.env, SNAP_GADGET_COMMAND: JSON.stringify([process.execPath, binRun]), SNAP_GADGET_ONBOARDING: input, TMPDIR: scratch},
        timeout: 600_000,
      })
      assert.equal(result.code, 0, result.output)
      assert.match(result.output, new RegExp(`(?:^|\\n)PASS: .*snapGadgetOnboardingSuite\\.${test}\\t`))
    })
  }
})

/** The gadget made by init in hardware-identity onboarding, as a snap tree with QuickJS over a captured UP board; the keys; the snapctl shim. */
async function onboardingInput(): Promise<{input: string; root: string}> {
  const {dir} = await generate('pc-amd64', 'core24', {deviceService: 'local', legacyModel: true, onboarding: 'hardware-identity'})
  const {tree} = assembleSnapTree(dir, join(work, 'prime'))
  const root = await makeRoot(hardwareFor('pc-amd64').tree)
  installHookEngine(tree, root)
  const shim = join(work, 'shim')
  mkdirSync(shim)
  writeFileSync(
    join(shim, 'snapctl'),
    `#!${process.execPath}
// snapctl for a hook snapd's test runs: the call goes to the test, which runs it with snapd's ctlcmd.
const net = require('node:net')
const socket = net.connect(process.env.SNAP_GADGET_SNAPCTL_SOCKET)
let answer = ''
socket.on('data', (chunk) => (answer += chunk))
socket.on('end', () => {
  const {stdout, stderr, code} = JSON.parse(answer)
  process.stdout.write(stdout)
  process.stderr.write(stderr)
  process.exitCode = code
})
socket.end(JSON.stringify({args: process.argv.slice(2)}) + '\\n')
`,
  )
  chmodSync(join(shim, 'snapctl'), 0o755)
  const pkcs8 = (pem: Buffer | string, file: string) => writeFileSync(file, createPrivateKey(pem).export({format: 'pem', type: 'pkcs8'}), {mode: 0o600})
  const brandKey = join(work, 'brand.pem')
  pkcs8(readFileSync(fixtures('assertions', 'brand.pem')), brandKey)
  const otherKey = join(work, 'other.pem')
  pkcs8(generateKeyPairSync('rsa', {modulusLength: 4096}).privateKey.export({format: 'pem', type: 'pkcs8'}), otherKey)
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>
  const input = join(work, 'onboarding.json')
  writeFileSync(input, `${JSON.stringify({'brand-key': brandKey, model, 'other-brand-key': otherKey, shim, tree}, null, 2)}\n`)
  return {input, root}
}
