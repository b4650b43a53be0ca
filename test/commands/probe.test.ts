/** `snap-gadget probe` end to end. */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {runCli} from '../helpers/cli.js'
import {shared} from '../helpers/paths.js'
import {expectedNic, hasDmi, hypervisorFlag, isLinux, x86Vendor} from '../serial/helpers/machine.js'
import {dtStrings, makeRoot, removeRoot} from '../serial/helpers/root.js'

let bbb: string
before(async () => {
  bbb = await makeRoot({
    '/proc/cpuinfo': 'Hardware\t: Generic AM33XX (Flattened Device Tree)\nSerial\t\t: 0000000000000000\n',
    '/sys/bus/i2c/devices/0-0050/eeprom': {data: readFileSync(shared('fixtures', 'hardware', 'beaglebone-black', 'eeprom-0-0050.bin')), mode: 0o400},
    '/sys/firmware/devicetree/base/compatible': dtStrings('ti,am335x-bone-black', 'ti,am335x-bone', 'ti,am33xx'),
  })
})
after(() => removeRoot(bbb))

describe('snap-gadget probe', () => {
  it('on a captured BeagleBone: sources, warnings and the recommended chain', async () => {
    const r = await runCli(['probe', '--root', bbb])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^board: beaglebone \(TI AM335x BeagleBone/m)
    assert.match(r.stdout, /^ {2}beaglebone-eeprom\[\/sys\/bus\/i2c\/devices\/0-0050\/eeprom\]: usable "2313BBBK0099" \/sys\/bus\/i2c\/devices\/0-0050\/eeprom \(0400\)$/m)
    assert.match(r.stdout, /^ {4}warning \(root-only\): mode 0400/m)
    assert.match(r.stdout, /^ {2}cpuinfo-serial: refused "0000000000000000"/m)
    assert.match(r.stdout, /^recommended chain \(beaglebone\): beaglebone-eeprom → mac$/m)
    assert.match(r.stdout, /^ {2}derives 2313BBBK0099 from beaglebone-eeprom$/m)
  })

  it('on this machine, as JSON', async (t) => {
    if (!isLinux) return t.skip('not Linux')
    const r = await runCli(['probe', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout)
    assert.equal(report.root, '/')
    if (x86Vendor && report.facts.compatible.length === 0) assert.equal(report.board.id, 'x86')
    if (hypervisorFlag) assert.equal(report.virtualMachine.detected, true)
    const nic = expectedNic()
    if (nic) {
      const probed = report.sources.find((s: {entry: string}) => s.entry === `mac[${nic.name}]`)
      assert.equal(probed?.value, nic.address)
      assert.equal(
        probed.warnings.some((w: {kind: string}) => w.kind === 'locally-administered'),
        nic.locallyAdministered,
      )
    }

    if (!hasDmi && report.board.id === 'x86') assert.equal(report.recommended.serial, undefined)
    assert.ok('system' in report, 'systeminformation facts are included on /')
  })

  it('on this machine, as text', async (t) => {
    if (!isLinux) return t.skip('not Linux')
    const r = await runCli(['probe'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^identity sources present:$/m)
    assert.match(r.stdout, /^recommended chain \(/m)
    if (hypervisorFlag) assert.match(r.stdout, /^virtual machine: .*the CPU reports a hypervisor/m)
  })

  it('hardware text with terminal escapes (a captured cpuinfo Serial, a DMI field) is shown escaped, never raw', async (t) => {
    const hostile = await makeRoot({
      '/proc/cpuinfo': 'Hardware\t: BCM2835\nSerial\t\t: 10000000\u001b[31mabcd\u0007ef\u007f\nModel\t\t: Pi\u001b]0;title\u0007\n',
      '/sys/devices/virtual/dmi/id/product_serial': 'AB\u001b[2JCD\u009b1m\n',
    })
    t.after(() => removeRoot(hostile))
    for (const args of [
      ['probe', '--root', hostile],
      ['serial', '--root', hostile, '--chain', 'cpuinfo-serial,dmi', '--explain'],
    ]) {
      const r = await runCli(args)
      const out = r.stdout + r.stderr
      assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, `${args[0]}: no raw control character`)
      assert.match(out, /10000000\\(?:x1b|u001b)\[31mabcd/, `${args[0]}: the escape is shown as text`)
    }
  })

  it('a missing root is a usage error', async () => {
    const r = await runCli(['probe', '--root', join(bbb, 'nope')])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /no such file or directory/)
  })
})
