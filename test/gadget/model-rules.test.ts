/** The rules that need the model assertion (reference section M), through validateGadget's model option. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {validateGadget} from '../../src/gadget/validate.js'

const uc20 = {classic: false, grade: 'signed'}
const uc18 = {classic: false}
const classicModes = {classic: true, grade: 'signed'}

const pc = (extra = '') => `volumes:
  pc:
    bootloader: grub
    structure:
      - name: mbr
        type: mbr
        size: 440
      - name: ubuntu-seed
        role: system-seed
        filesystem: vfat
        type: EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B
        size: 1200M
      - name: ubuntu-boot
        role: system-boot
        filesystem: ext4
        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4
        size: 750M
      - name: ubuntu-save
        role: system-save
        filesystem: ext4
        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4
        size: 16M
      - name: ubuntu-data
        role: system-data
        filesystem: ext4
        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4
        size: 1G
${extra}`

const uc18Gadget = `volumes:
  pc:
    bootloader: grub
    structure:
      - name: system-boot
        filesystem-label: system-boot
        filesystem: vfat
        type: EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B
        size: 50M
      - name: writable
        role: system-data
        filesystem: ext4
        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4
        size: 1G
`

const rules = (text: string, model?: {classic: boolean; grade?: string}, snapd = 'latest') =>
  validateGadget(text, {model, snapd})
    .findings.filter((f) => f.severity === 'error')
    .map((f) => f.rule)

describe('model rules', () => {
  it('accepts a UC20 gadget for a UC20 model, and a UC18 gadget for a UC18 model', () => {
    assert.deepEqual(rules(pc(), uc20), [])
    assert.deepEqual(rules(uc18Gadget, uc18), [])
  })

  it('M2: a Core model needs volumes', () => {
    assert.deepEqual(rules('defaults:\n  system:\n    service.ssh.disable: true\n', uc20), ['M2'])
    assert.deepEqual(rules('defaults:\n  system:\n    service.ssh.disable: true\n'), [])
  })

  it('M5: a UC16/18 model refuses system-seed and system-save', () => {
    assert.ok(rules(pc(), uc18).includes('M5'))
  })

  it('M6: a UC20 model needs a system-seed', () => {
    assert.deepEqual(rules(uc18Gadget, uc20), ['M6'])
  })

  it('M4: a label implied by a role must not be used by another structure', () => {
    const implied = pc()
      .replace('      - name: ubuntu-data\n        role: system-data\n', '      - name: ubuntu-data\n        role: system-data\n')
      .replace(
        'name: mbr\n        type: mbr\n        size: 440\n',
        'name: mbr\n        type: mbr\n        size: 440\n      - name: extra\n        filesystem: ext4\n        filesystem-label: ubuntu-data\n        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4\n        size: 1M\n        offset: 2M\n',
      )
    assert.ok(rules(implied, uc20).includes('M4') || rules(implied, uc20).includes('X7'), rules(implied, uc20).join())
  })

  it('V6: piboot needs a UC20 model', () => {
    const pi = 'volumes:\n  pi:\n    schema: mbr\n    bootloader: piboot\n'
    assert.deepEqual(rules(pi), [])
    assert.ok(!rules(pi, uc20).includes('V6'), 'a UC20 model takes piboot (it only misses a seed here)')
    assert.ok(rules(pi, uc18).includes('V6'))
  })

  it('classic with modes: the newest snapd applies R6, 2.57 still asks for a seed (M10)', () => {
    const classic = pc().replace('role: system-seed\n', 'role: system-seed-null\n')
    assert.deepEqual(rules(classic, classicModes), [])
    assert.ok(rules(pc().replace(/ {6}- name: ubuntu-boot[\s\S]*?size: 750M\n/, ''), classicModes).includes('R6'))
    assert.ok(rules(classic, classicModes, '2.57').length > 0)
  })
})
