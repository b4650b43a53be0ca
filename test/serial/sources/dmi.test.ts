import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {attempt, inMemory} from './helpers.js'

const DMI = '/sys/class/dmi/id'
const dmi = (field: string) => ({options: {field}, source: 'dmi'})

describe('dmi', () => {
  it('reads each identity field', async () => {
    const files = {
      [`${DMI}/board_serial`]: 'M80-B7007400024\n',
      [`${DMI}/chassis_serial`]: 'CZC1234XYZ\n',
      [`${DMI}/product_serial`]: 'PF2ABCDE\n',
      [`${DMI}/product_uuid`]: '4C4C4544-0035-3510-8052-B4C04F564433\n',
    }
    assert.equal((await attempt(dmi('product_serial'), inMemory(files))).serial, 'PF2ABCDE')
    assert.equal((await attempt(dmi('board_serial'), inMemory(files))).serial, 'M80-B7007400024')
    assert.equal((await attempt(dmi('chassis_serial'), inMemory(files))).serial, 'CZC1234XYZ')
    assert.equal((await attempt(dmi('product_uuid'), inMemory(files))).serial, '4c4c4544-0035-3510-8052-b4c04f564433')
  })

  it('says "no DMI" when the machine has no SMBIOS tables', async () => {
    const a = await attempt(dmi('product_serial'), inMemory({'/proc/cpuinfo': 'vendor_id : AuthenticAMD\n'}))
    assert.equal(a.verdict, 'absent')
    assert.match(a.reason ?? '', /no DMI: neither \/sys\/class\/dmi\/id nor \/sys\/firmware\/dmi\/tables\/DMI exists/)
  })

  it('tells an unset field from a missing DMI', async () => {
    const files = {[`${DMI}/sys_vendor`]: 'System76\n'}
    assert.match((await attempt(dmi('board_serial'), inMemory(files))).reason ?? '', /the firmware did not fill board_serial/)
    assert.match((await attempt(dmi('product_uuid'), inMemory(files))).reason ?? '', /set no system UUID/)
  })

  it('refuses placeholder serials and the AMI UUID in both byte orders', async () => {
    for (const [field, value] of [
      ['product_serial', 'System Serial Number'],
      ['product_serial', 'To Be Filled By O.E.M.'],
      ['board_serial', 'Default string'],
      ['product_serial', '123456789'],
      ['product_uuid', '03000200-0400-0500-0006-000700080009'],
      ['product_uuid', '00020003-0004-0005-0006-000700080009'],
      ['product_uuid', '03000200-0400-0500-0006-000700080009'.toUpperCase()],
    ]) {
      const a = await attempt(dmi(field), inMemory({[`${DMI}/${field}`]: `${value}\n`}))
      assert.equal(a.verdict, 'refused', value)
    }
  })

  it('notes a MAC-derived UUID', async () => {
    const a = await attempt(dmi('product_uuid'), inMemory({[`${DMI}/product_uuid`]: '8fc28570-df98-0000-0000-000000000000\n'}))
    assert.equal(a.verdict, 'used')
    assert.match(a.notes?.join() ?? '', /MAC address followed by zeros/)
  })

  it('reports an unreadable field as denied (root-only file, no hardware-observe)', async () => {
    const a = await attempt(dmi('product_serial'), inMemory({[`${DMI}/sys_vendor`]: 'X\n'}, {[`${DMI}/product_serial`]: 'EACCES'}))
    assert.equal(a.verdict, 'denied')
    assert.match(a.reason ?? '', /permission denied \(connect hardware-observe, and run as root\)/)
  })
})
