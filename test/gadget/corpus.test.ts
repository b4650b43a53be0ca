/**
 * Conformance with snapd 2.57.6 on the 107 real gadget.yaml files of the shared corpus: our
 * verdict (valid or not) must equal snapd's on every one. The stored verdicts are re-checked
 * against the real `snap pack --check-skeleton` whenever snapd is installed, so they cannot drift.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'

import {validateGadget} from '../../src/gadget/validate.js'
import {oracleAvailable, oracleRequired, type OracleVerdict, runOracle} from '../helpers/oracle.js'
import {shared} from '../helpers/paths.js'

const dir = shared('corpus', 'gadget-yaml')
const stored = readFileSync(`${dir}/verdicts-snapd-2.57.6.jsonl`, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as OracleVerdict)

describe('real-world corpus against snapd 2.57.6', () => {
  it('has the 107 files of the corpus', () => {
    assert.equal(stored.length, 107)
  })

  it('agrees with snapd on every file (--snapd 2.57)', () => {
    const disagreements: string[] = []
    for (const v of stored) {
      const result = validateGadget({content: readFileSync(`${dir}/${v.file}`), file: v.file}, {snapd: '2.57'})
      if (result.verdict.valid !== v.valid) disagreements.push(`${v.file}: snapd says ${v.valid ? 'valid' : v.error}, we say ${result.verdict.valid ? 'valid' : result.verdict.error}`)
    }

    assert.deepEqual(disagreements, [])
  })

  it("predicts snapd's own message for the invalid files", () => {
    for (const v of stored.filter((s) => !s.valid)) {
      const result = validateGadget({content: readFileSync(`${dir}/${v.file}`), file: v.file}, {snapd: '2.57'})
      // libyaml reports some syntax errors a line later than where they start; compare the rest.
      const normalize = (s?: null | string) => s?.replace(/line \d+: /, 'line N: ')
      assert.equal(normalize(result.verdict.error), normalize(v.error), v.file)
    }
  })

  it('stored verdicts still match the real snapd', {skip: !oracleAvailable() && !oracleRequired() && 'snapd is not installed'}, () => {
    assert.ok(oracleAvailable(), 'snapd (snap) and python3-yaml are required for this test in CI')
    const fresh = runOracle(
      stored.map((s) => s.file),
      {cwd: dir},
    )
    assert.deepEqual(
      fresh.map((f) => [f.file, f.valid]),
      stored.map((s) => [s.file, s.valid]),
    )
  })

  it('the 5 classic system-seed-null gadgets become valid under the newest snapd', () => {
    const seedNull = stored.filter((s) => s.error?.includes('system-seed-null'))
    assert.equal(seedNull.length, 5)
    for (const v of seedNull) {
      const result = validateGadget({content: readFileSync(`${dir}/${v.file}`), file: v.file}, {snapd: 'latest'})
      assert.equal(result.verdict.valid, true, `${v.file}: ${result.verdict.error}`)
    }
  })
})
