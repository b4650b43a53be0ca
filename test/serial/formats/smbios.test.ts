import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {describe, it} from 'node:test'

import {type SmbiosField, smbiosField, smbiosStructures, smbiosVersion} from '../../../src/serial/formats/smbios.js'
import {dmiTreeFromTable} from '../helpers/smbios.js'
import {shared} from '../../helpers/paths.js'

const RAW = shared('fixtures', 'hardware', 'x86-dmi-raw')
const FIELDS: SmbiosField[] = ['product_serial', 'board_serial', 'chassis_serial', 'product_uuid']

describe('raw SMBIOS table', () => {
  for (const name of readdirSync(RAW).filter((f) => f.endsWith('.bin'))) {
    it(`${name}: every serial field as the kernel's /sys/class/dmi/id shows it`, () => {
      const table = readFileSync(`${RAW}/${name}`)
      const parsed = smbiosStructures(table)
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason)
      assert.equal(parsed.structures.at(-1)?.type, 127)
      // The test helper lays out /sys/class/dmi/id as dmi-id.c does; the reader must agree with it.
      const kernel = dmiTreeFromTable(table)
      for (const field of FIELDS) {
        const file = kernel[`/sys/devices/virtual/dmi/id/${field}`] as {data: string} | undefined
        const expected = file?.data.replace(/\n$/, '')
        assert.equal(smbiosField(parsed.structures, field), expected, field)
      }
    })
  }

  it('reads the version from either entry point', () => {
    assert.equal(smbiosVersion(Buffer.from('_SM3_\0\0\x03\x02', 'latin1')), 0x0302)
    assert.equal(smbiosVersion(Buffer.from('_SM_\0\0\x02\x05', 'latin1')), 0x0205)
    assert.equal(smbiosVersion(Buffer.from('nothing')), undefined)
  })

  it('refuses a table whose structure runs past its end or has a short header', () => {
    const table = readFileSync(`${RAW}/aaeon-up-cht01.DMI.bin`)
    const cut = smbiosStructures(table.subarray(0, 30))
    assert.equal(cut.ok, false)
    const broken = Buffer.from(table)
    broken[1] = 2
    const short = smbiosStructures(broken)
    assert.match(short.ok ? '' : short.reason, /below the 4-byte header/)
  })
})
