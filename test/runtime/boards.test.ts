/**
 * The board profiles compiled into the single-file runtime are the shipped profile files: same
 * ids, same chains and settings.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {builtinBoards} from '../../src/runtime/boards.js'
import {boardIds, loadBoard} from '../../src/serial/boards.js'

describe('built-in board profiles', () => {
  it('list every profile file in src/serial/boards/', () => {
    assert.deepEqual([...builtinBoards.ids()].sort(), boardIds())
  })

  it('hold what the files hold', () => {
    for (const id of boardIds()) {
      const {file: _builtin, ...builtin} = builtinBoards.load(id)
      const {file: _file, ...shipped} = loadBoard(id)
      assert.deepEqual(builtin, shipped, id)
    }
  })

  it('take an init board id where the file catalog does (pc-amd64 is x86)', () => {
    assert.equal(builtinBoards.load('pc-amd64').id, loadBoard('pc-amd64').id)
    assert.equal(builtinBoards.load('pc-amd64').id, 'x86')
  })

  it('refuse an unknown id', () => {
    assert.throws(() => builtinBoards.load('nope'), /unknown board "nope"/)
  })
})
