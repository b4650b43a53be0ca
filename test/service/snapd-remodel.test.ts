/**
 * Re-registration on remodel judged by snapd's own DeviceManager: snapd 2.57.6's and 2.77.1's
 * overlord/devicestate tests, built with test/service/snapd/remodel/rereg_test.go beside them,
 * register a device through `serve`, then run snapd's request-serial task in a re-registration
 * remodel context (the same device key, the original gadget's api-key, original-* headers, the
 * stream serial-request, new model, original serial) against the same serve: the new model's
 * serial passes snapd's checks and lands in its database; a model that does not take the
 * original one fails the change with serve's message.
 */
import assert from 'node:assert/strict'
import {createPrivateKey} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {buildFixtureTests, run, type SnapdLine, snapdSource} from '../doctor/snapd/build.js'
import {binRun, fixtures} from '../helpers/paths.js'
import {freshDir, scratchDir} from '../helpers/scratch.js'

const TESTS = ['TestReregistrationGetsTheNewModelsSerial', 'TestReregistrationToAModelThatDoesNotTakeItFailsWithServesMessage']
const work = scratchDir('snap-gadget-snapd-remodel-')
/** The brand's key as snapd's test brands take it: PKCS#8. */
const brandKey = join(work, 'brand.pem')
writeFileSync(brandKey, createPrivateKey(readFileSync(fixtures('assertions', 'brand.pem'))).export({format: 'pem', type: 'pkcs8'}), {mode: 0o600})

for (const line of ['2.57', '2.77'] as SnapdLine[]) {
  const source = snapdSource(line)
  if (typeof source === 'string' && process.env.CI === 'true') throw new Error(`snapd ${line}'s source is required in CI: ${source}`)
  describe(`snapd ${line}'s DeviceManager re-registers a remodelled device through serve`, {skip: typeof source === 'string' ? source : undefined}, () => {
    it('the new model gets its serial with the same number and device key; a model that does not take the original is refused with serve’s message', async () => {
      if (typeof source === 'string') return
      const binary = await buildFixtureTests(source)
      const scratch = freshDir(`snap-gadget-snapd-remodel-${line}-`)
      const result = await run(binary, ['-test.run', '^TestDeviceManager$', '-check.f', `^snapGadgetReregSuite\\.(${TESTS.join('|')})$`, '-check.v'], {
        cwd: scratch,
        env: {...process.env, SNAP_GADGET_BRAND_KEY: brandKey, SNAP_GADGET_COMMAND: JSON.stringify([process.execPath, binRun]), TMPDIR: scratch},
        timeout: 1_800_000,
      })
      assert.equal(result.code, 0, result.output)
      for (const test of TESTS) assert.match(result.output, new RegExp(`(?:^|\\n)PASS: .*snapGadgetReregSuite\\.${test}\\t`))
      assert.match(result.output, new RegExp(`(?:^|\\n)OK: ${TESTS.length} passed\\n`))
    })
  })
}
