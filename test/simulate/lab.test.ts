/**
 * `lab init`: a lab without the store. Its files and their modes; a serve config that loads
 * without a warning; a chain that snapd's own asserts package accepts from the lab's test root
 * down to the model and to a serial serve signed; a directory that holds something refused
 * without --force; and the CLI's account of what it made.
 */
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, test} from 'node:test'

import {decodeAssertionPublicKey, loadSigningKey, parseAssertion, parseAssertions, verifyAssertionSignature} from '../../src/assertions/index.js'
import {UserError} from '../../src/errors.js'
import {loadServiceConfig, type RunningService, startDeviceService} from '../../src/service/index.js'
import {initLab, LAB_ROOT_ID, type LabResult} from '../../src/simulate/lab.js'
import {SNAPD_PACKAGES, snapdCheck} from '../helpers/assertions.js'
import {runCli} from '../helpers/cli.js'
import {fixtures} from '../helpers/paths.js'
import {buildGoTool, goUnavailable} from '../runtime/helpers.js'
import {TestDevice} from '../service/helpers.js'
import {scratchDir} from '../helpers/scratch.js'

const work = scratchDir('lab-')

let lab: LabResult
const read = (path: string): string => readFileSync(join(lab.directory, path), 'utf8')

before(async () => {
  lab = await initLab({brand: 'acme', cwd: work, directory: 'lab', now: new Date('2026-12-01T10:00:00Z')})
})

describe('lab init', () => {
  test('every file is there; the keys are the user’s alone', () => {
    for (const file of lab.files) assert.ok(existsSync(join(lab.directory, file.path)), file.path)
    for (const key of ['keys/root.pem', 'keys/brand.pem', 'keys/serials.pem', 'api-key']) assert.equal(statSync(join(lab.directory, key)).mode & 0o777, 0o600, key)
    assert.match(read('README.md'), /Real devices trust only the store's root/)
    assert.equal(JSON.parse(read('gadget/runtime/registration.json')).deviceService.preset, 'local')
    assert.equal(lab.url, 'http://127.0.0.1:8642/v1/')
  })

  test('the serve config loads without a warning: chain, key mode, api-key from the environment, loopback', () => {
    const config = loadServiceConfig(join(lab.directory, 'serve.yaml'), {env: {LAB_API_KEY: read('api-key').trim()}, now: new Date('2026-12-02T00:00:00Z')})
    assert.deepEqual(config.warnings, [])
    assert.equal(config.models[0].brand, 'acme')
    assert.equal(config.models[0].model, lab.model)
    assert.equal(config.models[0].signingKey.keyId, lab.keyIds.serials)
  })

  test('the chain: the test root signs the brand account and account-keys, the brand key signs the model', () => {
    const rootKey = parseAssertion(read('assertions/root.account-key'))
    assert.equal(rootKey.headers['account-id'], LAB_ROOT_ID)
    const root = decodeAssertionPublicKey(rootKey.body)
    assert.equal(root.id, lab.keyIds.root)
    assert.ok(verifyAssertionSignature(rootKey, root).valid, 'the root key signs itself')
    for (const file of ['assertions/root.account', 'assertions/brand.account', 'assertions/brand.account-key', 'assertions/serials.account-key']) {
      assert.ok(verifyAssertionSignature(parseAssertion(read(file)), root).valid, file)
    }

    const model = parseAssertion(read('model.assert'))
    assert.deepEqual([model.headers['brand-id'], model.headers.model, model.headers['sign-key-sha3-384']], ['acme', lab.model, lab.keyIds.brand])
    assert.ok(verifyAssertionSignature(model, decodeAssertionPublicKey(parseAssertion(read('assertions/brand.account-key')).body)).valid)
    assert.deepEqual(
      parseAssertions(read('assertions/trusted.assert')).map((a) => a.type),
      ['account', 'account-key'],
    )
  })

  test("snapd's asserts package accepts the chain from the test root to the model and to a serial serve signed", async (t) => {
    if (goUnavailable(SNAPD_PACKAGES) !== undefined) {
      if (process.env.CI === 'true') assert.fail(`snapd's Go source is required in CI: ${goUnavailable(SNAPD_PACKAGES)}`)
      return t.skip(goUnavailable(SNAPD_PACKAGES))
    }

    const checker = await buildGoTool(fixtures('assertions', 'snapd-check.go'), 'snapd-check')
    const service: RunningService = await startDeviceService(loadServiceConfig(join(lab.directory, 'serve.yaml'), {env: {LAB_API_KEY: 'k'}}), {version: 'test'})
    try {
      const device = new TestDevice()
      const nonce = ((await (await fetch(`${service.url}request-id`, {headers: {'api-key': 'k'}, method: 'POST'})).json()) as {'request-id': string})['request-id']
      const request = device.serialRequest(nonce, {brand: 'acme', model: lab.model, serial: 'LAB-0001'})
      const answer = await fetch(`${service.url}serial`, {body: `${request}\n${read('model.assert')}`, headers: {'api-key': 'k'}, method: 'POST'})
      assert.equal(answer.status, 200, await answer.clone().text())
      const text = await answer.text()
      const stream = parseAssertions(text)
      const serial = stream[0]
      const serialText = `${Buffer.from(text).subarray(0, stream[1].offset).toString().trimEnd()}\n`
      assert.ok(verifyAssertionSignature(serial, loadSigningKey(read('keys/serials.pem')).encodedPublicKey).valid)
      const verdicts = await snapdCheck(
        checker,
        [read('assertions/root.account'), read('assertions/root.account-key')],
        [read('assertions/brand.account'), read('assertions/brand.account-key'), read('assertions/serials.account-key'), read('model.assert'), serialText],
      )
      assert.deepEqual(
        verdicts.map((v) => `${v.type}: ${v.check}`),
        ['account: ok', 'account-key: ok', 'account-key: ok', 'model: ok', 'serial: ok'],
      )
    } finally {
      await service.close()
    }
  })

  test('a directory that holds something is refused without --force, and replaced whole with it', async () => {
    const taken = join(work, 'taken')
    mkdirSync(taken)
    writeFileSync(join(taken, 'mine.txt'), 'keep me')
    await assert.rejects(initLab({directory: taken}), (error: unknown) => error instanceof UserError && error.code === 'E_EXISTS' && /--force/.test(error.hint ?? ''))
    assert.equal(readFileSync(join(taken, 'mine.txt'), 'utf8'), 'keep me')
    await initLab({directory: taken, force: true})
    assert.ok(!existsSync(join(taken, 'mine.txt')))
    assert.ok(existsSync(join(taken, 'serve.yaml')))
  })
})

describe('snap-gadget lab init', () => {
  test('says what it made and what to run next; --json gives the same as data', async () => {
    const r = await runCli(['lab', 'init', 'cli-lab', '--brand', 'acme', '--json'], {cwd: work, timeoutMs: 120_000})
    assert.equal(r.code, 0, r.stderr)
    const made = JSON.parse(r.stdout) as LabResult
    assert.equal(made.brand, 'acme')
    assert.ok(made.files.some((f) => f.path === 'serve.yaml'))
    assert.equal(loadSigningKey(readFileSync(join(work, 'cli-lab', 'keys', 'serials.pem'))).bits, 4096)
    const again = await runCli(['lab', 'init', 'cli-lab'], {cwd: work})
    assert.equal(again.code, 2)
    assert.match(again.stderr, /already holds \d+ entries: a lab goes into a new or empty directory/)
  })
})
