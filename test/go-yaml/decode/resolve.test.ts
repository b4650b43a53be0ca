import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {resolve, ResolveError, Tag} from '../../../src/go-yaml/decode/resolve.js'

const kind = (text: string, tag = '') => resolve(tag, text).value.kind

describe('go-yaml v2 scalar resolution', () => {
  it('reads YAML 1.1 booleans, including y/n and on/off', () => {
    for (const t of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'on', 'ON']) assert.deepEqual(resolve('', t).value, {kind: 'bool', value: true}, t)
    for (const t of ['n', 'no', 'NO', 'false', 'off', 'Off']) assert.deepEqual(resolve('', t).value, {kind: 'bool', value: false}, t)
    assert.equal(kind('yEs'), 'str')
  })

  it('reads nulls', () => {
    for (const t of ['', '~', 'null', 'Null', 'NULL']) assert.equal(kind(t), 'null', t)
    assert.equal(kind('nUll'), 'str')
  })

  it("reads integers with Go's syntax: hex, 0o, leading-zero octal, binary, underscores", () => {
    assert.deepEqual(resolve('', '0x1F').value, {kind: 'int', value: 31n})
    assert.deepEqual(resolve('', '0o17').value, {kind: 'int', value: 15n})
    assert.deepEqual(resolve('', '017').value, {kind: 'int', value: 15n})
    assert.deepEqual(resolve('', '0b101').value, {kind: 'int', value: 5n})
    assert.deepEqual(resolve('', '1_000').value, {kind: 'int', value: 1000n})
    assert.deepEqual(resolve('', '-12').value, {kind: 'int', value: -12n})
    assert.equal(kind('08'), 'float', 'an invalid octal is still a YAML-style float')
  })

  it('tells int64, uint64 and overflowing values apart', () => {
    assert.equal(kind('9223372036854775807'), 'int')
    assert.equal(kind('9223372036854775808'), 'uint64')
    assert.equal(kind('18446744073709551616'), 'float')
    assert.equal(kind('+9223372036854775808'), 'float', 'ParseUint refuses a sign')
  })

  it('reads floats and leaves what Go cannot parse as a string', () => {
    assert.deepEqual(resolve('', '1.5').value, {kind: 'float', value: 1.5})
    assert.deepEqual(resolve('', '.5').value, {kind: 'float', value: 0.5})
    assert.equal(kind('.inf'), 'float')
    assert.equal(kind('1e400'), 'str', 'a range error falls back to a string')
    assert.equal(kind('1.5G'), 'str')
  })

  it('recognises timestamps; "<<" resolves as a string (merge keys are recognised by the decoder)', () => {
    assert.equal(kind('2001-12-14'), 'timestamp')
    assert.equal(kind('2001-12-14T21:59:43.10Z'), 'timestamp')
    assert.equal(kind('2001-13-14'), 'str')
    assert.equal(kind('<<'), 'str')
  })

  it('honours explicit tags: !!str keeps text, a contradicting tag fails like go-yaml', () => {
    assert.deepEqual(resolve(Tag.str, 'yes').value, {kind: 'str', value: 'yes'})
    assert.deepEqual(resolve(Tag.float, '5').value, {kind: 'float', value: 5})
    assert.throws(
      () => resolve(Tag.int, 'abc'),
      (e: Error) => e instanceof ResolveError && e.message === 'cannot decode !!str `abc` as a !!int',
    )
    assert.equal(resolve('!custom', 'x').value.kind, 'other')
  })

  it('leaves everything else a string', () => {
    for (const t of ['gpt', '0C', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', '1200M', '32K']) assert.equal(kind(t), 'str', t)
  })
})
