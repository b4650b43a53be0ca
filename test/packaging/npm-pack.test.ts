/**
 * The package as a user gets it: `npm pack`, installed into an empty project (dependencies from
 * the registry or npm's cache), and its `snap-gadget` run for every command. Catches files left
 * out of `files`, imports of devDependencies and paths that only work inside the checkout.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {type CliResult, runProcess} from '../helpers/cli.js'
import {fixtures, projectRoot} from '../helpers/paths.js'
import {API_KEY, makeLab} from '../service/helpers.js'
import {parse} from 'yaml'

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
let work: string
let app: string
let tarball: string

async function npmRun(args: string[], cwd: string): Promise<CliResult> {
  const result = await runProcess(npm, args, {cwd, timeoutMs: 240_000})
  assert.equal(result.code, 0, `npm ${args.join(' ')}:\n${result.stderr}`)
  return result
}

/** The installed package's own command, as `npx snap-gadget` would find it. */
const installed = (args: string[], options: {input?: string; env?: NodeJS.ProcessEnv} = {}) =>
  runProcess(process.execPath, [join(app, 'node_modules', '.bin', 'snap-gadget'), ...args], {cwd: work, env: {...process.env, FORCE_COLOR: '0', GITHUB_ACTIONS: '', NO_COLOR: '1', ...options.env}, input: options.input})

before(async () => {
  work = freshDir('snap-gadget-pack-')
  app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), '{"name": "app", "private": true}\n')
  // --ignore-scripts: `prepare` would rebuild dist/ under the other tests; the suite built it already.
  await npmRun(['pack', '--ignore-scripts', '--pack-destination', work], projectRoot)
  tarball = join(
    work,
    readdirSync(work).find((f) => f.endsWith('.tgz'))!,
  )
  // Install scripts off, as a user with no compiler (or npm's --ignore-scripts) gets it: the
  // optional database drivers are there without better-sqlite3's native addon, and validate and
  // init must not need it. The serve test below adds this checkout's compiled addon (compiling
  // better-sqlite3 again took about 150 s, and proves nothing about what the package ships).
  await npmRun(['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarball], app)
})

describe('the packed package, installed into an empty project', () => {
  it('the README never installs it by name from the registry (npx snap-gadget runs whoever owns that name)', () => {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
    const blocks = [...readme.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1])
    for (const block of blocks) assert.doesNotMatch(block, /\bnpx\b[^\n]*snap-gadget|npm (i|install)\b[^\n]*[ \t](snap-gadget)([ \t]|$)/m, block)
  })

  it('has a help page for every command in its manifest', async () => {
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules', 'snap-gadget', 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    const ids = Object.keys(manifest.commands)
    assert.ok(ids.length >= 8, ids.join(', '))
    for (const id of ids) {
      const r = await installed([...id.split(':'), '--help'])
      assert.equal(r.code, 0, `${id}: ${r.stderr}`)
      assert.match(r.stdout, /USAGE/, id)
    }
  })

  it('validate judges a gadget.yaml, a project it made with init, and standard input', async () => {
    const clean = await installed(['validate', fixtures('validate', 'clean.yaml')])
    assert.equal(clean.code, 0, clean.stderr)
    const init = await installed(['init', 'acme-pc', '--board', 'pc-amd64', '--brand', 'acme', '--yes'])
    assert.equal(init.code, 0, init.stderr)
    const project = await installed(['validate', 'acme-pc', '--strict', '--format', 'sarif'])
    assert.equal(project.code, 0, project.stdout + project.stderr)
    assert.equal((JSON.parse(project.stdout) as {version: string}).version, '2.1.0')
    const stdin = await installed(['validate', '-'], {input: readFileSync(fixtures('validate', 'broken.yaml'), 'utf8')})
    assert.equal(stdin.code, 1, stdin.stderr)
  })

  it('installs snap-gadget-keymgr beside it: the one program SNAPD_EXT_KEYMGR can name, key keymgr under its own name', async () => {
    const keymgr = join(app, 'node_modules', '.bin', 'snap-gadget-keymgr')
    const features = await runProcess(keymgr, ['features'], {cwd: work})
    assert.deepEqual([features.code, features.stdout], [0, '{"public-keys":["DER"],"signing":["RSA-PKCS"]}'], features.stderr)
    const keys = join(work, 'keymgr-keys')
    mkdirSync(keys)
    cpSync(fixtures('assertions', 'brand.pem'), join(keys, 'serials.pem'))
    const names = await runProcess(keymgr, ['key-names'], {cwd: work, env: {...process.env, SNAP_GADGET_KEYS: keys}})
    assert.deepEqual([names.code, names.stdout], [0, '{"key-names":["serials"]}'], names.stderr)
  })

  it('boards, schema, serial, probe, identity verify and prepare-device run', async () => {
    const boards = await installed(['boards', '--json'])
    assert.equal(boards.code, 0, boards.stderr)
    assert.ok((JSON.parse(boards.stdout) as unknown[]).length > 0)
    const schema = await installed(['schema'])
    assert.equal(schema.code, 0, schema.stderr)
    assert.equal((JSON.parse(schema.stdout) as {$schema: string}).$schema.includes('json-schema.org'), true)

    const root = join(work, 'root')
    mkdirSync(join(root, 'sys', 'class', 'dmi', 'id'), {recursive: true})
    writeFileSync(join(root, 'sys', 'class', 'dmi', 'id', 'product_serial'), 'PF2ABCDE\n')
    const serial = await installed(['serial', '--board', 'pc-amd64', '--root', root])
    assert.deepEqual([serial.code, serial.stdout], [0, 'PF2ABCDE\n'], serial.stderr)
    const probe = await installed(['probe', '--root', root, '--json'])
    assert.equal(probe.code, 0, probe.stderr)

    writeFileSync(join(work, 'body.yaml'), 'serial: "PF2ABCDE"\n')
    const verify = await installed(['identity', 'verify', join(work, 'body.yaml')])
    assert.equal(verify.code, 1)
    assert.match(verify.stderr, /the identity fields are missing/)

    const prepare = await installed(['prepare-device', '--dry-run', '--config', join(work, 'acme-pc', 'runtime', 'registration.json'), '--root', root])
    assert.notEqual(prepare.code, 3, `a bug, not a user error:\n${prepare.stderr}`)
    assert.doesNotMatch(prepare.stderr, /\n\s+at /, 'no stack trace')

    // Without SQLite's addon, serve says what to install, and where; then, with it, serve starts
    // from the package, says where it listens, and its log reads the same database.
    const lab = makeLab()
    try {
      const missing = await installed(['serve', '--config', lab.config], {env: {LAB_API_KEY: API_KEY}})
      assert.equal(missing.code, 2, missing.stderr)
      assert.match(missing.stderr, /serve needs the better-sqlite3 package for a SQLite database, and it is not installed here \(its native addon was never built: install scripts were off\)/)
      assert.match(missing.stderr, new RegExp(`hint: npm install --prefix "${app.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}" better-sqlite3@\\^12`))
      cpSync(join(projectRoot, 'node_modules', 'better-sqlite3', 'build'), join(app, 'node_modules', 'better-sqlite3', 'build'), {recursive: true})

      const serve = spawn(process.execPath, [join(app, 'node_modules', '.bin', 'snap-gadget'), 'serve', '--config', lab.config, '--json'], {env: {...process.env, LAB_API_KEY: API_KEY}, stdio: ['ignore', 'pipe', 'pipe']})
      const firstLine = await new Promise<string>((resolve, reject) => {
        let out = ''
        const timer = setTimeout(() => reject(new Error('serve printed no URL within 20 s')), 20_000)
        serve.stdout.on('data', (c: Buffer) => {
          out += c.toString()
          if (out.includes('\n')) {
            clearTimeout(timer)
            resolve(out.slice(0, out.indexOf('\n')))
          }
        })
      })
      assert.match((JSON.parse(firstLine) as {url: string}).url, /^http:\/\/127\.0\.0\.1:\d+\/v1\/$/)
      const exited = new Promise<number | null>((resolve) => serve.on('exit', resolve))
      serve.kill('SIGTERM')
      assert.equal(await exited, 0)
      const log = await installed(['serve', 'log', '--config', lab.config, '--json'])
      assert.deepEqual([log.code, JSON.parse(log.stdout)], [0, {entries: [], size: 0}], log.stderr)
    } finally {
      rmSync(lab.dir, {force: true, recursive: true})
    }
  })
})

describe('the GitHub Actions composite action (.github/actions/validate-gadget)', () => {
  interface Step {
    id?: string
    if?: string
    name: string
    run?: string
    uses?: string
    with?: Record<string, string>
  }

  const action = parse(readFileSync(join(projectRoot, '.github', 'actions', 'validate-gadget', 'action.yml'), 'utf8')) as {runs: {steps: Step[]; using: string}}
  const step = (name: string) => action.runs.steps.find((s) => s.name === name)!

  /** Directories steps added to GITHUB_PATH, which the runner puts in front of PATH for the steps after. */
  let addedPath = ''

  /** Runs a step's script as the runner would, with the inputs as its env. */
  async function runStep(name: string, env: NodeJS.ProcessEnv): Promise<CliResult & {outputs: Record<string, string>}> {
    const outputFile = join(work, `output-${name.replace(/\W/g, '')}`)
    const pathFile = join(work, `path-${name.replace(/\W/g, '')}`)
    writeFileSync(outputFile, '')
    writeFileSync(pathFile, '')
    // As GitHub runs a `shell: bash` step: bash --noprofile --norc -eo pipefail.
    const PATH = `${addedPath}${process.env.PATH}`
    const result = await runProcess('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step(name).run!], {
      cwd: work,
      env: {...process.env, GITHUB_OUTPUT: outputFile, GITHUB_PATH: pathFile, PATH, RUNNER_TEMP: work, ...env},
      timeoutMs: 240_000,
    })
    for (const dir of readFileSync(pathFile, 'utf8').split('\n').filter(Boolean)) addedPath = `${dir}:${addedPath}`
    const outputs = Object.fromEntries(
      readFileSync(outputFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
    )
    return {...result, outputs}
  }

  it('installs the package, validates, writes SARIF for the upload step and fails on errors', async () => {
    assert.equal(action.runs.using, 'composite')
    // Without install scripts: a runner fetches better-sqlite3's prebuilt addon, this machine would
    // compile it (two minutes), and the validate steps below never load it.
    const install = await runStep('Install snap-gadget', {PACKAGE: tarball, npm_config_ignore_scripts: 'true'})
    assert.equal(install.code, 0, install.stderr)
    assert.match(install.stdout, /snap-gadget\/0\.1\.0/)
    assert.equal(addedPath, `${join(work, 'snap-gadget-tool', 'node_modules', '.bin')}:`)

    const summary = join(work, 'step-summary.md')
    const good = await runStep('Validate', {GADGET_PATH: fixtures('validate', 'clean.yaml'), GITHUB_STEP_SUMMARY: summary, LAYOUT: 'true', SNAPD: '2.57', STRICT: 'true'})
    assert.equal(good.code, 0, good.stderr)
    assert.equal(good.outputs['exit-code'], '0')
    // The layout: its text picture in the step summary, its SVG for the artifact step.
    assert.match(readFileSync(summary, 'utf8'), /### Disk layout of .*clean\.yaml\n\n```text\n[^]*volume pi: mbr, piboot;/)
    assert.match(readFileSync(good.outputs['layout-svg'], 'utf8'), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^]*data-volume="pi"/)
    const uploadLayout = step('Upload layout')
    assert.match(uploadLayout.uses ?? '', /^actions\/upload-artifact@v\d+$/)
    assert.equal(uploadLayout.with?.path, '${{ steps.validate.outputs.layout-svg }}')
    const withoutLayout = await runStep('Validate', {GADGET_PATH: fixtures('validate', 'clean.yaml'), LAYOUT: 'false', SNAPD: '2.57', STRICT: 'true'})
    assert.equal(withoutLayout.outputs['layout-svg'], undefined)
    assert.equal((JSON.parse(readFileSync(good.outputs.sarif, 'utf8')) as {version: string}).version, '2.1.0')

    const bad = await runStep('Validate', {GADGET_PATH: fixtures('validate', 'broken.yaml'), LAYOUT: 'true', SNAPD: 'latest', STRICT: 'false'})
    assert.equal(bad.code, 0, 'the step itself passes so that the SARIF is uploaded')
    assert.equal(bad.outputs['exit-code'], '1')
    assert.match(bad.stdout, /^::error file=.*broken\.yaml,/m)
    const verdict = await runStep('Verdict', {CODE: bad.outputs['exit-code']})
    assert.equal(verdict.code, 1)

    // The README's recipes on every gadget init makes: the action's example (the oldest snapd a
    // fleet runs, strict) and the command for any other CI, in the project directory.
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
    assert.match(readme, /snapd: "2\.57" {6}# the oldest snapd your devices run/)
    assert.ok(readme.includes('snap-gadget validate . --strict --format sarif --output gadget.sarif'))
    const examples = readdirSync(join(projectRoot, 'examples')).filter((name) => existsSync(join(projectRoot, 'examples', name, 'snap', 'snapcraft.yaml')))
    assert.ok(examples.length >= 8, examples.join(' '))
    for (const example of examples) {
      const dir = join(projectRoot, 'examples', example)
      for (const SNAPD of ['2.57', '']) {
        const run = await runStep('Validate', {GADGET_PATH: dir, LAYOUT: 'true', SNAPD, STRICT: 'true'})
        assert.equal(run.outputs['exit-code'], '0', `${example} --snapd ${SNAPD || '(from assumes)'}: ${run.stdout}`)
        const assumes = /^assumes: \[snapd(\d+\.\d+)/m.exec(readFileSync(join(dir, 'snap', 'snapcraft.yaml'), 'utf8'))?.[1]
        if (SNAPD && assumes && assumes !== '2.57') assert.match(run.stdout, /^::notice file=.*gadget\.yaml,title=how it was judged::--snapd 2\.57 is older than the snapd2\.\d+/m, example)
      }

      const sarif = join(work, `${example}.sarif`)
      const other = await runProcess('bash', ['-c', `snap-gadget validate . --strict --format sarif --output ${sarif}`], {cwd: dir, env: {...process.env, PATH: `${addedPath}${process.env.PATH}`}})
      assert.equal(other.code, 0, `${example}: ${other.stderr}`)
      assert.equal((JSON.parse(readFileSync(sarif, 'utf8')) as {runs: {results: unknown[]}[]}).runs[0].results.length, 0)
    }

    const upload = step('Upload SARIF')
    assert.match(upload.uses ?? '', /^github\/codeql-action\/upload-sarif@v\d+$/)
    assert.equal(upload.with?.sarif_file, '${{ steps.validate.outputs.sarif }}')
    assert.match(upload.if ?? '', /always\(\)/)
  })
})
