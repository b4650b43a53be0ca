import assert from 'node:assert/strict'
import {after, describe, it} from 'node:test'

import {makeRoot, nic, removeRoot, type Tree} from '../helpers/root.js'
import {attempt, inMemory} from './helpers.js'

const roots: string[] = []
after(() => Promise.all(roots.map((r) => removeRoot(r))))
async function root(...trees: Tree[]): Promise<{root: string}> {
  const dir = await makeRoot(Object.assign({}, ...trees))
  roots.push(dir)
  return {root: dir}
}

const PCI = (fn: string) => `/sys/devices/pci0000:00/${fn}`

describe('mac', () => {
  it('takes the first physical port by bus path, not by name', async () => {
    const tree = await root(
      nic('eth0', {address: '00:1b:21:aa:bb:02', bus: PCI('0000:00:1f.6')}),
      nic('eth1', {address: '00:1b:21:aa:bb:01', bus: PCI('0000:00:03.0')}),
      nic('lo', {address: '00:00:00:00:00:00', type: 772, virtual: true}),
    )
    const a = await attempt('mac', tree)
    assert.deepEqual([a.verdict, a.serial, a.origin], ['used', '001b21aabb01', '/sys/class/net/eth1/address'])
    assert.match(a.notes?.join() ?? '', /eth1 at \/sys\/devices\/pci0000:00\/0000:00:03\.0\/net\/eth1/)
  })

  it('skips virtual, bridge, bond, enslaved, USB, wireless and non-Ethernet devices', async () => {
    const tree = await root(
      nic('br0', {address: '00:1b:21:00:00:01', virtual: true}),
      {'/sys/devices/virtual/net/br0/bridge/.keep': ''},
      nic('eth0', {address: '00:1b:21:00:00:02', bus: PCI('0000:00:01.0'), master: 'bond0'}),
      nic('usb0', {address: '00:1b:21:00:00:03', bus: '/sys/devices/platform/soc/usb1/1-1/1-1:1.0', driver: 'r8152'}),
      nic('wlan0', {address: '00:1b:21:00:00:04', bus: PCI('0000:00:02.0'), driver: 'iwlwifi', wireless: true}),
      nic('ib0', {address: '00:1b:21:00:00:05', bus: PCI('0000:00:04.0'), type: 32}),
    )
    const a = await attempt('mac', tree)
    assert.equal(a.verdict, 'invalid')
    for (const why of [/br0: virtual/, /eth0: enslaved to bond0/, /usb0: a USB adapter/, /wlan0: wireless/, /ib0: not Ethernet \(type 32\)/]) assert.match(a.reason ?? '', why)
    assert.equal((await attempt({options: {allowUsb: true}, source: 'mac'}, tree)).serial, '001b21000003')
    assert.equal((await attempt({options: {allowWireless: true, interface: 'wlan*'}, source: 'mac'}, tree)).serial, '001b21000004')
  })

  it('refuses a locally administered address unless allowed', async () => {
    const tree = await root(nic('eth0', {address: '02:fc:00:00:00:01', bus: PCI('0000:00:03.0/virtio2'), driver: 'virtio_net'}))
    const refused = await attempt('mac', tree)
    assert.equal(refused.verdict, 'invalid')
    assert.match(refused.reason ?? '', /eth0: locally administered address 02:fc:00:00:00:01/)
    assert.equal((await attempt({options: {allowLocallyAdministered: true}, source: 'mac'}, tree)).serial, '02fc00000001')
  })

  it('refuses random, stolen and software-set addresses and placeholder MACs', async () => {
    for (const [options, why] of [
      [{address: '00:1b:21:00:00:09', assign: 1}, /random address/],
      [{address: '00:1b:21:00:00:09', assign: 2}, /stolen address/],
      [{address: '00:1b:21:00:00:09', assign: 3}, /set by software/],
      [{address: '00:00:00:00:00:00'}, /placeholder MAC/],
      [{address: 'ff:ff:ff:ff:ff:ff'}, /placeholder MAC/],
      [{address: '01:00:5e:00:00:fb'}, /multicast/],
    ] as const) {
      const a = await attempt('mac', await root(nic('eth0', options)))
      assert.match(a.reason ?? '', why)
    }
  })

  it('chooses by name, glob or bus path', async () => {
    const tree = await root(nic('end0', {address: '00:04:9f:00:00:01', bus: '/sys/devices/platform/soc/30be0000.ethernet', driver: 'fec'}), nic('enp1s0', {address: '00:1b:21:00:00:02', bus: PCI('0000:01:00.0')}))
    assert.equal((await attempt('mac', tree)).serial, '001b21000002')
    assert.equal((await attempt({options: {interface: 'end0'}, source: 'mac'}, tree)).serial, '00049f000001')
    assert.equal((await attempt({options: {interface: 'enp*'}, source: 'mac'}, tree)).serial, '001b21000002')
    assert.equal((await attempt({options: {busPath: '30be0000.ethernet'}, source: 'mac'}, tree)).serial, '00049f000001')
    const none = await attempt({options: {interface: 'eth9'}, source: 'mac'}, tree)
    assert.match(none.reason ?? '', /no interface matches eth9 \(present: enp1s0, end0\)/)
  })

  it('reports an unreadable address as denied', async () => {
    const files = {'/sys/class/net/eth0/type': '1\n'}
    const a = await attempt('mac', inMemory(files, {'/sys/class/net/eth0/address': 'EACCES'}))
    assert.equal(a.verdict, 'denied')
    assert.match(a.reason ?? '', /network-observe/)
  })

  it('is absent without network interfaces', async () => {
    assert.match((await attempt('mac', inMemory({}))).reason ?? '', /lists no network interfaces/)
  })
})
