/**
 * `npm run fuzz`: the validator's fuzz property over many mutated gadget.yaml documents
 * (default 100,000; `npm run fuzz -- 500000 <seed>`), reporting throughput and any failure.
 */
import fc from 'fast-check'

import {checkDocument} from '../test/gadget/fuzz-property.js'
import {corpusTexts, mutatedGadgetArb} from '../test/helpers/mutate.js'

const runs = Number(process.argv[2] ?? 100_000)
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000)
const start = performance.now()
let index = 0
const result = fc.check(
  fc.property(mutatedGadgetArb(corpusTexts()), (doc) => {
    checkDocument(doc, index++)
  }),
  {numRuns: runs, seed},
)
const seconds = (performance.now() - start) / 1000
if (result.failed) {
  console.error(fc.defaultReportMessage(result))
  process.exitCode = 1
} else {
  console.log(`fuzz: ${result.numRuns} documents, 0 failures, seed ${seed}, ${seconds.toFixed(1)} s (${(result.numRuns / seconds).toFixed(0)} documents/s)`)
}
