/**
 * The descriptor sink the runtime and the fast CLI entries write through: whole text to a
 * descriptor, without Node's stdio streams.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {closeSync, openSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {scratchDir} from '../helpers/scratch.js'
import {descriptorSink} from '../../src/support/descriptor-sink.js'
import {requireBundle} from '../runtime/helpers.js'

describe('descriptorSink', () => {
  const dir = scratchDir('snap-gadget-output-')

  it('writes the text as UTF-8, all of it', () => {
    const file = join(dir, 'out')
    const fd = openSync(file, 'w')
    const sink = descriptorSink(fd)
    const line = `prepare-device: ${'é€😀'.repeat(20_000)}\n`
    assert.equal(sink.write(line), true)
    assert.equal(sink.write('second\n'), true)
    closeSync(fd)
    assert.equal(readFileSync(file, 'utf8'), `${line}second\n`)
  })

  it('stops quietly when the descriptor cannot be written', () => {
    // Open for reading only: writes fail with EBADF.
    const file = join(dir, 'read-only')
    closeSync(openSync(file, 'w'))
    const fd = openSync(file, 'r')
    try {
      const sink = descriptorSink(fd)
      assert.equal(sink.write('lost\n'), false)
      assert.equal(sink.write('lost too\n'), false)
    } finally {
      closeSync(fd)
    }

    assert.equal(readFileSync(file, 'utf8'), '')
  })

  it('a reader that went away does not change the exit status', async () => {
    const child = spawn(process.execPath, [requireBundle(), '--help'], {stdio: ['ignore', 'pipe', 'pipe']})
    // Closed before the runtime starts writing: its write fails with EPIPE.
    child.stdout.destroy()
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const code = await new Promise((resolve) => child.on('close', resolve))
    assert.equal(code, 0, stderr)
    assert.equal(stderr, '')
  })
})
