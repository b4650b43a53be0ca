/**
 * bin/run.js while scripts/build.mjs replaces dist/: a clear message (exit 2), never a stack trace.
 * Runs a copy of bin/run.js in a scratch package, so the real checkout is never marked.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {runProcess} from '../helpers/cli.js'
import {projectRoot} from '../helpers/paths.js'

let scratch: string

before(() => {
  scratch = freshDir('snap-gadget-rebuild-')
  mkdirSync(join(scratch, 'bin'))
  mkdirSync(join(scratch, 'node_modules'))
  copyFileSync(join(projectRoot, 'bin', 'run.js'), join(scratch, 'bin', 'run.js'))
  copyFileSync(join(projectRoot, 'bin', 'package.json'), join(scratch, 'bin', 'package.json'))
})

const runScratch = () => runProcess(process.execPath, [join(scratch, 'bin', 'run.js'), 'validate', '--help'])

describe('bin/run.js during a rebuild', () => {
  it('says the checkout is being rebuilt while the build that marked it runs', async (t) => {
    const build = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
    t.after(() => build.kill())
    writeFileSync(join(scratch, 'node_modules', '.snap-gadget-building'), `${build.pid}\n`)
    const r = await runScratch()
    assert.deepEqual([r.code, r.stdout], [2, ''])
    assert.equal(r.stderr, `error: snap-gadget is being rebuilt in this checkout (npm run build, process ${build.pid}): run the command again when the build has finished\n`)
  })

  it('says the last build did not finish when the marking process is gone', async () => {
    writeFileSync(join(scratch, 'node_modules', '.snap-gadget-building'), '2147483646\n')
    const r = await runScratch()
    assert.deepEqual([r.code, r.stderr], [2, 'error: the last build of snap-gadget in this checkout did not finish: run `npm run build`\n'])
  })

  it('says dist/ is missing rather than throwing MODULE_NOT_FOUND', async () => {
    rmSync(join(scratch, 'node_modules', '.snap-gadget-building'), {force: true})
    const r = await runScratch()
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^error: snap-gadget is not built in this checkout \(no dist\/\): run `npm run build`/)
    assert.doesNotMatch(r.stderr, /at Module\._resolveFilename|\n\s+at /)
  })

  it('the build marks the checkout and clears the mark when it succeeds', () => {
    const build = readFileSync(join(projectRoot, 'scripts', 'build.mjs'), 'utf8')
    assert.match(build, /writeFileSync\(buildingMarker, `\$\{process\.pid\}\\n`\)/)
    assert.match(build, /if \(code === 0\) rmSync\(buildingMarker/)
  })
})
