import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {dtString, dtStrings} from '../helpers/root.js'
import {attempt, inMemory} from './helpers.js'

const BASE = '/sys/firmware/devicetree/base'

describe('devicetree-serial', () => {
  it('reads the NUL-terminated serial-number', async () => {
    const a = await attempt('devicetree-serial', inMemory({[`${BASE}/serial-number`]: dtString('48343bbbe3ae743b')}))
    assert.deepEqual([a.verdict, a.serial, a.origin], ['used', '48343bbbe3ae743b', `${BASE}/serial-number`])
  })

  it('falls back to /proc/device-tree', async () => {
    const a = await attempt('devicetree-serial', inMemory({'/proc/device-tree/serial-number': dtString('0421519091609')}))
    assert.deepEqual([a.serial, a.origin], ['0421519091609', '/proc/device-tree/serial-number'])
  })

  it('takes the first string of a list and drops a newline U-Boot left inside', async () => {
    assert.equal((await attempt('devicetree-serial', inMemory({[`${BASE}/serial-number`]: dtStrings('MT1607X11210\n', 'second')}))).serial, 'MT1607X11210')
  })

  it('refuses a binary property read as a string, and reads it as hex when told to', async () => {
    const files = {[`${BASE}/system/linux,serial`]: Buffer.from('10000000afbf721a', 'hex')}
    const text = await attempt({options: {property: 'system/linux,serial'}, source: 'devicetree-serial'}, inMemory(files))
    assert.equal(text.verdict, 'invalid')
    assert.match(text.reason ?? '', /binary, not a string \(use encoding: hex\)/)
    const hex = await attempt({options: {encoding: 'hex', property: 'system/linux,serial'}, source: 'devicetree-serial'}, inMemory(files))
    assert.equal(hex.serial, '10000000afbf721a')
  })

  it('is absent without a device tree, and refuses placeholders and an empty property', async () => {
    const none = await attempt('devicetree-serial', inMemory({}))
    assert.equal(none.verdict, 'absent')
    assert.match(none.reason ?? '', /none of \/sys\/firmware\/devicetree\/base\/serial-number, \/proc\/device-tree\/serial-number exists/)
    assert.equal((await attempt('devicetree-serial', inMemory({[`${BASE}/serial-number`]: dtString('0000000000000000')}))).verdict, 'refused')
    assert.equal((await attempt('devicetree-serial', inMemory({[`${BASE}/serial-number`]: Buffer.from([0])}))).reason, 'empty')
    // PX30 vendor-storage serial cloned onto every unit.
    assert.match((await attempt('devicetree-serial', inMemory({[`${BASE}/serial-number`]: dtString('c3d9b8674f4b94f6')}))).reason ?? '', /same on every unit/)
  })

  it('uses chosen/rpi-duid only on a Pi 5 (raspberry-pi profile)', async () => {
    const {deriveSerial} = await import('../../../src/serial/derive.js')
    const files = {[`${BASE}/chosen/rpi-duid`]: dtString('1234987650012345')}
    const pi5 = await deriveSerial({board: 'raspberry-pi', ...inMemory({...files, [`${BASE}/compatible`]: dtStrings('raspberrypi,5-model-b', 'brcm,bcm2712')})})
    assert.deepEqual([pi5.serial, pi5.entry], ['1234987650012345', 'devicetree-serial[chosen/rpi-duid]'])
    const pi4 = await deriveSerial({board: 'raspberry-pi', ...inMemory({...files, [`${BASE}/compatible`]: dtStrings('raspberrypi,4-model-b', 'brcm,bcm2711')})}).catch((error: Error) => error)
    assert.match(String(pi4), /chosen\/rpi-duid\]: skipped: only for raspberrypi,5\*/)
  })
})
