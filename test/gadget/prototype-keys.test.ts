/**
 * Keys and values that name JavaScript's Object.prototype members are plain data to snapd: they
 * must be judged like any other name, never read through a prototype.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {validateGadget} from '../../src/gadget/validate.js'

const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']
const everywhere = (k: string) => `${k}: 1
volumes:
  ${k}:
    bootloader: ${k}
    schema: ${k}
    ${k}: x
    structure:
      - name: ${k}
        role: ${k}
        type: ${k}
        filesystem: ${k}
        filesystem-label: ${k}
        size: 1${k}
        ${k}: 1
        content:
          - source: ${k}
            target: ${k}
            ${k}: 1
        update: {${k}: 1, preserve: [${k}]}
defaults:
  ${k}:
    ${k}: {${k}: 1}
connections:
  - plug: ${k}:${k}
    ${k}: 1
`

describe('prototype-named keys and values', () => {
  for (const name of names) {
    it(`"${name}" is judged as data, for every snapd target and model`, () => {
      for (const snapd of ['2.57', 'latest']) {
        for (const model of [undefined, {classic: false, grade: 'signed'}, {classic: false}]) {
          const result = validateGadget(everywhere(name), {model, snapd})
          assert.equal(result.verdict.valid, false)
          assert.ok(
            result.findings.some((f) => f.rule === 'P3' && f.message.includes(`"${name}"`)),
            'the unknown key is reported',
          )
          const role = validateGadget(`volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - {role: ${name}, type: 83, size: 1M}\n`, {model, snapd})
          assert.ok(
            role.findings.some((f) => f.rule === 'S7' || f.rule === 'S6'),
            `role ${name}: ${role.findings.map((f) => f.rule).join()}`,
          )
        }
      }
    })
  }
})
