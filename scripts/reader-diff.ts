/**
 * Differential check of readYaml against snapd itself: mutated corpus documents judged by
 * readYaml and by snapd 2.57.6's `snap pack --check-skeleton` (through the shared oracle).
 * readYaml must report an error exactly when snapd reports a YAML syntax error, and then the
 * same message (`yaml: line N: …`). Half of each seed's documents get the line-level mutations
 * of test/helpers/mutate.ts, half character-level ones (indicators, quotes, breaks, bad bytes,
 * 512-byte block boundaries). A development tool (needs snapd installed), not a test.
 *
 *   node --import tsx scripts/reader-diff.ts [count per seed=2500] [seeds=1,2,3,4] [outdir]
 */
import fc from 'fast-check'
import {mkdirSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {readYaml} from '../src/go-yaml/read/parser.js'
import {goMessage, snapdSyntaxError, syntaxMutatedArb} from '../test/go-yaml/read/reader-oracle.js'
import {corpusTexts, mutatedGadgetArb} from '../test/helpers/mutate.js'
import {runOracle, writeDocuments} from '../test/helpers/oracle.js'

const count = Number(process.argv[2] ?? 2500)
const seeds = (process.argv[3] ?? '1,2,3,4').split(',').map(Number)
const out = process.argv[4] ?? mkdtempSync(join(tmpdir(), 'reader-diff-'))
const texts = corpusTexts()
const totals = {docs: 0, exact: 0, verdicts: 0}
const differ: string[] = []

for (const seed of seeds) {
  const dir = join(out, `seed-${seed}`)
  mkdirSync(dir, {recursive: true})
  const half = Math.ceil(count / 2)
  const docs = [...fc.sample(mutatedGadgetArb(texts), {numRuns: half, seed}), ...fc.sample(syntaxMutatedArb(texts), {numRuns: count - half, seed})]
  const files = writeDocuments(dir, docs)
  const verdicts = runOracle(files)
  let sameVerdict = 0
  let exact = 0
  for (const [i, v] of verdicts.entries()) {
    const theirs = snapdSyntaxError(v.error)
    const ours = goMessage(readYaml(docs[i]))
    if ((theirs === undefined) === (ours === undefined)) sameVerdict++
    if (theirs === ours) exact++
    else differ.push(`${files[i]}\n  snapd: ${v.valid ? 'valid' : v.error}\n  readYaml: ${ours ?? 'no error'}`)
  }

  totals.docs += docs.length
  totals.verdicts += sameVerdict
  totals.exact += exact
  console.log(`seed ${seed}: ${docs.length} documents, ${sameVerdict} same verdict, ${exact} same message`)
}

if (differ.length > 0) console.log(differ.join('\n'))
console.log(`total: ${totals.docs} documents, ${totals.verdicts} same verdict, ${totals.exact} same message; documents in ${out}`)
