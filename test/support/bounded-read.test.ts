/**
 * readBoundedFile: a regular file is read whole and exactly (from its fstat size, in one read when
 * the size holds), a file whose size says nothing (/proc) is read on to its end, and the limit and
 * the file's kind are enforced.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {UserError} from '../../src/errors.js'
import {readBoundedFile} from '../../src/support/bounded-read.js'
import {scratchDir} from '../helpers/scratch.js'

const dir = scratchDir('bounded-read-')

function fileOf(name: string, bytes: Buffer): string {
  const path = join(dir, name)
  writeFileSync(path, bytes)
  return path
}

/** Bytes that differ from one position to the next, so a chunk read twice or skipped shows. */
function pattern(length: number): Buffer {
  return Buffer.from(Array.from({length}, (_, i) => (i * 7 + (i >> 8)) & 0xff))
}

describe('readBoundedFile', () => {
  for (const size of [0, 1, 4095, 10_267, 64 * 1024, 64 * 1024 + 1, 300_000]) {
    it(`reads a regular file of ${size} bytes whole`, () => {
      const bytes = pattern(size)
      assert.deepEqual(readBoundedFile(fileOf(`f-${size}`, bytes), 1024 * 1024), bytes)
    })
  }

  it('reads a file of exactly the limit, and refuses one byte more', () => {
    assert.equal(readBoundedFile(fileOf('at-limit', pattern(1000)), 1000).length, 1000)
    assert.throws(
      () => readBoundedFile(fileOf('over-limit', pattern(1001)), 1000, {shown: 'over-limit', what: 'gadget.yaml'}),
      (error: unknown) => error instanceof UserError && error.code === 'E_TOO_LARGE' && /over-limit is 1001 bytes; snap-gadget reads gadget.yaml files of at most 1000 bytes/.test(error.message),
    )
  })

  it('reads on past the size fstat gives when that size is no guide (/proc says 0)', () => {
    const read = readBoundedFile('/proc/self/mountinfo', 4 * 1024 * 1024).toString('utf8')
    assert.ok(read.length > 0)
    // Another read of the same file by another process: the same mounts.
    assert.equal(read.split('\n').length, readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length)
  })

  it('reads a /proc file of many pages to its end, though the kernel answers a page at a time', () => {
    // /proc/kallsyms: megabytes that stay the same between two reads, given out a page per read.
    const read = readBoundedFile('/proc/kallsyms', 256 * 1024 * 1024)
    assert.ok(read.length > 64 * 1024, `${read.length} bytes`)
    assert.equal(read.length, readFileSync('/proc/kallsyms').length)
  })

  it('bounds a file whose size fstat does not know (/proc) at the limit', () => {
    assert.throws(
      () => readBoundedFile('/proc/self/maps', 16),
      (error: unknown) => error instanceof UserError && error.code === 'E_TOO_LARGE' && /more than 16 bytes/.test(error.message),
    )
  })

  it('refuses a directory and a FIFO without blocking', () => {
    const sub = join(dir, 'a-directory')
    mkdirSync(sub)
    assert.throws(
      () => readBoundedFile(sub, 1000),
      (error: unknown) => error instanceof UserError && /is a directory/.test(error.message),
    )
    const fifo = join(dir, 'a-fifo')
    execFileSync('mkfifo', [fifo])
    assert.throws(
      () => readBoundedFile(fifo, 1000),
      (error: unknown) => error instanceof UserError && error.code === 'E_NOT_A_FILE' && /a FIFO \(named pipe\), not a regular file/.test(error.message),
    )
  })
})
