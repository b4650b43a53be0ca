/** `snap-gadget serial` end to end: the CLI as a user runs it, on captured trees and on this machine. */
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {runCli} from '../helpers/cli.js'
import {projectRoot, shared} from '../helpers/paths.js'
import {expectedNic, hasDmi, isLinux} from '../serial/helpers/machine.js'
import {dtStrings, makeRoot, removeRoot} from '../serial/helpers/root.js'

let pi: string
let empty: string
before(async () => {
  pi = await makeRoot({
    '/proc/cpuinfo': readFileSync(shared('fixtures', 'hardware', 'raspberry-pi-5', 'cpuinfo.hrw-arm-socs-table')),
    '/sys/firmware/devicetree/base/compatible': dtStrings('raspberrypi,5-model-b', 'brcm,bcm2712'),
  })
  empty = await makeRoot({})
})
after(async () => Promise.all([removeRoot(pi), removeRoot(empty)]))

describe('snap-gadget serial', () => {
  it('prints the serial and nothing else', async () => {
    const r = await runCli(['serial', '--root', pi, '--board', 'raspberry-pi'])
    assert.equal(r.stderr, '')
    assert.deepEqual([r.code, r.stdout], [0, '48343bbbe3ae743b\n'])
  })

  it('detects the board when none is given', async () => {
    const r = await runCli(['serial', '--root', pi, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout)
    assert.deepEqual([result.serial, result.board, result.boardBy], ['48343bbbe3ae743b', 'raspberry-pi', 'detected: device-tree compatible raspberrypi,5-model-b'])
  })

  it('--explain shows each source tried, what it read and its verdict, on stderr', async () => {
    const r = await runCli(['serial', '--root', pi, '--board', 'raspberry-pi', '--explain'])
    assert.deepEqual([r.code, r.stdout], [0, '48343bbbe3ae743b\n'])
    assert.match(r.stderr, /^chain raspberry-pi \(board raspberry-pi, --board\); the hook needs hardware-observe$/m)
    assert.match(r.stderr, /^ {2}devicetree-serial: absent\n {4}none of \/sys\/firmware\/devicetree\/base\/serial-number/m)
    assert.match(r.stderr, /^ {2}cpuinfo-serial: used "48343bbbe3ae743b" from \/proc\/cpuinfo$/m)
  })

  it('--json returns the serial and every attempt', async () => {
    const r = await runCli(['serial', '--root', pi, '--chain', 'devicetree-serial,cpuinfo-serial', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout)
    assert.equal(result.serial, '48343bbbe3ae743b')
    assert.equal(result.chain, 'custom')
    assert.deepEqual(
      result.attempts.map((a: {entry: string; verdict: string}) => [a.entry, a.verdict]),
      [
        ['devicetree-serial', 'absent'],
        ['cpuinfo-serial', 'used'],
      ],
    )
  })

  it('fails with exit 1 naming every source and why', async () => {
    const r = await runCli(['serial', '--root', empty, '--board', 'x86'])
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^error: no usable serial: none of the 4 source\(s\) of chain x86 gave one$/m)
    for (const field of ['product_serial', 'board_serial', 'chassis_serial', 'product_uuid']) assert.match(r.stderr, new RegExp(`^ {2}dmi\\[${field}\\]: absent: no DMI`, 'm'))
    assert.match(r.stderr, /hint: run `snap-gadget probe`/)
  })

  it('--json failure: the error with every attempt, exit 1', async () => {
    const r = await runCli(['serial', '--root', empty, '--board', 'x86', '--json'])
    assert.equal(r.code, 1)
    const {error} = JSON.parse(r.stdout)
    assert.equal(error.code, 'E_SERIAL_NONE')
    assert.equal(error.details.attempts.length, 4)
    assert.ok(error.details.attempts.every((a: {reason: string}) => /no DMI/.test(a.reason)))
  })

  it('a configuration mistake is a usage error pointing at the line (exit 2)', async () => {
    const config = join(empty, 'serial.yaml')
    writeFileSync(config, 'chain:\n  - cpuinfo-serial\n  - source: eeprom\n    options: {path: /x, lenght: 4}\n')
    const r = await runCli(['serial', '--root', pi, '--config', config])
    assert.equal(r.code, 2)
    assert.match(r.stderr, new RegExp(`error: ${config.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:25: chain\\[1\\]\\.options\\.lenght: unknown key "lenght"`))
    assert.match(r.stderr, /hint: did you mean "length"\?/)
  })

  it('usage errors: unknown board, unknown source, missing root (exit 2)', async () => {
    const board = await runCli(['serial', '--board', 'raspbery-pi', '--root', pi])
    assert.equal(board.code, 2)
    assert.match(board.stderr, /unknown board "raspbery-pi"[\s\S]*did you mean "raspberry-pi"/)
    const chain = await runCli(['serial', '--chain', 'cpuinfo', '--root', pi])
    assert.equal(chain.code, 2)
    assert.match(chain.stderr, /--chain: unknown serial source "cpuinfo"/)
    const root = await runCli(['serial', '--root', join(empty, 'nope')])
    assert.equal(root.code, 2)
    assert.match(root.stderr, /nope: no such file or directory/)
  })

  it('runs the plugin example', async () => {
    const example = join(projectRoot, 'examples', 'serial-plugin')
    const r = await runCli(['serial', '--config', join(example, 'serial.yaml'), '--root', join(example, 'root')])
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'acme-GW1-2024-000123\n', ''])
  })
})

describe('snap-gadget serial on this machine', () => {
  const nic = expectedNic()

  it("--chain mac derives the NIC's MAC (a VMM-assigned one only when the configuration allows it)", async (t) => {
    if (!nic) return t.skip('no physical Ethernet interface with a permanent address')
    const hex = nic.address.replace(/:/g, '')
    const r = await runCli(['serial', '--chain', 'mac'])
    if (nic.locallyAdministered) {
      assert.equal(r.code, 1)
      assert.match(r.stderr, new RegExp(`${nic.name}: locally administered address ${nic.address}`))
      const inline = await runCli(['serial', '--chain', 'mac[allowLocallyAdministered=true]'])
      assert.deepEqual([inline.code, inline.stdout], [0, `${hex}\n`], inline.stderr)
      const config = join(empty, 'mac.yaml')
      writeFileSync(config, 'chain:\n  - source: mac\n    options: {allowLocallyAdministered: true}\n')
      const allowed = await runCli(['serial', '--config', config])
      assert.deepEqual([allowed.code, allowed.stdout], [0, `${hex}\n`], allowed.stderr)
    } else {
      assert.deepEqual([r.code, r.stdout], [0, `${hex}\n`], r.stderr)
    }
  })

  it('the x86 chain fails: no DMI', async (t) => {
    if (!isLinux) return t.skip('not Linux')
    if (hasDmi) return t.skip('this machine has SMBIOS tables (/sys/class/dmi exists)')
    const r = await runCli(['serial', '--board', 'x86', '--explain'])
    assert.equal(r.code, 1)
    assert.equal((r.stderr.match(/: absent: no DMI: neither \/sys\/class\/dmi\/id nor \/sys\/firmware\/dmi\/tables\/DMI exists/g) ?? []).length, 4)
  })
})
