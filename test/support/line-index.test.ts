/** The line index: offsets ↔ 1-based lines and columns, every line break libyaml counts; LF only, in bytes, for byte formats. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {lineStarts, lineStartsOfBytes, offsetAt, position} from '../../src/support/line-index.js'

describe('line index', () => {
  it('breaks lines at LF, CRLF and a lone CR, and nowhere else', () => {
    assert.deepEqual(lineStarts('a\nb\r\nc\rd'), [0, 2, 5, 7])
    assert.deepEqual(lineStarts('a\u2028b\u0085c'), [0])
    assert.deepEqual(lineStarts(''), [0])
  })

  it('maps every offset to its line and column and back', () => {
    const text = 'a: 1\r\nbb: 2\rccc: 3\n\nd'
    const starts = lineStarts(text)
    for (let offset = 0; offset <= text.length; offset++) {
      const at = position(starts, offset)
      assert.equal(offsetAt(starts, at), offset, `offset ${offset} → ${at.line}:${at.column}`)
    }

    assert.deepEqual(position(starts, 7), {column: 2, line: 2})
    assert.deepEqual(position(starts, text.length), {column: 2, line: 5})
  })

  it('indexes bytes at LF only, with columns in bytes', () => {
    const bytes = new TextEncoder().encode('a\nb\r\nc\rd\né: 1\n')
    assert.deepEqual(lineStartsOfBytes(bytes), [0, 2, 5, 9, 15])
    assert.deepEqual(lineStartsOfBytes(new Uint8Array()), [0])
    const starts = lineStartsOfBytes(bytes)
    // "é" is two bytes: the ":" after it is the third byte of its line.
    assert.deepEqual(position(starts, bytes.indexOf(0x3a)), {column: 3, line: 4})
    assert.deepEqual(position(starts, 7), {column: 3, line: 3})
    assert.deepEqual(position(starts, bytes.length), {column: 1, line: 5})
  })
})
