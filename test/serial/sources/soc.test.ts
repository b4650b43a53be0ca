import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {attempt, inMemory} from './helpers.js'

const SOC = '/sys/devices/soc0'

describe('soc-serial', () => {
  it('reads the i.MX UID and folds its case', async () => {
    const a = await attempt('soc-serial', inMemory({[`${SOC}/serial_number`]: '240F31D4E1FDFCA7\n'}))
    assert.deepEqual([a.serial, a.read], ['240f31d4e1fdfca7', '240F31D4E1FDFCA7'])
  })

  it('reads soc_uid on old NXP BSP kernels', async () => {
    assert.equal((await attempt('soc-serial', inMemory({[`${SOC}/soc_uid`]: '240F31D4E1FDFCA7\n'}))).serial, '240f31d4e1fdfca7')
  })

  it('refuses the all-zero UID of a failed OCOTP lookup', async () => {
    const a = await attempt('soc-serial', inMemory({[`${SOC}/serial_number`]: '0000000000000000\n'}))
    assert.equal(a.verdict, 'refused')
  })

  it('puts soc_id in front of a Qualcomm serial, and still refuses a placeholder behind it', async () => {
    const spec = {options: {includeSocId: true}, source: 'soc-serial'}
    assert.equal((await attempt(spec, inMemory({[`${SOC}/serial_number`]: '3761520834\n', [`${SOC}/soc_id`]: '356\n'}))).serial, '356-3761520834')
    const zero = await attempt(spec, inMemory({[`${SOC}/serial_number`]: '0000000000\n', [`${SOC}/soc_id`]: '356\n'}))
    assert.equal(zero.verdict, 'refused')
    const noId = await attempt(spec, inMemory({[`${SOC}/serial_number`]: '3761520834\n'}))
    assert.equal(noId.verdict, 'invalid')
    assert.match(noId.reason ?? '', /soc_id is not/)
  })

  it('is absent on SoCs whose driver fills no serial', async () => {
    const a = await attempt('soc-serial', inMemory({[`${SOC}/machine`]: 'Raspberry Pi 4\n'}))
    assert.equal(a.verdict, 'absent')
  })
})
