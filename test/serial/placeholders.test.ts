import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {FLEET_DUPLICATES, PLACEHOLDER_MACS, PLACEHOLDER_STRINGS, PLACEHOLDER_UUIDS, refusalOf, swapUuidFields} from '../../src/serial/placeholders.js'

describe('known placeholders (one check per entry)', () => {
  for (const {value, seen} of PLACEHOLDER_STRINGS) {
    it(`refuses "${value}" (${seen})`, () => {
      assert.ok(refusalOf(value, 'text'), value)
      assert.ok(refusalOf(value.toUpperCase(), 'text'), `${value} in upper case`)
      assert.ok(refusalOf(value.replace(/ /g, ''), 'text'), `${value} without spaces`)
    })
  }

  for (const {value, seen} of PLACEHOLDER_UUIDS) {
    it(`refuses UUID ${value} in both byte orders (${seen})`, () => {
      const hex = value.replace(/-/g, '')
      const swapped = swapUuidFields(hex)
      const dashed = `${swapped.slice(0, 8)}-${swapped.slice(8, 12)}-${swapped.slice(12, 16)}-${swapped.slice(16, 20)}-${swapped.slice(20)}`
      for (const form of [value, value.toUpperCase(), dashed]) assert.ok(refusalOf(form, 'uuid'), form)
    })
  }

  for (const {value, seen} of PLACEHOLDER_MACS) {
    it(`refuses MAC ${value} (${seen})`, () => {
      assert.ok(refusalOf(value, 'mac'))
      assert.ok(refusalOf(value.match(/../g)!.join(':'), 'mac'))
    })
  }

  for (const {value, seen} of FLEET_DUPLICATES) {
    it(`refuses the fleet-wide duplicate ${value} (${seen})`, () => {
      assert.equal(refusalOf(value, 'text')?.rule, 'duplicate')
    })
  }
})

describe('structural rules', () => {
  const cases: [string, string][] = [
    ['', 'empty'],
    ['   ', 'empty'],
    ['0000000000000000', 'known'],
    ['00000000', 'repeated'],
    ['FFFFFFFFFFFF', 'repeated'],
    ['xxxx', 'repeated'],
    ['....', 'repeated'],
    ['****', 'repeated'],
    ['____', 'repeated'],
    ['0000-0000-0000', 'repeated'],
    ['00000000xxxxxxxx', 'redacted'],
    ['<removed>', 'redacted'],
    ['[redacted]', 'redacted'],
    ['BADABADABADABADA', 'locked'],
    ['12345678', 'counting'],
    ['987654321', 'counting'],
    ['1234567890', 'counting'],
    ['0123456789abcdef', 'counting'],
    ['Not Settable', 'words'],
    ['Unknown', 'words'],
    ['To be filled by OEM', 'words'],
    ['TobefilledbyO.E.M.', 'known'],
    ['n/a', 'known'],
    ['NA', 'short'],
    ['A1', 'short'],
  ]
  for (const [value, rule] of cases) {
    it(`refuses ${JSON.stringify(value)} (${rule})`, () => {
      assert.equal(refusalOf(value, 'text')?.rule, rule)
    })
  }

  it('refuses UUIDs whose bytes count or repeat, in either byte order', () => {
    assert.equal(refusalOf('00010203-0405-0607-0809-0a0b0c0d0e0f', 'uuid')?.rule, 'known')
    assert.equal(refusalOf('0f0e0d0c-0b0a-0908-0706-050403020100', 'uuid')?.rule, 'counting')
    assert.equal(refusalOf('abababab-abab-abab-abab-abababababab', 'uuid')?.rule, 'repeated')
  })

  it('refuses values holding control or formatting characters, saying which without quoting them', () => {
    for (const [value, code, at] of [
      ['AB\u001b[31mCD', '001B', 3],
      ['ABCD\u0007EF', '0007', 5],
      ['ABCDEF\u007f', '007F', 7],
      ['ABC\u009bD', '009B', 4],
      ['ABCD\u202eEF', '202E', 5],
      ['AB\u200bCDEF', '200B', 3],
    ] as const) {
      const refusal = refusalOf(value)
      assert.equal(refusal?.rule, 'control', value)
      assert.equal(refusal?.reason, `the value holds the control or formatting character U+${code} at character ${at}: not an identifier`)
    }

    assert.equal(refusalOf('00:11:22:33:44:\u001b5', 'mac')?.rule, 'control')
  })

  it('refuses multicast MACs', () => {
    assert.equal(refusalOf('01005e0000fb', 'mac')?.rule, 'multicast')
  })
})

describe('real identifiers pass', () => {
  const real: [string, 'hex' | 'mac' | 'text' | 'uuid'][] = [
    ['48343bbbe3ae743b', 'hex'],
    ['000000009c53b6d7', 'hex'],
    ['100000000fe69593', 'hex'],
    ['088403e800000000', 'hex'],
    ['240f31d4e1fdfca7', 'hex'],
    ['0421519091609', 'text'],
    ['2313BBBK0099', 'text'],
    ['M80-B7007400024', 'text'],
    ['19620608', 'text'],
    ['MT1607X11210', 'text'],
    ['FAKE-SN-123456', 'text'],
    ['356-1234567890a', 'text'],
    ['4c4c4544-0035-3510-8052-b4c04f564433', 'uuid'],
    ['2961ecf6-7e94-488d-ae0d-e427123078b3', 'uuid'],
    ['8fc28570-df98-0000-0000-000000000000', 'uuid'],
    ['b827eb123456', 'mac'],
    ['02fc00000001', 'mac'],
  ]
  for (const [value, format] of real) {
    it(`accepts ${value} (${format})`, () => {
      assert.equal(refusalOf(value, format), undefined)
    })
  }
})

describe('swapUuidFields', () => {
  it('swaps the first three fields and is its own inverse', () => {
    const hex = '03000200040005000006000700080009'
    assert.equal(swapUuidFields(hex), '00020003000400050006000700080009')
    assert.equal(swapUuidFields(swapUuidFields(hex)), hex)
  })
})
