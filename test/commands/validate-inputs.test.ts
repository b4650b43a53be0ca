/**
 * validate on hostile and awkward inputs: FIFOs, devices and oversized files are refused quickly
 * (exit 2) instead of hanging or eating memory; a path that cannot be read leaves the report of
 * the others whole in every format; no PATH judges the current directory, - reads stdin.
 */
import assert from 'node:assert/strict'
import {copyFileSync, mkdirSync, truncateSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {execFileSync} from 'node:child_process'
import {before, describe, test} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {type CliResult, runCli} from '../helpers/cli.js'
import {fixtures} from '../helpers/paths.js'
import {elements, parseXml} from '../report/xml.js'

const neutralEnv: NodeJS.ProcessEnv = {GITHUB_ACTIONS: '', GITHUB_STEP_SUMMARY: ''}
/** Far above a refusal's time, far below a hang's. */
const TIMEOUT_MS = 20_000
let work: string

function cli(args: string[], input?: string): Promise<CliResult> {
  return runCli(args, {cwd: work, env: {...neutralEnv, NODE_OPTIONS: '--max-old-space-size=256'}, input, timeoutMs: TIMEOUT_MS})
}

before(() => {
  work = freshDir('snap-gadget-inputs-')
  copyFileSync(fixtures('validate', 'clean.yaml'), join(work, 'clean.yaml'))
  copyFileSync(fixtures('validate', 'broken.yaml'), join(work, 'broken.yaml'))
  execFileSync('mkfifo', [join(work, 'fifo.yaml')])
  // Sparse: 5 GiB that takes no disk.
  writeFileSync(join(work, 'huge.assert'), '')
  truncateSync(join(work, 'huge.assert'), 5 * 1024 ** 3)
  mkdirSync(join(work, 'project', 'snap'), {recursive: true})
  copyFileSync(fixtures('validate', 'clean.yaml'), join(work, 'project', 'gadget.yaml'))
  execFileSync('mkfifo', [join(work, 'project', 'snap', 'snapcraft.yaml')])
  mkdirSync(join(work, 'here'))
  copyFileSync(fixtures('validate', 'clean.yaml'), join(work, 'here', 'gadget.yaml'))
})

describe('validate refuses what is not a regular file, quickly', {concurrency: true}, () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a FIFO as gadget.yaml', ['validate', 'fifo.yaml'], /^error: fifo\.yaml is a FIFO \(named pipe\), not a regular file\n {2}hint: /],
    ['/dev/zero as gadget.yaml', ['validate', '/dev/zero'], /^error: \/dev\/zero is a character device, not a regular file\n/],
    ['/dev/urandom as --model', ['validate', 'clean.yaml', '--model', '/dev/urandom'], /^error: \/dev\/urandom is a character device, not a regular file\n/],
    ['a FIFO as --model', ['validate', 'clean.yaml', '--model', 'fifo.yaml'], /^error: fifo\.yaml is a FIFO/],
    ['/dev/zero to identity verify', ['identity', 'verify', '/dev/zero'], /^error: \/dev\/zero is a character device, not a regular file\n/],
    ['a 5 GiB file to identity verify', ['identity', 'verify', 'huge.assert'], /^error: huge\.assert is 5120 MiB; snap-gadget reads assertion files of at most 1 MiB\n/],
  ]
  for (const [what, args, message] of cases) {
    test(`${what}: exit 2 with the reason`, async () => {
      const r = await cli(args)
      assert.equal(r.signal, null, 'killed: it hung')
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, message)
    })
  }

  test('a project whose snapcraft.yaml is a FIFO: the gadget is judged, the FIFO reported (exit 2)', async () => {
    const r = await cli(['validate', 'project', '--json'])
    assert.equal(r.signal, null, 'killed: it hung')
    assert.equal(r.code, 2, r.stderr)
    const report = JSON.parse(r.stdout) as {gadgets: unknown[]; unreadable: Array<{code: string; file: string}>; valid: boolean}
    assert.equal(report.gadgets.length, 1)
    assert.deepEqual(
      report.unreadable.map((u) => [u.file, u.code]),
      [['project/snap/snapcraft.yaml', 'E_NOT_A_FILE']],
    )
    assert.equal(report.valid, false)
  })
})

describe('one unreadable path among several', {concurrency: true}, () => {
  const args = ['validate', 'broken.yaml', 'missing.yaml', 'clean.yaml']

  test('json: both gadgets judged, the missing one listed, exit 2', async () => {
    const r = await cli([...args, '--format', 'json'])
    assert.equal(r.code, 2)
    const report = JSON.parse(r.stdout) as {gadgets: Array<{file: string}>; summary: {unreadable: number}; unreadable: Array<{code: string; file: string; hint: string}>}
    assert.deepEqual(
      report.gadgets.map((g) => g.file),
      ['broken.yaml', 'clean.yaml'],
    )
    assert.deepEqual(report.unreadable, [{code: 'E_IO_ENOENT', file: 'missing.yaml', hint: 'check the path', message: 'cannot read missing.yaml: no such file or directory'}])
    assert.equal(report.summary.unreadable, 1)
  })

  test('sarif: results for the others, an unsuccessful invocation naming the missing path', async () => {
    const r = await cli([...args, '--format', 'sarif'])
    assert.equal(r.code, 2)
    const run = (
      JSON.parse(r.stdout) as {
        runs: Array<{
          artifacts: Array<{location: {uri: string}}>
          invocations: Array<{executionSuccessful: boolean; toolExecutionNotifications: Array<{level: string; locations: Array<{physicalLocation: {artifactLocation: {uri: string}}}>; message: {text: string}}>}>
          results: unknown[]
        }>
      }
    ).runs[0]
    assert.ok(run.results.length > 0)
    assert.deepEqual(
      run.artifacts.map((a) => a.location.uri),
      ['broken.yaml', 'clean.yaml'],
    )
    const [invocation] = run.invocations
    assert.equal(invocation.executionSuccessful, false)
    assert.equal(invocation.toolExecutionNotifications[0].level, 'error')
    assert.equal(invocation.toolExecutionNotifications[0].locations[0].physicalLocation.artifactLocation.uri, 'missing.yaml')
    assert.match(invocation.toolExecutionNotifications[0].message.text, /no such file or directory/)
  })

  test('junit: a suite per gadget and one with an <error> for the missing path', async () => {
    const r = await cli([...args, '--format', 'junit'])
    assert.equal(r.code, 2)
    const root = parseXml(r.stdout)
    const suites = elements(root, 'testsuite')
    assert.deepEqual(
      suites.map((s) => s.attributes.name),
      ['broken.yaml', 'clean.yaml', 'missing.yaml'],
    )
    assert.equal(root.attributes.errors, '1')
    assert.equal(elements(suites[2], 'error')[0].attributes.type, 'E_IO_ENOENT')
  })

  test('github: annotations for the others, an error annotation on the missing path, and a row in the step summary', async () => {
    const {readFileSync} = await import('node:fs')
    const summary = join(work, 'summary.md')
    writeFileSync(summary, '')
    const r = await runCli([...args, '--format', 'github'], {cwd: work, env: {...neutralEnv, GITHUB_STEP_SUMMARY: summary}})
    assert.match(readFileSync(summary, 'utf8'), /^\| missing\.yaml \| not read: cannot read missing\.yaml: no such file or directory \| 1 \| 0 \|$/m)
    assert.equal(r.code, 2)
    assert.match(r.stdout, /^::error file=broken\.yaml,/m)
    assert.match(r.stdout, /^::error file=missing\.yaml,title=cannot read \(E_IO_ENOENT\)::cannot read missing\.yaml: no such file or directory%0Ahint: check the path$/m)
  })
})

describe('validate paths and flags', {concurrency: true}, () => {
  test('no PATH judges the current directory', async () => {
    const r = await runCli(['validate'], {cwd: join(work, 'here'), env: neutralEnv})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^gadget\.yaml: valid\n/)
  })

  test('- reads gadget.yaml from standard input', async () => {
    const {readFileSync} = await import('node:fs')
    const r = await cli(['validate', '-', '--json'], readFileSync(fixtures('validate', 'broken.yaml'), 'utf8'))
    assert.equal(r.code, 1, r.stderr)
    const report = JSON.parse(r.stdout) as {gadgets: Array<{file: string; findings: unknown[]}>}
    assert.equal(report.gadgets[0].file, '<stdin>')
    assert.ok(report.gadgets[0].findings.length > 0)
  })

  test('--json together with --format sarif is a usage error, through oclif too', async () => {
    for (const extra of [[], ['--snapd', '2.57']]) {
      const r = await cli(['validate', 'clean.yaml', '--json', '--format', 'sarif', ...extra])
      assert.equal(r.code, 2)
      assert.match(r.stdout + r.stderr, /--json and --format sarif both choose the output format/)
    }
  })
})

describe('serial --config', () => {
  test('a FIFO or /dev/zero as the configuration: exit 2 at once', async () => {
    for (const config of ['fifo.yaml', '/dev/zero']) {
      const r = await cli(['serial', '--config', config])
      assert.equal(r.signal, null, 'killed: it hung')
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /is a (FIFO \(named pipe\)|character device), not a regular file/)
    }
  })
})
