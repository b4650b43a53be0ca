/** The oracle's content placeholders, which tests that compare with the oracle's verdicts use. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {oracleTree, validateAsOracle} from './oracle-tree.js'

const gadget = (image: string): string =>
  ['volumes:', '  pc:', '    bootloader: grub', '    structure:', '      - name: a', '        type: bare', '        size: 1M', '        content:', `          - image: ${image}`, ''].join('\n')

describe('oracleTree', () => {
  it('names a placeholder as PyYAML constructs the value, so snapd misses the path it decoded', () => {
    const tree = oracleTree(gadget('0x10'))
    assert.equal(tree.sourceKind('16'), 'file')
    assert.equal(tree.sourceKind('0x10'), undefined)
    const result = validateAsOracle({content: gadget('0x10'), file: 'gadget.yaml'}, {snapd: '2.57'})
    assert.equal(result.verdict.valid, false)
  })

  it('makes no placeholder when PyYAML cannot load the file, and says so in the hint', () => {
    const text = gadget('pc.img') + '---\nsecond: document\n'
    const tree = oracleTree(text)
    assert.equal(tree.sourceKind('pc.img'), undefined)
    assert.match(tree.missingHint!('pc.img') ?? '', /PyYAML .* it holds more than one YAML document; .* pc\.img on the real files/)
    const anchors = oracleTree(gadget('&n a.img') + 'x: &n 1\n')
    assert.match(anchors.missingHint!('a.img') ?? '', /PyYAML .* at line \d+ .*anchor.*; .* a\.img on the real files/)
  })

  it('agrees with the product where PyYAML and go-yaml read the path alike', () => {
    assert.equal(oracleTree(gadget('pc.img')).sourceKind('pc.img'), 'file')
    assert.equal(validateAsOracle({content: gadget('pc.img'), file: 'gadget.yaml'}).verdict.valid, true)
  })
})
