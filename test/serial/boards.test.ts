import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {UserError} from '../../src/errors.js'
import {boardIds, checkBoardProfile, detectBoard, listBoards, loadBoard} from '../../src/serial/boards.js'
import {resolveChain} from '../../src/serial/chain.js'
import {createSourceContext} from '../../src/serial/sources/context.js'
import {memoryFs} from './helpers/memory-fs.js'

const REQUIRED = ['raspberry-pi', 'nxp-imx', 'rockchip', 'allwinner', 'beaglebone', 'jetson', 'qualcomm', 'onie-switch', 'x86']

describe('board profiles', () => {
  it('ships the required families', () => {
    for (const id of REQUIRED) assert.ok(boardIds().includes(id), id)
  })

  for (const profile of listBoards()) {
    it(`${profile.id}: resolves, and declares exactly the interfaces its chain needs`, async () => {
      const chain = await resolveChain(profile, {name: profile.id, place: {file: profile.file}})
      assert.ok(chain.entries.length > 0)
      assert.deepEqual([...profile.interfaces].sort(), [...chain.plugs].sort())
      assert.ok(profile.title.length > 0)
      assert.ok(profile.architectures.length > 0)
    })
  }

  it('an unknown board is a usage error with a suggestion', () => {
    assert.throws(
      () => loadBoard('raspbery-pi'),
      (error: unknown) => error instanceof UserError && error.code === 'E_SERIAL_BOARD' && /did you mean "raspberry-pi"/.test(error.hint ?? ''),
    )
  })

  it('checks profile data with located errors', () => {
    assert.throws(
      () => checkBoardProfile({architectures: ['arm64'], chain: [{source: 'soc-serial'}], id: 'x', interfaces: ['gpio'], title: 'X'}, {file: 'x.json'}),
      /interfaces must be a non-empty list of hardware-observe/,
    )
    assert.throws(() => checkBoardProfile({architectures: ['arm64'], id: 'x', interfaces: ['i2c'], title: 'X'}, {file: 'x.json'}), /no chain/)
    assert.throws(
      () => checkBoardProfile({architecture: ['arm64']}, {file: 'x.json'}),
      (error: unknown) => error instanceof UserError && error.file === 'x.json' && /did you mean "architectures"/.test(error.hint ?? ''),
    )
  })
})

describe('detectBoard', () => {
  const detect = async (files: Record<string, string>) => {
    const {board, reason} = await detectBoard(createSourceContext({fs: memoryFs(files)}))
    return [board.id, reason]
  }

  const dt = (...compatible: string[]) => ({'/sys/firmware/devicetree/base/compatible': compatible.map((c) => `${c}\0`).join('')})

  it('goes by the device-tree compatible, most specific first', async () => {
    assert.deepEqual(await detect(dt('raspberrypi,5-model-b', 'brcm,bcm2712')), ['raspberry-pi', 'device-tree compatible raspberrypi,5-model-b'])
    assert.deepEqual((await detect(dt('fsl,imx8mp-evk', 'fsl,imx8mp')))[0], 'nxp-imx')
    assert.deepEqual((await detect(dt('radxa,rock-5b', 'rockchip,rk3588')))[0], 'rockchip')
    assert.deepEqual((await detect(dt('xunlong,orangepi-zero', 'allwinner,sun8i-h2-plus')))[0], 'allwinner')
    assert.deepEqual((await detect(dt('ti,am335x-bone-black', 'ti,am335x-bone', 'ti,am33xx')))[0], 'beaglebone')
    assert.deepEqual((await detect(dt('nvidia,p3450-0000', 'nvidia,tegra210')))[0], 'jetson')
    assert.deepEqual((await detect(dt('qcom,qrb5165-rb5', 'qcom,sm8250')))[0], 'qualcomm')
  })

  it('picks x86 from SMBIOS tables or an x86 CPU, and the generic profile otherwise', async () => {
    assert.deepEqual(await detect({'/sys/class/dmi/id/sys_vendor': 'LENOVO\n'}), ['x86', 'SMBIOS (DMI) tables'])
    assert.deepEqual(await detect({'/proc/cpuinfo': 'processor\t: 0\nvendor_id\t: GenuineIntel\n'}), ['x86', 'CPU vendor GenuineIntel'])
    assert.deepEqual(await detect(dt('hardkernel,odroid-u2', 'samsung,exynos4412')), ['generic-arm', 'no profile for hardkernel,odroid-u2'])
    assert.deepEqual(await detect({}), ['generic-arm', 'nothing identified the board'])
  })
})
