/**
 * Bad input: each gets a clear error, a P1 finding at a line and column or a UserError that names
 * the file and says what to do, in bounded time and memory. The CLI runs in a child limited to a
 * 256 MB heap, with runCli's timeout as a safety bound: these bounds catch runaway behaviour
 * (alias expansion, recursion, reading a huge file whole); they are not speed targets.
 *
 * The same inputs are then judged in-process for snapd 2.57 and compared with snapd 2.57.6's own
 * verdicts, stored below and re-checked with the real `snap pack --check-skeleton` when snapd is
 * installed.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {validateGadget} from '../../src/gadget/validate.js'
import {type CliResult, runCli, runProcess} from '../helpers/cli.js'
import {oracleAvailable, oracleRequired, runOracle} from '../helpers/oracle.js'
import {binRun, projectRoot} from '../helpers/paths.js'

/** The heap limit of every CLI run here. */
const HEAP_MB = 256
/** A safety bound, far above the normal run time, so a runaway run fails instead of hanging. */
const TIMEOUT_MS = 30_000
const NOBODY = 65534

/** Deterministic binary junk: an ELF header followed by xorshift32 bytes. */
function junk(size: number): Buffer {
  const bytes = Buffer.alloc(size)
  let x = 2_463_534_242
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    bytes[i] = x & 0xff
  }

  return Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), bytes])
}

/** "Billion laughs": nine levels of nine aliases each, 9^9 strings once expanded. */
function laughs(): string {
  const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
  for (let i = 1; i < 9; i++) {
    const previous = String.fromCodePoint(96 + i)
    const name = String.fromCodePoint(97 + i)
    lines.push(`${name}: &${name} [${Array.from({length: 9}, () => `*${previous}`).join(', ')}]`)
  }

  return lines.join('\n') + '\n'
}

const TEN_MB = 10 * 1024 * 1024

/** The inputs, by file name. */
const inputs: Record<string, Buffer | string> = {
  'empty.yaml': '',
  'junk.yaml': junk(4096),
  // "café" in Latin-1: 0xE9 starts a 3-byte UTF-8 sequence that a newline interrupts.
  'latin1.yaml': Buffer.from('volumes:\n  pc:\n    bootloader: grub\n    structure:\n      - name: caf\u00E9\n        type: bare\n        size: 1M\n', 'latin1'),
  // The same byte as the very last one of the file: the sequence is cut short.
  'latin1-end.yaml': Buffer.from('volumes: {}\n# caf\u00E9', 'latin1'),
  // Aliases expanded into an interface{} value (defaults), as go-yaml decodes them.
  'laughs.yaml': laughs() + 'defaults:\n  system:\n    lol: *i\n',
  // The same bomb where a mapping is expected: the type error comes before any expansion.
  'laughs-volumes.yaml': laughs() + 'volumes: *i\n',
  'deep-root.yaml': '['.repeat(10_000) + ']'.repeat(10_000) + '\n',
  'deep-volumes.yaml': 'volumes: ' + '['.repeat(10_000) + ']'.repeat(10_000) + '\n',
  'deep-volumes-10001.yaml': 'volumes: ' + '['.repeat(10_001) + ']'.repeat(10_001) + '\n',
  'deep-block.yaml': 'volumes:\n  ' + '- '.repeat(10_000) + 'x\n',
  // Deeper than any real gadget.yaml, but far from go-yaml's limit of 10,000.
  'deep-defaults.yaml': 'defaults:\n  system:\n    nested: ' + '['.repeat(300) + 'x' + ']'.repeat(300) + '\n',
}

/**
 * snapd 2.57.6's verdicts on the inputs (`snap pack --check-skeleton`, through
 * ../shared/tools/snapd-oracle.sh), with the "cannot parse gadget metadata: " prefix.
 */
const snapdVerdicts: Record<string, {error: null | string; valid: boolean}> = {
  'deep-block.yaml': {error: 'cannot parse gadget metadata: yaml: line 2: exceeded max depth of 10000', valid: false},
  'deep-defaults.yaml': {error: null, valid: true},
  'deep-root.yaml': {error: 'cannot parse gadget metadata: yaml: unmarshal errors: line 1: cannot unmarshal !!seq into gadget.Info', valid: false},
  'deep-volumes-10001.yaml': {error: 'cannot parse gadget metadata: yaml: exceeded max depth of 10000', valid: false},
  'deep-volumes.yaml': {error: 'cannot parse gadget metadata: yaml: unmarshal errors: line 1: cannot unmarshal !!seq into map[string]*gadget.Volume', valid: false},
  'empty.yaml': {error: null, valid: true},
  'junk.yaml': {error: 'cannot parse gadget metadata: yaml: control characters are not allowed', valid: false},
  'latin1-end.yaml': {error: 'cannot parse gadget metadata: yaml: incomplete UTF-8 octet sequence', valid: false},
  'latin1.yaml': {error: 'cannot parse gadget metadata: yaml: invalid trailing UTF-8 octet', valid: false},
  'laughs-volumes.yaml': {error: 'cannot parse gadget metadata: yaml: unmarshal errors: line 9: cannot unmarshal !!seq into map[string]*gadget.Volume', valid: false},
  'laughs.yaml': {error: 'cannot parse gadget metadata: yaml: document contains excessive aliasing', valid: false},
}

/** Messages compared the way the corpus test does: libyaml's line numbers and line breaks aside. */
const normalize = (message: null | string | undefined): string | undefined => message?.replaceAll(/line \d+: /g, '').replaceAll(/\s+/g, ' ')

let work: string

before(() => {
  work = freshDir('snap-gadget-bad-input-')
  // Readable by the unprivileged user of the unreadable-file test.
  chmodSync(work, 0o755)
  for (const [name, content] of Object.entries(inputs)) writeFileSync(join(work, name), content)
  // Comment lines after a real header: a text file, just far too big.
  const line = '# ' + 'padding '.repeat(9) + '\n'
  writeFileSync(join(work, 'big.yaml'), 'volumes:\n  pc:\n    bootloader: grub\n' + line.repeat(Math.ceil(TEN_MB / line.length)))
  mkdirSync(join(work, 'no-gadget'))
  mkdirSync(join(work, 'per-arch'))
  writeFileSync(join(work, 'per-arch', 'gadget-amd64.yaml'), 'volumes: {}\n')
  // A project whose gadget.yaml is a directory: a read error every user gets (EISDIR).
  mkdirSync(join(work, 'dir-project', 'gadget.yaml'), {recursive: true})
  writeFileSync(join(work, 'secret.yaml'), 'volumes: {}\n')
  chmodSync(join(work, 'secret.yaml'), 0o000)
})

interface Finding {
  file: string
  hint?: string
  message: string
  rule: string
  severity: string
  snapdMessage?: string
  start?: {column: number; line: number}
}

interface Report {
  gadgets: Array<{file: string; findings: Finding[]; verdict: {error?: string; valid: boolean}}>
}

/** The heap limit; GitHub Actions' own settings kept out (they would pick another output format). */
const bounded = {env: {GITHUB_ACTIONS: '', GITHUB_STEP_SUMMARY: '', NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}`}, timeoutMs: TIMEOUT_MS}

/** Runs the CLI under the bounds and checks that it ended by itself, not by a limit. */
async function run(args: string[]): Promise<CliResult> {
  const result = await runCli(args, {cwd: work, ...bounded})
  assert.equal(result.signal, null, `killed by ${result.signal}: over ${TIMEOUT_MS / 1000} s?\n${result.stderr}`)
  assert.doesNotMatch(result.stderr, /heap out of memory|Maximum call stack|internal error/i)
  return result
}

/** The single report of `validate <file> --json`, and the exit code. */
async function judge(file: string): Promise<{code: null | number; findings: Finding[]; verdict: {error?: string; valid: boolean}}> {
  const result = await run(['validate', file, '--json'])
  assert.ok(result.code === 0 || result.code === 1, `exit ${result.code}: ${result.stderr}`)
  const report = JSON.parse(result.stdout) as Report
  assert.equal(report.gadgets.length, 1)
  return {code: result.code, findings: report.gadgets[0].findings, verdict: report.gadgets[0].verdict}
}

/** The one P1 finding, with a position and a hint. */
function p1(findings: Finding[]): Finding & {start: {column: number; line: number}} {
  const found = findings.filter((f) => f.rule === 'P1')
  assert.equal(found.length, 1, JSON.stringify(findings, null, 2))
  const [f] = found
  assert.equal(f.severity, 'error')
  assert.ok(f.start, 'a P1 finding has a line and column')
  assert.ok(f.hint, 'a P1 finding says what to do')
  return f as Finding & {start: {column: number; line: number}}
}

// C0 controls other than tab and newline, DEL and C1 controls: never written to a terminal raw.
const rawControl = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/

describe('bad input through the CLI (heap limited, time bounded)', {concurrency: true}, () => {
  it('an empty file: valid (snapd accepts it) with a T1 warning, exit 0', async () => {
    const {code, findings, verdict} = await judge('empty.yaml')
    assert.equal(code, 0)
    assert.equal(verdict.valid, true)
    assert.deepEqual(
      findings.map((f) => [f.rule, f.severity, f.start?.line, f.start?.column]),
      [['T1', 'warning', 1, 1]],
    )
  })

  it('binary junk: P1 "control characters are not allowed" at 1:1, and no raw control characters in the text report', async () => {
    const {code, findings} = await judge('junk.yaml')
    assert.equal(code, 1)
    const f = p1(findings)
    assert.equal(f.message, 'cannot parse gadget metadata: yaml: control characters are not allowed')
    assert.deepEqual(f.start, {column: 1, line: 1})
    const text = await run(['validate', 'junk.yaml'])
    assert.equal(text.code, 1)
    assert.match(text.stdout, /^junk\.yaml:1:1: error P1 cannot parse gadget metadata: yaml: control characters are not allowed$/m)
    assert.doesNotMatch(text.stdout, rawControl)
  })

  it('non-UTF-8 (Latin-1): P1 at the offending byte, with a hint to save as UTF-8', async () => {
    const {code, findings} = await judge('latin1.yaml')
    assert.equal(code, 1)
    const f = p1(findings)
    assert.match(f.message, /^cannot parse gadget metadata: yaml: .*UTF-8 octet/)
    assert.deepEqual(f.start, {column: 18, line: 5})
    assert.match(f.hint!, /UTF-8/)
    const text = await run(['validate', 'latin1.yaml'])
    assert.match(text.stdout, /^latin1\.yaml:5:18: error P1 /m)
    assert.doesNotMatch(text.stdout, rawControl)
  })

  it('a 10 MB file: refused before parsing as an I/O error (exit 2), with its size and the limit', async () => {
    const text = await run(['validate', 'big.yaml'])
    assert.equal(text.code, 2)
    assert.match(text.stderr, /^error: big\.yaml is 10\.0 MiB; snap-gadget reads gadget\.yaml files of at most 4 MiB\n {2}hint: check that big\.yaml is the right file\n$/)
    assert.equal(text.stdout, '')
  })

  it('a YAML alias bomb ("billion laughs") decoded into defaults: P1 excessive aliasing', async () => {
    const {code, findings} = await judge('laughs.yaml')
    assert.equal(code, 1)
    const f = p1(findings)
    assert.equal(f.message, 'document contains excessive aliasing')
    assert.equal(f.snapdMessage, 'cannot parse gadget metadata: yaml: document contains excessive aliasing')
    assert.ok(f.start.line >= 1 && f.start.line <= 9, 'it points into the anchors')
  })

  it('the alias bomb where volumes are expected: the type error, without expanding it', async () => {
    const {code, findings} = await judge('laughs-volumes.yaml')
    assert.equal(code, 1)
    const p2 = findings.find((f) => f.rule === 'P2')
    assert.ok(p2, JSON.stringify(findings))
    // At the anchored node the alias stands for (its start mark is the anchor, as libyaml places it).
    assert.deepEqual(p2.start, {column: 4, line: 9})
  })

  it('10,000-deep flow nesting as the document: read to the end (go-yaml allows 10,000 levels), then P1 at 1:1', async () => {
    const {code, findings} = await judge('deep-root.yaml')
    assert.equal(code, 1)
    const f = p1(findings)
    assert.deepEqual(f.start, {column: 1, line: 1})
    assert.equal(f.message, 'cannot unmarshal !!seq into gadget.Info')
    assert.match(f.snapdMessage!, /^cannot parse gadget metadata: yaml: unmarshal errors:/)
  })

  it('10,000-deep flow nesting under volumes: an error finding with a position', async () => {
    const {code, findings, verdict} = await judge('deep-volumes.yaml')
    assert.equal(code, 1)
    assert.equal(verdict.valid, false)
    const errors = findings.filter((f) => f.severity === 'error')
    assert.equal(errors.length, 1, JSON.stringify(findings))
    assert.ok(errors[0].rule === 'P1' || errors[0].rule === 'P2')
    assert.equal(errors[0].start?.line, 1)
  })

  it('10,000-deep block nesting: P1 "exceeded max depth of 10000"', async () => {
    const {code, findings} = await judge('deep-block.yaml')
    assert.equal(code, 1)
    assert.match(p1(findings).message, /exceeded max depth of 10000/)
  })

  it('a directory without gadget.yaml: exit 2, the directory named, a hint', async () => {
    const r = await run(['validate', 'no-gadget'])
    assert.equal(r.code, 2)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^error: no-gadget has no gadget\.yaml \(nor meta\/gadget\.yaml\)\n {2}hint: give a gadget\.yaml, a gadget project directory/)
  })

  it('a directory holding only per-architecture files: the hint names one of them', async () => {
    const r = await run(['validate', 'per-arch'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^error: per-arch has no gadget\.yaml/)
    assert.match(r.stderr, /hint: validate the per-architecture file directly, e\.g\. "snap-gadget validate per-arch\/gadget-amd64\.yaml"/)
  })

  it('a gadget.yaml that is a directory: exit 2, "is a directory", the file named', async () => {
    const r = await run(['validate', 'dir-project'])
    assert.equal(r.code, 2)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, 'error: cannot read dir-project/gadget.yaml: is a directory\n  hint: give the path of a file\n')
    const json = await run(['validate', 'dir-project', '--json'])
    assert.equal(json.code, 2)
    const body = JSON.parse(json.stdout) as {error: {code: string; file: string}}
    assert.equal(body.error.code, 'E_IO_EISDIR')
    assert.equal(body.error.file, 'dir-project/gadget.yaml')
  })

  const denial = readDenial()
  it('an unreadable file: exit 2, "permission denied", the file named', {skip: denial.skip}, async () => {
    const r = denial.asNobody ? await runAsNobody(['validate', 'secret.yaml']) : await run(['validate', 'secret.yaml'])
    assert.equal(r.signal, null)
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, "error: cannot read secret.yaml: permission denied\n  hint: check the file's permissions, or run as a user who may read it\n")
  })
})

/**
 * How the unreadable-file test can really be denied a read: as root (which reads anything) by
 * running the CLI as nobody through setpriv (util-linux); as anyone else by chmod alone.
 */
function readDenial(): {asNobody: boolean; skip: false | string} {
  if (process.getuid?.() !== 0) {
    const probe = join(tmpdir(), `snap-gadget-denial-${process.pid}`)
    writeFileSync(probe, 'x')
    chmodSync(probe, 0o000)
    let readable = true
    try {
      readFileSync(probe)
    } catch {
      readable = false
    }

    rmSync(probe, {force: true})
    return {asNobody: false, skip: readable && 'this file system does not deny reads by mode bits'}
  }

  const needed = [binRun, join(projectRoot, 'dist', 'cli', 'fast', 'launch.js'), join(projectRoot, 'node_modules', '@oclif', 'core', 'package.json')]
  const script = `for (const p of ${JSON.stringify(needed)}) require('node:fs').accessSync(p, require('node:fs').constants.R_OK)`
  const check = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '-e', script], {stdio: 'ignore'})
  if (check.error || check.status !== 0) return {asNobody: true, skip: 'running as root without a usable setpriv (util-linux) or a project nobody may read; the EISDIR test covers read errors'}
  return {asNobody: true, skip: false}
}

function runAsNobody(args: string[]): Promise<CliResult> {
  return runProcess('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, binRun, ...args], {
    cwd: work,
    env: {...process.env, FORCE_COLOR: '0', HOME: work, NO_COLOR: '1', ...bounded.env},
    timeoutMs: TIMEOUT_MS,
  })
}

describe('bad input judged as snapd 2.57.6 judges it', () => {
  for (const [name, expected] of Object.entries(snapdVerdicts)) {
    it(`${name}: ${expected.valid ? 'valid' : expected.error}`, () => {
      const started = performance.now()
      const result = validateGadget({content: Buffer.from(inputs[name]), file: name}, {snapd: '2.57'})
      assert.ok(performance.now() - started < TIMEOUT_MS)
      assert.equal(result.verdict.valid, expected.valid, `snapd says ${expected.valid ? 'valid' : expected.error}; we say ${result.verdict.error}`)
      assert.equal(normalize(result.verdict.error), normalize(expected.error))
    })
  }

  it('the stored verdicts still match the real snapd', {skip: !oracleAvailable() && !oracleRequired() && 'snapd is not installed'}, () => {
    assert.ok(oracleAvailable(), 'snapd (snap) and python3-yaml are required for this test in CI')
    const names = Object.keys(snapdVerdicts)
    const fresh = runOracle(names, {cwd: work})
    assert.deepEqual(
      fresh.map((v) => [v.file, v.valid, normalize(v.error)]),
      names.map((n) => [n, snapdVerdicts[n].valid, normalize(snapdVerdicts[n].error)]),
    )
  })
})
