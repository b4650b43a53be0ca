/** Did-you-mean: the distance counts a swap of neighbours as one slip. */
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {didYouMean, editDistance} from '../../src/support/suggest.js'

test('edit distance: insertions, deletions, substitutions and neighbour swaps count one each', () => {
  assert.equal(editDistance('model', 'model'), 0)
  assert.equal(editDistance('modle', 'model'), 1)
  assert.equal(editDistance('valdate', 'validate'), 1)
  assert.equal(editDistance('filesytem', 'filesystem'), 1)
  assert.equal(editDistance('kitten', 'sitting'), 3)
  assert.equal(editDistance('', 'abc'), 3)
  assert.equal(editDistance('ca', 'abc'), 3)
})

test('did you mean: the closest name when it is likely a typo, nothing when it is not', () => {
  assert.equal(didYouMean('modle', ['brand', 'model', 'api-key']), 'model')
  assert.equal(didYouMean('--stirct', ['--strict', '--snapd', '--format']), '--strict')
  assert.equal(didYouMean('Volumes', ['volumes', 'defaults']), 'volumes')
  assert.equal(didYouMean('zzz', ['model', 'brand']), undefined)
})
