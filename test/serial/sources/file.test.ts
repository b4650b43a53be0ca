import assert from 'node:assert/strict'
import {after, describe, it} from 'node:test'

import {resolveChain} from '../../../src/serial/chain.js'
import {underRoot} from '../../../src/serial/sources/context.js'
import {makeRoot, removeRoot} from '../helpers/root.js'
import {attempt, inMemory} from './helpers.js'

describe('file', () => {
  it('reads a whole file', async () => {
    assert.equal((await attempt({options: {path: '/etc/acme/board-id'}, source: 'file'}, inMemory({'/etc/acme/board-id': 'GW1-000123\n'}))).serial, 'GW1-000123')
  })

  it('takes the first capture group of a regular expression', async () => {
    const files = {'/etc/nv_tegra_release': '# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64\n'}
    const a = await attempt({options: {path: '/etc/nv_tegra_release', regex: 'GCID: (\\d+)'}, source: 'file'}, inMemory(files))
    assert.equal(a.serial, '29818004')
    const miss = await attempt({options: {path: '/etc/nv_tegra_release', regex: 'SERIAL: (\\w+)'}, source: 'file'}, inMemory(files))
    assert.equal(miss.verdict, 'invalid')
    assert.match(miss.reason ?? '', /no match for/)
  })

  it('folds the case of hex-like formats', async () => {
    assert.equal((await attempt({options: {format: 'uuid', path: '/u'}, source: 'file'}, inMemory({'/u': '2961ECF6-7E94-488D-AE0D-E427123078B3'}))).serial, '2961ecf6-7e94-488d-ae0d-e427123078b3')
  })

  it('declares hardware-observe for sysfs paths, nothing for others, or what it is told', async () => {
    const chain = await resolveChain(
      {
        chain: [
          {options: {path: '/sys/bus/nvmem/devices/x/nvmem'}, source: 'file'},
          {options: {path: '/etc/x'}, source: 'file'},
          {options: {path: '/dev/x', plugs: ['i2c']}, source: 'file'},
        ],
      },
      {name: 'x'},
    )
    assert.deepEqual(
      chain.entries.map((e) => e.plugs),
      [['hardware-observe'], [], ['i2c']],
    )
  })

  it('never reads outside the root', async () => {
    const root = await makeRoot({'/etc/hostname': 'inside\n'})
    after(() => removeRoot(root))
    assert.equal(underRoot(root, '/../../../etc/hostname'), `${root}/etc/hostname`)
    assert.equal(underRoot('/', '/a/../../b'), '/b')
    assert.equal((await attempt({options: {path: '/../../../../etc/hostname'}, source: 'file'}, {root})).serial, 'inside')
  })
})
