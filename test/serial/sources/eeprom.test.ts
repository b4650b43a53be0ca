import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'
import * as zlib from 'node:zlib'

import {crc32Portable} from '../../../src/serial/formats/crc.js'
import {parseOnieTlv} from '../../../src/serial/formats/onie-tlv.js'
import {shared} from '../../helpers/paths.js'
import {attempt, inMemory} from './helpers.js'

const BBB = readFileSync(shared('fixtures', 'hardware', 'beaglebone-black', 'eeprom-0-0050.bin'))
const ONIE = readFileSync(shared('fixtures', 'hardware', 'onie', 'onie-qemu-eeprom.dat'))
const BBB_PATH = '/sys/bus/i2c/devices/0-0050/eeprom'
const ONIE_PATH = '/sys/bus/i2c/devices/2-0050/eeprom'

/** A copy of `bytes` with `edit` applied. */
function edited(bytes: Buffer, edit: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(bytes)
  edit(copy)
  return copy
}

describe('eeprom', () => {
  const spec = (options: Record<string, unknown>) => ({options: {path: BBB_PATH, ...options}, source: 'eeprom'})

  it('reads an ASCII field at an offset, padding stripped', async () => {
    assert.equal((await attempt(spec({length: 16, offset: 16}), inMemory({[BBB_PATH]: BBB}))).serial, '2313BBBK0099')
  })

  it('reads binary bytes as hex', async () => {
    assert.equal((await attempt(spec({encoding: 'hex', length: 4}), inMemory({[BBB_PATH]: BBB}))).serial, 'aa5533ee')
  })

  it('refuses truncated, unprogrammed and non-ASCII fields', async () => {
    assert.match((await attempt(spec({length: 12, offset: 250}), inMemory({[BBB_PATH]: BBB}))).reason ?? '', /truncated: read 6 of 12 bytes at offset 250/)
    assert.match((await attempt(spec({length: 12, offset: 60}), inMemory({[BBB_PATH]: BBB}))).reason ?? '', /unprogrammed: all 0xFF/)
    assert.match((await attempt(spec({length: 4}), inMemory({[BBB_PATH]: BBB}))).reason ?? '', /not ASCII text/)
  })

  it('expands globs, in order', async () => {
    const a = await attempt({options: {length: 12, offset: 16, path: '/sys/bus/i2c/devices/*-0050/eeprom'}, source: 'eeprom'}, inMemory({'/sys/bus/i2c/devices/1-0050/eeprom': BBB}))
    assert.deepEqual([a.serial, a.origin], ['2313BBBK0099', '/sys/bus/i2c/devices/1-0050/eeprom'])
  })
})

describe('beaglebone-eeprom', () => {
  it('reads the 12-character serial after the AA 55 33 EE magic', async () => {
    const a = await attempt('beaglebone-eeprom', inMemory({[BBB_PATH]: BBB}))
    assert.deepEqual([a.serial, a.notes], ['2313BBBK0099', ['board A335BNLT version 0A5B']])
    assert.equal((await attempt({options: {includeBoardName: true}, source: 'beaglebone-eeprom'}, inMemory({[BBB_PATH]: BBB}))).serial, 'A335BNLT-2313BBBK0099')
  })

  it('reads the nvmem view of the same chip', async () => {
    assert.equal((await attempt('beaglebone-eeprom', inMemory({'/sys/bus/nvmem/devices/0-00500/nvmem': BBB}))).serial, '2313BBBK0099')
  })

  it('refuses a truncated EEPROM, a wrong magic, a dead EEPROM and a blank one', async () => {
    const cases: [Buffer, RegExp][] = [
      [BBB.subarray(0, 20), /truncated: 20 of 28 header bytes/],
      [BBB.subarray(0, 2), /truncated: 2 bytes/],
      [edited(BBB, (b) => b.writeUInt32BE(0x12345678, 0)), /no AM335x board EEPROM magic \(AA 55 33 EE\); found 12 34 56 78/],
      [edited(BBB, (b) => b.writeUInt32LE(0xadead12c, 0)), /marked this EEPROM dead/],
      [Buffer.alloc(256, 0xff), /unprogrammed/],
    ]
    for (const [bytes, why] of cases) {
      const a = await attempt('beaglebone-eeprom', inMemory({[BBB_PATH]: bytes}))
      assert.equal(a.verdict, 'invalid')
      assert.match(a.reason ?? '', why)
    }
  })

  it('refuses a restored EEPROM whose serial is blank padding', async () => {
    const blank = edited(BBB, (b) => b.fill(0xff, 16, 28))
    const a = await attempt('beaglebone-eeprom', inMemory({[BBB_PATH]: blank}))
    assert.equal(a.verdict, 'refused')
  })
})

describe('onie-tlv', () => {
  it('reads the Serial Number TLV of a table whose CRC checks', async () => {
    const a = await attempt('onie-tlv', inMemory({[ONIE_PATH]: ONIE}))
    assert.deepEqual([a.serial, a.notes], ['FAKE-SN-123456', ['product ARM VExpress ONIE QEMU']])
  })

  it('parses the sample as the ONIE documentation decodes it', () => {
    const table = parseOnieTlv(ONIE)
    assert.ok(table.ok)
    assert.equal(table.crc, 0x91_1b_19_15)
    assert.deepEqual(
      table.tlvs.map((t) => t.type),
      [0x21, 0x23, 0x24, 0x2a],
    )
    assert.equal(table.tlvs[2].value.toString('hex'), '525400123458')
  })

  it('computes CRC-32 the same with and without node:zlib', () => {
    const end = ONIE.readUInt16BE(9) + 11 - 4
    const native = (zlib as {crc32?: (d: Uint8Array) => number}).crc32
    assert.equal(crc32Portable(ONIE.subarray(0, end)), 0x91_1b_19_15)
    if (native) assert.equal(native(ONIE.subarray(0, end)), crc32Portable(ONIE.subarray(0, end)))
  })

  it('refuses a bad CRC, a truncated table, a wrong version, a missing CRC TLV and a TLV that overruns', async () => {
    const total = ONIE.readUInt16BE(9)
    const cases: [Buffer, RegExp][] = [
      [edited(ONIE, (b) => (b[0x2e] ^= 0x01)), /CRC-32 mismatch: stored 0x911B1915, computed 0x[\dA-F]{8}/],
      [ONIE.subarray(0, 40), /truncated: 40 of 69 bytes/],
      [edited(ONIE, (b) => (b[8] = 2)), /unsupported TlvInfo header version 2/],
      [edited(ONIE, (b) => b.writeUInt16BE(total - 6, 9)), /no CRC-32 TLV/],
      [edited(ONIE, (b) => (b[0x0c] = 0xf0)), /runs past the table end/],
      [edited(ONIE, (b) => b.writeUInt16BE(4000, 9)), /exceeds the format's maximum/],
    ]
    for (const [bytes, why] of cases) {
      const a = await attempt('onie-tlv', inMemory({[ONIE_PATH]: bytes}))
      assert.equal(a.verdict, 'invalid', String(why))
      assert.match(a.reason ?? '', why)
    }
  })

  it('skips other chips on the bus and finds the TlvInfo one', async () => {
    const a = await attempt('onie-tlv', inMemory({'/sys/bus/i2c/devices/0-0050/eeprom': Buffer.alloc(256, 0xff), [ONIE_PATH]: ONIE}))
    assert.deepEqual([a.serial, a.origin], ['FAKE-SN-123456', ONIE_PATH])
    const none = await attempt('onie-tlv', inMemory({'/sys/bus/i2c/devices/0-0050/eeprom': BBB}))
    assert.equal(none.verdict, 'absent')
    assert.match(none.reason ?? '', /no matching EEPROM content in \/sys\/bus\/i2c\/devices\/0-0050\/eeprom/)
  })
})
