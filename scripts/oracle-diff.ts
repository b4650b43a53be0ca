/**
 * Differential check against snapd itself: mutated corpus documents judged by snap-gadget
 * (--snapd 2.57) and by snapd 2.57.6's `snap pack --check-skeleton`, reporting every verdict that
 * differs. A development tool (needs snapd installed), not part of the test suite.
 *
 *   node --import tsx scripts/oracle-diff.ts [count=500] [seed=1] [outdir]
 */
import fc from 'fast-check'
import {mkdirSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {corpusTexts, mutatedGadgetArb} from '../test/helpers/mutate.js'
import {runOracle, writeDocuments} from '../test/helpers/oracle.js'
import {validateAsOracle} from '../test/helpers/oracle-tree.js'

const count = Number(process.argv[2] ?? 500)
const seed = Number(process.argv[3] ?? 1)
const out = process.argv[4] ?? mkdtempSync(join(tmpdir(), 'oracle-diff-'))
mkdirSync(out, {recursive: true})
const docs = fc.sample(mutatedGadgetArb(corpusTexts()), {numRuns: count, seed})
const files = writeDocuments(out, docs)
const verdicts = runOracle(files)
let agree = 0
const differ: string[] = []
verdicts.forEach((v, i) => {
  const ours = validateAsOracle({content: docs[i], file: files[i]}, {snapd: '2.57'})
  if (ours.verdict.valid === v.valid) agree++
  else differ.push(`${files[i]}\n  snapd: ${v.valid ? 'valid' : v.error}\n  ours:  ${ours.verdict.valid ? 'valid' : ours.verdict.error}`)
})
console.log(differ.join('\n'))
console.log(`${agree}/${verdicts.length} agree (seed ${seed}); documents in ${out}`)
