/**
 * The launcher (src/cli/fast/launch.ts): which invocations run through a fast entry and which fall
 * back to oclif, how the fast parser reads argv, and loading a fast entry with and without V8's
 * code cache (a cache V8 refuses must change nothing but speed).
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'
import {promisify} from 'node:util'

import {freshDir} from '../helpers/scratch.js'
import {type FastIo, loadFastEntry, parseFlags, planFastRun} from '../../src/cli/fast/launch.js'
import {processIo, runValidate} from '../../src/cli/commands/validate/run.js'
import {fixtures, projectRoot} from '../helpers/paths.js'

type ManifestCommand = Parameters<typeof parseFlags>[1]

/** validate's manifest entry, as oclif writes it. */
const validate: ManifestCommand = {
  args: {path: {name: 'path'}},
  fastEntry: 'validate',
  flags: {
    json: {allowNo: false, name: 'json', type: 'boolean'},
    format: {char: 'f', multiple: false, name: 'format', options: ['text', 'json', 'github', 'sarif', 'junit'], type: 'option'},
    model: {multiple: false, name: 'model', type: 'option'},
    output: {char: 'o', multiple: false, name: 'output', type: 'option'},
    snapd: {default: 'latest', multiple: false, name: 'snapd', type: 'option'},
    strict: {allowNo: false, name: 'strict', type: 'boolean'},
  },
  strict: false,
}

/** A command with the flag kinds validate does not have. */
const other: ManifestCommand = {
  args: {file: {name: 'file'}},
  fastEntry: 'other',
  flags: {
    color: {allowNo: true, name: 'color', type: 'boolean'},
    key: {name: 'key', required: true, type: 'option'},
    tag: {char: 't', multiple: true, name: 'tag', type: 'option'},
  },
}

describe('parseFlags', () => {
  const parse = (...tokens: string[]) => parseFlags(tokens, validate)

  it('reads paths, long and short flags, and applies defaults', () => {
    assert.deepEqual(parse('gadget.yaml'), {argv: ['gadget.yaml'], flags: {snapd: 'latest'}})
    assert.deepEqual(parse('a.yaml', '--strict', 'b.yaml', '--format', 'json', '-o', 'r.json', '--snapd', '2.57', '--model', 'm.json', '--json'), {
      argv: ['a.yaml', 'b.yaml'],
      flags: {format: 'json', json: true, model: 'm.json', output: 'r.json', snapd: '2.57', strict: true},
    })
    assert.deepEqual(parse('--format=sarif', 'x'), {argv: ['x'], flags: {format: 'sarif', snapd: 'latest'}})
    assert.deepEqual(parse('-f', 'junit', 'x'), {argv: ['x'], flags: {format: 'junit', snapd: 'latest'}})
    assert.deepEqual(parse('--output=', 'x'), {argv: ['x'], flags: {output: '', snapd: 'latest'}})
    assert.deepEqual(parse(), {argv: [], flags: {snapd: 'latest'}})
  })

  it('takes everything after -- as paths, and a lone - as a path', () => {
    assert.deepEqual(parse('a.yaml', '--', '--strict', '-f'), {argv: ['a.yaml', '--strict', '-f'], flags: {snapd: 'latest'}})
    assert.deepEqual(parse('-'), {argv: ['-'], flags: {snapd: 'latest'}})
  })

  const fallbacks: Array<[string, string[]]> = [
    ['--help', ['x', '--help']],
    ['-h', ['x', '-h']],
    ['--version', ['--version']],
    ['an unknown flag', ['x', '--bogus']],
    ['an unknown short flag', ['x', '-x']],
    ['a short flag with its value attached', ['x', '-fjson']],
    ['grouped short flags', ['x', '-fo', 'json']],
    ['--no- of a flag without allowNo', ['x', '--no-strict']],
    ['--no- of an option', ['x', '--no-format']],
    ['--no- of nothing', ['x', '--no-such-thing']],
    ['an option without its value', ['x', '--format']],
    ['an option followed by a flag', ['x', '--output', '--strict']],
    ['an option whose value looks like a flag', ['x', '--model', '-m.json']],
    ['a value outside the options', ['x', '--format', 'xml']],
    ['a value outside the options, with =', ['x', '--format=xml']],
    ['a value for a boolean', ['x', '--strict=true']],
    ['a repeated boolean', ['x', '--strict', '--strict']],
    ['a repeated option', ['x', '--format', 'json', '--format', 'text']],
    ['a repeated option, long and short', ['x', '--format', 'json', '-f', 'json']],
    ['an empty value for a boolean', ['x', '--strict=']],
    ['a flag without a name', ['x', '--=json']],
    ['three dashes', ['x', '---strict']],
    ['a negated option with a value', ['x', '--no-format=json']],
    ['a short flag with =', ['x', '-f=json']],
    ['an option whose value is a lone -', ['x', '--output', '-']],
  ]
  for (const [what, tokens] of fallbacks) {
    it(`leaves ${what} to oclif`, () => {
      assert.equal(parse(...tokens), undefined)
    })
  }

  it('negates a boolean that allows --no-', () => {
    assert.deepEqual(parseFlags(['--key', 'k', '--no-color'], other), {argv: [], flags: {color: false, key: 'k'}})
    assert.deepEqual(parseFlags(['--key', 'k', '--color', 'f'], other), {argv: ['f'], flags: {color: true, key: 'k'}})
    assert.equal(parseFlags(['--key', 'k', '--color', '--no-color'], other), undefined)
    assert.equal(parseFlags(['--no-key', 'k'], other), undefined)
    assert.equal(parseFlags(['--key', 'k', '--no-color=yes'], other), undefined)
  })

  it("tells a flag named no-… (init's --no-api-key) from the negation of another", () => {
    const init: ManifestCommand = {
      args: {},
      flags: {
        'api-key-env': {name: 'api-key-env', type: 'option'},
        identity: {allowNo: true, default: true, name: 'identity', type: 'boolean'},
        'no-api-key': {allowNo: false, name: 'no-api-key', type: 'boolean'},
      },
    }
    assert.deepEqual(parseFlags(['--no-api-key'], init), {argv: [], flags: {identity: true, 'no-api-key': true}})
    assert.deepEqual(parseFlags(['--no-identity', '--api-key-env', 'KEY'], init), {argv: [], flags: {'api-key-env': 'KEY', identity: false}})
    assert.equal(parseFlags(['--no-no-api-key'], init), undefined)
  })

  it('collects a multiple option', () => {
    assert.deepEqual(parseFlags(['--key=k', '--tag', 'a', '-t', 'b', '--tag=c'], other), {argv: [], flags: {key: 'k', tag: ['a', 'b', 'c']}})
  })

  it('leaves a missing required flag to oclif', () => {
    assert.equal(parseFlags(['f'], other), undefined)
  })

  it('leaves extra arguments of a strict command to oclif; a non-strict command takes them', () => {
    assert.deepEqual(parseFlags(['--key', 'k', 'one'], other), {argv: ['one'], flags: {key: 'k'}})
    assert.equal(parseFlags(['--key', 'k', 'one', 'two'], other), undefined)
    assert.deepEqual(parse('one', 'two', 'three')?.argv, ['one', 'two', 'three'])
  })
})

describe('planFastRun', () => {
  let root: string
  const savedEnv = process.env.SNAP_GADGET_CONTENT_TYPE

  before(() => {
    root = freshDir('snap-gadget-launch-plan-')
    const schema: ManifestCommand = {args: {}, flags: {force: {allowNo: false, name: 'force', type: 'boolean'}}}
    mkdirSync(join(root, 'dist', 'fast'), {recursive: true})
    // The build's extract of the manifest (a command without a fast entry is not in it; one here shows it is not taken).
    writeFileSync(join(root, 'dist', 'fast', 'commands.json'), JSON.stringify({commands: {schema, validate}}))
    writeFileSync(join(root, 'dist', 'fast', 'validate.cjs'), '')
    delete process.env.SNAP_GADGET_CONTENT_TYPE
  })

  after(() => {
    if (savedEnv === undefined) delete process.env.SNAP_GADGET_CONTENT_TYPE
    else process.env.SNAP_GADGET_CONTENT_TYPE = savedEnv
  })

  it('runs a command with a fast entry fast, with the parsed input', () => {
    assert.deepEqual(planFastRun(['validate', 'g.yaml', '--json'], root), {entry: 'validate', input: {argv: ['g.yaml'], flags: {json: true, snapd: 'latest'}}})
  })

  it('falls back for commands without a fast entry, unknown commands, no command, and global flags', () => {
    assert.equal(planFastRun(['schema'], root), undefined)
    assert.equal(planFastRun(['nope', 'g.yaml'], root), undefined)
    assert.equal(planFastRun([], root), undefined)
    assert.equal(planFastRun(['--help'], root), undefined)
    assert.equal(planFastRun(['--version'], root), undefined)
    assert.equal(planFastRun(['-v'], root), undefined)
  })

  it('falls back when the fast parser refuses the arguments', () => {
    assert.equal(planFastRun(['validate', 'g.yaml', '--help'], root), undefined)
    assert.equal(planFastRun(['validate', 'g.yaml', '--format', 'yaml'], root), undefined)
  })

  it('falls back when the fast entry has not been built', () => {
    const bundle = join(root, 'dist', 'fast', 'validate.cjs')
    rmSync(bundle)
    try {
      assert.equal(planFastRun(['validate', 'g.yaml'], root), undefined)
    } finally {
      writeFileSync(bundle, '')
    }

    assert.ok(planFastRun(['validate', 'g.yaml'], root))
  })

  it('falls back when SNAP_GADGET_CONTENT_TYPE is set', () => {
    process.env.SNAP_GADGET_CONTENT_TYPE = 'application/yaml'
    try {
      assert.equal(planFastRun(['validate', 'g.yaml'], root), undefined)
    } finally {
      delete process.env.SNAP_GADGET_CONTENT_TYPE
    }

    assert.ok(planFastRun(['validate', 'g.yaml'], root))
  })

  it('falls back without the commands file, or with one that is not JSON', () => {
    const bare = freshDir('snap-gadget-launch-bare-')
    assert.equal(planFastRun(['validate', 'g.yaml'], bare), undefined)
    mkdirSync(join(bare, 'dist', 'fast'), {recursive: true})
    writeFileSync(join(bare, 'dist', 'fast', 'validate.cjs'), '')
    writeFileSync(join(bare, 'dist', 'fast', 'commands.json'), '{"commands": {"validate": ')
    assert.equal(planFastRun(['validate', 'g.yaml'], bare), undefined)
    writeFileSync(join(bare, 'dist', 'fast', 'commands.json'), '{}')
    assert.equal(planFastRun(['validate', 'g.yaml'], bare), undefined)
  })

  it("the build's commands file holds oclif.manifest.json's entries of exactly the commands with a fast entry", () => {
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
    const built = JSON.parse(readFileSync(join(projectRoot, 'dist', 'fast', 'commands.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
    const fast = Object.fromEntries(Object.entries(manifest.commands).filter(([, command]) => command.fastEntry))
    assert.deepEqual(Object.keys(fast).sort(), ['layout', 'validate'])
    assert.deepEqual(built.commands, fast, 'dist/fast/commands.json is not what oclif.manifest.json says: run npm run build')
  })
})

describe('loadFastEntry and the V8 code cache', () => {
  const built = join(projectRoot, 'dist', 'fast', 'validate.cjs')
  let root: string
  let gadget: string
  let expected: {code: number; stdout: string}

  /** Runs the fast entry on the broken gadget, capturing what it writes. */
  async function runEntry(main: ReturnType<typeof loadFastEntry>['main']): Promise<{code: number; stderr: string; stdout: string}> {
    let stdout = ''
    let stderr = ''
    const io = {
      stderr: {write: (s: string) => ((stderr += s), true)},
      stdout: {write: (s: string) => ((stdout += s), true)},
    } as unknown as FastIo
    const code = await main({argv: [gadget], flags: {format: 'json', snapd: 'latest'}}, io)
    return {code, stderr, stdout}
  }

  before(async () => {
    assert.ok(readFileSync(built).length > 0, 'dist/fast/validate.cjs is missing: run "npm run build"')
    root = freshDir('snap-gadget-launch-cache-')
    mkdirSync(join(root, 'dist', 'fast'), {recursive: true})
    copyFileSync(built, join(root, 'dist', 'fast', 'validate.cjs'))
    gadget = join(root, 'gadget.yaml')
    copyFileSync(fixtures('validate', 'broken.yaml'), gadget)
    // What the source (not the bundle) prints for the same input.
    let stdout = ''
    const io = {...processIo('0.0.0'), stdout: {write: (s: string) => ((stdout += s), true)} as unknown as NodeJS.WritableStream}
    const {code} = await runValidate([gadget], {format: 'json', snapd: 'latest'}, io)
    expected = {code, stdout}
    assert.equal(expected.code, 1)
  })

  /**
   * Gives the entry a source of its own: V8 keeps what it compiled in the process and would
   * otherwise reuse it without looking at the cache file at all.
   */
  function freshSource(tag: string): void {
    writeFileSync(join(root, 'dist', 'fast', 'validate.cjs'), `${readFileSync(built, 'utf8')}\n// ${tag}\n`)
  }

  it('runs without a cache file', async () => {
    freshSource('no cache')
    rmSync(join(root, 'dist', 'fast', 'validate.cache'), {force: true})
    const {main, script} = loadFastEntry(root, 'validate')
    assert.equal(script.cachedDataRejected, undefined, 'no cache was offered')
    assert.deepEqual(await runEntry(main), {...expected, stderr: ''})
  })

  it('runs with a corrupt cache file, which V8 rejects', async () => {
    freshSource('corrupt cache')
    writeFileSync(join(root, 'dist', 'fast', 'validate.cache'), Buffer.from('not a V8 code cache, just bytes '.repeat(64)))
    const {main, script} = loadFastEntry(root, 'validate')
    assert.equal(script.cachedDataRejected, true)
    assert.deepEqual(await runEntry(main), {...expected, stderr: ''})
  })

  it('runs with an empty cache file', async () => {
    freshSource('empty cache')
    writeFileSync(join(root, 'dist', 'fast', 'validate.cache'), Buffer.alloc(0))
    const {main, script} = loadFastEntry(root, 'validate')
    assert.notEqual(script.cachedDataRejected, false, 'an empty cache is never accepted')
    assert.deepEqual(await runEntry(main), {...expected, stderr: ''})
  })

  it('warmFastEntry writes a cache that V8 then accepts, with the same result', async () => {
    freshSource('warmed cache')
    // Warm up (and compile) in a child, as the build does: then this process has not seen the source.
    const launch = pathToFileURL(join(projectRoot, 'dist', 'cli', 'fast', 'launch.js')).href
    const warm = `const {warmFastEntry} = await import(${JSON.stringify(launch)}); await warmFastEntry(${JSON.stringify(root)}, 'validate', [{argv: [${JSON.stringify(gadget)}], flags: {snapd: 'latest'}}])`
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', warm])
    assert.ok(readFileSync(join(root, 'dist', 'fast', 'validate.cache')).length > 0)
    const {main, script} = loadFastEntry(root, 'validate')
    assert.equal(script.cachedDataRejected, false)
    assert.deepEqual(await runEntry(main), {...expected, stderr: ''})
  })

  it('the cache the build made is accepted by this Node', async () => {
    const launch = pathToFileURL(join(projectRoot, 'dist', 'cli', 'fast', 'launch.js')).href
    const probe = `const {loadFastEntry} = await import(${JSON.stringify(launch)}); process.stdout.write(String(loadFastEntry(${JSON.stringify(projectRoot)}, 'validate').script.cachedDataRejected))`
    const {stdout} = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe])
    assert.equal(stdout, 'false', 'dist/fast/validate.cache was made by another Node or V8: rebuild')
  })
})
