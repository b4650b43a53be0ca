/**
 * The proof behind the committed fixtures, made again: snapd's own DeviceManager (2.57.6 from
 * Debian 12's source; 2.77.1 too where sid's source is unpacked, see snapd/build.ts) registers
 * against `serve` and fails on purpose, case by case (snapd/cases.ts), and `doctor --state` names
 * each case's cause in the state.json snapd leaves. The fixtures test (fixtures.test.ts) reads the
 * committed copies; this one shows they are what today's snapd and serve make.
 */
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {runDoctor} from '../../src/doctor/index.js'
import {SNAPD_LINES, type SnapdLine, snapdSource} from './snapd/build.js'
import {FIXTURE_CASES} from './snapd/cases.js'
import {makeFixtures, versionDir} from './snapd/make-fixtures.js'
import {scratchDir} from '../helpers/scratch.js'

const work = scratchDir('snap-gadget-doctor-made-')

for (const line of SNAPD_LINES) {
  const source = snapdSource(line)
  // 2.57.6 is installed by scripts/system-deps.sh and must run in CI; 2.77.1 only where it was unpacked.
  const skip = typeof source === 'string' ? source : undefined
  if (skip && line === '2.57' && process.env.CI === 'true') throw new Error(`snapd ${line}'s source is required in CI: ${skip}`)

  describe(`snapd ${line}'s DeviceManager makes the fixtures again, and doctor names each cause`, {skip}, () => {
    it('every case', {timeout: 3_600_000}, async () => {
      const out = join(work, line)
      const made = await makeFixtures({lines: [line as SnapdLine], out, required: true})
      const dir = versionDir(source as Exclude<typeof source, string>)
      const cases = FIXTURE_CASES.filter((c) => c.cause[line] !== undefined)
      assert.deepEqual(made.lines[line]?.cases.sort(), cases.map((c) => c.name).sort())
      for (const fixture of cases) {
        const report = await runDoctor({state: join(out, fixture.name, dir, 'state.json')})
        const expected = fixture.cause[line]
        if (expected === 'registered') assert.equal(report.registered, true, fixture.name)
        else assert.equal(report.cause?.code, expected, `${fixture.name}: ${JSON.stringify(report.cause)}`)
      }
    })
  })
}
