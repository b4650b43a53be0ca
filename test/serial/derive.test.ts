import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseSerialConfig} from '../../src/serial/config/serial-config.js'
import {deriveSerial, trySerial} from '../../src/serial/derive.js'
import {hashValue} from '../../src/serial/transforms.js'
import {memoryFs} from './helpers/memory-fs.js'
import {dtString, dtStrings} from './helpers/root.js'

// A Pi 5 that also has a soc0 serial and a board_serial, so each way of choosing a chain gives a different answer.
const fs = memoryFs({
  '/proc/cpuinfo': 'Serial\t\t: 48343bbbe3ae743b\n',
  '/sys/class/dmi/id/board_serial': 'M80-B7007400024\n',
  '/sys/devices/soc0/serial_number': '240F31D4E1FDFCA7\n',
  '/sys/firmware/devicetree/base/compatible': dtStrings('raspberrypi,5-model-b', 'brcm,bcm2712'),
  '/sys/firmware/devicetree/base/serial-number': dtString('DT-48343BBB'),
})

describe('which chain applies', () => {
  const config = parseSerialConfig({board: 'x86', brand: 'acme', chain: ['soc-serial'], transforms: [{prefix: 'c-'}]})

  it('--chain beats --board, which beats the configuration, which beats detection', async () => {
    assert.equal((await deriveSerial({board: 'x86', chain: 'cpuinfo-serial', config, fs})).serial, 'c-48343bbbe3ae743b')
    assert.equal((await deriveSerial({board: 'x86', config, fs})).serial, 'c-M80-B7007400024')
    assert.equal((await deriveSerial({config, fs})).serial, 'c-240f31d4e1fdfca7')
    assert.equal((await deriveSerial({config: parseSerialConfig({board: 'x86'}), fs})).serial, 'M80-B7007400024')
    const detected = await deriveSerial({fs})
    assert.deepEqual([detected.serial, detected.board, detected.boardBy], ['DT-48343BBB', 'raspberry-pi', 'detected: device-tree compatible raspberrypi,5-model-b'])
  })

  it('takes the brand from the configuration as the default hash salt', async () => {
    const hashed = parseSerialConfig({brand: 'acme', chain: ['cpuinfo-serial'], transforms: [{hash: {length: 24}}]})
    assert.equal((await deriveSerial({config: hashed, fs})).serial, hashValue('48343bbbe3ae743b', {length: 24}, 'acme'))
    assert.equal((await deriveSerial({brand: 'other', config: hashed, fs})).serial, hashValue('48343bbbe3ae743b', {length: 24}, 'other'))
  })

  it('trySerial returns the attempts instead of throwing', async () => {
    const outcome = await trySerial({board: 'qualcomm', fs: memoryFs({})})
    assert.equal(outcome.serial, undefined)
    assert.deepEqual(
      outcome.attempts.map((a) => a.entry),
      ['soc-serial', 'devicetree-serial'],
    )
    assert.deepEqual(outcome.plugs, ['hardware-observe'])
  })
})
