import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {formatGithub, formatJson, formatJunit, formatSarif, formatText, isReportFormat, renderReport, reportFormats} from '../../src/report/index.js'
import {gadgets, reportOf} from './helpers.js'

describe('renderReport', () => {
  const {report, sources} = reportOf({'gadget.yaml': gadgets.size32K})

  it('knows exactly the formats of --format', () => {
    assert.deepEqual([...reportFormats], ['text', 'json', 'github', 'sarif', 'junit'])
    assert.equal(isReportFormat('sarif'), true)
    assert.equal(isReportFormat('xml'), false)
  })

  it('dispatches to each format', () => {
    assert.deepEqual(renderReport(report, 'text', {color: false, sources}), {output: formatText(report, {color: false, sources})})
    assert.deepEqual(renderReport(report, 'json'), {output: formatJson(report)})
    assert.deepEqual(renderReport(report, 'sarif', {sources, toolVersion: '1.0.0'}), {output: formatSarif(report, {sources, toolVersion: '1.0.0'})})
    assert.deepEqual(renderReport(report, 'junit'), {output: formatJunit(report)})
    const github = formatGithub(report)
    assert.deepEqual(renderReport(report, 'github'), {output: github.annotations, summary: github.summary})
  })

  it('renders text without colour unless asked', () => {
    assert.doesNotMatch(renderReport(report, 'text', {sources}).output, /\u001B/)
    assert.match(renderReport(report, 'text', {color: true, sources}).output, /\u001B\[/)
  })

  it('needs the tool version for SARIF', () => {
    assert.throws(() => renderReport(report, 'sarif'), /tool version/)
  })
})
