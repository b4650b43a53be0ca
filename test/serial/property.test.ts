/**
 * Property: whatever the sources contain and however the chain transforms it, an emitted serial
 * is never empty, never contains "/", whitespace, quotes or control characters, and never comes
 * from a placeholder; derivation either gives such a serial or fails with E_SERIAL_NONE.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import fc from 'fast-check'

import {UserError} from '../../src/errors.js'
import type {ChainSpec} from '../../src/serial/chain.js'
import {parseSerialConfig} from '../../src/serial/config/serial-config.js'
import {deriveSerial} from '../../src/serial/derive.js'
import {PLACEHOLDER_STRINGS, PLACEHOLDER_UUIDS, refusalOf} from '../../src/serial/placeholders.js'
import {normalise, type TransformSpec} from '../../src/serial/transforms.js'
import {memoryFs} from './helpers/memory-fs.js'

const FORBIDDEN = /[\s"'/`\\\p{Cc}]/u

const content = fc.oneof(
  fc.string({maxLength: 40, unit: 'binary'}),
  fc.string({maxLength: 24, unit: 'grapheme-ascii'}),
  fc.uint8Array({maxLength: 40}).map((b) => Buffer.from(b).toString('latin1')),
  fc.stringMatching(/^[\da-f]{16}$/),
  fc.stringMatching(/^[A-Z\d]{4,12}[ /"'\t\u0000-]?[A-Z\d]{0,6}$/),
  fc.constantFrom(...PLACEHOLDER_STRINGS.map((p) => p.value), ...PLACEHOLDER_UUIDS.map((p) => p.value), '', '\u0000\u0000', '\u00FF\u00FF\u00FF'),
)

const transform: fc.Arbitrary<TransformSpec> = fc.oneof(
  fc.string({maxLength: 6, minLength: 1, unit: 'binary'}).map((prefix) => ({prefix})),
  fc.string({maxLength: 6, minLength: 1}).map((suffix) => ({suffix})),
  fc.record({length: fc.integer({max: 64, min: 8}), salt: fc.string({maxLength: 8, minLength: 1})}).map((hash) => ({hash})),
  fc.integer({max: 40, min: 1}).map((maxLength) => ({maxLength})),
  fc.constant({normalise: {hexCase: 'upper' as const}}),
)

const CHAIN: ChainSpec['chain'] = [
  {source: 'devicetree-serial'},
  {options: {hex: false}, source: 'cpuinfo-serial'},
  {source: 'soc-serial'},
  {options: {path: '/etc/board-id'}, source: 'file'},
  {options: {length: 24, path: '/sys/bus/i2c/devices/0-0050/eeprom'}, source: 'eeprom'},
]

describe('emitted serials', () => {
  it('are never empty and never contain /, whitespace, quotes or control characters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({board: content, cpuinfo: content, dt: content, eeprom: content, soc: content}),
        fc.array(transform, {maxLength: 3}),
        fc.constantFrom(undefined, '.+', '[A-Za-z0-9][A-Za-z0-9._:-]*'),
        async (values, transforms, pattern) => {
          const files = {
            '/etc/board-id': values.board,
            '/proc/cpuinfo': `processor\t: 0\nSerial\t\t: ${values.cpuinfo}\n`,
            '/sys/bus/i2c/devices/0-0050/eeprom': Buffer.from(values.eeprom, 'latin1'),
            '/sys/devices/soc0/serial_number': values.soc,
            '/sys/firmware/devicetree/base/serial-number': Buffer.from(`${values.dt}\0`, 'latin1'),
          }
          const config = parseSerialConfig({chain: CHAIN, output: pattern ? {pattern} : undefined, transforms})
          let serial: string
          let read: string | undefined
          let format: 'hex' | 'mac' | 'text' | 'uuid' = 'text'
          try {
            const result = await deriveSerial({config, fs: memoryFs(files)})
            serial = result.serial
            const winner = result.attempts.at(-1)!
            read = winner.read
            if (winner.source === 'cpuinfo-serial' || winner.source === 'soc-serial') format = /^[\da-f]+$/i.test(read ?? '') ? 'hex' : 'text'
          } catch (error) {
            assert.ok(error instanceof UserError, String(error))
            assert.equal(error.code, 'E_SERIAL_NONE')
            return
          }

          assert.notEqual(serial, '')
          assert.doesNotMatch(serial, FORBIDDEN)
          if (!pattern) assert.match(serial, /^[A-Za-z\d][\w.-]*$/)
          assert.equal(refusalOf(normalise(read ?? '', format), format), undefined, `the source value ${JSON.stringify(read)} is not a placeholder`)
        },
      ),
      {numRuns: 400},
    )
  })
})
