import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'

import {parseAm335xEeprom} from '../../../src/serial/formats/am335x-eeprom.js'
import {am6EepromLength, isPlaceholderField, parseAm6Eeprom} from '../../../src/serial/formats/ti-am6-eeprom.js'
import {fixtures, shared} from '../../helpers/paths.js'

const PLAY = readFileSync(fixtures('hardware', 'ti-am6', 'beagleplay-0-0050.bin'))
const SK_AM62 = readFileSync(fixtures('hardware', 'ti-am6', 'am62-skevm-0-0050.head.bin'))
const BBB = readFileSync(shared('fixtures', 'hardware', 'beaglebone-black', 'eeprom-0-0050.bin'))

describe('TI AM6x board EEPROM', () => {
  it('reads the BeaglePlay record list: board id in place of the SSSS serial', () => {
    const parsed = parseAm6Eeprom(PLAY)
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason)
    assert.deepEqual(parsed.board, {boardId: '002931', boardName: 'BEAGLEPLAY-A0-', buildWeek: '06', buildYear: '23', designRevision: '02', serial: 'SSSS', vendorId: '64'})
    assert.equal(parsed.identity, '0623002931')
    assert.deepEqual(parsed.placeholders, ['serial "SSSS"'])
    assert.equal(parsed.length, 7 + 0x37)
  })

  it('reads a TI starter kit cut after its board info: serial in place of the zero board id', () => {
    assert.deepEqual(am6EepromLength(SK_AM62), {length: 7 + 0xfc, ok: true})
    const parsed = parseAm6Eeprom(SK_AM62)
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason)
    assert.equal(parsed.board.boardName, 'AM62-SKEVM')
    assert.equal(parsed.identity, '24220776')
    assert.deepEqual(parsed.placeholders, ['boardId ""'])
  })

  it('refuses an EEPROM whose board id and serial are both placeholders', () => {
    const copy = Buffer.from(PLAY)
    copy.write('000000', 10 + 36, 'latin1')
    const parsed = parseAm6Eeprom(copy)
    assert.equal(parsed.ok, false)
    assert.match(parsed.ok ? '' : parsed.reason, /both the board id and the serial are placeholders/)
  })

  it('never reads one layout as the other', () => {
    const am335xOfPlay = parseAm335xEeprom(PLAY)
    assert.equal(am335xOfPlay.ok, false)
    assert.match(am335xOfPlay.ok ? '' : am335xOfPlay.reason, /AM6x \(K3\) record-format EEPROM/)
    const am6OfBbb = parseAm6Eeprom(BBB)
    assert.equal(am6OfBbb.ok, false)
    assert.match(am6OfBbb.ok ? '' : am6OfBbb.reason, /AM335x board EEPROM \(board A335BNLT\)/)
  })

  it('refuses truncated, blank and corrupted EEPROMs with the reason', () => {
    const cases: [Buffer, RegExp][] = [
      [PLAY.subarray(0, 5), /truncated: 5 of 7 header bytes/],
      [PLAY.subarray(0, 30), /truncated: the board-info record needs 56 bytes, read 30/],
      [Buffer.alloc(64, 0xff), /unprogrammed/],
      [Buffer.concat([PLAY.subarray(0, 5), Buffer.from([0x02, 0x00])]), /record list length 2 is outside/],
      [Buffer.from(PLAY).fill(0x80, 10, 26), /non-ASCII/],
    ]
    for (const [bytes, why] of cases) {
      const parsed = parseAm6Eeprom(bytes)
      assert.equal(parsed.ok, false)
      assert.match(parsed.ok ? '' : parsed.reason, why)
    }
  })

  it('tells placeholder fields from real ones', () => {
    for (const value of ['', 'SSSS', '0000', '000000', 'XXXX']) assert.ok(isPlaceholderField(value), value)
    for (const value of ['0776', '002931', '1111', 'S0S0']) assert.ok(!isPlaceholderField(value), value)
  })
})
