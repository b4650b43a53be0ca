import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {cell, escapeData, escapeProperty, formatGithub, SUMMARY_BUDGET_BYTES} from '../../src/report/github.js'
import {assemble, findingOf, gadgets, reportOf, withFinding} from './helpers.js'

function annotationLines(annotations: string): string[] {
  assert.ok(annotations.endsWith('\n'))
  return annotations.slice(0, -1).split('\n')
}

describe('github annotations', () => {
  it('writes one workflow command per finding with the range and the rule as title', () => {
    const {report} = reportOf({'gadget.yaml': gadgets.size32K})
    const [line] = annotationLines(formatGithub(report).annotations)
    assert.equal(
      line,
      '::error file=gadget.yaml,line=8,col=15,endLine=8,endColumn=18,title=S1 quantity-syntax::' +
        'cannot parse size "32K": invalid suffix "K"' +
        '%0Asnapd: cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K"' +
        '%0Ahint: use 32768',
    )
  })

  it('uses ::warning and ::notice for warnings and info', () => {
    const {report} = reportOf({'gadget.yaml': gadgets.duplicateKey})
    const lines = annotationLines(formatGithub(report).annotations)
    assert.ok(
      lines.some((l) => l.startsWith('::warning file=gadget.yaml,line=4,col=5,endLine=4,endColumn=15,title=P4 duplicate-key::')),
      lines.join('\n'),
    )

    const info = withFinding(report, 'P4', (f) => ({...f, severity: 'info'}))
    assert.ok(annotationLines(formatGithub(info).annotations).some((l) => l.startsWith('::notice file=gadget.yaml,line=4,')))
  })

  it('escapes messages like @actions/core: % CR LF, and leaves , and : alone', () => {
    const {report} = reportOf({'gadget.yaml': gadgets.oddVolumeName})
    const message = findingOf(report, 'V2').message
    assert.ok(message.includes(`"x<&>%,:|'y"`), message)
    const edited = withFinding(report, 'V2', (f) => ({...f, hint: undefined, message: `${f.message}\r\nnext line 100%`, snapdMessage: undefined}))
    const [line] = annotationLines(formatGithub(edited).annotations)
    const data = line.slice(line.indexOf('::', 2) + 2)
    assert.equal(data, escapeData(`${message}\r\nnext line 100%`))
    assert.ok(data.includes(`"x<&>%25,:|'y"`), data)
    assert.ok(data.endsWith('%0D%0Anext line 100%25'), data)
    assert.doesNotMatch(data, /[\r\n]/)
  })

  it('escapes properties: also , and :', () => {
    const {report} = reportOf({'gadgets/a,b:c%/gadget.yaml': gadgets.size32K})
    const [line] = annotationLines(formatGithub(report).annotations)
    assert.ok(line.startsWith('::error file=gadgets/a%2Cb%3Ac%25/gadget.yaml,line=8,'), line)
    assert.equal(escapeProperty('a:b,c%d\ne\rf'), 'a%3Ab%2Cc%25d%0Ae%0Df')
    assert.equal(escapeData('a:b,c%d\ne\rf'), 'a:b,c%25d%0Ae%0Df')
  })

  it('gives columns only for one-line ranges', () => {
    const {report} = reportOf({'gadget.yaml': gadgets.size32K})
    const multi = withFinding(report, 'S1', (f) => ({...f, end: {column: 4, line: 9}}))
    assert.match(formatGithub(multi).annotations, /^::error file=gadget\.yaml,line=8,endLine=9,title=S1 quantity-syntax::/)
    // A block node ends at column 1 of the next line: that is still a one-line range.
    const block = withFinding(report, 'S1', (f) => ({...f, end: {column: 1, line: 9}}))
    assert.match(formatGithub(block).annotations, /^::error file=gadget\.yaml,line=8,col=15,title=/)
  })

  it('writes paths relative to the workspace', () => {
    const {report} = reportOf({'/checkout/repo/gadget/gadget.yaml': gadgets.size32K})
    assert.match(formatGithub(report, {cwd: '/checkout/repo'}).annotations, /^::error file=gadget\/gadget\.yaml,line=8,/)
  })
})

describe('github step summary', () => {
  it('tables every finding, with the file verdicts above', () => {
    const {report} = reportOf({'a.yaml': gadgets.size32K, 'b.yaml': gadgets.duplicateKey}, {snapd: '2.57'})
    const {summary} = formatGithub(report)
    assert.ok(summary.startsWith('## snap-gadget validate\n'))
    assert.match(summary, /\n\| a\.yaml \| rejects: cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K" \| 1 \| \d+ \|\n/)
    assert.match(summary, /\n\| b\.yaml \| accepts \| 0 \| \d+ \|\n/)
    assert.ok(
      summary.includes(
        '\n| error | a.yaml:8:15 | S1 quantity-syntax | cannot parse size "32K": invalid suffix "K"<br>snapd: cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K"<br>hint: use 32768 |\n',
      ),
      summary,
    )
    assert.ok(summary.includes('\n| warning | b.yaml:4:5 | P4 duplicate-key | '), summary)
    const rows = summary.split('\n').filter((l) => /^\| (error|warning|info) \|/.test(l))
    assert.equal(
      rows.length,
      report.gadgets.reduce((n, g) => n + g.findings.length, 0),
    )
  })

  it('escapes pipes, Markdown and HTML in cells', () => {
    const {report} = reportOf({'gadget.yaml': gadgets.oddVolumeName})
    const {summary} = formatGithub(report)
    const row = summary.split('\n').find((l) => l.startsWith('| error |'))!
    assert.ok(row.includes(String.raw`invalid volume "x&lt;&amp;&gt;%,:\|'y": invalid name`), row)
    // The row still has exactly four cells: every | inside a cell is escaped.
    assert.equal(row.split(/(?<!\\)\|/).length - 2, 4)
    assert.equal(cell('a|b`c*d_e<f>&g\nh'), String.raw`a\|b\`c\*d\_e&lt;f&gt;&amp;g<br>h`)
  })

  it('stays under its size budget and says how many findings it left out', () => {
    const {report} = reportOf({'gadget.yaml': gadgets.size32K})
    const finding = findingOf(report, 'S1')
    const many = Array.from({length: 5000}, (_, i) => ({...finding, message: `${'x'.repeat(300)} ${i}`}))
    const big = assemble([{...report.gadgets[0], findings: many}], report)
    const {annotations, summary} = formatGithub(big)
    assert.ok(Buffer.byteLength(summary) <= SUMMARY_BUDGET_BYTES, `summary is ${Buffer.byteLength(summary)} bytes`)
    const shown = summary.split('\n').filter((l) => l.startsWith('| error |')).length
    assert.ok(shown > 100 && shown < 5000, `${shown} rows`)
    assert.ok(summary.includes(`_${5000 - shown} more findings not shown; run \`snap-gadget validate --format json\` for all of them._`))
    assert.equal(annotationLines(annotations).length, 5000)
  })

  it('says the files are valid when there is nothing to report', () => {
    const {report} = reportOf({'gadget.yaml': gadgets.clean}, {snapd: '2.57'})
    const clean = assemble(
      report.gadgets.map((g) => ({...g, findings: []})),
      report,
    )
    const {annotations, summary} = formatGithub(clean)
    assert.equal(annotations, '')
    assert.ok(summary.includes('**1 file valid (judged as snapd 2.57)**'))
    assert.doesNotMatch(summary, /\| Severity \|/)
  })
})
