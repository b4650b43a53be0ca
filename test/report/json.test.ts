import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {ruleInfo} from '../../src/gadget/findings/rules.js'
import {formatJson, JSON_FORMAT_VERSION} from '../../src/report/json.js'
import {gadgets, reportOf} from './helpers.js'

describe('json report', () => {
  const {report} = reportOf({'a.yaml': gadgets.size32K, 'b.yaml': gadgets.duplicateKey}, {snapd: '2.57'})
  const text = formatJson(report)
  const doc = JSON.parse(text)

  it('is indented by two spaces and ends with a newline', () => {
    assert.ok(text.startsWith('{\n  "formatVersion": '))
    assert.ok(text.endsWith('}\n'))
  })

  it('has the documented top-level fields, in order', () => {
    assert.deepEqual(Object.keys(doc), ['formatVersion', 'snapd', 'strict', 'valid', 'summary', 'gadgets', 'rules'])
    assert.equal(doc.formatVersion, JSON_FORMAT_VERSION)
    assert.equal(doc.snapd, '2.57')
    assert.equal(doc.strict, false)
    assert.equal(doc.valid, false)
    assert.deepEqual(doc.summary, {errors: report.errors, files: 2, info: 0, warnings: report.warnings})
  })

  it('writes each finding with its place, messages and fix', () => {
    const a = doc.gadgets[0]
    assert.deepEqual(Object.keys(a), ['file', 'snapd', 'verdict', 'errors', 'warnings', 'findings'])
    assert.deepEqual(a.verdict, {error: 'cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K"', valid: false})
    const s1 = a.findings.find((f: {rule: string}) => f.rule === 'S1')
    assert.deepEqual(s1, {
      end: {column: 18, line: 8},
      file: 'a.yaml',
      hint: 'use 32768',
      message: 'cannot parse size "32K": invalid suffix "K"',
      path: ['volumes', 'pc', 'structure', 0, 'size'],
      rule: 'S1',
      severity: 'error',
      snapdMessage: 'cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K"',
      start: {column: 15, line: 8},
    })
    assert.deepEqual(Object.keys(s1), ['rule', 'severity', 'file', 'start', 'end', 'message', 'snapdMessage', 'hint', 'path'])
  })

  it('leaves out absent optional fields instead of writing null', () => {
    assert.doesNotMatch(text, /null/)
    const p4 = doc.gadgets[1].findings.find((f: {rule: string}) => f.rule === 'P4')
    assert.equal('snapdMessage' in p4, false)
    assert.deepEqual(doc.gadgets[1].verdict, {valid: true})
  })

  it('includes the catalog entries of the rules used, in catalog order', () => {
    const ids = doc.rules.map((r: {id: string}) => r.id)
    assert.ok(ids.includes('S1') && ids.includes('P4'))
    assert.ok(ids.indexOf('P4') < ids.indexOf('S1'))
    const used = new Set(doc.gadgets.flatMap((g: {findings: Array<{rule: string}>}) => g.findings.map((f) => f.rule)))
    assert.deepEqual(new Set(ids), used)
    const s1 = doc.rules.find((r: {id: string}) => r.id === 'S1')
    assert.deepEqual(s1, {id: 'S1', name: 'quantity-syntax', source: 'snapd', summary: ruleInfo('S1').summary})
  })

  it('is stable: the same report gives the same bytes', () => {
    assert.equal(formatJson(reportOf({'a.yaml': gadgets.size32K, 'b.yaml': gadgets.duplicateKey}, {snapd: '2.57'}).report), text)
  })
})
