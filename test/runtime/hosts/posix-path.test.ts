/**
 * The node:path copy the runtime bundle uses on QuickJS: every function against node:path's POSIX
 * implementation, on ordinary and awkward paths (dot segments, `..` above the root, repeated and
 * trailing slashes, empty parts).
 */
import assert from 'node:assert/strict'
import {posix as nodePath} from 'node:path'
import {describe, it} from 'node:test'

import * as ours from '../../../src/runtime/hosts/posix-path.js'

const PATHS = [
  '',
  '.',
  '..',
  '/',
  '//',
  '/a',
  'a',
  'a/',
  '/a/b/',
  'a//b',
  '/a/./b/../c',
  '../a/b',
  'a/../..',
  '/../a',
  '/a/b/../../..',
  './a/./',
  'sys/class/dmi/id/product_serial',
  '/proc/device-tree/../cpuinfo',
  'a/b/c/../../../../d',
]

describe('posix-path against node:path', () => {
  it('normalize, isAbsolute, dirname, basename', () => {
    for (const path of PATHS) {
      if (path !== '') assert.equal(ours.normalize(path), nodePath.normalize(path), `normalize ${JSON.stringify(path)}`)
      assert.equal(ours.isAbsolute(path), nodePath.isAbsolute(path), `isAbsolute ${JSON.stringify(path)}`)
      assert.equal(ours.dirname(path), nodePath.dirname(path), `dirname ${JSON.stringify(path)}`)
      assert.equal(ours.basename(path), nodePath.basename(path), `basename ${JSON.stringify(path)}`)
    }
  })

  it('join and resolve of pairs and triples (resolve from this working directory)', () => {
    for (const a of PATHS) {
      for (const b of PATHS) {
        assert.equal(ours.join(a, b), nodePath.join(a, b), `join ${JSON.stringify([a, b])}`)
        assert.equal(ours.resolve(a, b), nodePath.resolve(a, b), `resolve ${JSON.stringify([a, b])}`)
      }
    }

    assert.equal(ours.join('/root', 'sys', '../../../etc/passwd'), nodePath.join('/root', 'sys', '../../../etc/passwd'))
    assert.equal(ours.resolve('/x', 'y', '/z', 'w'), nodePath.resolve('/x', 'y', '/z', 'w'))
    assert.equal(ours.join(), nodePath.join())
    assert.equal(ours.resolve(), nodePath.resolve())
  })

  it('relative between absolute and relative paths', () => {
    const targets = ['/', '/a', '/a/b', '/a/b/c', '/a/c', '/b', 'a', 'a/b', '.', '..']
    for (const from of targets) for (const to of targets) assert.equal(ours.relative(from, to), nodePath.relative(from, to), `relative ${JSON.stringify([from, to])}`)
  })

  it('sep and the posix namespace', () => {
    assert.equal(ours.sep, nodePath.sep)
    assert.equal(ours.posix.join, ours.join)
    assert.equal(ours.default, ours.posix)
  })
})
