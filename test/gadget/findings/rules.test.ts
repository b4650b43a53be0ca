/**
 * The rule catalog: unique ids of one shape, each found by ruleInfo, and ordered by
 * compareFindings. An id outside the catalog is a type error, which `tsc -p test` checks here.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {InternalError} from '../../../src/errors.js'
import {compareFindings, type Finding} from '../../../src/gadget/findings/finding.js'
import {type RuleId, ruleInfo, rules} from '../../../src/gadget/findings/rules.js'

describe('the rule catalog', () => {
  it('has unique ids, each a section letter and a number', () => {
    const ids = rules.map((r) => r.id)
    for (const id of ids) assert.match(id, /^[A-Z]\d+$/)
    assert.deepEqual(
      ids.filter((id, i) => ids.indexOf(id) !== i),
      [],
    )
  })

  it('ruleInfo finds every entry by its id', () => {
    for (const rule of rules) assert.equal(ruleInfo(rule.id), rule)
  })

  it('ruleInfo refuses an id outside the catalog: a type error, and a throw for callers without types', () => {
    // @ts-expect-error 'Z99' is not a RuleId
    const unknownRule = () => ruleInfo('Z99')
    assert.throws(unknownRule, (error: unknown) => error instanceof InternalError && /unknown rule Z99/.test(error.message))
  })
})

describe('compareFindings', () => {
  it('orders findings at one place by the rule id: its letter, then its number (S2 before S10)', () => {
    const ids: RuleId[] = ['S10', 'P2', 'S2', 'N17', 'S1', 'N3']
    const at = (rule: RuleId): Finding => ({file: 'gadget.yaml', message: '', rule, severity: 'error', start: {column: 1, line: 1}})
    const sorted = ids.map(at).sort(compareFindings)
    assert.deepEqual(
      sorted.map((f) => f.rule),
      ['N3', 'N17', 'P2', 'S1', 'S2', 'S10'],
    )
  })
})
