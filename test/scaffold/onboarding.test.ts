/**
 * init --onboarding hardware-identity: the gadget gets both hooks, assumes: [snapd2.74], no api-key,
 * no body and no identity; the registration config says the mode (and the key type when it is not
 * the default); the project and its primed tree pass validate --strict (no N18, no N19), the hooks
 * pass sh -n, snapcraft.yaml passes Canonical's snapcraft.json; the flags that mean an api-key or a
 * body are refused in that mode, and api-key stays the default.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {Ajv} from 'ajv'
import {parse} from 'yaml'

import {UserError} from '../../src/errors.js'
import {planScaffold} from '../../src/scaffold/plan.js'
import {binRun, projectRoot, shared} from '../helpers/paths.js'
import {assembleSnapTree, generate, matrixOptions} from './helpers.js'

function validate(path: string): {code: null | number; findings: {rule: string; message: string}[]} {
  const result = spawnSync(process.execPath, [binRun, 'validate', '--strict', '--json', path], {encoding: 'utf8', timeout: 60_000})
  const report = JSON.parse(result.stdout) as {gadgets: {findings: {rule: string; message: string}[]}[]}
  return {code: result.status, findings: report.gadgets.flatMap((g) => g.findings)}
}

describe('init --onboarding hardware-identity', () => {
  for (const base of ['core22', 'core24'] as const) {
    it(`pc-amd64 ${base}: both hooks, assumes snapd2.74, no api-key, body or identity; validate --strict finds nothing`, async () => {
      const {dir, plan} = await generate('pc-amd64', base, {onboarding: 'hardware-identity'})
      assert.equal(plan.onboarding, 'hardware-identity')
      assert.equal(plan.apiKeyEnv, null)
      const snapcraft = parse(readFileSync(join(dir, 'snap', 'snapcraft.yaml'), 'utf8')) as {assumes: string[]; hooks: Record<string, unknown>}
      assert.deepEqual(snapcraft.assumes, ['snapd2.74'], "the board's older snapd entry gives way to snapd2.74")
      assert.deepEqual(Object.keys(snapcraft.hooks), ['prepare-device', 'prepare-serial-request'])
      assert.equal((snapcraft.hooks['prepare-device'] as Record<string, unknown>).environment, undefined, 'no api-key variable')
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'runtime', 'registration.json'), 'utf8')), {
        $schema: '../schemas/registration.schema.json',
        deviceService: {preset: 'serial-vault'},
        onboarding: 'hardware-identity',
        proposedSerial: true,
        serial: {board: 'x86', brand: 'acme'},
      })
      assert.deepEqual(
        readFileSync(join(dir, 'runtime', 'prepare-device.cjs')),
        readFileSync(join(projectRoot, 'dist', 'runtime', 'prepare-device-hardware-identity.cjs')),
        "the hardware-identity runtime, with the mode's ECDSA",
      )
      assert.equal(plan.files.find((file) => file.path === 'runtime/prepare-device.cjs')?.from, 'dist/runtime/prepare-device-hardware-identity.cjs')
      const hook = join(dir, 'snap', 'hooks', 'prepare-serial-request')
      assert.equal(statSync(hook).mode & 0o777, 0o755)
      assert.match(readFileSync(hook, 'utf8'), /\nexec "\$SNAP\/usr\/bin\/qjs" --std "\$SNAP\/runtime\/prepare-device\.cjs" prepare-serial-request\n$/)
      for (const script of ['prepare-device', 'prepare-serial-request', 'configure']) {
        const result = spawnSync('sh', ['-n', join(dir, 'snap', 'hooks', script)], {encoding: 'utf8'})
        assert.equal(result.status, 0, `${script}: ${result.stderr}`)
      }

      assert.doesNotMatch(readFileSync(join(dir, 'snap', 'hooks', 'prepare-device'), 'utf8'), /api_key/)
      assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /snap-gadget hardware-identity sign/)
      assert.ok(plan.todo.some((line) => /hardware-identity sign certifies it/.test(line)))
      assert.ok(!plan.todo.some((line) => /api-key/.test(line)))

      const ajv = new Ajv({allErrors: true, strict: false})
      ajv.addSchema(JSON.parse(readFileSync(shared('schemas', 'snapcraft.json'), 'utf8')), 'snapcraft')
      const branch = ajv.getSchema(`snapcraft#/$defs/${base === 'core22' ? 'Core22Project' : 'Core24Project'}`)!
      assert.ok(branch(snapcraft), JSON.stringify(branch.errors, null, 2))

      const project = validate(dir)
      assert.deepEqual(project.findings, [])
      assert.equal(project.code, 0)
      const {tree} = assembleSnapTree(dir, join(dir, '..', 'prime'))
      assert.deepEqual(validate(tree).findings, [], 'the primed tree: meta/snap.yaml assumes snapd2.74, meta/hooks has both hooks')
    })
  }

  it('a key type other than the default is written with the mode; api-key stays the default onboarding', async () => {
    const {dir} = await generate('raspberry-pi', 'core24', {hardwareKeyType: 'ecdsa-p384', onboarding: 'hardware-identity'})
    assert.deepEqual((JSON.parse(readFileSync(join(dir, 'runtime', 'registration.json'), 'utf8')) as {onboarding: unknown}).onboarding, {keyType: 'ecdsa-p384', mode: 'hardware-identity'})
    const plain = await generate('raspberry-pi', 'core24')
    assert.equal(plain.plan.onboarding, 'api-key')
    assert.deepEqual(readFileSync(join(plain.dir, 'runtime', 'prepare-device.cjs')), readFileSync(join(projectRoot, 'dist', 'runtime', 'prepare-device.cjs')), "the api-key runtime, with the mode's Ed25519")
    assert.throws(() => statSync(join(plain.dir, 'snap', 'hooks', 'prepare-serial-request')), /ENOENT/)
    assert.match(readFileSync(join(plain.dir, 'runtime', 'registration.json'), 'utf8'), /"api-key"/)
  })

  it('refuses the flags that mean an api-key or a body, and a key type without the mode', async () => {
    const plan = (extra: Parameters<typeof planScaffold>[0] extends infer O ? Partial<O> : never) => planScaffold({...matrixOptions('pc-amd64', 'core24'), directory: '/nonexistent/x', ...extra})
    for (const [extra, message] of [
      [{apiKeyEnv: 'MODEL_APIKEY', onboarding: 'hardware-identity'}, /^--api-key-env has no place in --onboarding hardware-identity$/],
      [{bodyFacts: ['dmi'], bodyFields: {line: '3'}, onboarding: 'hardware-identity'}, /^--body-fact and --body-field have no place/],
      [{hardwareKeyType: 'ecdsa-p384'}, /^--hardware-key-type is for --onboarding hardware-identity$/],
    ] as const) {
      await assert.rejects(plan(extra), (error: UserError) => error.code === 'E_INIT_FLAG' && message.test(error.message) && error.kind === 'usage')
    }
  })

  it('the command: --onboarding and --json', () => {
    const result = spawnSync(process.execPath, [binRun, 'init', '--board', 'pc-amd64', '--brand', 'acme', '--onboarding', 'hardware-identity', '--dry-run', '--json', '/nonexistent/acme-pc'], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(result.status, 0, result.stderr)
    const json = JSON.parse(result.stdout) as {onboarding: string; apiKeyEnv: null; files: {path: string}[]}
    assert.equal(json.onboarding, 'hardware-identity')
    assert.equal(json.apiKeyEnv, null)
    assert.ok(json.files.some((f) => f.path === 'snap/hooks/prepare-serial-request'))
    const wrong = spawnSync(process.execPath, [binRun, 'init', '--board', 'pc-amd64', '--brand', 'acme', '--onboarding', 'hardware-identiy', '--dry-run', '/nonexistent/acme-pc'], {encoding: 'utf8', timeout: 60_000})
    assert.equal(wrong.status, 2)
    assert.match(wrong.stderr, /hardware-identity/)
  })
})

const hasScript = spawnSync('script', ['--version']).status === 0

/** init on a pseudo-terminal (util-linux script): answers `keys` once the onboarding prompt shows; the output. */
function promptedInit(keys: string): Promise<string> {
  const command = `${process.execPath} ${binRun} init --board pc-amd64 --brand acme --base core24 --name acme-pc --device-service local --dry-run /nonexistent/acme-pc`
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {env: {...process.env, NO_COLOR: '1'}, stdio: ['pipe', 'pipe', 'pipe']})
    let output = ''
    let answered = false
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString('utf8')
      if (!answered && output.includes('How the device service knows each device')) {
        answered = true
        child.stdin.write(keys)
      }
    })
    child.on('error', reject)
    child.on('close', () => {
      clearTimeout(timer)
      resolve(output)
    })
  })
}

describe('the interactive prompt', {skip: hasScript ? false : 'needs util-linux script for a pseudo-terminal'}, () => {
  it('offers api-key first (the default) and hardware-identity', async () => {
    const chosen = await promptedInit('\u001B[B\r')
    assert.match(chosen, /api-key.*\n.*hardware-identity/s)
    assert.match(chosen, /registers with http:\/\/127\.0\.0\.1:8642\/v1\/ by hardware identity \(a prepare-serial-request hook; snapd 2\.74 and later, no api-key\)/)
    assert.match(chosen, /create\s+snap\/hooks\/prepare-serial-request/)
    const taken = await promptedInit('\r')
    assert.match(taken, /registers with http:\/\/127\.0\.0\.1:8642\/v1\/\.\r?\n/)
    assert.doesNotMatch(taken, /prepare-serial-request/)
  })
})
