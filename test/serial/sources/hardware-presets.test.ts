/** The sources for boards people ship today: TI AM6x EEPROMs, EUI EEPROMs, raw SMBIOS, vendor i.MX kernels. */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'

import {deriveSerial} from '../../../src/serial/derive.js'
import {createSourceContext} from '../../../src/serial/sources/context.js'
import {detectBoard} from '../../../src/serial/boards.js'
import {fixtures, shared} from '../../helpers/paths.js'
import {memoryFs} from '../helpers/memory-fs.js'
import {makeRoot, removeRoot} from '../helpers/root.js'
import {attempt, inMemory} from './helpers.js'

const PLAY = readFileSync(fixtures('hardware', 'ti-am6', 'beagleplay-0-0050.bin'))
const BBB = readFileSync(shared('fixtures', 'hardware', 'beaglebone-black', 'eeprom-0-0050.bin'))
const BOARD_EEPROM = '/sys/bus/i2c/devices/0-0050/eeprom'

describe('ti-am6-eeprom', () => {
  it('reads the BeaglePlay board EEPROM, leaving out its SSSS serial', async () => {
    const a = await attempt('ti-am6-eeprom', inMemory({[BOARD_EEPROM]: PLAY}))
    assert.equal(a.serial, '0623002931')
    assert.deepEqual(a.notes, ['board BEAGLEPLAY-A0- revision 02, built week 06 of 2023', 'left out as placeholders: serial "SSSS"'])
    assert.equal((await attempt({options: {includeBoardName: true}, source: 'ti-am6-eeprom'}, inMemory({[BOARD_EEPROM]: PLAY}))).serial, 'BEAGLEPLAY-A0-0623002931')
  })

  it('refuses an AM335x EEPROM, and beaglebone-eeprom refuses an AM6x one, each naming the other source', async () => {
    const am6 = await attempt('ti-am6-eeprom', inMemory({[BOARD_EEPROM]: BBB}))
    assert.equal(am6.verdict, 'invalid')
    assert.match(am6.reason ?? '', /AM335x board EEPROM .*use beaglebone-eeprom/)
    const bone = await attempt('beaglebone-eeprom', inMemory({[BOARD_EEPROM]: PLAY}))
    assert.equal(bone.verdict, 'invalid')
    assert.match(bone.reason ?? '', /use ti-am6-eeprom/)
  })

  it('the beagleplay profile is detected from the device tree and derives the serial from a captured root', async (t) => {
    const root = await makeRoot({
      '/sys/firmware/devicetree/base/compatible': 'beagle,am625-beagleplay\0ti,am625\0',
      [BOARD_EEPROM]: {data: PLAY, mode: 0o644},
    })
    t.after(() => removeRoot(root))
    const detected = await detectBoard(createSourceContext({root}))
    assert.equal(detected.board.id, 'beagleplay')
    const result = await deriveSerial({root})
    assert.deepEqual([result.serial, result.board, result.attempts[0].entry], ['0623002931', 'beagleplay', 'ti-am6-eeprom'])
  })
})

describe('eui-eeprom', () => {
  const eeprom256 = (offset: number, eui: number[]) => {
    const bytes = Buffer.alloc(256, 0xff)
    Buffer.from(eui).copy(bytes, offset)
    return bytes
  }

  const spec = (part: string, path = '/sys/bus/i2c/devices/1-0050/eeprom') => ({options: {part, path}, source: 'eui-eeprom'})

  it('reads the EUI-48 of a 24AA025E48 from the upper quarter of the whole array', async () => {
    const a = await attempt(spec('24aa025e48'), inMemory({'/sys/bus/i2c/devices/1-0050/eeprom': eeprom256(0xfa, [0x00, 0x04, 0xa3, 0x12, 0x34, 0x56])}))
    assert.deepEqual([a.serial, a.notes], ['0004a3123456', ['EUI-48 at offset 0xFA']])
  })

  it('reads the EUI alone when the kernel binds the part by its own compatible', async () => {
    const a = await attempt(spec('at24mac402', '/sys/bus/i2c/devices/1-0058/eeprom'), inMemory({'/sys/bus/i2c/devices/1-0058/eeprom': Buffer.from([0xfc, 0xc2, 0x3d, 0x0a, 0x0b, 0x0c])}))
    assert.equal(a.serial, 'fcc23d0a0b0c')
  })

  it('reads an AT24MAC602 EUI-64 at 0x98 of the serial-number address', async () => {
    const a = await attempt(spec('at24mac602', '/sys/bus/i2c/devices/1-0058/eeprom'), inMemory({'/sys/bus/i2c/devices/1-0058/eeprom': eeprom256(0x98, [0xfc, 0xc2, 0x3d, 0xff, 0xfe, 0x01, 0x02, 0x03])}))
    assert.equal(a.serial, 'fcc23dfffe010203')
  })

  it('refuses a blank, multicast or locally administered EUI, and an unknown part', async () => {
    const path = '/sys/bus/i2c/devices/1-0050/eeprom'
    const cases: [Buffer, RegExp][] = [
      [Buffer.alloc(256, 0xff), /unprogrammed: all 0xFF .*right part or I2C address/],
      [eeprom256(0xfa, [0x01, 0x04, 0xa3, 1, 2, 3]), /group \(multicast\)/],
      [eeprom256(0xfa, [0x02, 0x04, 0xa3, 1, 2, 3]), /locally administered/],
    ]
    for (const [bytes, why] of cases) {
      const a = await attempt(spec('24aa02e48'), inMemory({[path]: bytes}))
      assert.equal(a.verdict, 'invalid')
      assert.match(a.reason ?? '', why)
    }

    await assert.rejects(attempt(spec('24aa02e99'), inMemory({})), /one of 24aa025e48/)
  })
})

describe('dmi from the raw SMBIOS table', () => {
  const table = readFileSync(shared('fixtures', 'hardware', 'x86-dmi-raw', 'aaeon-up-cht01.DMI.bin'))

  it('reads the serial from /sys/firmware/dmi/tables/DMI when /sys/class/dmi/id is missing', async () => {
    const a = await attempt({options: {field: 'product_serial'}, source: 'dmi'}, inMemory({'/sys/firmware/dmi/tables/DMI': table}))
    assert.deepEqual([a.serial, a.origin], ['19620608', '/sys/firmware/dmi/tables/DMI'])
  })

  it('says the table is unreadable (root-only) rather than absent', async () => {
    const a = await attempt({options: {field: 'product_serial'}, source: 'dmi'}, inMemory({}, {'/sys/firmware/dmi/tables/DMI': 'EACCES'}))
    assert.equal(a.verdict, 'denied')
  })

  it('the x86 profile is detected from the raw table alone', async () => {
    const detected = await detectBoard(createSourceContext({fs: memoryFs({'/sys/firmware/dmi/tables/DMI': table})}))
    assert.equal(detected.board.id, 'x86')
  })
})

describe('i.MX on vendor kernels', () => {
  // Old NXP/Freescale BSP kernels: no soc0 serial, no OCOTP nvmem, the fuse UID in cpuinfo (space-aligned).
  const cpuinfo =
    'Processor       : ARMv7 Processor rev 10 (v7l)\nprocessor       : 0\nBogoMIPS        : 996.14\n\nHardware        : Freescale i.MX 6Quad/DualLite/Solo Sabre-SD Board\nRevision        : 63012\nSerial          : 0c1e31d4e1fdfca7\n'

  it('the nxp-imx chain falls back to the cpuinfo Serial after the SoC and OCOTP sources', async () => {
    const result = await deriveSerial({board: 'nxp-imx', fs: memoryFs({'/proc/cpuinfo': cpuinfo, '/sys/firmware/devicetree/base/compatible': 'fsl,imx6q-sabresd\0fsl,imx6q\0'})})
    assert.equal(result.serial, '0c1e31d4e1fdfca7')
    assert.deepEqual(
      result.attempts.map((a) => [a.entry, a.verdict]),
      [
        ['soc-serial', 'absent'],
        ['imx8mp-ocotp-uid', 'skipped'],
        ['imx-ocotp-uid', 'absent'],
        ['cpuinfo-serial', 'used'],
      ],
    )
  })

  it('cpuinfo-serial reads every layout kernels print, and never the next line', async () => {
    const layouts: [string, string | RegExp][] = [
      ['Serial\t\t: 0c1e31d4e1fdfca7\n', '0c1e31d4e1fdfca7'],
      ['Serial          : 0c1e31d4e1fdfca7\n', '0c1e31d4e1fdfca7'],
      ['Serial\t\t: 0c1e31d4e1fdfca7\r\nRevision\t: 63012\r\n', '0c1e31d4e1fdfca7'],
      ['Serial:0c1e31d4e1fdfca7', '0c1e31d4e1fdfca7'],
      ['Serial\t\t: \nModel\t\t: Raspberry Pi\n', /the Serial line of \/proc\/cpuinfo is empty/],
    ]
    for (const [text, expected] of layouts) {
      const a = await attempt('cpuinfo-serial', inMemory({'/proc/cpuinfo': `processor\t: 0\n${text}`}))
      if (typeof expected === 'string') assert.equal(a.serial, expected, JSON.stringify(text))
      else assert.match(a.reason ?? '', expected, JSON.stringify(text))
    }
  })
})
