import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, describe, it} from 'node:test'

import {probeIdentity, type ProbeReport} from '../../src/serial/probe.js'
import {fixtures, shared} from '../helpers/paths.js'
import {dtString, dtStrings, makeRoot, nic, removeRoot, type Tree} from './helpers/root.js'
import {dmiTreeFromDmidecode, dmiTreeFromTable} from './helpers/smbios.js'

const HW = (...p: string[]) => readFileSync(shared('fixtures', 'hardware', ...p))
const roots: string[] = []
after(() => Promise.all(roots.map((r) => removeRoot(r))))

async function probe(...trees: Tree[]): Promise<ProbeReport> {
  const root = await makeRoot(Object.assign({}, ...trees))
  roots.push(root)
  return probeIdentity({root})
}

const source = (report: ProbeReport, entry: string) => {
  const found = report.sources.find((s) => s.entry === entry)
  assert.ok(found, `${entry} listed (have: ${report.sources.map((s) => s.entry).join(', ')})`)
  return found
}

describe('probeIdentity on captured trees', () => {
  it('a Raspberry Pi 5: device tree and cpuinfo serials, the board and what its chain derives', async () => {
    const report = await probe(
      {
        '/proc/cpuinfo': HW('raspberry-pi-5', 'cpuinfo.hrw-arm-socs-table'),
        '/sys/firmware/devicetree/base/compatible': dtStrings('raspberrypi,5-model-b', 'brcm,bcm2712'),
        '/sys/firmware/devicetree/base/model': dtString('Raspberry Pi 5 Model B Rev 1.0'),
        '/sys/firmware/devicetree/base/serial-number': dtString('48343bbbe3ae743b'),
      },
      nic('end0', {address: '2c:cf:67:00:12:34', bus: '/sys/devices/platform/axi/1000120000.pcie/1f00100000.ethernet', driver: 'macb'}),
    )
    assert.deepEqual(report.board, {id: 'raspberry-pi', reason: 'device-tree compatible raspberrypi,5-model-b', title: report.board.title})
    assert.equal(report.facts.model, 'Raspberry Pi 5 Model B Rev 1.0')
    assert.equal(source(report, 'devicetree-serial').usable, true)
    assert.equal(source(report, 'cpuinfo-serial').value, '48343bbbe3ae743b')
    assert.equal(source(report, 'mac[end0]').usable, true)
    assert.deepEqual([report.recommended.serial, report.recommended.entry], ['48343bbbe3ae743b', 'devicetree-serial'])
    assert.deepEqual(report.recommended.plugs, ['hardware-observe'])
    assert.equal(report.virtualMachine.detected, false)
    assert.equal(report.system, undefined)
    assert.deepEqual(report.suggestions, [])
  })

  it('a BeagleBone: the root-only EEPROM and the placeholder cpuinfo serial', async () => {
    const report = await probe({
      '/proc/cpuinfo': 'Hardware\t: Generic AM33XX (Flattened Device Tree)\nSerial\t\t: 0000000000000000\n',
      '/sys/bus/i2c/devices/0-0050/eeprom': {data: HW('beaglebone-black', 'eeprom-0-0050.bin'), mode: 0o400},
      '/sys/firmware/devicetree/base/compatible': dtStrings('ti,am335x-bone-black', 'ti,am335x-bone', 'ti,am33xx'),
    })
    assert.equal(report.board.id, 'beaglebone')
    const eeprom = source(report, 'beaglebone-eeprom[/sys/bus/i2c/devices/0-0050/eeprom]')
    assert.deepEqual([eeprom.usable, eeprom.value, eeprom.mode], [true, '2313BBBK0099', '0400'])
    assert.ok(eeprom.warnings.some((w) => w.kind === 'root-only'))
    const cpu = source(report, 'cpuinfo-serial')
    assert.equal(cpu.usable, false)
    assert.ok(cpu.warnings.some((w) => w.kind === 'placeholder'))
    assert.equal(report.recommended.serial, '2313BBBK0099')
  })

  it('a BeaglePlay: its K3 record-format EEPROM is probed as such, never as an AM335x one', async () => {
    const play = readFileSync(fixtures('hardware', 'ti-am6', 'beagleplay-0-0050.bin'))
    const report = await probe({
      '/sys/bus/i2c/devices/0-0050/eeprom': {data: play, mode: 0o400},
      '/sys/firmware/devicetree/base/compatible': dtStrings('beagle,am625-beagleplay', 'ti,am625'),
    })
    assert.equal(report.board.id, 'beagleplay')
    const eeprom = source(report, 'ti-am6-eeprom[/sys/bus/i2c/devices/0-0050/eeprom]')
    assert.deepEqual([eeprom.usable, eeprom.value], [true, '0623002931'])
    assert.ok(!report.sources.some((s) => s.source === 'beaglebone-eeprom'))
    assert.equal(report.recommended.serial, '0623002931')
    // On a board detected as something else, the EEPROM still points at its profile.
    const other = await probe({'/sys/bus/i2c/devices/0-0050/eeprom': play})
    assert.ok(other.suggestions.includes('/sys/bus/i2c/devices/0-0050/eeprom holds a TI AM6x (K3) board EEPROM: --board beagleplay uses it'))
  })

  it('an ONIE switch EEPROM is found on the I2C bus', async () => {
    const report = await probe({'/sys/bus/i2c/devices/2-0050/eeprom': HW('onie', 'onie-qemu-eeprom.dat')})
    assert.equal(source(report, 'onie-tlv[/sys/bus/i2c/devices/2-0050/eeprom]').value, 'FAKE-SN-123456')
    assert.ok(report.suggestions.includes('/sys/bus/i2c/devices/2-0050/eeprom holds an ONIE TlvInfo table: --board onie-switch uses it'))
  })

  it('an ASRock board: placeholder system serial, real board serial, root-only DMI files', async () => {
    const report = await probe(dmiTreeFromTable(HW('x86-dmi-raw', 'asrock-x399-taichi.DMI.bin')))
    assert.equal(report.board.id, 'x86')
    const system = source(report, 'dmi[product_serial]')
    assert.equal(system.usable, false)
    assert.ok(system.warnings.some((w) => w.kind === 'placeholder'))
    const board = source(report, 'dmi[board_serial]')
    assert.deepEqual([board.usable, board.mode], [true, '0400'])
    assert.ok(board.warnings.some((w) => w.kind === 'root-only'))
    assert.equal(report.recommended.serial, 'M80-B7007400024')
    assert.equal(report.virtualMachine.detected, false)
  })

  it('a VirtualBox VM: virtual-machine warnings on DMI and MAC sources', async () => {
    const report = await probe(dmiTreeFromDmidecode(HW('x86-dmi', 'virtualbox.dmidecode-t1.txt').toString()), nic('enp0s3', {address: '08:00:27:4e:66:a1', bus: '/sys/devices/pci0000:00/0000:00:03.0', driver: 'e1000'}))
    assert.ok(report.virtualMachine.detected)
    assert.match(report.virtualMachine.evidence.join(), /DMI says innotek GmbH/)
    assert.match(report.virtualMachine.evidence.join(), /enp0s3 has a VirtualBox address/)
    assert.ok(source(report, 'dmi[product_uuid]').warnings.some((w) => w.kind === 'virtual-machine'))
    assert.ok(source(report, 'mac[enp0s3]').warnings.some((w) => w.kind === 'virtual-machine'))
    assert.ok(report.warnings.some((w) => w.kind === 'virtual-machine'))
  })

  it('a VM without DMI and with a VMM-assigned MAC: nothing usable, and a suggestion', async () => {
    const report = await probe(
      {'/proc/cpuinfo': 'vendor_id\t: AuthenticAMD\nflags\t\t: fpu vme hypervisor lahf_lm\n', '/etc/machine-id': '0123456789abcdef0123456789abcdef\n', '/sys/class/tpm/tpm0/tpm_version_major': '2\n'},
      nic('eth0', {address: '02:fc:00:00:00:01', bus: '/sys/devices/pci0000:00/0000:00:03.0/virtio2', driver: 'virtio_net'}),
      nic('lo', {address: '00:00:00:00:00:00', type: 772, virtual: true}),
    )
    assert.equal(report.board.id, 'x86')
    assert.equal(report.recommended.serial, undefined)
    assert.ok(report.recommended.attempts.every((a) => /no DMI/.test(a.reason ?? '')))
    const eth0 = source(report, 'mac[eth0]')
    assert.equal(eth0.usable, false)
    assert.ok(eth0.warnings.some((w) => w.kind === 'locally-administered'))
    assert.ok(!report.sources.some((s) => s.entry === 'mac[lo]'))
    assert.deepEqual(report.virtualMachine.evidence, ['the CPU reports a hypervisor', 'virtio network device eth0'])
    assert.match(report.suggestions.join('\n'), /only eth0 has an address \(02:fc:00:00:00:01\), and it is locally administered/)
    assert.match(source(report, 'machine-id').reason ?? '', /identifies the installation/)
    assert.equal(source(report, 'tpm').usable, false)
  })

  it('an empty root: no sources, the generic profile, a failed chain', async () => {
    const report = await probe({})
    assert.deepEqual(report.sources, [])
    assert.equal(report.board.id, 'generic-arm')
    assert.equal(report.recommended.serial, undefined)
  })
})
