import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {placeholderTree} from '../../../src/gadget/checks/content-tree.js'
import {validateGadget} from '../../../src/gadget/validate.js'

describe('placeholderTree', () => {
  it('answers content questions from placeholders of the content paths', () => {
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
  it('creates nothing when the gadget cannot be stubbed, says why in the hint, and reads it only when asked', () => {
    let asked = 0
    const tree = placeholderTree(() => {
      asked++
      return {unreadable: 'judged alone, no placeholder was made: at line 3 the anchor &n is defined twice'}
    })
    assert.equal(asked, 0)
    assert.equal(tree.sourceKind('grub/'), undefined)
    assert.equal(tree.sourceKind('meta/snap.yaml'), 'file')
    assert.equal(tree.imageSize('pc-boot.img'), undefined)
    assert.equal(
      tree.missingHint!('grub/'),
      'judged alone, no placeholder was made: at line 3 the anchor &n is defined twice; fix that value, or validate the gadget project or built snap to judge grub/ on the real files',
    )
    assert.equal(asked, 1)
  })

  it('judged alone, a content path counts as present as snapd decodes it', () => {
    const gadget = ['volumes:', '  pc:', '    bootloader: grub', '    structure:', '      - name: a', '        type: bare', '        size: 1M', '        content:', '          - image: 0x10', ''].join('\n')
    const result = validateGadget(gadget)
    assert.deepEqual(result.verdict, {valid: true})
    assert.deepEqual(
      result.findings.filter((f) => f.severity === 'error'),
      [],
    )
  })
})
