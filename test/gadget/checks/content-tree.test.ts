import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {placeholderTree} from '../../../src/gadget/checks/content-tree.js'

describe('placeholderTree', () => {
  it('answers content questions from the placeholders the oracle would create', () => {
    const info = {
      volumes: new Map([['pc', {structure: [{content: [{image: 'pc-boot.img'}, {source: 'grub/'}, {source: 'grub/grub.cfg'}, {source: '$kernel:dtbs/'}]}]}]]),
    }
    const tree = placeholderTree(() => ({info: info as never}))
    assert.equal(tree.sourceKind('grub'), 'dir')
    assert.equal(tree.sourceKind('grub/grub.cfg'), 'file')
    assert.equal(tree.sourceKind('./grub/../pc-boot.img'), 'file')
    assert.equal(tree.imageSize('pc-boot.img'), 0n)
    assert.equal(tree.imageSize('grub/'), 4096n)
    assert.equal(tree.sourceKind('$kernel:dtbs/'), undefined)
    assert.equal(tree.sourceKind('../outside'), undefined)
    assert.equal(tree.sourceKind('meta/gadget.yaml'), 'file')
    assert.equal(tree.missingHint!('nope.img'), undefined)
  })
  it('creates nothing when PyYAML cannot read the gadget, and reads it only when asked', () => {
    let asked = 0
    const tree = placeholderTree(() => {
      asked++
      return {unreadable: 'at line 3 the anchor &n is defined twice'}
    })
    assert.equal(asked, 0)
    assert.equal(tree.sourceKind('grub/'), undefined)
    assert.equal(tree.sourceKind('meta/snap.yaml'), 'file')
    assert.equal(tree.imageSize('pc-boot.img'), undefined)
    assert.match(tree.missingHint!('grub/') ?? '', /PyYAML .* at line 3 the anchor &n is defined twice; .* grub\/ on the real files/)
    assert.equal(asked, 1)
  })
})
