/**
 * Writing a plan: nothing is overwritten without force, every file is checked before the first
 * one is written, paths (also through links already in the directory) stay inside the project,
 * hooks are executable, and a new project appears in one rename.
 */
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {scratchDir} from '../helpers/scratch.js'
import {UserError} from '../../src/errors.js'
import {planScaffold, type ScaffoldPlan} from '../../src/scaffold/plan.js'
import {checkScaffoldTarget, writeScaffold} from '../../src/scaffold/write.js'
import {TIMESTAMP} from './helpers.js'

const work = scratchDir('snap-gadget-write-')
const plan = (directory: string): Promise<ScaffoldPlan> => planScaffold({board: 'raspberry-pi', brand: 'acme', directory, timestamp: TIMESTAMP})

describe('writeScaffold', () => {
  it('writes every planned file, with its mode, into a new directory', async () => {
    const p = await plan(join(work, 'new', 'gadget'))
    const result = writeScaffold(p)
    assert.equal(result.files.length, p.files.length)
    assert.ok(result.files.every((f) => f.action === 'created'))
    for (const file of p.files) {
      const path = join(p.directory, file.path)
      assert.deepEqual(readFileSync(path), Buffer.from(file.content), file.path)
      assert.equal(statSync(path).mode & 0o777, file.mode, file.path)
    }

    assert.equal(statSync(join(p.directory, 'snap', 'hooks', 'prepare-device')).mode & 0o111, 0o111)
    // No staging directory is left beside it.
    assert.deepEqual(readdirSync(join(work, 'new')), ['gadget'])
  })

  it('never overwrites without force, and writes nothing when one file is in the way', async () => {
    const p = await plan(join(work, 'existing'))
    mkdirSync(p.directory)
    writeFileSync(join(p.directory, 'gadget.yaml'), 'mine\n')
    writeFileSync(join(p.directory, 'notes.txt'), 'kept\n')
    assert.throws(
      () => writeScaffold(p),
      (error: unknown) => error instanceof UserError && error.code === 'E_INIT_EXISTS' && /gadget\.yaml/.test(error.message) && /--force/.test(error.hint ?? ''),
    )
    assert.deepEqual(readdirSync(p.directory).sort(), ['gadget.yaml', 'notes.txt'])
    assert.equal(readFileSync(join(p.directory, 'gadget.yaml'), 'utf8'), 'mine\n')

    const forced = writeScaffold(p, {force: true})
    assert.equal(forced.files.find((f) => f.path === 'gadget.yaml')!.action, 'overwritten')
    assert.equal(forced.files.find((f) => f.path === 'README.md')!.action, 'created')
    assert.notEqual(readFileSync(join(p.directory, 'gadget.yaml'), 'utf8'), 'mine\n')
    assert.equal(readFileSync(join(p.directory, 'notes.txt'), 'utf8'), 'kept\n')
    assert.ok(!readdirSync(p.directory).some((f) => f.includes('.init-')), 'no temporary files are left')
  })

  it('refuses to write through a link that leads out of the project, even with force', async () => {
    const outside = join(work, 'outside')
    mkdirSync(outside)
    const p = await plan(join(work, 'linked'))
    mkdirSync(p.directory)
    symlinkSync(outside, join(p.directory, 'snap'))
    for (const force of [false, true]) {
      assert.throws(
        () => writeScaffold(p, {force}),
        (error: unknown) => error instanceof UserError && error.code === 'E_INIT_PATH' && /leads out of the project/.test(error.message),
      )
    }

    assert.deepEqual(readdirSync(outside), [])
  })

  it('refuses a target that is a file, and a file where a directory must go', async () => {
    const file = join(work, 'a-file')
    writeFileSync(file, '')
    const onFile = await plan(file)
    assert.throws(
      () => writeScaffold(onFile),
      (error: unknown) => error instanceof UserError && error.code === 'E_INIT_TARGET',
    )
    const p = await plan(join(work, 'blocked'))
    mkdirSync(p.directory)
    writeFileSync(join(p.directory, 'snap'), '')
    assert.throws(
      () => writeScaffold(p, {force: true}),
      (error: unknown) => error instanceof UserError && /snap is a file, not a directory/.test(error.message),
    )
  })

  it('refuses a planned path that leaves the project', async () => {
    const p = await plan(join(work, 'escape'))
    for (const path of ['../evil', '/etc/evil', 'a/../../evil']) {
      const evil = {...p, files: [...p.files, {content: 'x', from: 'test', mode: 0o644, path}]}
      assert.throws(
        () => checkScaffoldTarget(evil),
        (error: unknown) => error instanceof UserError && error.code === 'E_INIT_PATH',
        path,
      )
    }

    assert.ok(!existsSync(join(work, 'evil')))
  })
})
