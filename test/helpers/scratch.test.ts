/**
 * scratch.ts: a test file's directories are gone once its process has ended, whether a test made
 * them (freshDir) or the file did (scratchDir), and also when a test failed.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {it} from 'node:test'

import {projectRoot} from './paths.js'
import {freshDir, scratchDir} from './scratch.js'

const work = scratchDir('snap-gadget-scratch-')

it('freshDir: a new directory each call, removed when the test file has run, scratchDir after its tests', () => {
  const a = freshDir('snap-gadget-fresh-')
  const b = freshDir('snap-gadget-fresh-')
  assert.notEqual(a, b)
  assert.ok(existsSync(a) && existsSync(b))

  // A test file of its own, run as node's test runner runs each file: in a process of its own.
  const scratch = pathToFileURL(join(projectRoot, 'test', 'helpers', 'scratch.ts')).href
  const file = join(work, 'uses-scratch.test.ts')
  writeFileSync(
    file,
    `import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {it} from 'node:test'
import {freshDir, scratchDir} from ${JSON.stringify(scratch)}
const whole = scratchDir('snap-gadget-scratch-whole-')
console.log('made ' + whole)
it('makes directories', () => {
  for (const prefix of ['snap-gadget-scratch-one-', 'snap-gadget-scratch-two-']) {
    const dir = freshDir(prefix)
    mkdirSync(join(dir, 'deep', 'er'), {recursive: true})
    writeFileSync(join(dir, 'deep', 'er', 'file'), 'x')
    console.log('made ' + dir)
  }
})
it('fails after making one', () => {
  console.log('made ' + freshDir('snap-gadget-scratch-failed-'))
  throw new Error('this test fails on purpose')
})
`,
  )
  // Without NODE_TEST_CONTEXT: that would make the child report into this runner instead.
  const {NODE_TEST_CONTEXT: _, ...env} = process.env
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], {cwd: projectRoot, encoding: 'utf8', env, timeout: 60_000})
  assert.equal(run.status, 1, 'the failing test fails the file')
  const made = [...run.stdout.matchAll(/^# made (\S+)$/gm)].map((m) => m[1])
  assert.equal(made.length, 4, run.stdout)
  for (const dir of made) assert.ok(!existsSync(dir), `${dir} is still there`)
})
