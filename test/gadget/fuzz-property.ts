/**
 * The fuzz property shared by the test suite and `npm run fuzz`: any byte sequence near a real
 * gadget.yaml is judged without an uncaught exception, and what comes back is well formed.
 */
import assert from 'node:assert/strict'

import {validateGadget} from '../../src/gadget/validate.js'
import {renderReport} from '../../src/report/index.js'

const formats = ['text', 'json', 'github', 'sarif', 'junit'] as const

export function checkDocument(doc: Uint8Array, index: number): void {
  const snapd = index % 2 === 0 ? 'latest' : '2.57'
  const result = validateGadget({content: doc, file: 'gadget.yaml'}, {snapd})
  for (const f of result.findings) {
    assert.ok(f.start && f.start.line >= 1 && f.start.column >= 1, `finding ${f.rule} has a position`)
    assert.ok(f.message.length > 0, `finding ${f.rule} has a message`)
  }

  const snapdErrors = result.findings.filter((f) => f.severity === 'error' && f.snapdMessage)
  assert.equal(result.verdict.valid, snapdErrors.length === 0, 'the verdict follows the snapd findings')
  const format = formats[index % formats.length]
  const report = {errors: result.errors, gadgets: [result], snapd, strict: false, warnings: result.warnings}
  const text = Buffer.from(doc).toString('utf8')
  renderReport(report, format, {color: index % 3 === 0, cwd: '/', sources: new Map([['gadget.yaml', text]]), toolVersion: '0.0.0'})
}
