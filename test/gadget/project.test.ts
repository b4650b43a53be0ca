/** Checks on a gadget project's other files: part outputs (for N13) and literal api-keys (N14). */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {apiKeysInText, apiKeysInYaml, partOutputs, producedByParts} from '../../src/gadget/rules/project.js'
import {validateGadget} from '../../src/gadget/validate.js'
import {directoryTree} from '../../src/gadget/rules/content-tree.js'

const snapcraft = `name: acme-pi
parts:
  boot-assets:
    plugin: nil
    prime:
      - boot-assets/MLO
      - boot-assets/seed
      - -usr/share/man
  fw:
    plugin: dump
    organize:
      blob.bin: firmware/blob.bin
    stage:
      - dtbs/*.dtb
`

describe('part outputs', () => {
  it('collects prime and stage entries and organize targets, without exclusions', () => {
    assert.deepEqual(partOutputs(snapcraft).sort(), ['boot-assets/MLO', 'boot-assets/seed', 'dtbs/*.dtb', 'firmware/blob.bin'])
    assert.deepEqual(partOutputs('not: [valid'), [])
  })

  it('matches content by name, by directory and by glob', () => {
    const outputs = partOutputs(snapcraft)
    for (const p of ['boot-assets/MLO', 'boot-assets/seed/boot.scr', 'boot-assets/seed/', 'dtbs/rk3399.dtb', '/firmware/blob.bin']) assert.ok(producedByParts(p, outputs), p)
    for (const p of ['boot-assets/u-boot.img', 'dtbs/sub/x.dtb', 'firmware']) assert.ok(!producedByParts(p, outputs), p)
  })

  it('keeps N13 for content no part makes, drops it for content a part makes', () => {
    const gadget = `volumes:
  pi:
    schema: mbr
    bootloader: u-boot
    structure:
      - name: boot
        type: bare
        size: 1M
        offset: 1M
        content:
          - image: boot-assets/MLO
          - image: boot-assets/u-boot.img
`
    const result = validateGadget(gadget, {partOutputs: partOutputs(snapcraft), tree: directoryTree('/nonexistent-project', 'project')})
    assert.deepEqual(
      result.findings.filter((f) => f.rule === 'N13').map((f) => f.message),
      ['content "boot-assets/u-boot.img" is not in the gadget project'],
    )
  })
})

describe('literal api-keys', () => {
  it('finds keys in snapcraft.yaml values and hooks, not variables or placeholders', () => {
    const yaml = 'hooks:\n  prepare-device:\n    environment:\n      MODEL_APIKEY: AbCdEfGhIjKlMnOpQrStUvWxYz012345\n      OTHER_APIKEY: $MODEL_APIKEY\n'
    assert.deepEqual(apiKeysInYaml('snapcraft.yaml', yaml).map((f) => [f.rule, f.start?.line, f.secret]), [['N14', 4, true]])
    const hook = `snapctl set device-service.headers='{"api-key": "U2VyaWFsIFZhdWx0Cg-really-long"}'\nsnapctl set device-service.headers="{\\"api-key\\": \\"$MODEL_APIKEY\\"}"\n`
    assert.deepEqual(apiKeysInText('prepare-device', hook).map((f) => f.start?.line), [1])
    assert.deepEqual(apiKeysInText('prepare-device', `api-key: "ABC1234"\n`), [])
  })
})
