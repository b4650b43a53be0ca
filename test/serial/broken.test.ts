/**
 * Broken sources: missing, empty, placeholder, unreadable, truncated, corrupted, hanging. Each
 * either falls through to the next source or fails naming every source and why; none ever
 * yields a placeholder serial.
 */
import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {after, describe, it} from 'node:test'

import {UserError} from '../../src/errors.js'
import type {SourceAttempt} from '../../src/serial/chain.js'
import {parseSerialConfig} from '../../src/serial/config/serial-config.js'
import {deriveSerial, type DeriveSerialOptions, type SerialResult} from '../../src/serial/derive.js'
import {refusalOf} from '../../src/serial/placeholders.js'
import type {SerialFs} from '../../src/serial/sources/source.js'
import {shared} from '../helpers/paths.js'
import {errnoError} from './helpers/memory-fs.js'
import {dtString, makeRoot, nic, removeRoot, type Tree} from './helpers/root.js'

const BBB = readFileSync(shared('fixtures', 'hardware', 'beaglebone-black', 'eeprom-0-0050.bin'))
const ONIE = readFileSync(shared('fixtures', 'hardware', 'onie', 'onie-qemu-eeprom.dat'))
const PI_CPUINFO = 'processor\t: 0\nHardware\t: BCM2835\nRevision\t: d04170\nSerial\t\t: 48343bbbe3ae743b\n'

const roots: string[] = []
after(() => Promise.all(roots.map((r) => removeRoot(r))))
async function root(tree: Tree): Promise<string> {
  const dir = await makeRoot(tree)
  roots.push(dir)
  return dir
}

/** Derives, and checks the one invariant: a serial is never a placeholder. */
async function derive(options: DeriveSerialOptions): Promise<SerialResult> {
  const result = await deriveSerial(options)
  assert.equal(refusalOf(result.serial, 'text'), undefined, `${result.serial} is not a placeholder`)
  return result
}

async function fails(options: DeriveSerialOptions, code = 'E_SERIAL_NONE'): Promise<{attempts: SourceAttempt[]; error: UserError}> {
  const error = await deriveSerial(options).then(
    (r) => assert.fail(`derived ${r.serial}`),
    (error_: unknown) => error_,
  )
  assert.ok(error instanceof UserError, String(error))
  assert.equal(error.code, code)
  assert.equal(error.kind, 'failed')
  return {attempts: (error.details as {attempts: SourceAttempt[]}).attempts, error}
}

const reasons = (attempts: SourceAttempt[]) => Object.fromEntries(attempts.map((a) => [a.entry, `${a.verdict}: ${a.reason}`]))

describe('missing and empty sources', () => {
  it('an empty root: every source is tried and named', async () => {
    const {attempts, error} = await fails({board: 'raspberry-pi', root: await root({})})
    assert.deepEqual(
      attempts.map((a) => a.verdict),
      ['absent', 'absent', 'absent', 'skipped'],
    )
    assert.match(error.message, /devicetree-serial: absent: none of .*serial-number/)
    assert.match(error.message, /cpuinfo-serial: absent: \/proc\/cpuinfo does not exist/)
  })

  it('an empty DT property falls through to cpuinfo', async () => {
    const result = await derive({board: 'raspberry-pi', root: await root({'/proc/cpuinfo': PI_CPUINFO, '/sys/firmware/devicetree/base/serial-number': Buffer.from([0])})})
    assert.equal(result.serial, '48343bbbe3ae743b')
    assert.equal(reasons(result.attempts)['devicetree-serial'], 'refused: empty')
  })
})

describe('placeholders', () => {
  it('a placeholder DT serial falls through to a real one', async () => {
    const result = await derive({board: 'raspberry-pi', root: await root({'/proc/cpuinfo': PI_CPUINFO, '/sys/firmware/devicetree/base/serial-number': dtString('0000000000000000')})})
    assert.equal(result.serial, '48343bbbe3ae743b')
  })

  it('only placeholders: fails, never emits one', async () => {
    const tree = {
      '/proc/cpuinfo': 'Serial\t\t: 0000000000000000\n',
      '/sys/firmware/devicetree/base/serial-number': dtString('FFFFFFFFFFFFFFFF'),
      '/sys/firmware/devicetree/base/system/linux,serial': Buffer.alloc(8),
    }
    const {attempts} = await fails({board: 'raspberry-pi', root: await root(tree)})
    assert.deepEqual(
      attempts.map((a) => a.verdict),
      ['refused', 'refused', 'refused', 'skipped'],
    )
  })

  it('x86: placeholder serials and an AMI UUID (either byte order) leave nothing', async () => {
    const dmi = (values: Record<string, string>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [`/sys/class/dmi/id/${k}`, {data: `${v}\n`, mode: 0o400}]))
    for (const uuid of ['03000200-0400-0500-0006-000700080009', '00020003-0004-0005-0006-000700080009']) {
      const tree = dmi({board_serial: 'Default string', chassis_serial: 'Chassis Serial Number', product_serial: 'System Serial Number', product_uuid: uuid})
      const {attempts} = await fails({board: 'x86', root: await root(tree)})
      assert.ok(attempts.every((a) => a.verdict === 'refused'))
    }
  })
})

describe('permission denied', () => {
  it('an unreadable source stops the chain (no silent fallback to a weaker source)', async () => {
    const dir = await root({'/proc/cpuinfo': PI_CPUINFO, '/sys/firmware/devicetree/base/serial-number': dtString('48343bbbe3ae743b')})
    // What AppArmor does to a hook without hardware-observe: EACCES on the read, whoever runs it.
    const deny: Partial<SerialFs> = {
      readFile: async (path) => {
        if (path.startsWith('/sys/firmware/')) throw errnoError('EACCES', path)
        return readFileSync(`${dir}${path}`)
      },
    }
    const {attempts, error} = await fails({board: 'raspberry-pi', fs: deny, root: dir}, 'E_SERIAL_DENIED')
    assert.deepEqual(
      attempts.map((a) => [a.entry, a.verdict]),
      [['devicetree-serial', 'denied']],
    )
    assert.match(error.message, /cannot read devicetree-serial .*permission denied; not falling back/)
    assert.match(error.hint ?? '', /connect hardware-observe/)

    // onDenied: next lets it fall through, and the denial is still reported.
    const config = parseSerialConfig({board: 'raspberry-pi', onDenied: 'next'})
    const result = await derive({config, fs: deny, root: dir})
    assert.equal(result.serial, '48343bbbe3ae743b')
    assert.equal(result.attempts[0].verdict, 'denied')
  })

  it('a real EACCES from the kernel (a write-only sysfs attribute) is reported as denied', async (t) => {
    const writeOnly = ['/sys/bus/pci/rescan', ...(existsSync('/sys/bus') ? readdirSync('/sys/bus').map((b) => `/sys/bus/${b}/drivers_probe`) : [])].find((p) => existsSync(p))
    if (!writeOnly) return t.skip('no write-only sysfs attribute on this system')
    const {attempts} = await fails({chain: [{options: {path: writeOnly}, source: 'file'}], root: '/'}, 'E_SERIAL_DENIED')
    assert.equal(attempts[0].verdict, 'denied')
    assert.match(attempts[0].reason ?? '', /permission denied/)
  })

  it('a chmod 000 directory: denied for users; root reads through it (as the hook, which runs as root, does)', async () => {
    const dir = await root({
      '/sys/devices/virtual/dmi/id': {dir: true, mode: 0o000},
      '/sys/devices/virtual/dmi/id/product_serial': {data: 'PF2ABCDE\n', mode: 0o400},
      '/sys/class/dmi/id': {symlink: '/sys/devices/virtual/dmi/id'},
    })
    const isRoot = process.getuid?.() === 0
    if (isRoot) {
      // CAP_DAC_OVERRIDE: file modes do not stop root, which is why confinement (AppArmor), not
      // modes, is what denies a hook; the injected EACCES above covers that path.
      assert.equal((await derive({board: 'x86', root: dir})).serial, 'PF2ABCDE')
    } else {
      const {attempts} = await fails({board: 'x86', root: dir}, 'E_SERIAL_DENIED')
      assert.equal(attempts[0].verdict, 'denied')
    }
  })
})

describe('EEPROMs', () => {
  it('a truncated BeagleBone EEPROM falls through to the MAC', async () => {
    const tree = {'/sys/bus/i2c/devices/0-0050/eeprom': {data: BBB.subarray(0, 20), mode: 0o400}, ...nic('eth0', {address: 'c8:a0:30:b2:1c:01', bus: '/sys/devices/platform/ocp/4a100000.switch', driver: 'cpsw-switch'})}
    const result = await derive({board: 'beaglebone', root: await root(tree)})
    assert.equal(result.serial, 'c8a030b21c01')
    assert.match(reasons(result.attempts)['beaglebone-eeprom'], /^invalid: truncated: 20 of 28 header bytes/)
  })

  it('a truncated EEPROM and no usable NIC: fails with both reasons', async () => {
    const tree = {'/sys/bus/i2c/devices/0-0050/eeprom': BBB.subarray(0, 3), ...nic('usb0', {address: '02:00:00:11:22:33', bus: '/sys/devices/platform/ocp/musb-hdrc.1/usb1/1-1/1-1:1.0', driver: 'cdc_ether'})}
    const {attempts} = await fails({board: 'beaglebone', root: await root(tree)})
    const why = reasons(attempts)
    assert.match(why['beaglebone-eeprom'], /truncated: 3 bytes/)
    assert.match(why.mac, /usb0: a USB adapter/)
  })

  it('an ONIE table with a bad CRC is not used; the chain moves on', async () => {
    const corrupted = Buffer.from(ONIE)
    corrupted[0x30] ^= 0x20
    const tree = {'/sys/bus/i2c/devices/2-0050/eeprom': corrupted, '/sys/devices/soc0/serial_number': '240F31D4E1FDFCA7\n'}
    const result = await derive({board: 'onie-switch', root: await root(tree)})
    assert.deepEqual([result.serial, result.entry], ['240f31d4e1fdfca7', 'soc-serial'])
    assert.match(reasons(result.attempts)['onie-tlv'], /^invalid: CRC-32 mismatch: stored 0x911B1915/)
  })
})

describe('hanging sources', () => {
  it('a command that hangs is killed at its timeout and the next source is used', async () => {
    const dir = await root({'/proc/cpuinfo': PI_CPUINFO})
    const started = Date.now()
    const config = parseSerialConfig({chain: [{options: {argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], timeoutMs: 300}, source: 'command'}, 'cpuinfo-serial']})
    const result = await derive({config, root: dir})
    assert.equal(result.serial, '48343bbbe3ae743b')
    assert.equal(result.attempts[0].verdict, 'timeout')
    assert.ok(Date.now() - started < 3000)
  })

  it('a file read that never returns is given up on', async () => {
    const dir = await root({'/proc/cpuinfo': PI_CPUINFO})
    const stuck: Partial<SerialFs> = {
      readFile: async (path) => (path.startsWith('/sys/') ? new Promise<Buffer>(() => {}) : readFileSync(`${dir}${path}`)),
    }
    const result = await derive({board: 'raspberry-pi', fs: stuck, root: dir, sourceTimeoutMs: 150})
    assert.equal(result.serial, '48343bbbe3ae743b')
    assert.deepEqual(
      result.attempts.map((a) => a.verdict),
      ['timeout', 'timeout', 'used'],
    )
  })
})
