/**
 * Every board profile × base generates a gadget that the tools downstream accept:
 * (a) `snap-gadget validate --strict` with zero findings: on gadget.yaml, on the primed snap tree,
 *     and on the project (where only the boot firmware the parts build or the vendor adds is not
 *     there yet);
 * (b) snapd 2.57's `snap pack --check-skeleton` on the meta/ tree snapcraft would prime;
 * (c) `sh -n` on its hooks and on the scripts of its parts;
 * (d) its snapcraft.yaml against Canonical's snapcraft.json, on the branch its base selects;
 * (e) its prepare-device hook, run by sh with the built runtime bundle on QuickJS (Debian
 *     trixie's qjs for amd64 as $SNAP/usr/bin/qjs), a recording snapctl and the board's hardware
 *     captures laid out as a root tree, makes exactly the expected calls;
 * (f) `snap sign` accepts its model.json (and the UC16/UC18 form) with a throwaway key;
 * (g) its parts put the runtime and its settings, and QuickJS, where the hook runs them; a core22
 *     gadget's quickjs part, run with its own commands on the QuickJS 2025-04-26 source, builds a
 *     qjs that runs the hook's bundle.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Ajv} from 'ajv'
import {parse} from 'yaml'

import {projectRoot, shared} from '../helpers/paths.js'
import {requireQuickJs} from '../helpers/quickjs.js'
import {readSnapctlLog, writeRecordingSnapctl} from '../helpers/snapctl.js'
import {makeRoot, removeRoot} from '../serial/helpers/root.js'
import {assembleSnapTree, generate, hardwareFor, installHookEngine, MATRIX, type SigningKey, snapSign, tempDir, throwawayKey, toolMissing} from './helpers.js'
import type {ScaffoldPlan} from '../../src/scaffold/plan.js'
import {runCli} from '../helpers/cli.js'

const API_KEY = 'test-api-key-not-secret'
let key: SigningKey | undefined
const snapMissing = toolMissing('snap')
const gpgMissing = toolMissing('gpg')

// Directories from generate() and tempDir() are removed when the process ends; the key's agent is stopped here.
after(() => key?.cleanup())

// Canonical's snapcraft.json has OpenAPI `discriminator` keywords: compiled with strict: false,
// and each file is judged on the branch its base selects (the root oneOf would report every branch).
const ajv = new Ajv({allErrors: true, strict: false})
ajv.addSchema(JSON.parse(readFileSync(shared('schemas', 'snapcraft.json'), 'utf8')), 'snapcraft')
const snapcraftBranch = (base: string) => ajv.getSchema(`snapcraft#/$defs/${base === 'core22' ? 'Core22Project' : 'Core24Project'}`)!
const snapcraftWhole = ajv.getSchema('snapcraft')!

async function validate(path: string): Promise<{code: null | number; findings: {rule: string; file: string; message: string}[]}> {
  const result = await runCli(['validate', '--strict', '--json', path])
  const report = JSON.parse(result.stdout) as {gadgets: {findings: {rule: string; file: string; message: string}[]}[]}
  return {code: result.code, findings: report.gadgets.flatMap((g) => g.findings)}
}

for (const {base, board} of MATRIX) {
  describe(`${board} ${base}`, () => {
    let dir: string
    let plan: ScaffoldPlan
    let snapTree: string
    let partLog: string

    before(async () => {
      ;({dir, plan} = await generate(board, base))
      ;({partLog, tree: snapTree} = assembleSnapTree(dir, join(dir, '..', 'prime')))
    })

    it('(a) validate --strict: gadget.yaml and the primed tree have no finding', async () => {
      for (const path of [join(dir, 'gadget.yaml'), snapTree]) {
        const {code, findings} = await validate(path)
        assert.deepEqual(findings, [], path)
        assert.equal(code, 0)
      }
    })

    it('(a) validate --strict: the project misses only the boot firmware its profile declares', async () => {
      const {findings} = await validate(dir)
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

    it('(e) the prepare-device hook makes the expected snapctl calls on the board fixture', async (t) => {
      if (!requireQuickJs(t, 'amd64')) return
      const hardware = hardwareFor(board)
      const root = await makeRoot(hardware.tree)
      const work = tempDir('hook')
      try {
        // $SNAP/usr/bin/qjs: the hook's interpreter, reading the fixture tree.
        installHookEngine(snapTree, root)
        const bin = join(work, 'bin')
        // `get api-key` answers $SNAPCTL_GET_api_key, and an empty line when the factory set none.
        writeRecordingSnapctl(bin, {unset: 'empty'})
        const log = join(work, 'snapctl.log')
        const run = (env: Record<string, string>) => {
          rmSync(log, {force: true})
          const result = spawnSync('sh', [join(snapTree, 'meta', 'hooks', 'prepare-device')], {
            encoding: 'utf8',
            env: {HOME: work, PATH: `${bin}:/usr/bin:/bin`, SNAP: snapTree, SNAP_DATA: join(work, 'data'), SNAP_NAME: plan.name, SNAPCTL_CONNECTED: plan.plugs.join(','), SNAPCTL_LOG: log, ...env},
            timeout: 60_000,
          })
          return {calls: readSnapctlLog(log), result}
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
        const factory = run({[plan.apiKeyEnv!]: '', SNAPCTL_GET_api_key: 'factory-key'})
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
        rmSync(join(snapTree, 'usr'), {force: true, recursive: true})
      }
    })

    it("(g) the runtime part installs the runtime and its settings; the hook runs them with the quickjs part's qjs", () => {
      assert.deepEqual(readdirSync(join(snapTree, 'runtime')).sort(), ['prepare-device.cjs', 'registration.json'])
      assert.deepEqual(readFileSync(join(snapTree, 'runtime', 'prepare-device.cjs')), readFileSync(join(dir, 'runtime', 'prepare-device.cjs')))
      assert.equal(partLog, '')
      const hook = readFileSync(join(dir, 'snap', 'hooks', 'prepare-device'), 'utf8')
      assert.match(hook, /\nexec "\$SNAP\/usr\/bin\/qjs" --std "\$SNAP\/runtime\/prepare-device\.cjs" --config "\$SNAP\/runtime\/registration\.json"\n$/)
      const snapcraft = parse(readFileSync(join(dir, 'snap', 'snapcraft.yaml'), 'utf8')) as {parts: Record<string, Record<string, unknown>>}
      const quickjs = snapcraft.parts.quickjs
      assert.deepEqual(quickjs.prime, ['usr/bin/qjs', 'usr/share/doc/quickjs'])
      assert.equal(snapcraft.parts.node, undefined)
      assert.doesNotMatch(readFileSync(join(dir, 'snap', 'snapcraft.yaml'), 'utf8'), /code-cache|nodejs/i)
      if (base === 'core24') {
        assert.deepEqual(quickjs['stage-packages'], ['quickjs'])
        assert.equal(quickjs.source, undefined)
      } else {
        assert.equal(quickjs.source, 'https://bellard.org/quickjs/quickjs-2025-04-26.tar.xz')
        assert.match(String(quickjs['source-checksum']), /^sha256\/[\da-f]{64}$/)
        assert.match(String(quickjs['override-build']), /make -j"\$\{CRAFT_PARALLEL_BUILD_COUNT:-1\}" CROSS_PREFIX="\$cross" qjs\n/)
      }
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

describe("a core22 gadget's quickjs part", () => {
  it('builds QuickJS 2025-04-26 with its own commands, and that qjs runs the hook on a captured board', async (t) => {
    if (!requireQuickJs(t, 'amd64')) return
    const tarball = spawnSync('bash', [join(projectRoot, 'scripts', 'quickjs.sh'), 'source'], {encoding: 'utf8', timeout: 600_000})
    assert.equal(tarball.status, 0, tarball.stderr)
    const {dir, plan} = await generate('pc-amd64', 'core22')
    const part = (parse(readFileSync(join(dir, 'snap', 'snapcraft.yaml'), 'utf8')) as {parts: Record<string, Record<string, unknown>>}).parts.quickjs
    // What snapcraft does: unpack the source (one top directory, stripped), run override-build in it.
    const build = join(dir, '..', 'quickjs-build')
    mkdirSync(build)
    const unpack = spawnSync('tar', ['--extract', '--xz', '--strip-components=1', '--file', tarball.stdout.trim(), '--directory', build], {encoding: 'utf8'})
    assert.equal(unpack.status, 0, unpack.stderr)
    const install = join(dir, '..', 'quickjs-install')
    const made = spawnSync('bash', ['-e', '-c', String(part['override-build'])], {
      cwd: build,
      encoding: 'utf8',
      env: {CRAFT_PARALLEL_BUILD_COUNT: '2', CRAFT_PART_INSTALL: install, HOME: build, PATH: process.env.PATH},
      timeout: 600_000,
    })
    assert.equal(made.status, 0, made.stderr)
    const primed = (part.prime as string[]).flatMap((path) => (existsSync(join(install, path)) ? [path] : []))
    assert.deepEqual(primed, ['usr/bin/qjs', 'usr/share/doc/quickjs'])
    assert.ok(existsSync(join(install, 'usr', 'share', 'doc', 'quickjs', 'LICENSE')))

    const qjs = join(install, 'usr', 'bin', 'qjs')
    const hardware = hardwareFor('pc-amd64')
    const root = await makeRoot(hardware.tree)
    try {
      const result = spawnSync(qjs, ['--std', join(dir, 'runtime', 'prepare-device.cjs'), '--config', join(dir, 'runtime', 'registration.json'), '--root', root, '--dry-run'], {
        encoding: 'utf8',
        env: {PATH: '/usr/bin:/bin', [plan.apiKeyEnv!]: API_KEY},
        timeout: 60_000,
      })
      assert.equal(result.status, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`registration\\.proposed-serial="${hardware.serial}"`))
      assert.doesNotMatch(result.stdout, new RegExp(API_KEY))
    } finally {
      await removeRoot(root)
    }
  })
})

describe('the UC16/UC18 model form (--legacy-model)', () => {
  for (const {base, board} of MATRIX) {
    it(`${board} ${base}: snap sign accepts it`, {skip: snapMissing ?? gpgMissing}, async () => {
      const {dir} = await generate(board, base, {extraSnaps: ['network-manager'], legacyModel: true})
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
