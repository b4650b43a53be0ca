/**
 * Positions on real files: each finding below must start exactly at the token it is about
 * (line and column counted as editors count them).
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'

import {validateGadget} from '../../src/gadget/validate.js'
import {shared} from '../helpers/paths.js'

interface Expected {
  file: string
  snapd: string
  rule: string
  line: number
  column: number
  /** The text that must start at that position. */
  token: string
}

const sample: Expected[] = [
  {column: 3, file: 'canonical__iot-field-gadget-snap__gadget.yaml', line: 5, rule: 'V2', snapd: '2.57', token: '<volume name>'},
  {column: 13, file: 'canonical__iot-field-gadget-snap__gadget.yaml', line: 6, rule: 'V3', snapd: '2.57', token: '<mbr|gpt>'},
  {column: 17, file: 'canonical__iot-field-gadget-snap__gadget.yaml', line: 7, rule: 'V4', snapd: '2.57', token: '<u-boot|grub>'},
  {column: 17, file: 'canonical__iot-field-gadget-snap__gadget.yaml', line: 13, rule: 'S1', snapd: '2.57', token: '<if needed>'},
  {column: 1, file: 'kubiko__rb3-gadget@20__gadget.yaml', line: 1, rule: 'T8', snapd: '2.57', token: 'device-tree-origin'},
  {column: 27, file: 'kubiko__rb3-gadget@20__gadget.yaml', line: 9, rule: 'X7', snapd: '2.57', token: 'ubuntu-seed'},
  {column: 3, file: 'kubiko__rb3-gadget@20__gadget.yaml', line: 319, rule: 'V1', snapd: '2.57', token: 'defaults'},
  {column: 5, file: 'kubiko__rb3-gadget@20__gadget.yaml', line: 322, rule: 'P3', snapd: '2.57', token: 'watchdog'},
  {column: 15, file: 'canonical__pc-gadget@classic-24.04__gadget.yaml', line: 8, rule: 'S7', snapd: '2.57', token: 'system-seed-null'},
  {column: 9, file: 'canonical__pc-amd64-gadget-desktop@24__gadget__gadget-amd64.yaml', line: 55, rule: 'N15', snapd: '2.57', token: 'min-size'},
  {column: 1, file: 'JulianLiu__odroid-xu4-gadget__gadget.yaml', line: 1, rule: 'T8', snapd: 'latest', token: 'device-tree'},
]

describe('finding positions on corpus files', () => {
  for (const e of sample) {
    it(`${e.rule} in ${e.file} starts at ${e.line}:${e.column} on "${e.token}"`, () => {
      const content = readFileSync(shared('corpus', 'gadget-yaml', 'real', e.file), 'utf8')
      const result = validateGadget({content, file: e.file}, {snapd: e.snapd})
      const found = result.findings.filter((f) => f.rule === e.rule).map((f) => `${f.start?.line}:${f.start?.column}`)
      assert.ok(found.includes(`${e.line}:${e.column}`), `${e.rule} found at ${found.join(', ') || 'nowhere'}`)
      const line = content.split('\n')[e.line - 1]
      assert.ok(line.slice(e.column - 1).startsWith(e.token), `line ${e.line} has "${line.trim()}"`)
    })
  }

  it('places the YAML syntax error of the corpus where libyaml reports it (line 23, after the key it could not complete)', () => {
    const file = 'alfonsosanchezbeato__if6640-gadget__gadget.yaml'
    const result = validateGadget({content: readFileSync(shared('corpus', 'gadget-yaml', 'real', file)), file}, {snapd: '2.57'})
    assert.deepEqual(
      result.findings.map((f) => [f.rule, f.start?.line, f.start?.column]),
      [['P1', 23, 8]],
    )
  })
})
