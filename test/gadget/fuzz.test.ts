/**
 * Property test: 10,000 mutated corpus documents (FUZZ_RUNS to change it) validated and rendered
 * without an uncaught exception. `npm run fuzz` runs the same property 100,000 times.
 */
import fc from 'fast-check'
import {describe, it} from 'node:test'

import {corpusTexts, mutatedGadgetArb} from '../helpers/mutate.js'
import {checkDocument} from './fuzz-property.js'

const runs = Number(process.env.FUZZ_RUNS ?? 10_000)

describe('fuzzing validateGadget', () => {
  it(`judges ${runs} mutated gadget.yaml documents without an uncaught exception`, () => {
    let index = 0
    fc.assert(
      fc.property(mutatedGadgetArb(corpusTexts()), (doc) => {
        checkDocument(doc, index++)
      }),
      {numRuns: runs, seed: Number(process.env.FUZZ_SEED ?? 20_261_123)},
    )
  })
})
