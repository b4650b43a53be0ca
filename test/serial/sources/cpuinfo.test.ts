import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {attempt, inMemory} from './helpers.js'

describe('cpuinfo-serial', () => {
  it('parses the Serial line with tabs or spaces', async () => {
    for (const line of ['Serial\t\t: 48343bbbe3ae743b', 'Serial          : 48343bbbe3ae743b', 'Serial: 48343bbbe3ae743b ']) {
      const a = await attempt('cpuinfo-serial', inMemory({'/proc/cpuinfo': `processor\t: 0\nHardware\t: BCM2835\n${line}\nModel\t: Raspberry Pi 5\n`}))
      assert.equal(a.serial, '48343bbbe3ae743b', line)
    }
  })

  it('does not take other lines that mention a serial', async () => {
    const a = await attempt('cpuinfo-serial', inMemory({'/proc/cpuinfo': 'model name\t: Serial Killer CPU\nSerial Number\t: x\n'}))
    assert.equal(a.verdict, 'absent')
    assert.match(a.reason ?? '', /no Serial line/)
  })

  it('refuses a Serial that is not hex unless told otherwise', async () => {
    const files = {'/proc/cpuinfo': 'Serial   : 00000000xxxxxxxx\n'}
    assert.equal((await attempt('cpuinfo-serial', inMemory(files))).verdict, 'invalid')
    const lax = await attempt({options: {hex: false}, source: 'cpuinfo-serial'}, inMemory(files))
    assert.equal(lax.verdict, 'refused')
    assert.match(lax.reason ?? '', /redacted/)
    assert.equal((await attempt({options: {hex: false}, source: 'cpuinfo-serial'}, inMemory({'/proc/cpuinfo': 'Serial : 2313BBBK0099\n'}))).serial, '2313BBBK0099')
  })
})
