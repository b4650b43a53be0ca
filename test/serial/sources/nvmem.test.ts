import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {deriveSerial} from '../../../src/serial/derive.js'
import {hashValue} from '../../../src/serial/transforms.js'
import {dtStrings} from '../helpers/root.js'
import {attempt, inMemory} from './helpers.js'

const OCOTP = '/sys/bus/nvmem/devices/imx-ocotp0/nvmem'

/** Fuse words as the imx-ocotp provider lays them out: little-endian u32 at 4*N. */
function fuses(words: Record<number, number>, count = 16): Buffer {
  const bytes = Buffer.alloc(count * 4)
  for (const [i, w] of Object.entries(words)) bytes.writeUInt32LE(w, Number(i) * 4)
  return bytes
}

describe('nvmem', () => {
  it('prints the i.MX UID words HIGH then LOW, as soc0/serial_number does', async () => {
    const files = {[OCOTP]: fuses({1: 0xe1_fd_fc_a7, 2: 0x24_0f_31_d4})}
    const a = await attempt({options: {device: 'imx-ocotp0', words: [2, 1]}, source: 'nvmem'}, inMemory(files))
    assert.equal(a.serial, '240f31d4e1fdfca7')
  })

  it('refuses locked fuse words (0xBADABADA) and blank ones', async () => {
    const locked = await attempt({options: {device: 'imx-ocotp0', words: [2, 1]}, source: 'nvmem'}, inMemory({[OCOTP]: fuses({1: 0xba_da_ba_da, 2: 0xba_da_ba_da})}))
    assert.match(locked.reason ?? '', /locked fuse words/)
    const blank = await attempt({options: {device: 'imx-ocotp0', words: [2, 1]}, source: 'nvmem'}, inMemory({[OCOTP]: fuses({})}))
    assert.equal(blank.verdict, 'refused')
  })

  it('the nxp-imx profile reads words 3,2 on i.MX8MP and 2,1 elsewhere', async () => {
    const words = {1: 0x11_11_11_11, 2: 0x22_22_22_23, 3: 0x33_33_33_34}
    const compatible = (c: string) => ({'/sys/firmware/devicetree/base/compatible': dtStrings(`${c}-evk`, c)})
    const mp = await deriveSerial({board: 'nxp-imx', ...inMemory({[OCOTP]: fuses(words), ...compatible('fsl,imx8mp')})})
    assert.deepEqual([mp.serial, mp.entry], ['3333333422222223', 'imx8mp-ocotp-uid'])
    const mq = await deriveSerial({board: 'nxp-imx', ...inMemory({[OCOTP]: fuses(words), ...compatible('fsl,imx8mq')})})
    assert.deepEqual([mq.serial, mq.entry], ['2222222311111111', 'imx-ocotp-uid'])
  })

  it('reads a named cell and a byte range', async () => {
    const cell = '/sys/bus/nvmem/devices/rockchip-otp0/cells/cpu-id@a,0'
    const id = Buffer.from('5a3a0c1b8f2e4d6c9b1a7e3f5c2d4b6a', 'hex')
    const a = await attempt({options: {cell: 'cpu-id', device: ['rockchip-otp0', 'rockchip-efuse0']}, source: 'nvmem'}, inMemory({[cell]: id}))
    assert.equal(a.serial, id.toString('hex'))
    const range = await attempt({options: {device: 'sunxi-sid0', length: 4, offset: 4}, source: 'nvmem'}, inMemory({'/sys/bus/nvmem/devices/sunxi-sid0/nvmem': Buffer.from('00000000deadbeef', 'hex')}))
    assert.equal(range.serial, 'deadbeef')
  })

  it('the rockchip profile hashes the cpu-id with the brand', async () => {
    const id = Buffer.from('5a3a0c1b8f2e4d6c9b1a7e3f5c2d4b6a', 'hex')
    const result = await deriveSerial({board: 'rockchip', brand: 'acme', ...inMemory({'/sys/bus/nvmem/devices/rockchip-efuse0/cells/cpu-id@7,0': id})})
    assert.equal(result.serial, hashValue(id.toString('hex'), {length: 32}, 'acme'))
  })

  it("reads sunxi SID words as numbers whatever the kernel's byte order", async () => {
    const words = [0x02_c0_00_81, 0x7c_b6_4c_14, 0x4e_45_21_40, 0x0a_5c_2d_1e]
    const le = Buffer.alloc(16)
    const be = Buffer.alloc(16)
    words.forEach((w, i) => (le.writeUInt32LE(w, i * 4), be.writeUInt32BE(w, i * 4)))
    const spec = {options: {bigEndianBefore: '5.3', device: 'sunxi-sid0', words: [0, 1, 2, 3]}, source: 'nvmem'}
    const SID = '/sys/bus/nvmem/devices/sunxi-sid0/nvmem'
    const modern = await attempt(spec, inMemory({'/proc/sys/kernel/osrelease': '6.1.0-arm64\n', [SID]: le}))
    const old = await attempt(spec, inMemory({'/proc/sys/kernel/osrelease': '4.19.62-sunxi\n', [SID]: be}))
    assert.equal(modern.serial, '02c000817cb64c144e4521400a5c2d1e')
    assert.equal(old.serial, modern.serial)
  })

  it('refuses a short read and reports a missing device', async () => {
    const short = await attempt({options: {device: 'imx-ocotp0', words: [3, 2]}, source: 'nvmem'}, inMemory({[OCOTP]: Buffer.alloc(8, 1)}))
    assert.match(short.reason ?? '', /truncated: read 8 of 16 bytes/)
    const missing = await attempt({options: {device: 'imx-ocotp0', words: [2, 1]}, source: 'nvmem'}, inMemory({}))
    assert.match(missing.reason ?? '', /no nvmem device imx-ocotp0/)
  })
})
