/**
 * The SDK on this machine's real /sys and /proc (the CI machines are x86 VMs without DMI, with a
 * virtio NIC). Each test states its precondition and skips, saying why, where it does not hold.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {UserError} from '../../src/errors.js'
import type {SourceAttempt} from '../../src/serial/chain.js'
import {parseSerialConfig} from '../../src/serial/config/serial-config.js'
import {deriveSerial} from '../../src/serial/derive.js'
import {probeIdentity} from '../../src/serial/probe.js'
import {expectedNic, hasDmi, hypervisorFlag, isLinux, x86Vendor} from './helpers/machine.js'

const nic = expectedNic()

describe('on this machine', () => {
  it('the x86 chain fails, every DMI source saying there is no DMI', async (t) => {
    if (!isLinux) return t.skip('not Linux')
    if (hasDmi) return t.skip('this machine has SMBIOS tables (/sys/class/dmi exists)')
    const error = await deriveSerial({board: 'x86', root: '/'}).then(
      (r) => assert.fail(`derived ${r.serial}`),
      (error_: unknown) => error_,
    )
    assert.ok(error instanceof UserError)
    assert.equal(error.code, 'E_SERIAL_NONE')
    const attempts = (error.details as {attempts: SourceAttempt[]}).attempts
    assert.deepEqual(
      attempts.map((a) => a.entry),
      ['dmi[product_serial]', 'dmi[board_serial]', 'dmi[chassis_serial]', 'dmi[product_uuid]'],
    )
    for (const a of attempts) {
      assert.equal(a.verdict, 'absent')
      assert.match(a.reason ?? '', /no DMI/)
    }
  })

  it("mac derives the NIC's permanent address (accepting a VMM-assigned one only when told to)", async (t) => {
    if (!nic) return t.skip('no physical Ethernet interface with a permanent address')
    const hex = nic.address.replace(/:/g, '')
    if (nic.locallyAdministered) {
      const error = await deriveSerial({chain: 'mac', root: '/'}).then(
        (r) => assert.fail(`derived ${r.serial}`),
        (error_: unknown) => error_ as UserError,
      )
      assert.match(error.message, new RegExp(`${nic.name}: locally administered address ${nic.address}`))
      const config = parseSerialConfig({chain: [{options: {allowLocallyAdministered: true}, source: 'mac'}]})
      assert.equal((await deriveSerial({config, root: '/'})).serial, hex)
    } else {
      assert.equal((await deriveSerial({chain: 'mac', root: '/'})).serial, hex)
    }

    // By name, as a model's configuration would put it.
    const byName = parseSerialConfig({chain: [{options: {allowLocallyAdministered: true, interface: nic.name}, source: 'mac'}]})
    const result = await deriveSerial({config: byName, root: '/'})
    assert.deepEqual([result.serial, result.entry], [hex, `mac[${nic.name}]`])
  })

  it('probe lists the NIC, detects the board and runs its chain', async (t) => {
    if (!isLinux) return t.skip('not Linux')
    const report = await probeIdentity({root: '/', systemFacts: false})
    if (x86Vendor && !report.facts.compatible.length) assert.equal(report.board.id, 'x86')
    assert.equal(report.recommended.board, report.board.id)
    if (nic) {
      const probed = report.sources.find((s) => s.entry === `mac[${nic.name}]`)
      assert.ok(probed, `mac[${nic.name}] is listed`)
      assert.equal(probed.value, nic.address)
      assert.equal(
        probed.warnings.some((w) => w.kind === 'locally-administered'),
        nic.locallyAdministered,
      )
    }

    if (hypervisorFlag) assert.ok(report.virtualMachine.detected)
    if (!hasDmi && report.board.id === 'x86') {
      assert.equal(report.recommended.serial, undefined)
      assert.ok(report.recommended.attempts.every((a) => /no DMI/.test(a.reason ?? '')))
      if (nic) assert.ok(report.suggestions.some((s) => s.includes(nic.name)))
    }
  })
})
