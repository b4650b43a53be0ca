/**
 * Every board profile × base generates a gadget that the tools downstream accept:
 * (a) `snap-gadget validate --strict` with zero findings: on gadget.yaml, on the primed snap tree,
 *     and on the project (where only the boot firmware the parts build or the vendor adds is not
 *     there yet);
 * (b) snapd 2.57's `snap pack --check-skeleton` on the meta/ tree snapcraft would prime;
 * (c) `sh -n` on its hooks and on the scripts of its parts;
 * (d) its snapcraft.yaml against Canonical's snapcraft.json, on the branch its base selects;
 * (e) its prepare-device hook, run by sh with the built runtime bundle, a recording snapctl and
 *     the board's hardware captures laid out as a root tree, makes exactly the expected calls;
 * (f) `snap sign` accepts its model.json (and the UC16/UC18 form) with a throwaway key.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Ajv} from 'ajv'
import {parse} from 'yaml'

import {binRun, projectRoot, shared} from '../helpers/paths.js'
import {makeRoot, removeRoot} from '../serial/helpers/root.js'
import {assembleSnapTree, generate, hardwareFor, MATRIX, type SigningKey, snapSign, tempDir, throwawayKey, toolMissing} from './helpers.js'
import type {ScaffoldPlan} from '../../src/scaffold/plan.js'

const API_KEY = 'test-api-key-not-secret'
const cleanup: string[] = []
let key: SigningKey | undefined
const snapMissing = toolMissing('snap')
const gpgMissing = toolMissing('gpg')

after(() => {
  for (const dir of cleanup) rmSync(dir, {force: true, recursive: true})
  key?.cleanup()
})

// Canonical's snapcraft.json has OpenAPI `discriminator` keywords: compiled with strict: false,
// and each file is judged on the branch its base selects (the root oneOf would report every branch).
const ajv = new Ajv({allErrors: true, strict: false})
ajv.addSchema(JSON.parse(readFileSync(shared('schemas', 'snapcraft.json'), 'utf8')), 'snapcraft')
const snapcraftBranch = (base: string) => ajv.getSchema(`snapcraft#/$defs/${base === 'core22' ? 'Core22Project' : 'Core24Project'}`)!
const snapcraftWhole = ajv.getSchema('snapcraft')!

function validate(path: string): {code: null | number; findings: {rule: string; file: string; message: string}[]} {
  const result = spawnSync(process.execPath, [binRun, 'validate', '--strict', '--json', path], {encoding: 'utf8', timeout: 60_000})
  const report = JSON.parse(result.stdout) as {gadgets: {findings: {rule: string; file: string; message: string}[]}[]}
  return {code: result.status, findings: report.gadgets.flatMap((g) => g.findings)}
}

/** A recording snapctl: argv as JSON lines; `get api-key` prints $SNAPCTL_API_KEY; plugs in $SNAPCTL_CONNECTED are connected. */
function writeSnapctl(dir: string): void {
  mkdirSync(dir, {recursive: true})
  const script = `#!${process.execPath}
const {appendFileSync} = require('node:fs')
const args = process.argv.slice(2)
appendFileSync(process.env.SNAPCTL_LOG, JSON.stringify(args) + '\\n')
if (args[0] === 'get') { process.stdout.write(process.env.SNAPCTL_API_KEY || ''); process.exit(0) }
if (args[0] === 'is-connected') process.exit((process.env.SNAPCTL_CONNECTED || '').split(',').includes(args[1]) ? 0 : 1)
`
  writeFileSync(join(dir, 'snapctl'), script)
  chmodSync(join(dir, 'snapctl'), 0o755)
}

for (const {base, board} of MATRIX) {
  describe(`${board} ${base}`, () => {
    let dir: string
    let plan: ScaffoldPlan
    let snapTree: string
    let partLog: string

    before(async () => {
      ;({dir, plan} = await generate(board, base))
      cleanup.push(join(dir, '..'))
      ;({partLog, tree: snapTree} = assembleSnapTree(dir, join(dir, '..', 'prime')))
    })

    it('(a) validate --strict: gadget.yaml and the primed tree have no finding', () => {
      for (const path of [join(dir, 'gadget.yaml'), snapTree]) {
        const {code, findings} = validate(path)
        assert.deepEqual(findings, [], path)
        assert.equal(code, 0)
      }
    })

    it('(a) validate --strict: the project misses only the boot firmware its profile declares', () => {
      const {findings} = validate(dir)
      const external = Object.keys(externalContent(board))
      for (const finding of findings) {
        assert.ok(['C4', 'N13'].includes(finding.rule), `${finding.rule}: ${finding.message}`)
        assert.ok(
          external.some((path) => finding.message.includes(`"${path}"`)),
          `${finding.message} is not declared content the project does not hold`,
        )
      }

      if (external.length === 0) assert.deepEqual(findings, [])
    })

    it('(b) snap pack --check-skeleton accepts the primed tree', {skip: snapMissing}, () => {
      const result = spawnSync('snap', ['pack', '--check-skeleton', snapTree], {encoding: 'utf8', timeout: 60_000})
      assert.equal(result.status, 0, result.stderr)
    })

    it('(c) sh -n accepts the hooks and the part scripts', () => {
      const scripts = [join(dir, 'snap', 'hooks', 'prepare-device'), join(dir, 'snap', 'hooks', 'configure')]
      const snapcraft = parse(readFileSync(join(dir, 'snap', 'snapcraft.yaml'), 'utf8')) as {parts: Record<string, Record<string, unknown>>}
      const work = tempDir('scripts')
      cleanup.push(work)
      for (const [name, part] of Object.entries(snapcraft.parts)) {
        for (const step of ['override-build', 'override-pull', 'override-stage', 'override-prime']) {
          if (typeof part[step] !== 'string') continue
          const file = join(work, `${name}-${step}.sh`)
          writeFileSync(file, part[step] as string)
          scripts.push(file)
        }
      }

      for (const script of scripts) {
        assert.match(readFileSync(script, 'utf8'), /\S/)
        const result = spawnSync('sh', ['-n', script], {encoding: 'utf8'})
        assert.equal(result.status, 0, `${script}: ${result.stderr}`)
      }
    })

    it("(d) snapcraft.yaml validates against snapcraft.json (the base's branch and the whole schema)", () => {
      const snapcraft = parse(readFileSync(join(dir, 'snap', 'snapcraft.yaml'), 'utf8')) as unknown
      const branch = snapcraftBranch(base)
      assert.ok(branch(snapcraft), JSON.stringify(branch.errors, null, 2))
      assert.ok(snapcraftWhole(snapcraft), 'the root oneOf accepts it too')
    })

    it('(e) the prepare-device hook makes the expected snapctl calls on the board fixture', async () => {
      const hardware = hardwareFor(board)
      const root = await makeRoot(hardware.tree)
      const work = tempDir('hook')
      cleanup.push(work)
      try {
        // $SNAP/runtime/node: the hook's interpreter; here Node itself, reading the fixture tree.
        writeFileSync(join(snapTree, 'runtime', 'node'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} "$@" --root ${JSON.stringify(root)}\n`)
        chmodSync(join(snapTree, 'runtime', 'node'), 0o755)
        const bin = join(work, 'bin')
        writeSnapctl(bin)
        const log = join(work, 'snapctl.log')
        const run = (env: Record<string, string>) => {
          rmSync(log, {force: true})
          const result = spawnSync('sh', [join(snapTree, 'meta', 'hooks', 'prepare-device')], {
            encoding: 'utf8',
            env: {HOME: work, PATH: `${bin}:/usr/bin:/bin`, SNAP: snapTree, SNAP_DATA: join(work, 'data'), SNAP_NAME: plan.name, SNAPCTL_CONNECTED: plan.plugs.join(','), SNAPCTL_LOG: log, ...env},
            timeout: 60_000,
          })
          const calls = existsSync(log)
            ? readFileSync(log, 'utf8')
                .split('\n')
                .filter(Boolean)
                .map((l) => JSON.parse(l) as string[])
            : []
          return {calls, result}
        }

        mkdirSync(join(work, 'data'))
        // The key from the build (snapcraft.yaml's environment).
        const built = run({[plan.apiKeyEnv!]: API_KEY})
        assert.equal(built.result.status, 0, built.result.stderr)
        assert.deepEqual(built.calls.slice(0, 1 + plan.plugs.length), [['get', 'api-key'], ...plan.plugs.map((p) => ['is-connected', p])])
        assert.equal(built.calls.length, 2 + plan.plugs.length, JSON.stringify(built.calls))
        const set = built.calls.at(-1)!
        assert.deepEqual(set.slice(0, 4), [
          'set',
          `device-service.url=${JSON.stringify(plan.deviceService.url)}`,
          `device-service.headers=${JSON.stringify({'api-key': API_KEY})}`,
          `registration.proposed-serial=${JSON.stringify(hardware.serial)}`,
        ])
        assert.ok(set[4].startsWith('registration.body='))
        const body = parse(JSON.parse(set[4].slice('registration.body='.length)) as string) as Record<string, string>
        assert.equal(body.serial, hardware.serial)
        assert.equal(body['serial-source'], hardware.source)
        assert.equal(body['board-model'], hardware.model)
        assert.ok(body['identity-signature'], 'the body is signed with the device identity key')

        // The key from the factory (snap set <gadget> api-key=…) wins over the build's.
        const factory = run({[plan.apiKeyEnv!]: '', SNAPCTL_API_KEY: 'factory-key'})
        assert.equal(factory.result.status, 0, factory.result.stderr)
        assert.equal(factory.calls.at(-1)![2], `device-service.headers=${JSON.stringify({'api-key': 'factory-key'})}`)

        // No key at all, or a plug not connected: the hook fails, and sets nothing.
        for (const env of [{[plan.apiKeyEnv!]: ''}, {[plan.apiKeyEnv!]: API_KEY, SNAPCTL_CONNECTED: ''}]) {
          const failed = run(env)
          assert.notEqual(failed.result.status, 0)
          assert.match(failed.result.stderr, /^prepare-device: /)
          assert.ok(!failed.calls.some((c) => c[0] === 'set'), JSON.stringify(failed.calls))
        }
      } finally {
        await removeRoot(root)
        rmSync(join(snapTree, 'runtime', 'node'), {force: true})
      }
    })

    it("(g) the registration-runtime part installs the runtime, its settings and a code cache its Node accepts", () => {
      assert.deepEqual(readdirSync(join(snapTree, 'runtime')).sort(), ['prepare-device.cjs', 'prepare-device.code-cache', 'registration.json'])
      assert.deepEqual(readFileSync(join(snapTree, 'runtime', 'prepare-device.cjs')), readFileSync(join(dir, 'runtime', 'prepare-device.cjs')))
      assert.match(partLog, /^prepare-device: wrote .*\/runtime\/prepare-device\.code-cache after 11 warm-up runs\n$/)
      const status = spawnSync(process.execPath, [join(snapTree, 'runtime', 'prepare-device.cjs'), '--code-cache-status'], {encoding: 'utf8'})
      assert.equal(status.stdout, 'accepted\n')
    })

    it('(f) snap sign accepts model.json', {skip: snapMissing ?? gpgMissing}, () => {
      key ??= throwawayKey()
      const signed = snapSign(key, join(dir, 'model.json'))
      assert.equal(signed.status, 0, signed.stderr)
      assert.match(signed.stdout, new RegExp(`^type: model\\nauthority-id: acme\\nseries: 16\\nbrand-id: acme\\nmodel: ${plan.model}\\n`))
      assert.match(signed.stdout, /\nsnaps:\n/)
      assert.match(signed.stdout, new RegExp(`\\n    name: ${plan.name}\\n`))
    })
  })
}

describe('a cross-built gadget (the staged Node.js cannot run on the build machine)', () => {
  it('gets no code cache, says so, and its hook still runs', async () => {
    const {dir, plan} = await generate('raspberry-pi', 'core24')
    cleanup.push(join(dir, '..'))
    // An executable the build machine cannot run, as an armhf node is on amd64 without binfmt.
    const foreignNode = join(dir, '..', 'foreign-node')
    writeFileSync(foreignNode, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x28, 0]))
    chmodSync(foreignNode, 0o755)
    const {partLog, tree: snapTree} = assembleSnapTree(dir, join(dir, '..', 'prime'), {stagedNode: foreignNode})
    assert.deepEqual(readdirSync(join(snapTree, 'runtime')).sort(), ['prepare-device.cjs', 'registration.json'])
    assert.match(partLog, /runtime\/node does not run on this build machine; the snap gets no code cache\n$/)
    const work = tempDir('cross-hook')
    cleanup.push(work)
    const hardware = hardwareFor('raspberry-pi')
    const root = await makeRoot(hardware.tree)
    try {
      const result = spawnSync(process.execPath, [join(snapTree, 'runtime', 'prepare-device.cjs'), '--config', join(snapTree, 'runtime', 'registration.json'), '--root', root, '--dry-run'], {
        encoding: 'utf8',
        env: {PATH: '/usr/bin:/bin', [plan.apiKeyEnv!]: API_KEY},
      })
      assert.equal(result.status, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`registration\\.proposed-serial="${hardware.serial}"`))
    } finally {
      await removeRoot(root)
    }
  })
})

describe('the UC16/UC18 model form (--legacy-model)', () => {
  for (const {base, board} of MATRIX) {
    it(`${board} ${base}: snap sign accepts it`, {skip: snapMissing ?? gpgMissing}, async () => {
      const {dir} = await generate(board, base, {extraSnaps: ['network-manager'], legacyModel: true})
      cleanup.push(join(dir, '..'))
      const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>
      assert.equal(model.snaps, undefined)
      assert.equal(model.grade, undefined)
      assert.deepEqual(model['required-snaps'], ['network-manager'])
      key ??= throwawayKey()
      const signed = snapSign(key, join(dir, 'model.json'))
      assert.equal(signed.status, 0, signed.stderr)
      assert.match(signed.stdout, new RegExp(`\\ngadget: ${model.gadget as string}\\n`))
    })
  }
})

function externalContent(board: string): Record<string, string> {
  const profile = JSON.parse(readFileSync(join(projectRoot, 'templates', 'boards', board, 'profile.json'), 'utf8')) as {externalContent?: Record<string, string>}
  return profile.externalContent ?? {}
}
