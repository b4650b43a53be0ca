/**
 * `snap-gadget validate` end to end: the built CLI (bin/run.js) on gadget.yaml files, gadget
 * project directories and built snap trees, in every output format, with the exit codes of
 * src/errors.ts (0 clean, 1 error findings, 2 usage or I/O error). Every run happens in a
 * temporary working directory, so the file names in the reports are short and relative.
 *
 * The launcher runs `validate` without oclif when it can parse the arguments itself (see
 * src/cli/fast/launch.ts); the last suite checks that this fast path and oclif's own path print the
 * same bytes and exit with the same code.
 */
import assert from 'node:assert/strict'
import {copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {before, describe, test} from 'node:test'
import {pathToFileURL} from 'node:url'

import {freshDir} from '../helpers/scratch.js'
import {planFastRun} from '../../src/cli/fast/launch.js'
import {rules as catalog} from '../../src/gadget/findings/rules.js'
import {signModel, testKeys} from '../helpers/assertions.js'
import {type CliOptions, type CliResult, runCli, runProcess} from '../helpers/cli.js'
import {binRun, fixtures, projectRoot, shared} from '../helpers/paths.js'
import {elements, parseXml} from '../report/xml.js'

const fixture = (name: string): string => fixtures('validate', name)

/** A literal key of the shape the serial vault hands out (made up; never a real one). */
const fakeApiKey = 'c2VyaWFsLXZhdWx0LWtleQ'.padEnd(40, 'x7')

const snapcraftYaml = [
  'name: acme-pi',
  "version: '1.0'",
  'summary: Acme Pi gadget',
  'description: The gadget snap of the Acme Pi.',
  'type: gadget',
  'base: core18',
  'grade: stable',
  'confinement: strict',
  'parts:',
  '  gadget:',
  '    plugin: nil',
  '    build-environment:',
  `      - SERIAL_VAULT_API_KEY: "${fakeApiKey}"`,
  '',
].join('\n')

const prepareDevice = ['#!/bin/sh -e', 'snapctl set device-service.url=https://serial-vault.example.com/v1/', `snapctl set device-service.headers='{"api-key": "${fakeApiKey}"}'`, ''].join('\n')

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string): {column: number; line: number} {
  const lines = text.split('\n')
  const line = lines.findIndex((l) => l.includes(needle))
  assert.notEqual(line, -1, `${needle} is not in the text`)
  return {column: lines[line].indexOf(needle) + 1, line: line + 1}
}

/** Environment that keeps the runner's own CI settings out of the runs. */
const neutralEnv: NodeJS.ProcessEnv = {GITHUB_ACTIONS: '', GITHUB_STEP_SUMMARY: '', SNAP_GADGET_CONTENT_TYPE: ''}

let work: string

const runs = new Map<string, Promise<CliResult>>()

/**
 * Runs the built CLI in the work directory. A run that writes nothing but stdout and stderr is
 * made once and shared by the tests that look at it (node costs ~150 ms a start).
 */
function cli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const env = {...neutralEnv, ...options.env}
  const run = () => runCli(args, {cwd: work, ...options, env})
  if (env.GITHUB_STEP_SUMMARY || args.some((a) => a === '-o' || a.startsWith('--output'))) return run()
  const key = JSON.stringify([args, env])
  let result = runs.get(key)
  if (!result) runs.set(key, (result = run()))
  return result
}

/** Runs the CLI through oclif only: @oclif/core's execute(), as bin/run.js does when it falls back. */
function oclifOnly(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const core = pathToFileURL(createRequire(import.meta.url).resolve('@oclif/core')).href
  // The package root, as the launcher gives it (bin/package.json is not the package's).
  const script = `const {execute} = await import(${JSON.stringify(core)}); await execute({args: process.argv.slice(1), dir: ${JSON.stringify(projectRoot)}})`
  return runProcess(process.execPath, ['--input-type=module', '-e', script, '--', ...args], {
    cwd: work,
    env: {...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...neutralEnv, ...options.env},
    timeoutMs: options.timeoutMs,
  })
}

function write(path: string, text: string): void {
  mkdirSync(dirname(join(work, path)), {recursive: true})
  writeFileSync(join(work, path), text)
}

before(() => {
  work = freshDir('snap-gadget-validate-')
  for (const name of ['clean.yaml', 'broken.yaml', 'warning.yaml', 'seed-null.yaml', 'uc18-pi.yaml', 'piboot-uc18.yaml', 'model-uc20.json', 'model-uc18.json']) {
    copyFileSync(fixture(name), join(work, name))
  }

  const uc18 = readFileSync(fixture('uc18-pi.yaml'), 'utf8')
  // A gadget project whose content comes from a part, with api-keys written into it.
  write('project/gadget.yaml', uc18)
  write('project/snap/snapcraft.yaml', snapcraftYaml)
  write('project/snap/hooks/prepare-device', prepareDevice)
  // The same project, clean: the content is there and the key comes from the environment.
  write('project-ok/gadget.yaml', uc18)
  write('project-ok/snap/snapcraft.yaml', snapcraftYaml.replace(`"${fakeApiKey}"`, '"$SERIAL_VAULT_API_KEY"'))
  mkdirSync(join(work, 'project-ok', 'boot-assets'))
  write('project-ok/boot-assets/config.txt', 'arm_64bit=1\n')
  // Built snap trees (what `snap pack` reads): without and with the content.
  write('prime/meta/gadget.yaml', uc18)
  write('prime/meta/snap.yaml', 'name: acme-pi\nversion: "1.0"\ntype: gadget\n')
  write('prime-ok/meta/gadget.yaml', uc18)
  write('prime-ok/meta/snap.yaml', 'name: acme-pi\nversion: "1.0"\ntype: gadget\n')
  write('prime-ok/boot-assets/config.txt', 'arm_64bit=1\n')
  mkdirSync(join(work, 'no-gadget'))
  write('no-gadget/README.md', 'not a gadget\n')
})

/** The JSON report's top-level shape, as documented in src/report/json.ts. */
interface JsonReport {
  formatVersion: number
  snapd: string
  strict: boolean
  valid: boolean
  summary: {errors: number; files: number; info: number; warnings: number}
  gadgets: Array<{
    errors: number
    file: string
    findings: Array<{
      end?: {column: number; line: number}
      file: string
      hint?: string
      message: string
      path?: Array<number | string>
      rule: string
      severity: string
      snapdMessage?: string
      start?: {column: number; line: number}
    }>
    snapd: string
    verdict: {error?: string; valid: boolean}
    warnings: number
  }>
  rules: Array<{id: string; name: string; since?: string; source: string; summary: string}>
}

function findings(report: JsonReport): Array<[string, string, string, number?, number?]> {
  return report.gadgets.flatMap((g) => g.findings.map((f): [string, string, string, number?, number?] => [f.rule, f.severity, f.file, f.start?.line, f.start?.column]))
}

describe('exit codes', {concurrency: true}, () => {
  test('0 for a gadget with no finding', async () => {
    const r = await cli(['validate', 'clean.yaml'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'clean.yaml: valid\n\n1 file valid (judged as snapd latest)\n')
    assert.equal(r.stderr, '')
  })

  test('1 for a gadget with an error finding', async () => {
    const r = await cli(['validate', 'broken.yaml'])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stdout, /^1 error, 1 warning in 1 file \(judged as snapd latest\)$/m)
    assert.equal(r.stderr, '')
  })

  test('0 for warnings only; --strict makes them errors (exit 1)', async () => {
    const plain = await cli(['validate', 'warning.yaml'])
    assert.equal(plain.code, 0, plain.stderr)
    assert.match(plain.stdout, /^warning\.yaml:9:9: warning P3 unknown key "filesytem-label"/m)
    const strict = await cli(['validate', 'warning.yaml', '--strict'])
    assert.equal(strict.code, 1, strict.stderr)
    assert.match(strict.stdout, /^warning\.yaml:9:9: error P3 unknown key "filesytem-label"/m)
    assert.match(strict.stdout, /^1 error, 0 warnings in 1 file/m)
  })

  /** oclif's own messages are wrapped to the terminal width, with "›" before each line. */
  const unwrapped = (text: string) => text.replaceAll(/\s*›\s*/g, ' ').replaceAll(/\s+/g, ' ')
  const usage: Array<[string, string[], RegExp]> = [
    ['no path, in a directory without gadget.yaml (the current directory is judged)', ['validate'], /^error: \S+ has no gadget\.yaml \(nor meta\/gadget\.yaml\)\n {2}hint: give a gadget\.yaml/],
    ['an unknown flag', ['validate', 'clean.yaml', '--bogus'], /^error: unknown flag --bogus for snap-gadget validate\n {2}hint: \(snap-gadget validate --help lists its flags\)\n$/],
    ['a mistyped flag', ['validate', 'clean.yaml', '--stirct'], /^error: unknown flag --stirct for snap-gadget validate\n {2}hint: did you mean --strict\? \(snap-gadget validate --help lists its flags\)\n$/],
    ['a --format outside the list', ['validate', 'clean.yaml', '--format', 'xml'], /Error: Expected --format=xml to be one of: text, json, github, sarif, junit/],
    ['--format without its value', ['validate', 'clean.yaml', '--format'], /Error: Flag --format expects one of these values: text, json, github, sarif, junit/],
    ['a --snapd that is not a version', ['validate', 'clean.yaml', '--snapd', 'banana'], /^error: cannot understand snapd version "banana"\n {2}hint: /],
    ['a --snapd outside the known releases', ['validate', 'clean.yaml', '--snapd', '1.0'], /^error: snapd 1\.0 is outside the releases snap-gadget can judge for \(2\.57 to [\d.]+\)\n {2}hint: /],
    ['a missing file', ['validate', 'missing.yaml'], /^error: cannot read missing\.yaml: no such file or directory\n {2}hint: check the path\n$/],
    ['a directory without gadget.yaml', ['validate', 'no-gadget'], /^error: no-gadget has no gadget\.yaml \(nor meta\/gadget\.yaml\)\n {2}hint: give a gadget\.yaml, a gadget project directory/],
    ['a missing --model file', ['validate', 'clean.yaml', '--model', 'missing.json'], /^error: model file missing\.json does not exist\n {2}hint: /],
    ['a --model that is a directory', ['validate', 'clean.yaml', '--model', 'no-gadget'], /^error: [^\n]*no-gadget[^\n]*\n {2}hint: /],
  ]
  for (const [what, args, message] of usage) {
    test(`2 for ${what}, with the reason on stderr and nothing on stdout`, async () => {
      const r = await cli(args)
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`)
      assert.match(r.stderr.startsWith('error: ') ? r.stderr : unwrapped(r.stderr), message)
      assert.equal(r.stdout, '')
    })
  }

  test('2 for an I/O error even when other paths are fine; the others are still judged and reported', async () => {
    const r = await cli(['validate', 'clean.yaml', 'missing.yaml'])
    assert.equal(r.code, 2)
    assert.match(
      r.stdout,
      /^clean\.yaml: valid\n\nmissing\.yaml: error cannot read missing\.yaml: no such file or directory\n {2}hint: check the path\n\n1 file valid \(judged as snapd [\d.a-z]+\); 1 path could not be read\n$/,
    )
  })

  test('--json reports a usage error as JSON on stdout, still with exit 2', async () => {
    const r = await cli(['validate', 'missing.yaml', '--json'])
    assert.equal(r.code, 2)
    const body = JSON.parse(r.stdout) as {error: {code: string; file: string; hint: string; message: string}}
    assert.equal(body.error.code, 'E_IO_ENOENT')
    assert.equal(body.error.file, 'missing.yaml')
    assert.equal(body.error.message, 'cannot read missing.yaml: no such file or directory')
    assert.equal(body.error.hint, 'check the path')
  })
})

describe('output formats', {concurrency: true}, () => {
  test("text: location, rule, message, snapd's words, a code frame and the fix", async () => {
    const r = await cli(['validate', 'broken.yaml'])
    assert.equal(r.code, 1)
    const expected = [
      'broken.yaml:18:15: error S1 cannot parse size "32K": invalid suffix "K"',
      '  snapd: cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K"',
      '  16 |         filesystem: ext4',
      '  17 |         type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4',
      '> 18 |         size: 32K',
      '     |               ^^^',
      '  19 |       - name: ubuntu-data',
      '  hint: use 32768',
      '',
    ].join('\n')
    assert.ok(r.stdout.includes(expected), r.stdout)
    assert.match(r.stdout, /^broken\.yaml:11:9: warning P3 unknown key "filesytem-label": snapd ignores it$/m)
    assert.match(r.stdout, /^> 11 \| {9}filesytem-label: ubuntu-seed\n {5}\| {9}\^{15}$/m)
    // Findings come in file order: the warning on line 11 before the error on line 18.
    assert.ok(r.stdout.indexOf('broken.yaml:11:9') < r.stdout.indexOf('broken.yaml:18:15'))
    assert.doesNotMatch(r.stdout, /\u001B\[/, 'no colour when NO_COLOR is set')
  })

  test('json: the documented document', async () => {
    const r = await cli(['validate', 'broken.yaml', '--format', 'json'])
    assert.equal(r.code, 1)
    assert.ok(r.stdout.endsWith('}\n'))
    const report = JSON.parse(r.stdout) as JsonReport
    assert.deepEqual(Object.keys(report), ['formatVersion', 'snapd', 'strict', 'valid', 'summary', 'gadgets', 'rules'])
    assert.equal(report.formatVersion, 1)
    assert.equal(report.snapd, 'latest')
    assert.equal(report.strict, false)
    assert.equal(report.valid, false)
    assert.deepEqual(report.summary, {errors: 1, files: 1, info: 0, warnings: 1})
    const [gadget] = report.gadgets
    assert.deepEqual(Object.keys(gadget), ['file', 'snapd', 'verdict', 'errors', 'warnings', 'findings'])
    assert.equal(gadget.file, 'broken.yaml')
    assert.deepEqual(gadget.verdict, {error: 'cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K"', valid: false})
    assert.equal(gadget.errors, 1)
    assert.equal(gadget.warnings, 1)
    const s1 = gadget.findings.find((f) => f.rule === 'S1')!
    assert.deepEqual(Object.keys(s1), ['rule', 'severity', 'file', 'start', 'end', 'message', 'snapdMessage', 'hint', 'path'])
    assert.deepEqual(s1, {
      end: {column: 18, line: 18},
      file: 'broken.yaml',
      hint: 'use 32768',
      message: 'cannot parse size "32K": invalid suffix "K"',
      path: ['volumes', 'pc', 'structure', 2, 'size'],
      rule: 'S1',
      severity: 'error',
      snapdMessage: 'cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K"',
      start: {column: 15, line: 18},
    })
    const p3 = gadget.findings.find((f) => f.rule === 'P3')!
    assert.equal(p3.severity, 'warning')
    assert.equal(p3.snapdMessage, undefined, 'optional fields are left out, not null')
    assert.deepEqual(p3.path, ['volumes', 'pc', 'structure', 1, 'filesytem-label'])
    assert.deepEqual(
      report.rules.map((rule) => [rule.id, rule.name, rule.source]),
      [
        ['P3', 'unknown-key', 'lint'],
        ['S1', 'quantity-syntax', 'snapd'],
      ],
    )
  })

  test('--json prints exactly what --format json prints', async () => {
    const [a, b, c] = await Promise.all([cli(['validate', 'broken.yaml', '--json']), cli(['validate', 'broken.yaml', '--format', 'json']), cli(['validate', '--json', 'broken.yaml', '--format', 'text'])])
    assert.equal(a.code, 1)
    assert.equal(b.code, 1)
    assert.equal(a.stdout, b.stdout)
    assert.equal(a.stderr, b.stderr)
    // --json with another --format is a usage error (JSON, since --json asked for it), never silently JSON.
    assert.equal(c.code, 2)
    assert.equal((JSON.parse(c.stdout) as {error: {code: string}}).error.code, 'E_FLAGS')
  })

  test('github: one workflow command per finding, and a step summary appended to GITHUB_STEP_SUMMARY', async () => {
    const summary = join(work, 'summary-github.md')
    writeFileSync(summary, '## an earlier step\n')
    const r = await cli(['validate', 'broken.yaml', '--format', 'github'], {env: {GITHUB_STEP_SUMMARY: summary}})
    assert.equal(r.code, 1, r.stderr)
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      '::warning file=broken.yaml,line=11,col=9,endLine=11,endColumn=24,title=P3 unknown-key::unknown key "filesytem-label": snapd ignores it%0Ahint: did you mean "filesystem-label"?',
      '::error file=broken.yaml,line=18,col=15,endLine=18,endColumn=18,title=S1 quantity-syntax::cannot parse size "32K": invalid suffix "K"%0Asnapd: cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K"%0Ahint: use 32768',
    ])
    const md = readFileSync(summary, 'utf8')
    assert.ok(md.startsWith('## an earlier step\n## snap-gadget validate\n'), 'appended, not overwritten')
    assert.match(md, /^\| File \| snapd \| Errors \| Warnings \|$/m)
    assert.match(md, /^\| broken\.yaml \| rejects: cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K" \| 1 \| 1 \|$/m)
    assert.match(md, /^\| error \| broken\.yaml:18:15 \| S1 quantity-syntax \| /m)
    assert.match(md, /^\| warning \| broken\.yaml:11:9 \| P3 unknown-key \| /m)
  })

  test('github is the default format inside GitHub Actions (GITHUB_ACTIONS=true)', async () => {
    const summary = join(work, 'summary-auto.md')
    const [auto, explicit, overridden] = await Promise.all([
      cli(['validate', 'broken.yaml'], {env: {GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary}}),
      cli(['validate', 'broken.yaml', '--format', 'github']),
      cli(['validate', 'broken.yaml', '--format', 'text'], {env: {GITHUB_ACTIONS: 'true'}}),
    ])
    assert.equal(auto.code, 1)
    assert.match(auto.stdout, /^::error file=broken\.yaml,line=18,col=15,/m)
    assert.equal(auto.stdout, explicit.stdout)
    assert.match(readFileSync(summary, 'utf8'), /^## snap-gadget validate$/m)
    assert.match(overridden.stdout, /^broken\.yaml:18:15: error S1 /m, 'an explicit --format wins')
  })

  test('no step summary is written without GITHUB_STEP_SUMMARY, and none in other formats', async () => {
    const summary = join(work, 'summary-text.md')
    const r = await cli(['validate', 'broken.yaml', '--format', 'text'], {env: {GITHUB_STEP_SUMMARY: summary}})
    assert.equal(r.code, 1)
    assert.equal(existsSync(summary), false)
  })

  test('sarif: a SARIF 2.1.0 log with rules, artifacts and results', async () => {
    const r = await cli(['validate', 'broken.yaml', '--format', 'sarif'])
    assert.equal(r.code, 1, r.stderr)
    const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {version: string}).version
    const log = JSON.parse(r.stdout) as {
      $schema: string
      runs: Array<{
        artifacts: Array<{location: {uri: string}}>
        columnKind: string
        results: Array<{
          level: string
          locations: Array<{physicalLocation: {artifactLocation: {uri: string}; region: {endColumn: number; endLine: number; startColumn: number; startLine: number}}}>
          message: {text: string}
          ruleId: string
          ruleIndex: number
        }>
        tool: {driver: {name: string; rules: Array<{id: string}>; version: string}}
      }>
      version: string
    }
    assert.equal(log.version, '2.1.0')
    assert.match(log.$schema, /sarif-2\.1\.0/)
    assert.equal(log.runs.length, 1)
    const [run] = log.runs
    assert.equal(run.tool.driver.name, 'snap-gadget')
    assert.equal(run.tool.driver.version, version)
    assert.equal(run.columnKind, 'utf16CodeUnits')
    // The whole catalog, whatever the run found: code scanning describes the tool's rules from it.
    assert.deepEqual(
      run.tool.driver.rules.map((rule) => rule.id),
      catalog.map((rule) => rule.id),
    )
    assert.deepEqual(
      run.artifacts.map((a) => a.location.uri),
      ['broken.yaml'],
    )
    const s1 = run.results.find((res) => res.ruleId === 'S1')!
    assert.equal(s1.level, 'error')
    assert.equal(run.tool.driver.rules[s1.ruleIndex].id, 'S1')
    assert.match(s1.message.text, /^cannot parse size "32K": invalid suffix "K"/)
    assert.equal(s1.locations[0].physicalLocation.artifactLocation.uri, 'broken.yaml')
    assert.deepEqual(s1.locations[0].physicalLocation.region, {endColumn: 18, endLine: 18, startColumn: 15, startLine: 18})
    assert.equal(run.results.find((res) => res.ruleId === 'P3')!.level, 'warning')
  })

  test('junit: well-formed XML, one failing test case per rule with errors', async () => {
    const r = await cli(['validate', 'broken.yaml', 'clean.yaml', '--format', 'junit'])
    assert.equal(r.code, 1, r.stderr)
    const root = parseXml(r.stdout)
    assert.equal(root.name, 'testsuites')
    const suites = elements(root, 'testsuite')
    assert.deepEqual(
      suites.map((s) => s.attributes.name),
      ['broken.yaml', 'clean.yaml'],
    )
    const cases = elements(root, 'testcase')
    assert.equal(root.attributes.tests, String(cases.length))
    const failing = cases.filter((c) => elements(c, 'failure').length > 0)
    assert.equal(root.attributes.failures, '1')
    assert.deepEqual(
      failing.map((c) => [c.attributes.classname, c.attributes.file]),
      [['S1 quantity-syntax', 'broken.yaml']],
    )
    assert.match(elements(failing[0], 'failure')[0].attributes.message, /cannot parse size "32K"/)
    assert.ok(cases.some((c) => c.attributes.name === 'clean.yaml: valid'))
  })

  test('--output writes the report to a file and nothing to stdout', async () => {
    const formats = ['text', 'json', 'sarif', 'junit'] as const
    await Promise.all(
      formats.map(async (format) => {
        const file = `report-${format}.out`
        const [written, printed] = await Promise.all([cli(['validate', 'broken.yaml', '--format', format, '--output', file]), cli(['validate', 'broken.yaml', '--format', format])])
        assert.equal(written.code, 1, written.stderr)
        assert.equal(written.stdout, '', format)
        assert.equal(readFileSync(join(work, file), 'utf8'), printed.stdout, format)
      }),
    )
  })

  test('--output into a directory that does not exist: exit 2 with the file named', async () => {
    const r = await cli(['validate', 'clean.yaml', '--output', 'no/such/dir/report.txt'])
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`)
    assert.match(r.stderr, /no\/such\/dir\/report\.txt/)
    assert.doesNotMatch(r.stderr, /internal error/)
  })

  test('several paths in one call: one report, in the order given', async () => {
    const r = await cli(['validate', 'clean.yaml', 'broken.yaml', 'seed-null.yaml', '--json'])
    assert.equal(r.code, 1)
    const report = JSON.parse(r.stdout) as JsonReport
    assert.deepEqual(
      report.gadgets.map((g) => [g.file, g.verdict.valid, g.errors, g.warnings]),
      [
        ['clean.yaml', true, 0, 0],
        ['broken.yaml', false, 1, 1],
        ['seed-null.yaml', true, 0, 0],
      ],
    )
    assert.deepEqual(report.summary, {errors: 1, files: 3, info: 0, warnings: 1})
    const text = await cli(['validate', 'clean.yaml', 'seed-null.yaml'])
    assert.equal(text.code, 0)
    assert.equal(text.stdout, 'clean.yaml: valid\nseed-null.yaml: valid\n\n2 files valid (judged as snapd latest)\n')
  })
})

describe('gadget trees', {concurrency: true}, () => {
  test('a gadget project: content missing from the project is N13, literal api-keys are N14 (warnings)', async () => {
    const r = await cli(['validate', 'project', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout) as JsonReport
    assert.equal(report.gadgets.length, 1)
    assert.equal(report.gadgets[0].file, 'project/gadget.yaml')
    assert.equal(report.gadgets[0].verdict.valid, true)
    const snapcraftKey = positionOf(snapcraftYaml, `"${fakeApiKey}"`)
    const hookKey = positionOf(prepareDevice, 'api-key')
    assert.deepEqual(findings(report), [
      ['N13', 'warning', 'project/gadget.yaml', 12, 21],
      ['N14', 'warning', 'project/snap/hooks/prepare-device', hookKey.line, hookKey.column],
      ['N14', 'warning', 'project/snap/snapcraft.yaml', snapcraftKey.line, snapcraftKey.column],
    ])
    const n13 = report.gadgets[0].findings[0]
    assert.equal(n13.message, 'content "boot-assets/" is not in the gadget project')
    assert.match(n13.hint ?? '', /snapcraft\.yaml/)
    for (const n14 of report.gadgets[0].findings.slice(1)) {
      assert.match(n14.message, /literal serial-vault api-key/)
      assert.ok(!n14.message.includes(fakeApiKey) && !(n14.hint ?? '').includes(fakeApiKey), 'the key itself is not repeated')
    }
  })

  test('a gadget project in text: findings point into snapcraft.yaml and the hook, without quoting the key', async () => {
    const r = await cli(['validate', 'project'])
    assert.equal(r.code, 0)
    const hookKey = positionOf(prepareDevice, 'api-key')
    assert.match(r.stdout, new RegExp(`^project/snap/hooks/prepare-device:${hookKey.line}:${hookKey.column}: warning N14 `, 'm'))
    assert.match(r.stdout, /^project\/snap\/snapcraft\.yaml:13:\d+: warning N14 /m)
    // A leaked key is not repeated into CI logs: no code frame for N14.
    assert.doesNotMatch(r.stdout, /SERIAL_VAULT_API_KEY: /)
    assert.match(r.stdout, /^0 errors, 3 warnings in 1 file/m)
  })

  test('a gadget project under --strict: the warnings are errors (exit 1)', async () => {
    const r = await cli(['validate', 'project', '--strict', '--json'])
    assert.equal(r.code, 1)
    const report = JSON.parse(r.stdout) as JsonReport
    assert.equal(report.strict, true)
    assert.deepEqual(
      findings(report).map(([rule, severity]) => [rule, severity]),
      [
        ['N13', 'error'],
        ['N14', 'error'],
        ['N14', 'error'],
      ],
    )
    assert.deepEqual(report.summary, {errors: 3, files: 1, info: 0, warnings: 0})
  })

  test('a gadget project with its content and no key is clean', async () => {
    const r = await cli(['validate', 'project-ok', '--strict'])
    assert.equal(r.code, 0, r.stdout)
    assert.equal(r.stdout, 'project-ok/gadget.yaml: valid\n\n1 file valid (judged as snapd latest, strict)\n')
  })

  test("a built snap tree: missing content is snapd's own error C4 (exit 1)", async () => {
    const r = await cli(['validate', 'prime', '--json'])
    assert.equal(r.code, 1)
    const report = JSON.parse(r.stdout) as JsonReport
    assert.equal(report.gadgets[0].file, 'prime/meta/gadget.yaml')
    assert.deepEqual(findings(report), [['C4', 'error', 'prime/meta/gadget.yaml', 12, 21]])
    assert.equal(report.gadgets[0].verdict.valid, false)
    assert.equal(report.gadgets[0].verdict.error, 'invalid volume "pi": structure #0 ("system-boot"), content source:boot-assets/: source path does not exist')
  })

  test('a built snap tree with its content is valid', async () => {
    const r = await cli(['validate', 'prime-ok'])
    assert.equal(r.code, 0, r.stdout)
    assert.equal(r.stdout, 'prime-ok/meta/gadget.yaml: valid\n\n1 file valid (judged as snapd latest)\n')
  })

  test('a project, a snap tree and a file together', async () => {
    const r = await cli(['validate', 'project-ok', 'prime', 'clean.yaml', '--json'])
    assert.equal(r.code, 1)
    const report = JSON.parse(r.stdout) as JsonReport
    assert.deepEqual(
      report.gadgets.map((g) => [g.file, g.verdict.valid]),
      [
        ['project-ok/gadget.yaml', true],
        ['prime/meta/gadget.yaml', false],
        ['clean.yaml', true],
      ],
    )
  })
})

describe('--model and --snapd', {concurrency: true}, () => {
  test('a UC20+ (grade) model needs a system-seed: M6', async () => {
    const [alone, withModel] = await Promise.all([cli(['validate', 'uc18-pi.yaml', '--json']), cli(['validate', 'uc18-pi.yaml', '--model', 'model-uc20.json', '--json'])])
    assert.equal(alone.code, 0)
    assert.equal(withModel.code, 1)
    const report = JSON.parse(withModel.stdout) as JsonReport
    assert.deepEqual(
      findings(report).map(([rule, severity]) => [rule, severity]),
      [['M6', 'error']],
    )
    assert.equal(report.gadgets[0].findings[0].message, 'model requires system-seed partition, but no system-seed or system-data partition found')
  })

  test('piboot with a UC16/18 model (no grade): V6 at the bootloader value', async () => {
    const [alone, uc18, uc20] = await Promise.all([
      cli(['validate', 'piboot-uc18.yaml']),
      cli(['validate', 'piboot-uc18.yaml', '--model', 'model-uc18.json', '--json']),
      cli(['validate', 'clean.yaml', '--model', 'model-uc20.json']),
    ])
    assert.equal(alone.code, 0, 'without a model, snapd cannot tell')
    assert.equal(uc18.code, 1)
    const report = JSON.parse(uc18.stdout) as JsonReport
    assert.deepEqual(findings(report), [['V6', 'error', 'piboot-uc18.yaml', 4, 17]])
    assert.equal(report.gadgets[0].findings[0].message, 'piboot bootloader valid only for UC20 onwards')
    assert.equal(uc20.code, 0, 'piboot with a UC20+ model and all four roles is fine')
  })

  test('a signed model assertion counts as its JSON input does; another assertion or a broken one is refused', async () => {
    const {brand} = testKeys()
    write('model-uc20.assert', signModel(brand, 'acme').text)
    write('model-uc18.assert', signModel(brand, 'acme', {base: 'core18', grade: undefined}).text)
    write('account.assert', signModel(brand, 'acme').text.replace('type: model\n', 'type: account\n'))
    write('broken.assert', 'type: model\nauthority-id: acme\n')
    const [uc20, uc18, account, broken] = await Promise.all([
      cli(['validate', 'uc18-pi.yaml', '--model', 'model-uc20.assert', '--json']),
      cli(['validate', 'piboot-uc18.yaml', '--model', 'model-uc18.assert', '--json']),
      cli(['validate', 'clean.yaml', '--model', 'account.assert']),
      cli(['validate', 'clean.yaml', '--model', 'broken.assert']),
    ])
    assert.equal(uc20.code, 1)
    assert.deepEqual(
      findings(JSON.parse(uc20.stdout) as JsonReport).map(([rule]) => rule),
      ['M6'],
    )
    assert.equal(uc18.code, 1)
    assert.deepEqual(findings(JSON.parse(uc18.stdout) as JsonReport), [['V6', 'error', 'piboot-uc18.yaml', 4, 17]])
    assert.equal(account.code, 2)
    assert.match(account.stderr, /^error: account\.assert is a account assertion, not a model\n/)
    assert.equal(broken.code, 2)
    assert.match(broken.stderr, /^error: [^\n]*broken\.assert[^\n]*\n {2}hint: /)
  })

  test('--snapd 2.57 rejects system-seed-null, which latest accepts', async () => {
    const [latest, old] = await Promise.all([cli(['validate', 'seed-null.yaml', '--json']), cli(['validate', 'seed-null.yaml', '--snapd', '2.57', '--json'])])
    assert.equal(latest.code, 0)
    const l = JSON.parse(latest.stdout) as JsonReport
    assert.equal(l.snapd, 'latest')
    assert.deepEqual(l.gadgets[0].findings, [])
    assert.equal(old.code, 1)
    const o = JSON.parse(old.stdout) as JsonReport
    assert.equal(o.snapd, '2.57')
    assert.equal(o.gadgets[0].snapd, '2.57')
    assert.deepEqual(findings(o), [['S7', 'error', 'seed-null.yaml', 9, 15]])
    assert.equal(o.gadgets[0].verdict.error, 'invalid volume "pc": invalid structure #1 ("ubuntu-seed"): invalid role "system-seed-null": unsupported role')
    assert.match(o.gadgets[0].findings[0].hint ?? '', /2\.59/, 'the hint names the first snapd release that knows the role')
  })

  test('the text summary names the snapd release judged for', async () => {
    const r = await cli(['validate', 'clean.yaml', '--snapd', '2.57'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /\(judged as snapd 2\.57\)\n$/)
  })
})

describe('fast path and oclif path agree', {concurrency: true, skip: process.env.SNAP_GADGET_CLI === 'dev' && 'runCli runs bin/dev.mjs (oclif only)'}, () => {
  const cases: Array<{args: string[]; env?: NodeJS.ProcessEnv}> = [
    {args: ['validate', 'broken.yaml']},
    {args: ['validate', 'broken.yaml', '--json']},
    {args: ['validate', 'broken.yaml', '--format', 'sarif']},
    {args: ['validate', 'broken.yaml', '--format', 'junit']},
    {args: ['validate', 'broken.yaml'], env: {GITHUB_ACTIONS: 'true'}},
    {args: ['validate', 'project', 'prime', 'seed-null.yaml', 'uc18-pi.yaml', '--snapd', '2.57', '--strict', '--model', 'model-uc20.json']},
    {args: ['validate', '--', 'warning.yaml']},
    {args: ['validate']},
    {args: ['validate', 'missing.yaml', '--json']},
    {args: ['validate', 'no-gadget']},
    {args: ['validate', 'clean.yaml', '--snapd', 'banana']},
  ]

  for (const {args, env} of cases) {
    test(`${args.join(' ')}${
      env
        ? ` (${Object.entries(env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')})`
        : ''
    }`, async () => {
      assert.ok(planFastRun(args, projectRoot), 'bin/run.js must take the fast path here: is oclif.manifest.json missing or stale? Run "npm run manifest"')
      const fast = await cli(args, {env})
      const oclif = await oclifOnly(args, {env})
      assert.deepEqual({code: fast.code, stderr: fast.stderr, stdout: fast.stdout}, {code: oclif.code, stderr: oclif.stderr, stdout: oclif.stdout})
    })
  }

  test('a form only oclif parses (-fjson) prints what the fast path prints for -f json', async () => {
    assert.equal(planFastRun(['validate', 'broken.yaml', '-fjson'], projectRoot), undefined)
    assert.ok(planFastRun(['validate', 'broken.yaml', '-f', 'json'], projectRoot), 'run "npm run manifest"')
    const [joined, separate] = await Promise.all([cli(['validate', 'broken.yaml', '-fjson']), cli(['validate', 'broken.yaml', '-f', 'json'])])
    assert.equal(joined.code, 1)
    assert.equal(joined.stdout, separate.stdout)
    assert.equal(joined.stderr, separate.stderr)
  })

  test('--format=json and --format json print the same', async () => {
    const [eq, space] = await Promise.all([cli(['validate', 'broken.yaml', '--format=json']), cli(['validate', 'broken.yaml', '--format', 'json'])])
    assert.equal(eq.code, 1)
    assert.equal(eq.stdout, space.stdout)
  })

  test('SNAP_GADGET_CONTENT_TYPE sends the run through oclif, with the same result', async () => {
    const args = ['validate', 'broken.yaml', 'warning.yaml']
    const [viaEnv, fast] = await Promise.all([cli(args, {env: {SNAP_GADGET_CONTENT_TYPE: 'application/yaml'}}), cli(args)])
    assert.equal(viaEnv.code, 1)
    assert.equal(viaEnv.stdout, fast.stdout)
    assert.equal(viaEnv.stderr, fast.stderr)
  })

  test('--help still comes from oclif', async () => {
    const r = await cli(['validate', '--help'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^USAGE\n {2}\$ snap-gadget validate \[PATH\.\.\.\]/m)
    assert.match(r.stdout, /--strict/)
  })
})

describe('a Node that forbids code generation', () => {
  // Hardened setups run node with --disallow-code-generation-from-strings: the validator must not
  // need eval or new Function (ajv's code is generated at build time; the decoder falls back).
  test('judges the real corpus exactly as an ordinary run does', async () => {
    const files = readdirSync(shared('corpus', 'gadget-yaml', 'real')).map((f) => shared('corpus', 'gadget-yaml', 'real', f))
    const args = [binRun, 'validate', '--format', 'json', ...files]
    const env = {...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...neutralEnv}
    const [plain, hardened] = await Promise.all([runProcess(process.execPath, args, {env}), runProcess(process.execPath, ['--disallow-code-generation-from-strings', ...args], {env})])
    assert.equal(hardened.stderr, '')
    assert.equal(plain.code, 1)
    assert.deepEqual({code: hardened.code, stdout: hardened.stdout}, {code: plain.code, stdout: plain.stdout})
    assert.equal((JSON.parse(plain.stdout) as {gadgets: unknown[]}).gadgets.length, files.length)
  })
})
