/**
 * `snap-gadget init` end to end, through bin/run.js as a user runs it: non-interactive runs (no
 * terminal here), the answers it cannot default, --dry-run, --json, --force, and exit codes.
 */
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {parse} from 'yaml'

import {runCli} from '../helpers/cli.js'
import {scratchDir} from '../helpers/scratch.js'

const work = scratchDir('snap-gadget-init-cli-')
const TIME = '2026-01-01T00:00:00Z'
const init = (args: string[]) => runCli(['init', '--timestamp', TIME, ...args], {cwd: work})

describe('snap-gadget init', () => {
  it('writes a gadget without asking when there is no terminal, and says what is left to do', async () => {
    const r = await init(['--board', 'pc-amd64', '--brand', 'acme', 'pc'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    assert.match(r.stdout, /^Created acme-pc-amd64 \(pc-amd64, core24, amd64\) in .*\/pc:\n/)
    assert.match(r.stdout, /\n {2}create {4}snap\/hooks\/prepare-device\n/)
    assert.match(r.stdout, /Still to do:\n {2}- Register the gadget name \(snapcraft register acme-pc-amd64\)/)
    assert.match(r.stdout, /\nNext: cd pc && snap-gadget validate --strict \./)
    const dir = join(work, 'pc')
    for (const file of ['gadget.yaml', 'snap/snapcraft.yaml', 'snap/hooks/prepare-device', 'snap/hooks/configure', 'runtime/registration.json', 'runtime/prepare-device.cjs', 'model.json', 'README.md', '.gitignore']) {
      assert.ok(existsSync(join(dir, file)), file)
    }

    assert.equal(statSync(join(dir, 'snap', 'hooks', 'prepare-device')).mode & 0o755, 0o755)
    assert.match(readFileSync(join(dir, 'gadget.yaml'), 'utf8'), /^# yaml-language-server: \$schema=schemas\/gadget\.schema\.json\n/)
  })

  it('the generated project passes validate --strict', async () => {
    const r = await runCli(['validate', '--strict', join(work, 'pc')])
    assert.equal(r.code, 0, r.stdout)
    assert.match(r.stdout, /valid/)
  })

  it('needs --board and --brand when it cannot ask (exit 2), and writes nothing', async () => {
    const r = await init(['nothing'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^error: init needs --board and --brand when it cannot ask/)
    assert.match(r.stderr, /hint: e\.g\. snap-gadget init --board pc-amd64 --brand/)
    assert.ok(!existsSync(join(work, 'nothing')))
  })

  it('refuses a name snapd would refuse, before writing anything', async () => {
    const r = await init(['--board', 'pc-amd64', '--brand', 'acme', '--name', 'Bad_Name', 'bad'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^error: --name "Bad_Name" is not a valid snap name: a snap name uses only lower-case letters/)
    assert.ok(!existsSync(join(work, 'bad')))
  })

  it('a board without a published kernel needs --kernel', async () => {
    const r = await init(['--board', 'beaglebone', '--brand', 'acme', 'bbb'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /the beaglebone board has no published kernel snap: name yours with --kernel/)
  })

  it('--dry-run prints the plan and writes nothing', async () => {
    const r = await init(['--board', 'raspberry-pi', '--arch', 'armhf', '--base', 'core22', '--brand', 'acme', '--dry-run', 'pi'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^Would create acme-raspberry-pi \(raspberry-pi, core22, armhf\) in .*\/pi; nothing was written:\n/)
    assert.match(r.stdout, /boot-assets\/config\.txt +\d+(\.\d)? (B|KiB) {2}from templates\/boards\/raspberry-pi\/files\/boot-assets\/config\.txt\.hbs\n/)
    assert.ok(!existsSync(join(work, 'pi')))
  })

  it('--json prints the plan as data', async () => {
    const r = await init(['--board', 'generic-uboot', '--brand', 'acme', '--kernel', 'acme-kernel', '--gadget-id', 'AcmeGadgetSnapIdXXXXXXXXXXXXXXXX', '--json', 'rk'])
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as {board: {id: string}; dryRun: boolean; files: {action: string; path: string}[]; grade: string; plugs: string[]; todo: string[]}
    assert.equal(out.board.id, 'generic-uboot')
    assert.equal(out.dryRun, false)
    assert.deepEqual(out.plugs, ['hardware-observe'])
    assert.ok(out.files.every((f) => f.action === 'created'))
    assert.ok(out.todo.some((t) => t.startsWith('boot-assets/idbloader.img:')))
    // With the gadget's snap id, gadget.yaml connects the hook's plugs while seeding.
    const gadget = parse(readFileSync(join(work, 'rk', 'gadget.yaml'), 'utf8')) as {connections: unknown}
    assert.deepEqual(gadget.connections, [{plug: 'AcmeGadgetSnapIdXXXXXXXXXXXXXXXX:hardware-observe'}])
  })

  it('--json errors are JSON too', async () => {
    const r = await init(['--board', 'nope', '--brand', 'acme', '--json', 'x'])
    assert.equal(r.code, 2)
    const out = JSON.parse(r.stdout) as {error: {code: string; message: string}}
    assert.equal(out.error.code, 'E_INIT_BOARD')
  })

  it('never overwrites without --force; with it, overwrites only the generated files', async () => {
    const dir = join(work, 'again')
    mkdirSync(dir)
    writeFileSync(join(dir, 'gadget.yaml'), 'mine\n')
    writeFileSync(join(dir, 'NOTES'), 'kept\n')
    const refused = await init(['--board', 'pc-amd64', '--brand', 'acme', 'again'])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /^error: a file of the new gadget already exists in .*again: gadget\.yaml\n {2}hint: nothing was written; pass --force/)
    assert.deepEqual(readdirSync(dir).sort(), ['NOTES', 'gadget.yaml'])
    const forced = await init(['--board', 'pc-amd64', '--brand', 'acme', '--force', 'again'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.match(forced.stdout, /overwrite gadget\.yaml/)
    assert.equal(readFileSync(join(dir, 'NOTES'), 'utf8'), 'kept\n')
  })

  it('a custom device service, no api-key, extra headers and fields, no identity, the UC18 model form', async () => {
    const r = await init([
      '--board',
      'raspberry-pi',
      '--brand',
      'acme',
      '--base',
      'core22',
      '--arch',
      'armhf',
      '--device-service',
      'https://vault.example.com/v1/',
      '--no-api-key',
      '--header',
      'x-factory-line=line 3',
      '--body-field',
      'batch=2026-01',
      '--body-fact',
      'serial-source',
      '--body-fact',
      'board-revision',
      '--no-identity',
      '--legacy-model',
      '--snap',
      'network-manager',
      '--name',
      'acme-pi',
      '--model',
      'gateway',
      '--display-name',
      'ACME "Gateway" ✓',
      'custom',
    ])
    assert.equal(r.code, 0, r.stderr)
    const dir = join(work, 'custom')
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'runtime', 'registration.json'), 'utf8')), {
      $schema: '../schemas/registration.schema.json',
      body: {facts: ['serial-source', 'board-revision'], fields: {batch: '2026-01'}},
      deviceService: {preset: 'custom', url: 'https://vault.example.com/v1/'},
      headers: {'x-factory-line': 'line 3'},
      identity: {enabled: false},
      proposedSerial: true,
      serial: {board: 'raspberry-pi', brand: 'acme'},
    })
    const snapcraft = parse(readFileSync(join(dir, 'snap', 'snapcraft.yaml'), 'utf8')) as {architectures: unknown; hooks: {'prepare-device': Record<string, unknown>}}
    assert.deepEqual(snapcraft.hooks['prepare-device'], {plugs: ['hardware-observe']})
    assert.deepEqual(snapcraft.architectures, [{'build-for': ['armhf'], 'build-on': ['amd64', 'armhf']}])
    assert.doesNotMatch(readFileSync(join(dir, 'snap', 'hooks', 'prepare-device'), 'utf8'), /api/)
    const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>
    assert.deepEqual([model.gadget, model.kernel, model['required-snaps'], model['display-name']], ['acme-pi', 'pi-kernel=22', ['network-manager'], 'ACME "Gateway" ✓'])
    const validate = await runCli(['validate', '--strict', dir])
    assert.equal(validate.code, 0, validate.stdout)
  })

  it('--dry-run over an existing project says a real run would stop', async () => {
    const r = await init(['--board', 'pc-amd64', '--brand', 'acme', '--dry-run', 'pc'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /overwrite gadget\.yaml/)
    assert.match(r.stdout, /\d+ of these files exist: without --force, init would stop and write nothing\./)
  })

  it('--help lists every flag', async () => {
    const r = await runCli(['init', '--help'])
    assert.equal(r.code, 0)
    for (const flag of [
      '--board',
      '--board-dir',
      '--base',
      '--arch',
      '--brand',
      '--name',
      '--model',
      '--grade',
      '--gadget-id',
      '--kernel',
      '--device-service',
      '--legacy-model',
      '--dry-run',
      '--force',
      '--yes',
      '--json',
    ])
      assert.ok(r.stdout.includes(flag), flag)
  })
})
