import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {findingSpan, summaryLine, visible} from '../../src/report/common.js'
import {codeFrame, formatText} from '../../src/report/text.js'
import {assemble, findingOf, gadgets, reportOf, withFinding} from './helpers.js'

/** The lines of the block that starts with `head`. */
function blockAfter(text: string, head: string): string[] {
  const lines = text.split('\n')
  const at = lines.findIndex((l) => l.startsWith(head))
  assert.ok(at >= 0, `no line starts with ${head}:\n${text}`)
  const end = lines.indexOf('', at)
  return lines.slice(at, end)
}

describe('text report', () => {
  it('shows location, severity, rule, message, snapd message, code frame and hint', () => {
    const {report, sources} = reportOf({'gadget.yaml': gadgets.size32K}, {snapd: '2.57'})
    const text = formatText(report, {color: false, sources})
    assert.deepEqual(blockAfter(text, 'gadget.yaml:8:15'), [
      'gadget.yaml:8:15: error S1 cannot parse size "32K": invalid suffix "K"',
      '  snapd: cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K"',
      '  6 |         type: C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
      '  7 |         filesystem: vfat',
      '> 8 |         size: 32K',
      '    |               ^^^',
      '  9 |         offset: 1M',
      '  hint: use 32768',
    ])
  })

  it('puts the caret under the offending column', () => {
    const {report, sources} = reportOf({'gadget.yaml': gadgets.overlap})
    const frame = blockAfter(formatText(report, {color: false, sources}), 'gadget.yaml:14:17')
    const line = frame.find((l) => l.startsWith('> 14 |'))!
    const caret = frame[frame.indexOf(line) + 1]
    assert.equal(line.indexOf('2M'), caret.indexOf('^'))
    assert.equal(caret.trimEnd().endsWith('^^'), true)
    assert.equal(frame.at(-1), '  hint: "a" ends at 3M; start this one at 3M or later')
  })

  it("omits snapd's message when it says the same", () => {
    const {report, sources} = reportOf({'gadget.yaml': gadgets.overlap})
    const text = formatText(report, {color: false, sources})
    assert.equal(findingOf(report, 'X1').snapdMessage, findingOf(report, 'X1').message)
    assert.doesNotMatch(text, /snapd: /)
  })

  it('shows tabs as one visible character and keeps the caret aligned', () => {
    const {report, sources} = reportOf({'gadget.yaml': gadgets.tabIndent})
    const frame = blockAfter(formatText(report, {color: false, sources}), 'gadget.yaml:3:1')
    assert.ok(frame.includes('> 3 | →bootloader: grub'), frame.join('\n'))
    assert.ok(frame.includes('    | ^'), frame.join('\n'))

    const after = reportOf({'gadget.yaml': gadgets.tabBeforeValue})
    const lines = blockAfter(formatText(after.report, {color: false, sources: after.sources}), 'gadget.yaml:7:15')
    const shown = lines.find((l) => l.startsWith('> 7 |'))!
    assert.equal(shown, '> 7 |         size:→32K')
    assert.equal(lines[lines.indexOf(shown) + 1], '    |               ^^^')
  })

  it('cuts long lines around the column and keeps the caret on the value', () => {
    const {report, sources} = reportOf({'gadget.yaml': gadgets.longLine})
    assert.equal(findingOf(report, 'S1').start?.column, 156)
    const frame = blockAfter(formatText(report, {color: false, sources}), 'gadget.yaml:5:156')
    const line = frame.find((l) => l.startsWith('> 5 |'))!
    const caret = frame[frame.indexOf(line) + 1]
    assert.ok(line.startsWith('> 5 | …'), line)
    assert.ok(line.length <= '> 5 | '.length + 1 + 80 + 1, `line too long: ${line.length}`)
    assert.equal(caret.indexOf('^'), line.indexOf('32K'))
    assert.equal(caret.match(/\^+/)?.[0], '^^^')
  })

  it('prints a valid line for clean files and a summary per run', () => {
    const {report} = reportOf({'a/gadget.yaml': gadgets.clean, 'b/gadget.yaml': gadgets.clean}, {snapd: '2.57'})
    const clean = assemble(
      report.gadgets.map((g) => ({...g, findings: []})),
      report,
    )
    assert.equal(formatText(clean, {color: false}), 'a/gadget.yaml: valid\nb/gadget.yaml: valid\n\n2 files valid (judged as snapd 2.57)\n')
  })

  it('counts errors and warnings across files', () => {
    const {report, sources} = reportOf({'one.yaml': gadgets.size32K, 'three.yaml': gadgets.clean, 'two.yaml': gadgets.duplicateKey}, {snapd: '2.57'})
    const errors = report.errors
    const warnings = report.warnings
    const text = formatText(report, {color: false, sources})
    assert.ok(text.endsWith(`\n${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'} in 3 files (judged as snapd 2.57)\n`), text)
    assert.match(text, /^two\.yaml:4:5: warning P4 duplicate key "bootloader"/m)
    assert.equal(summaryLine({...report, errors: 2, warnings: 1}), '2 errors, 1 warning in 3 files (judged as snapd 2.57)')
    assert.equal(summaryLine({...report, strict: true, errors: 1, warnings: 0}), '1 error, 0 warnings in 3 files (judged as snapd 2.57, strict)')
  })

  it('colours only when asked, through ANSI escapes', () => {
    const {report, sources} = reportOf({'gadget.yaml': gadgets.size32K})
    const plain = formatText(report, {color: false, sources})
    const coloured = formatText(report, {color: true, sources})
    assert.doesNotMatch(plain, /\u001B/)
    assert.match(coloured, /\u001B\[31merror\u001B\[39m/)
    assert.match(coloured, /\u001B\[31m\^\^\^\u001B\[39m/)
    assert.equal(coloured.replaceAll(/\u001B\[\d+m/g, ''), plain)
  })

  it('keeps terminal control sequences in messages from reaching the terminal', () => {
    const {report, sources} = reportOf({'gadget.yaml': gadgets.size32K})
    const edited = withFinding(report, 'S1', (f) => ({...f, hint: 'use\u001B[2J 32768', message: 'first line\nsecond line'}))
    const text = formatText(edited, {color: false, sources})
    assert.doesNotMatch(text, /\u001B/)
    assert.match(text, /hint: use␛\[2J 32768/)
    assert.match(text, /error S1 first line\n {2}second line\n/)
  })

  it('shows paths relative to cwd, and no frame without the source text', () => {
    const {report} = reportOf({'/checkout/project/gadget.yaml': gadgets.size32K})
    const text = formatText(report, {color: false, cwd: '/checkout/project'})
    assert.match(text, /^gadget\.yaml:8:15: error S1 /)
    assert.doesNotMatch(text, /\|/)
  })

  it('underlines to the end of the line when the range ends on a later line', () => {
    const source = 'key:\n  value: long\nnext: 1\n'
    assert.equal(codeFrame(source, {end: {column: 3, line: 3}, start: {column: 3, line: 2}}), '  1 | key:\n> 2 |   value: long\n    |   ^^^^^^^^^^^\n  3 | next: 1\n')
    assert.deepEqual(findingSpan({end: {column: 1, line: 3}, file: 'f', message: '', rule: 'S1', severity: 'error', start: {column: 3, line: 2}}), {start: {column: 3, line: 2}})
    assert.equal(codeFrame(source, {start: {column: 1, line: 9}}), '')
  })

  it('replaces control and bidi characters one for one', () => {
    assert.equal(visible('a\tb\u0000c\u007Fd\u202Ee'), 'a→b␀c␡d�e')
    assert.equal(visible('a\tb\u0000c\u007Fd\u202Ee').length, 'a\tb\u0000c\u007Fd\u202Ee'.length)
  })
})
