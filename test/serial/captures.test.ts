/**
 * Every real board capture in ../shared/fixtures/hardware, laid out as a root tree, run through
 * its board's default chain: the serial must be the value SOURCES.md documents, and the captures
 * that hold no usable serial must fail with the reason (never a placeholder serial).
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {after, describe, it} from 'node:test'

import {UserError} from '../../src/errors.js'
import type {SourceAttempt} from '../../src/serial/chain.js'
import {deriveSerial} from '../../src/serial/derive.js'
import {shared} from '../helpers/paths.js'
import {makeRoot, removeRoot, type Tree} from './helpers/root.js'
import {dmiTreeFromDmidecode, dmiTreeFromTable} from './helpers/smbios.js'

const HARDWARE = shared('fixtures', 'hardware')
const SOURCES = readFileSync(join(HARDWARE, 'SOURCES.md'), 'utf8')

type Layout = (bytes: Buffer) => Tree

const asCpuinfo: Layout = (bytes) => ({'/proc/cpuinfo': bytes})
const asBoardEeprom: Layout = (bytes) => ({'/sys/bus/i2c/devices/0-0050/eeprom': {data: bytes, mode: 0o400}})
const asSystemEeprom: Layout = (bytes) => ({'/sys/bus/i2c/devices/2-0050/eeprom': {data: bytes, mode: 0o400}})
const asDmiTable: Layout = (bytes) => dmiTreeFromTable(bytes)
const asDmidecode: Layout = (bytes) => dmiTreeFromDmidecode(bytes.toString('utf8'))

interface Capture {
  board: string
  layout: Layout
  /** The serial, and the chain entry that must produce it. */
  serial?: {entry: string; value: string}
  /** Or: derivation fails, and these attempts say why. */
  fails?: Record<string, RegExp>
}

const PI_NO_SERIAL = {
  'cpuinfo-serial': /no Serial line/,
  'devicetree-serial': /serial-number/,
  'devicetree-serial[chosen/rpi-duid]': /not described by a device tree/,
  'devicetree-serial[system/linux,serial]': /linux,serial/,
}

/** Capture file (relative to fixtures/hardware) → what its board's chain must derive. */
const CAPTURES: Record<string, Capture> = {
  'beaglebone-black/eeprom-0-0050.bin': {board: 'beaglebone', layout: asBoardEeprom, serial: {entry: 'beaglebone-eeprom', value: '2313BBBK0099'}},
  'hardkernel-odroid-u2/cpuinfo': {board: 'generic-arm', fails: {'cpuinfo-serial': /placeholder "0{16}"/}, layout: asCpuinfo},
  'nvidia-jetson-nano/cpuinfo.mainline-5.15': {board: 'jetson', fails: {'cpuinfo-serial': /no Serial line/, 'devicetree-serial': /does not exist|none of/}, layout: asCpuinfo},
  'nvidia-jetson-tx1/cpuinfo.l4t-3.10': {board: 'jetson', layout: asCpuinfo, serial: {entry: 'cpuinfo-serial', value: '088403e800000000'}},
  'nxp-imx8qxp/cpuinfo': {
    board: 'nxp-imx',
    fails: {'imx-ocotp-uid': /not described by a device tree/, 'onie-tlv': /no EEPROM/, 'soc-serial': /soc0/},
    layout: asCpuinfo,
  },
  'onie/onie-qemu-eeprom.dat': {board: 'onie-switch', layout: asSystemEeprom, serial: {entry: 'onie-tlv', value: 'FAKE-SN-123456'}},
  'raspberry-pi-1b/cpuinfo.pytorch': {board: 'raspberry-pi', layout: asCpuinfo, serial: {entry: 'cpuinfo-serial', value: '000000009c53b6d7'}},
  'raspberry-pi-2b/cpuinfo.pytorch-no-serial': {board: 'raspberry-pi', fails: PI_NO_SERIAL, layout: asCpuinfo},
  'raspberry-pi-3b/cpuinfo.arm64-kernel-armhf-userland': {board: 'raspberry-pi', layout: asCpuinfo, serial: {entry: 'cpuinfo-serial', value: '000000002e2fe545'}},
  'raspberry-pi-3b/cpuinfo.armv7-4.9.41': {board: 'raspberry-pi', layout: asCpuinfo, serial: {entry: 'cpuinfo-serial', value: '000000007615217c'}},
  'raspberry-pi-3b/cpuinfo.pytorch-serial-redacted': {board: 'raspberry-pi', fails: {'cpuinfo-serial': /"00000000xxxxxxxx".*not hexadecimal/}, layout: asCpuinfo},
  'raspberry-pi-3bplus/cpuinfo.arm64': {board: 'raspberry-pi', layout: asCpuinfo, serial: {entry: 'cpuinfo-serial', value: '00000000e4bc4f5f'}},
  'raspberry-pi-4b/cpuinfo.arm64-no-hardware-line': {board: 'raspberry-pi', layout: asCpuinfo, serial: {entry: 'cpuinfo-serial', value: '100000000fe69593'}},
  'raspberry-pi-4b/cpuinfo.no-rpi-lines': {board: 'raspberry-pi', fails: PI_NO_SERIAL, layout: asCpuinfo},
  'raspberry-pi-5/cpuinfo.hrw-arm-socs-table': {board: 'raspberry-pi', layout: asCpuinfo, serial: {entry: 'cpuinfo-serial', value: '48343bbbe3ae743b'}},
  'raspberry-pi-cm4/cpuinfo.arm64': {board: 'raspberry-pi', layout: asCpuinfo, serial: {entry: 'cpuinfo-serial', value: '10000000afbf721a'}},
  'raspberry-pi-zero/cpuinfo.pytorch': {board: 'raspberry-pi', layout: asCpuinfo, serial: {entry: 'cpuinfo-serial', value: '00000000e0de355d'}},
  'rockchip-rk3399/cpuinfo.no-serial': {board: 'rockchip', fails: {'cpuinfo-serial': /no Serial line/, 'rockchip-cpu-id': /no nvmem device/}, layout: asCpuinfo},
  'rockchip-rk3528/cpuinfo.vendor-5.10': {board: 'rockchip', layout: asCpuinfo, serial: {entry: 'cpuinfo-serial', value: '8f05e6569c61bf21'}},
  'rockchip-rk3588/cpuinfo.serial-redacted': {board: 'rockchip', fails: {'cpuinfo-serial': /"<removed>".*not hexadecimal/}, layout: asCpuinfo},
  'ti-beagleboard-xm/cpuinfo': {board: 'generic-arm', fails: {'cpuinfo-serial': /placeholder "0{16}"/}, layout: asCpuinfo},
  'x86-dmi-raw/aaeon-up-cht01.DMI.bin': {board: 'x86', layout: asDmiTable, serial: {entry: 'dmi[product_serial]', value: '19620608'}},
  'x86-dmi-raw/asrock-x399-taichi.DMI.bin': {board: 'x86', layout: asDmiTable, serial: {entry: 'dmi[board_serial]', value: 'M80-B7007400024'}},
  'x86-dmi/system76-oryp7.dmidecode-t1.txt': {
    board: 'x86',
    fails: {'dmi[board_serial]': /did not fill board_serial/, 'dmi[product_serial]': /"123456789"/, 'dmi[product_uuid]': /no system UUID/},
    layout: asDmidecode,
  },
  // SOURCES.md documents serial 0 (a placeholder): the chain moves on to the VM's UUID, lower-cased.
  'x86-dmi/virtualbox.dmidecode-t1.txt': {board: 'x86', layout: asDmidecode, serial: {entry: 'dmi[product_uuid]', value: '2961ecf6-7e94-488d-ae0d-e427123078b3'}},
}

function captureFiles(dir = HARDWARE): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return captureFiles(path)
    return e.name === 'SOURCES.md' ? [] : [relative(HARDWARE, path)]
  })
}

const roots: string[] = []
after(async () => Promise.all(roots.map((r) => removeRoot(r))))

async function rootFor(tree: Tree): Promise<string> {
  const root = await makeRoot(tree)
  roots.push(root)
  return root
}

describe('board captures through their default chains', () => {
  it('has an expectation for every capture in fixtures/hardware', () => {
    assert.deepEqual(captureFiles().sort(), Object.keys(CAPTURES).sort())
  })

  for (const [file, capture] of Object.entries(CAPTURES)) {
    it(`${file} (${capture.board})`, async () => {
      const bytes = readFileSync(join(HARDWARE, file))
      const root = await rootFor(capture.layout(bytes))
      if (capture.serial) {
        const result = await deriveSerial({board: capture.board, root})
        assert.equal(result.serial, capture.serial.value)
        assert.equal(result.entry, capture.serial.entry)
        // The value is the one SOURCES.md (or, for the VM's UUID, the capture itself) records.
        const documented = SOURCES.includes(capture.serial.value) || bytes.toString('latin1').toLowerCase().includes(capture.serial.value.toLowerCase())
        assert.ok(documented, `${capture.serial.value} is documented`)
        return
      }

      const error = await deriveSerial({board: capture.board, root}).then(
        (r) => assert.fail(`derived ${r.serial}, expected no serial`),
        (error_: unknown) => error_,
      )
      assert.ok(error instanceof UserError)
      assert.equal(error.code, 'E_SERIAL_NONE')
      assert.equal(error.kind, 'failed')
      const attempts = (error.details as {attempts: SourceAttempt[]}).attempts
      assert.ok(attempts.every((a) => a.verdict !== 'used'))
      for (const [entry, reason] of Object.entries(capture.fails ?? {})) {
        const attempt = attempts.find((a) => a.entry === entry)
        assert.ok(attempt, `${entry} was tried (tried: ${attempts.map((a) => a.entry).join(', ')})`)
        assert.match(attempt.reason ?? '', reason, entry)
        assert.match(error.message, new RegExp(entry.replace(/[$()*+.?[\\\]^{|}]/g, '\\$&')))
      }
    })
  }
})

describe('device-tree serials derived from the captures', () => {
  // No raw serial-number file is public; SOURCES.md says to build them from the cpuinfo serials.
  const pis = Object.entries(CAPTURES).filter(([, c]) => c.board === 'raspberry-pi' && c.serial)
  const noSerial = readFileSync(join(HARDWARE, 'raspberry-pi-4b/cpuinfo.no-rpi-lines'))

  for (const [file, capture] of pis) {
    const serial = capture.serial!.value
    it(`${file}: serial-number "${serial}\\0" wins over a kernel without cpuinfo lines`, async () => {
      const root = await rootFor({'/proc/cpuinfo': noSerial, '/sys/firmware/devicetree/base/serial-number': Buffer.from(`${serial}\0`)})
      const result = await deriveSerial({board: 'raspberry-pi', root})
      assert.deepEqual([result.serial, result.entry], [serial, 'devicetree-serial'])
    })

    it(`${file}: system/linux,serial (8 bytes big-endian) gives the same serial`, async () => {
      const root = await rootFor({'/proc/cpuinfo': noSerial, '/sys/firmware/devicetree/base/system/linux,serial': Buffer.from(serial, 'hex')})
      const result = await deriveSerial({board: 'raspberry-pi', root})
      assert.deepEqual([result.serial, result.entry], [serial, 'devicetree-serial[system/linux,serial]'])
    })
  }
})

describe('raw SMBIOS tables, as the kernel exports them', () => {
  it('ASRock X399: every Type 1 field is a placeholder; the UUID is MAC-derived in both byte orders', async () => {
    const bytes = readFileSync(join(HARDWARE, 'x86-dmi-raw/asrock-x399-taichi.DMI.bin'))
    for (const [version, uuid] of [
      [0x03_00, '8fc28570-df98-0000-0000-000000000000'],
      [0x02_05, '7085c28f-98df-0000-0000-000000000000'],
    ] as const) {
      const tree = dmiTreeFromTable(bytes, version)
      assert.equal((tree['/sys/devices/virtual/dmi/id/product_uuid'] as {data: string}).data, `${uuid}\n`)
      // Only the UUID left: it is used, flagged as low-confidence.
      delete tree['/sys/devices/virtual/dmi/id/board_serial']
      const root = await rootFor(tree)
      const result = await deriveSerial({board: 'x86', root})
      assert.equal(result.serial, uuid)
      const used = result.attempts.at(-1)!
      assert.match(used.notes?.join() ?? '', /MAC address followed by zeros/)
      assert.match(result.attempts[0].reason ?? '', /To Be Filled By O\.E\.M\./)
      assert.match(result.attempts[2].reason ?? '', /Default string/)
    }
  })
})
