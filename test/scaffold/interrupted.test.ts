/**
 * init as a hostile or unlucky user meets it: a full disk or a kill in the middle of --force, a
 * staging directory left by an earlier run, another init at work, very long directory names,
 * terminal escapes and bidi controls in what is echoed, and what --dry-run --json says.
 */
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {scratchDir} from '../helpers/scratch.js'
import {UserError} from '../../src/errors.js'
import {planScaffold} from '../../src/scaffold/plan.js'
import {STAGING_PREFIX, writeScaffold} from '../../src/scaffold/write.js'
import {runCli, runProcess} from '../helpers/cli.js'
import {binRun, projectRoot} from '../helpers/paths.js'
import {TIMESTAMP} from './helpers.js'

const work = scratchDir('snap-gadget-interrupted-')

const initArgs = (dir: string, ...more: string[]) => ['init', '--board', 'pc-amd64', '--brand', 'acme', '--timestamp', TIMESTAMP, '--yes', ...more, dir]
const init = (dir: string, ...more: string[]) => runCli(initArgs(dir, ...more), {cwd: work})
const staging = (dir: string) => readdirSync(dir).filter((n) => n.startsWith(STAGING_PREFIX))
/** The project's files and contents, for before/after comparisons. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), {withFileTypes: true})) {
      const path = rel ? `${rel}/${entry.name}` : entry.name
      if (entry.isDirectory()) walk(path)
      else out[path] = readFileSync(join(dir, path), 'latin1')
    }
  }

  walk('')
  return out
}

/** An existing project whose files differ from what init writes, so an overwrite shows. */
async function oldProject(name: string): Promise<{dir: string; before: Record<string, string>}> {
  const dir = join(work, name)
  const r = await init(name)
  assert.equal(r.code, 0, r.stderr)
  writeFileSync(join(dir, 'README.md'), 'my own notes\n')
  writeFileSync(join(dir, 'gadget.yaml'), 'volumes: {}\n')
  return {before: snapshot(dir), dir}
}

/** init --force under a file-size limit of 8 KiB (EFBIG, as a full disk gives ENOSPC): the runtime bundle cannot be written. */
function initUnderSizeLimit(dir: string) {
  const args = initArgs(dir, '--force')
    .map((a) => `'${a}'`)
    .join(' ')
  return runProcess('bash', ['-c', `trap '' XFSZ; ulimit -f 8; exec '${process.execPath}' '${binRun}' ${args}`], {cwd: work})
}

/**
 * Runs writeScaffold(--force) in a child that kills itself (SIGKILL, as the OOM killer or a power
 * cut would end it) at the n-th call of an fs function on a path containing `pathIncludes`: a kill
 * at an exact point of the real code.
 */
function killedAt(dir: string, call: 'renameSync' | 'rmSync' | 'writeFileSync', n: number, pathIncludes = '') {
  const script = `
    import fs from 'node:fs'
    import {syncBuiltinESMExports} from 'node:module'
    const {planScaffold} = await import(${JSON.stringify(join(projectRoot, 'src', 'scaffold', 'plan.ts'))})
    const {writeScaffold} = await import(${JSON.stringify(join(projectRoot, 'src', 'scaffold', 'write.ts'))})
    const plan = await planScaffold({board: 'pc-amd64', brand: 'acme', directory: ${JSON.stringify(dir)}, timestamp: ${JSON.stringify(TIMESTAMP)}})
    const real = fs.${call}
    let calls = 0
    fs.${call} = (...args) => {
      if (String(args[0]).includes(${JSON.stringify(pathIncludes)}) && ++calls === ${n}) process.kill(process.pid, 'SIGKILL')
      return real(...args)
    }
    syncBuiltinESMExports()
    writeScaffold(plan, {force: true})
  `
  return runProcess(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {cwd: projectRoot})
}

describe('init --force is all or nothing', () => {
  it('a full disk while staging: exit 2, "nothing was changed", and nothing was', async () => {
    const {before, dir} = await oldProject('disk-full')
    const r = await initUnderSizeLimit(dir)
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /^error: cannot write .*disk-full: .*; nothing in .*disk-full was changed\n {2}hint: .*full disk/)
    assert.deepEqual(snapshot(dir), before)
    assert.deepEqual(staging(dir), [])
  })

  it('killed while staging: the project is untouched; the next run removes the leftovers and says so', async () => {
    const {before, dir} = await oldProject('killed')
    const r = await killedAt(dir, 'writeFileSync', 5)
    assert.equal(r.signal, 'SIGKILL')
    assert.equal(staging(dir).length, 1)
    const leftovers = staging(dir)[0]
    const withoutStaging = Object.fromEntries(Object.entries(snapshot(dir)).filter(([p]) => !p.startsWith(STAGING_PREFIX)))
    assert.deepEqual(withoutStaging, before)

    const again = await init('killed', '--force')
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, new RegExp(`^note: rolled back an init that was interrupted \\(process \\d+\\) and removed its staging directory ${leftovers}\\n`))
    assert.deepEqual(staging(dir), [])
    assert.notEqual(readFileSync(join(dir, 'README.md'), 'utf8'), 'my own notes\n')
  })

  it('killed in the middle of the swap: the next run restores every old file', async () => {
    const {before, dir} = await oldProject('killed-swap')
    const r = await killedAt(dir, 'renameSync', 5)
    assert.equal(r.signal, 'SIGKILL')
    assert.notDeepEqual(Object.fromEntries(Object.entries(snapshot(dir)).filter(([p]) => !p.startsWith(STAGING_PREFIX))), before, 'the kill left a mixed project')
    // Without --force init then stops at the existing files, after putting them back.
    const again = await init('killed-swap')
    assert.equal(again.code, 2)
    assert.deepEqual(snapshot(dir), before)
  })

  it('killed half-way through the swap: the next run puts every old file back before it checks', async () => {
    const dir = join(work, 'half-swapped')
    mkdirSync(dir)
    // What a run killed after two of three renames leaves: README.md replaced (old copy kept),
    // extra.txt new, gadget.yaml not reached yet.
    const stage = join(dir, `${STAGING_PREFIX}999999-0badc0de`)
    mkdirSync(join(stage, 'previous'), {recursive: true})
    mkdirSync(join(stage, 'new'), {recursive: true})
    writeFileSync(
      join(stage, 'journal.json'),
      JSON.stringify({
        files: [
          {existed: true, path: 'README.md'},
          {existed: false, path: 'extra.txt'},
          {existed: true, path: 'gadget.yaml'},
        ],
        pid: 2147483646,
      }),
    )
    writeFileSync(join(stage, 'previous', 'README.md'), 'old readme\n')
    writeFileSync(join(dir, 'README.md'), 'new readme\n')
    writeFileSync(join(dir, 'extra.txt'), 'new file\n')
    writeFileSync(join(stage, 'new', 'gadget.yaml'), 'new gadget\n')
    writeFileSync(join(dir, 'gadget.yaml'), 'old gadget\n')

    // Without --force the check then stops, but the directory is already back as it was.
    const r = await init('half-swapped')
    assert.equal(r.code, 2)
    assert.deepEqual(snapshot(dir), {'README.md': 'old readme\n', 'gadget.yaml': 'old gadget\n'})
  })

  it('killed after the swap, before its clean-up: the next run keeps the new gadget and only removes the staging directory', async () => {
    const {dir} = await oldProject('killed-late')
    const plan = await planScaffold({board: 'pc-amd64', brand: 'acme', directory: dir, timestamp: TIMESTAMP})
    // The kill comes as the staging directory is being removed, after the swap.
    const r = await killedAt(dir, 'rmSync', 1, STAGING_PREFIX)
    assert.equal(r.signal, 'SIGKILL')
    assert.equal(staging(dir).length, 1)
    const again = await init('killed-late')
    assert.equal(again.code, 2, 'the existing files stop a run without --force')
    assert.deepEqual(staging(dir), [])
    for (const file of plan.files) assert.deepEqual(readFileSync(join(dir, file.path)), Buffer.from(file.content), file.path)
  })

  it('rolling back removes the directories only new files needed', async () => {
    const dir = join(work, 'new-dirs')
    mkdirSync(dir)
    const stage = join(dir, `${STAGING_PREFIX}999998-0badc0de`)
    mkdirSync(join(stage, 'new'), {recursive: true})
    writeFileSync(join(stage, 'journal.json'), JSON.stringify({files: [{existed: false, path: 'snap/hooks/configure'}], pid: 2147483646}))
    mkdirSync(join(dir, 'snap', 'hooks'), {recursive: true})
    writeFileSync(join(dir, 'snap', 'hooks', 'configure'), 'new hook\n')
    // An existing README.md stops init (no --force) right after the roll-back.
    writeFileSync(join(dir, 'README.md'), 'mine\n')
    assert.equal((await init('new-dirs')).code, 2)
    assert.deepEqual(readdirSync(dir), ['README.md'])
  })

  it('refuses while another init is writing into the same directory', async () => {
    const {dir} = await oldProject('busy')
    const stage = join(dir, `${STAGING_PREFIX}${process.pid}-00000000`)
    mkdirSync(stage)
    writeFileSync(join(stage, 'journal.json'), JSON.stringify({files: [], pid: process.ppid}))
    const p = await planScaffold({board: 'pc-amd64', brand: 'acme', directory: dir, timestamp: TIMESTAMP})
    assert.throws(
      () => writeScaffold(p, {force: true}),
      (error: unknown) => error instanceof UserError && error.code === 'E_INIT_BUSY' && /another init \(process \d+\) is writing into/.test(error.message),
    )
    rmSync(stage, {force: true, recursive: true})
  })
})

describe('init names and messages', () => {
  it('a 240-character directory name works', async () => {
    const name = 'a'.repeat(240)
    const r = await init(name)
    assert.equal(r.code, 0, r.stderr)
    assert.ok(existsSync(join(work, name, 'gadget.yaml')))
    const forced = await init(name, '--force')
    assert.equal(forced.code, 0, forced.stderr)
    assert.deepEqual(staging(work).concat(staging(join(work, name))), [])
  })

  it('a name over the file system limit is a user error (exit 2), not a bug', async () => {
    const r = await init('b'.repeat(300))
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /too long/)
    assert.doesNotMatch(r.stderr, /bug|internal error/)
  })

  it('--dry-run --json says what would be done, the real run what was done', async () => {
    const {dir} = await oldProject('dry')
    const dry = await init('dry', '--dry-run', '--json')
    const planned = JSON.parse(dry.stdout) as {files: Array<{action: string; path: string}>}
    assert.deepEqual(new Set(planned.files.map((f) => f.action)), new Set(['overwrite']))
    const fresh = JSON.parse((await init('dry-new', '--dry-run', '--json')).stdout) as {files: Array<{action: string}>}
    assert.deepEqual(new Set(fresh.files.map((f) => f.action)), new Set(['create']))
    const real = JSON.parse((await init('dry', '--force', '--json')).stdout) as {files: Array<{action: string}>}
    assert.deepEqual(new Set(real.files.map((f) => f.action)), new Set(['overwritten']))
    assert.ok(existsSync(dir))
  })

  it('escapes control and bidi characters in echoed input, and cuts long values', async () => {
    const evil = await runCli(['init', '--board', 'pc-\u001b[31mamd64\u202e', '--brand', 'acme', '--yes', 'x'], {cwd: work})
    assert.equal(evil.code, 2)
    assert.ok(!evil.stderr.includes('\u001b') && !evil.stderr.includes('\u202e'), JSON.stringify(evil.stderr))
    assert.match(evil.stderr, /unknown board "pc-\\u001b\[31mamd64\\u202e"/)
    const long = await runCli(['init', '--board', 'pc-amd64', '--brand', 'acme', '--name', `N${'x'.repeat(5000)}`, '--yes', 'y'], {cwd: work})
    assert.equal(long.code, 2)
    assert.ok(long.stderr.length < 1000, `${long.stderr.length} characters`)
    assert.match(long.stderr, /…" \(5001 characters\)/)
  })
})
