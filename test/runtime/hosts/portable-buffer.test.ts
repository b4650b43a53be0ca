/**
 * The Buffer the QuickJS host installs: for every operation the runtime uses, the same bytes and
 * text as Node's Buffer, on valid and on broken input (invalid UTF-8, odd hex, unpadded base64).
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {PortableBuffer, utf8Decode, utf8Encode} from '../../../src/runtime/hosts/portable-buffer.js'

const TEXTS = ['', 'a', 'serial 100000000fe69593', 'héllo wörld', '日本語', 'emoji 🚀 and \u{10ffff}', '\u0000nul\u0000', 'lone \ud800 surrogate', 'x'.repeat(1000)]
const BYTES: number[][] = [
  [],
  [0x00, 0x7f, 0x80, 0xff],
  [0xc3, 0xa9],
  [0xc3], // truncated 2-byte sequence
  [0xe2, 0x82], // truncated 3-byte sequence
  [0xf0, 0x9f, 0x9a, 0x80],
  [0xf0, 0x9f, 0x9a], // truncated 4-byte sequence
  [0xc0, 0x80], // overlong NUL
  [0xed, 0xa0, 0x80], // an encoded surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xfe, 0xff, 0x41],
  [0x41, 0x80, 0x42, 0xe2, 0x28, 0xa1],
]
const ENCODINGS = ['hex', 'latin1', 'binary', 'ascii', 'base64', 'base64url', 'utf8'] as const

describe('PortableBuffer against Node Buffer', () => {
  it('UTF-8: encodes every text and decodes every byte string (replacement characters included) as Node does', () => {
    for (const text of TEXTS) {
      assert.deepEqual([...utf8Encode(text)], [...Buffer.from(text, 'utf8')], JSON.stringify(text))
      assert.equal(PortableBuffer.byteLength(text), Buffer.byteLength(text), JSON.stringify(text))
    }

    for (const bytes of BYTES) assert.equal(utf8Decode(Uint8Array.from(bytes)), Buffer.from(bytes).toString('utf8'), JSON.stringify(bytes))
  })

  it('toString in every encoding, also over a range', () => {
    for (const bytes of BYTES) {
      const ours = PortableBuffer.from(bytes)
      const node = Buffer.from(bytes)
      for (const encoding of ENCODINGS) {
        assert.equal(ours.toString(encoding), node.toString(encoding), `${encoding} of ${JSON.stringify(bytes)}`)
        if (bytes.length > 2) assert.equal(ours.toString(encoding, 1, bytes.length - 1), node.toString(encoding, 1, bytes.length - 1))
      }
    }
  })

  it('from a string in every encoding, broken input included (odd hex, bad digits, unpadded or url base64)', () => {
    const inputs = ['', 'deadbeef', 'DEADBEEF', 'abc', 'zz11', '12zz', 'aGVsbG8', 'aGVsbG8=', 'aGk_-w', 'a b\nc=d', 'héllo', '\u00ff\u0100']
    for (const input of inputs) {
      for (const encoding of ENCODINGS) {
        assert.deepEqual([...PortableBuffer.from(input, encoding)], [...Buffer.from(input, encoding)], `${encoding} of ${JSON.stringify(input)}`)
      }
    }
  })

  it('from bytes, arrays and ArrayBuffers; concat, alloc, equals, isBuffer', () => {
    const arrayBuffer = Uint8Array.from([1, 2, 3, 4, 5]).buffer
    assert.deepEqual([...PortableBuffer.from(arrayBuffer, 1, 3)], [...Buffer.from(arrayBuffer, 1, 3)])
    assert.deepEqual([...PortableBuffer.from(arrayBuffer, 2)], [...Buffer.from(arrayBuffer, 2)])
    assert.deepEqual([...PortableBuffer.from([300, -1, 65])], [...Buffer.from([300, -1, 65])])
    const parts = [Uint8Array.from([1]), PortableBuffer.from('ab'), new Uint8Array(0)]
    assert.deepEqual([...PortableBuffer.concat(parts)], [...Buffer.concat(parts)])
    assert.deepEqual([...PortableBuffer.alloc(3)], [0, 0, 0])
    assert.ok(PortableBuffer.from('ab').equals(Buffer.from('ab')))
    assert.ok(!PortableBuffer.from('ab').equals(Buffer.from('ac')))
    assert.ok(!PortableBuffer.from('ab').equals(Buffer.from('abc')))
    assert.ok(PortableBuffer.isBuffer(PortableBuffer.from('a')))
    assert.ok(!PortableBuffer.isBuffer(Uint8Array.from([1])))
  })

  it('reads big- and little-endian integers as Node does, and refuses a read past the end', () => {
    const bytes = [0xff, 0xfe, 0x80, 0x01, 0x00, 0x7f]
    const ours = PortableBuffer.from(bytes)
    const node = Buffer.from(bytes)
    for (let at = 0; at + 2 <= bytes.length; at++) assert.equal(ours.readUInt16BE(at), node.readUInt16BE(at))
    for (let at = 0; at + 4 <= bytes.length; at++) {
      assert.equal(ours.readUInt32BE(at), node.readUInt32BE(at))
      assert.equal(ours.readUInt32LE(at), node.readUInt32LE(at))
    }

    for (const at of [-1, 3, 1.5]) {
      assert.throws(() => ours.readUInt32BE(at), RangeError)
      assert.throws(() => node.readUInt32BE(at), RangeError)
    }
  })
})
