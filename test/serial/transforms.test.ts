import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {describe, it} from 'node:test'

import nacl from 'tweetnacl'

import {applyTransforms, base32, hashValue, normalise, serialPattern, serialProblem} from '../../src/serial/transforms.js'

describe('normalise', () => {
  it('trims and strips NUL / 0xFF padding at both ends, keeping the inside', () => {
    assert.equal(normalise(' \u0000abc\u0000def\n\u0000\u00FF\u00FF', 'text'), 'abc\u0000def')
    assert.equal(normalise('\u00FF\u00FF2313BBBK0099\u00FF', 'text'), '2313BBBK0099')
  })

  it('folds the case of hex-like values only', () => {
    assert.equal(normalise('240F31D4E1FDFCA7', 'hex'), '240f31d4e1fdfca7')
    assert.equal(normalise('2961ECF6-7E94-488D-AE0D-E427123078B3\n', 'uuid'), '2961ecf6-7e94-488d-ae0d-e427123078b3')
    assert.equal(normalise('ABCDEF12', 'text'), 'ABCDEF12')
    assert.equal(normalise('240f31d4e1fdfca7', 'hex', {hexCase: 'upper'}), '240F31D4E1FDFCA7')
    assert.equal(normalise('240F31d4', 'hex', {hexCase: 'keep'}), '240F31d4')
  })

  it('can keep padding or whitespace when told to', () => {
    assert.equal(normalise(' a\u0000', 'text', {trim: false}), ' a')
    assert.equal(normalise(' a\u0000', 'text', {stripPadding: false}), 'a\u0000')
  })
})

describe('hash', () => {
  it('is SHA-512 (the digest nacl.hash computes) over salt NUL value', () => {
    const input = Buffer.from('acme\u000048343bbbe3ae743b', 'utf8')
    const nacl512 = Buffer.from(nacl.hash(new Uint8Array(input))).toString('hex')
    assert.equal(nacl512, createHash('sha512').update(input).digest('hex'))
    assert.equal(hashValue('48343bbbe3ae743b', {length: 128, salt: 'acme'}), nacl512)
  })

  it('salts with the brand by default, and different salts give different serials', () => {
    assert.equal(hashValue('x', {}, 'acme'), hashValue('x', {salt: 'acme'}))
    assert.notEqual(hashValue('x', {salt: 'acme'}), hashValue('x', {salt: 'other'}))
    assert.equal(hashValue('x', {length: 20}).length, 20)
  })

  it('encodes base32 as RFC 4648 (lower case, no padding)', () => {
    assert.equal(base32(Buffer.from('foobar')), 'mzxw6ytboi')
    assert.equal(base32(Buffer.from('f')), 'my')
    assert.match(hashValue('x', {encoding: 'base32', length: 40}), /^[a-z2-7]{40}$/)
  })
})

describe('applyTransforms', () => {
  it('applies prefix, suffix and hash in order', () => {
    assert.deepEqual(applyTransforms('abc', [{prefix: 'rpi-'}, {suffix: '-x'}], {format: 'text'}), {ok: true, value: 'rpi-abc-x'})
    const hashed = applyTransforms('abc', [{hash: {length: 16, salt: 's'}}, {prefix: 'h-'}], {format: 'text'})
    assert.deepEqual(hashed, {ok: true, value: `h-${hashValue('abc', {length: 16, salt: 's'})}`})
  })

  it('refuses a value over maxLength, or truncates it when told to', () => {
    assert.deepEqual(applyTransforms('abcdef', [{maxLength: 4}], {format: 'text'}), {ok: false, reason: '6 characters, more than the maximum of 4'})
    assert.deepEqual(applyTransforms('abcdef', [{maxLength: {length: 4, overflow: 'truncate'}}], {format: 'text'}), {ok: true, value: 'abcd'})
  })
})

describe('serialProblem', () => {
  it('accepts what the default pattern allows', () => {
    for (const ok of ['48343bbbe3ae743b', 'M80-B7007400024', 'a.b_c-d', 'X']) assert.equal(serialProblem(ok), undefined, ok)
  })

  it('never allows an empty serial, /, whitespace, quotes or control characters, even with a wide pattern', () => {
    const wide = serialPattern('.+')
    for (const bad of ['', 'a/b', 'a b', 'a\tb', 'a"b', "a'b", 'a`b', 'a\u0000b', 'a\u007Fb', 'a\u0085b', 'a\u2028b', 'a\\b', 'ab\n']) {
      assert.ok(serialProblem(bad, wide), JSON.stringify(bad))
    }
  })

  it('refuses a leading separator or a colon unless the pattern widens it', () => {
    assert.match(serialProblem('-abc') ?? '', /does not match/)
    assert.match(serialProblem('aa:bb') ?? '', /does not match/)
    assert.equal(serialProblem('aa:bb', serialPattern('[A-Za-z0-9][A-Za-z0-9._:-]*')), undefined)
  })
})
