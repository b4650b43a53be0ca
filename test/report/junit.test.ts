import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {attr, escapeXml, formatJunit, text} from '../../src/report/junit.js'
import {assemble, findingOf, gadgets, reportOf, withFinding} from './helpers.js'
import {elements, parseXml, type XmlElement} from './xml.js'

function parse(xml: string): XmlElement {
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'))
  return parseXml(xml)
}

/** The counts a suite or the whole report claims agree with the elements it holds. */
function assertCounts(node: XmlElement): void {
  const cases = elements(node, 'testcase')
  assert.equal(Number(node.attributes.tests), cases.length, `${node.name} tests`)
  assert.equal(Number(node.attributes.failures), cases.filter((c) => elements(c, 'failure').length > 0).length, `${node.name} failures`)
  assert.equal(Number(node.attributes.errors), 0)
  assert.equal(Number(node.attributes.skipped), 0)
}

function testCase(root: XmlElement, suite: string, classname: string): XmlElement {
  const s = elements(root, 'testsuite').find((t) => t.attributes.name === suite)
  assert.ok(s, `no suite ${suite}`)
  const c = s.children.find((t) => t.name === 'testcase' && t.attributes.classname === classname)
  assert.ok(c, `no test case ${classname} in ${suite}`)
  return c
}

describe('junit report', () => {
  const {report} = reportOf({'a.yaml': gadgets.size32K, 'b.yaml': gadgets.duplicateKey, 'c.yaml': gadgets.overlap}, {snapd: '2.57'})
  const root = parse(formatJunit(report))

  it('is well-formed XML with one suite per gadget and counts that match', () => {
    assert.equal(root.name, 'testsuites')
    assert.deepEqual(
      root.children.map((s) => s.attributes.name),
      ['a.yaml', 'b.yaml', 'c.yaml'],
    )
    assertCounts(root)
    for (const suite of root.children) assertCounts(suite)
  })

  it('has one test case per rule and file, failing for errors', () => {
    const s1 = testCase(root, 'a.yaml', 'S1 quantity-syntax')
    assert.deepEqual(s1.attributes, {classname: 'S1 quantity-syntax', file: 'a.yaml', name: 'a.yaml'})
    const [failure] = elements(s1, 'failure')
    assert.equal(failure.attributes.type, 'S1')
    assert.equal(failure.attributes.message, 'a.yaml:8:15: cannot parse size "32K": invalid suffix "K"')
    assert.equal(failure.text, 'a.yaml:8:15: error S1 cannot parse size "32K": invalid suffix "K"\n  snapd: cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K"\n  hint: use 32768')
    assert.equal(elements(testCase(root, 'c.yaml', 'X1 overlap'), 'failure').length, 1)
    const keys = root.children.flatMap((s) => s.children.filter((c) => c.name === 'testcase').map((c) => `${s.attributes.name} ${c.attributes.classname} ${c.attributes.name}`))
    assert.equal(new Set(keys).size, keys.length)
  })

  it('passes warnings and lists them in system-out', () => {
    const p4 = testCase(root, 'b.yaml', 'P4 duplicate-key')
    assert.equal(elements(p4, 'failure').length, 0)
    const [out] = elements(p4, 'system-out')
    assert.match(out.text, /^b\.yaml:4:5: warning P4 duplicate key "bootloader"/)
  })

  it('fails warnings under --strict', () => {
    const strict = reportOf({'b.yaml': gadgets.duplicateKey}, {strict: true})
    const strictRoot = parse(formatJunit(strict.report))
    assertCounts(strictRoot)
    const p4 = testCase(strictRoot, 'b.yaml', 'P4 duplicate-key')
    assert.equal(elements(p4, 'failure')[0].attributes.type, 'P4')
    assert.equal(elements(strictRoot, 'property').find((p) => p.attributes.name === 'strict')?.attributes.value, 'true')
  })

  it('has a passing test case for a clean gadget', () => {
    const {report: clean} = reportOf({'gadget.yaml': gadgets.clean})
    const cleaned = assemble(
      clean.gadgets.map((g) => ({...g, findings: []})),
      clean,
    )
    const cleanRoot = parse(formatJunit(cleaned))
    assertCounts(cleanRoot)
    const cases = elements(cleanRoot, 'testcase')
    assert.deepEqual(
      cases.map((c) => [c.attributes.name, c.children.length]),
      [['gadget.yaml: valid', 0]],
    )
  })

  it('puts several findings of one rule in one test case with one failure', () => {
    const finding = findingOf(report, 'S1')
    const twice = assemble([{...report.gadgets[0], findings: [finding, {...finding, start: {column: 15, line: 9}}]}], report)
    const twiceRoot = parse(formatJunit(twice))
    assertCounts(twiceRoot)
    const [failure] = elements(twiceRoot, 'failure')
    assert.match(failure.attributes.message, /\(2 findings\)$/)
    assert.equal(failure.text.match(/^a\.yaml:\d+:15: error S1/gm)?.length, 2)
  })

  it('escapes & < > " \' and drops characters XML 1.0 forbids', () => {
    const {report: odd} = reportOf({'x<&>.yaml': gadgets.oddVolumeName})
    const original = findingOf(odd, 'V2').message
    assert.ok(original.includes(`"x<&>%,:|'y"`))
    const edited = withFinding(odd, 'V2', (f) => ({...f, hint: 'a\u0001b\uFFFEc\uD800d\u0000e', message: `${f.message}\nsecond\tline\r`}))
    const xml = formatJunit(edited)
    assert.doesNotMatch(xml, /[\u0000\u0001\uFFFE]/)
    const oddRoot = parse(xml)
    assertCounts(oddRoot)
    assert.equal(oddRoot.children[0].attributes.name, 'x<&>.yaml')
    const [failure] = elements(oddRoot, 'failure')
    // Attribute normalisation would turn raw line breaks into spaces; the references keep them.
    assert.equal(failure.attributes.message, `x<&>.yaml:2:3: ${original}\nsecond\tline\r`)
    assert.ok(failure.text.endsWith('  hint: abcde'), failure.text)
    assert.ok(xml.includes('x&lt;&amp;&gt;%,:|&apos;y'), xml)
  })

  it('escapes text and attributes', () => {
    assert.equal(escapeXml(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;')
    assert.equal(attr('a\tb\nc\rd'), 'a&#9;b&#10;c&#13;d')
    assert.equal(text('a\tb\nc\rd'), 'a\tb\nc&#13;d')
    assert.equal(escapeXml('😀\uDC00'), '😀')
  })
})

describe('the XML reader used here', () => {
  it('refuses what is not well-formed', () => {
    for (const bad of ['<a><b></a></b>', '<a x="1" x="2"/>', '<a>&</a>', '<a>&nbsp;</a>', '<a/><b/>', '<a x=1/>', '<a>\u0001</a>', '<a>&#1;</a>', '<a>']) {
      assert.throws(() => parseXml(bad), Error, bad)
    }

    assert.deepEqual(parseXml('<a x="&lt;&#10;"><b/>t&amp;</a>'), {attributes: {x: '<\n'}, children: [{attributes: {}, children: [], name: 'b', text: ''}], name: 'a', text: 't&'})
  })
})
