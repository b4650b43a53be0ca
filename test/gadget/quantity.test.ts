import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {formatQuantity, iecString, parseOffset, parseRelativeOffset, parseSize, QuantityError, suggestQuantity} from '../../src/gadget/quantity.js'

const fails = (fn: () => unknown, message: string) => assert.throws(fn, (e: Error) => e instanceof QuantityError && e.message === message)

describe('snapd quantities', () => {
  it('accepts bytes, M and G only', () => {
    assert.equal(parseSize('440'), 440n)
    assert.equal(parseSize('1M'), 1n << 20n)
    assert.equal(parseSize('2G'), 2n << 30n)
    assert.equal(parseSize('0012'), 12n)
    fails(() => parseSize('32K'), 'invalid suffix "K"')
    fails(() => parseSize('1MiB'), 'invalid suffix "MiB"')
    fails(() => parseSize('1m'), 'invalid suffix "m"')
    fails(() => parseSize('1.5G'), 'invalid suffix ".5G"')
    fails(() => parseSize('0x100'), 'invalid suffix "x100"')
    fails(() => parseSize('1_000'), 'invalid suffix "_000"')
    fails(() => parseSize('M'), 'no numerical prefix')
    fails(() => parseSize(''), '"" is not a number')
    fails(() => parseSize('5-3'), '"5-3" is not a number')
  })

  it('refuses negative values, and wraps on overflow the way Go does', () => {
    fails(() => parseSize('-1'), 'size cannot be negative')
    fails(() => parseOffset('-1M'), 'offset cannot be negative')
    fails(() => parseSize('99999999999G'), 'size cannot be negative')
    fails(() => parseSize('99999999999999999999'), '"99999999999999999999" is not a number')
  })

  it('parses offset-write, with the 4G limit inclusive', () => {
    assert.deepEqual(parseRelativeOffset('mbr+92'), {offset: 92n, relativeTo: 'mbr'})
    assert.deepEqual(parseRelativeOffset('4G'), {offset: 4n << 30n, relativeTo: ''})
    fails(() => parseRelativeOffset('4294967297'), 'offset above 4G limit')
    fails(() => parseRelativeOffset('+92'), 'missing volume name')
    fails(() => parseRelativeOffset('mbr+'), 'missing offset')
    fails(() => parseRelativeOffset('mbr+1K'), 'cannot parse offset "1K": invalid suffix "K"')
  })

  it('suggests what the author meant', () => {
    assert.equal(suggestQuantity('32K'), '32768')
    assert.equal(suggestQuantity('512K'), '524288')
    assert.equal(suggestQuantity('1024K'), '1M')
    assert.equal(suggestQuantity('1MiB'), '1M')
    assert.equal(suggestQuantity('1.5G'), '1536M')
    assert.equal(suggestQuantity('0x100000'), '1M')
    assert.equal(suggestQuantity('1200 MB'), '1200M')
    assert.equal(suggestQuantity('lots'), undefined)
  })

  it('formats sizes for people', () => {
    assert.equal(formatQuantity(1n << 30n), '1G')
    assert.equal(formatQuantity(1200n << 20n), '1200M')
    assert.equal(formatQuantity(440n), '440')
    assert.equal(iecString(1n << 20n), '1 MiB')
    assert.equal(iecString(1536n << 20n), '1.50 GiB')
  })
})
