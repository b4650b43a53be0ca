/**
 * serve check, in process: every problem of every model at once, each with its fix (a signing key
 * registered to another account, an unset api-key variable, a model assertion of another model or
 * without the serial authority); a serial authority the model lists signs serials that name it;
 * the database's schema (a PostgreSQL database not migrated is a problem, a SQLite file serve will
 * make is not); an empty allowlist, or no identity for a model onboarding by them alone, is a warning.
 */
import assert from 'node:assert/strict'
import {copyFileSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {parseAssertions} from '../../src/assertions/index.js'
import {checkService, loadServiceConfig, migrateDatabase, SCHEMA_VERSION, startDeviceService} from '../../src/service/index.js'
import {makeBrandChain, testKeys} from '../helpers/assertions.js'
import {fixtures} from '../helpers/paths.js'
import {type PostgresServer, postgresUnavailable, startPostgres} from '../helpers/postgres.js'
import {API_KEY, BRAND, brandKey, type Lab, makeLab, MODEL, rootKey, TestDevice} from './helpers.js'

const labs: Lab[] = []
let server: PostgresServer

before(async () => {
  const reason = postgresUnavailable()
  if (reason !== undefined) throw new Error(`these tests need PostgreSQL: ${reason}`)
  server = await startPostgres()
})

after(async () => {
  await server?.stop()
  for (const lab of labs) rmSync(lab.dir, {force: true, recursive: true})
})

const env = {LAB_API_KEY: API_KEY}
const brandChain = makeBrandChain(rootKey, brandKey, {brandId: BRAND})
/** A factory account with a key of its own (the device fixture's, RSA 4096), which the brand may name as serial authority. */
const factoryKey = testKeys().device
const factoryChain = makeBrandChain(rootKey, factoryKey, {brandId: 'acme-factory'})

/** A lab whose one model signs serials with the factory's key, and a model assertion with `serialAuthority`. */
function authorityLab(serialAuthority: string[] | undefined, options: {model?: string} = {}): Lab {
  const lab = makeLab()
  labs.push(lab)
  writeFileSync(join(lab.dir, 'factory.account'), factoryChain.account.text)
  writeFileSync(join(lab.dir, 'factory.account-key'), factoryChain.accountKey.text)
  copyFileSync(fixtures('assertions', 'device.pem'), join(lab.dir, 'factory.pem'))
  const headers = {model: options.model ?? MODEL, ...(serialAuthority ? {'serial-authority': serialAuthority} : {})}
  writeFileSync(join(lab.dir, 'model.assert'), brandChain.signModel(headers).text)
  writeFileSync(
    lab.config,
    readFileSync(lab.config, 'utf8')
      .replace('signing-key: serials.pem', 'signing-key: factory.pem\n    serial-authority: acme-factory\n    model-assertion: model.assert')
      .replace('chain: [acme.account, serials.account-key]', 'chain: [acme.account, serials.account-key, factory.account, factory.account-key]'),
  )
  return lab
}

describe('serve check', () => {
  test('a sound config: no problem, the models and the database said', async () => {
    const lab = makeLab()
    labs.push(lab)
    const result = await checkService(lab.config, {env})
    assert.deepEqual(result.problems, [])
    assert.deepEqual(result.models, [{name: 'acme/acme-pc', onboarding: ['api-key'], serials: 'any'}])
    assert.deepEqual(result.schema, {found: undefined, needed: SCHEMA_VERSION})
    assert.ok(result.warnings.some((w) => w.includes(`does not exist yet: serve makes it at schema version ${SCHEMA_VERSION}`)))
  })

  test("every model's problems at once, each with its fix", async () => {
    const lab = makeLab()
    labs.push(lab)
    const other = makeBrandChain(rootKey, brandKey, {brandId: 'someone-else'})
    writeFileSync(join(lab.dir, 'other.account-key'), other.accountKey.text)
    writeFileSync(
      lab.config,
      `${readFileSync(lab.config, 'utf8')}  - brand: ${BRAND}
    model: acme-pi
    api-key: {env: PI_API_KEY}
    signing-key: serials.pem
    chain: [acme.account, serials.account-key]
  - brand: ${BRAND}
    model: acme-tv
    api-key: {env: TV_API_KEY}
    signing-key: serials.pem
    chain: [acme.account, other.account-key]
`,
    )
    const result = await checkService(lab.config, {env: {...env, TV_API_KEY: 'tv-key-0123456789'}})
    assert.deepEqual(
      result.problems.map((p) => p.message.slice(p.message.indexOf('serve.yaml:'))),
      [
        'serve.yaml:11:20: models[1].api-key.env: the environment variable PI_API_KEY is not set',
        'serve.yaml:18:12: models[2].chain: the signing key is registered to account someone-else, not to brand acme: devices would reject every serial',
      ],
    )
    assert.equal(result.problems[0].fix, 'export PI_API_KEY=… before starting serve')
    assert.match(result.problems[1].fix, /sign acme's serials with a key registered to acme, or, if the model lists someone-else in its serial-authority, set serial-authority: someone-else/)
    assert.deepEqual(
      result.models.map((m) => m.name),
      ['acme/acme-pc'],
    )
  })

  test('a serial authority the model lists: checked, and the serials name it', async () => {
    const lab = authorityLab(['acme-factory'])
    assert.deepEqual((await checkService(lab.config, {env})).problems, [])
    const service = await startDeviceService(loadServiceConfig(lab.config, {env}), {version: 'test'})
    try {
      const nonce = ((await (await fetch(`${service.url}request-id`, {headers: {'api-key': API_KEY}, method: 'POST'})).json()) as {'request-id': string})['request-id']
      const answer = await fetch(`${service.url}serial`, {body: new TestDevice().serialRequest(nonce, {serial: 'F-1'}), headers: {'api-key': API_KEY}, method: 'POST'})
      assert.equal(answer.status, 200)
      const [serial] = parseAssertions(await answer.text())
      assert.deepEqual([serial.headers['authority-id'], serial.headers['brand-id'], serial.headers['sign-key-sha3-384']], ['acme-factory', 'acme', factoryKey.keyId])
    } finally {
      await service.close()
    }
  })

  test('a model assertion without the serial authority, or of another model: a problem each, said before any device', async () => {
    const missing = await checkService(authorityLab(undefined).config, {env})
    assert.equal(missing.problems.length, 1)
    assert.match(
      missing.problems[0].message,
      /models\[0\]\.model-assertion: serials are signed as acme-factory, and model\.assert does not list acme-factory in its serial-authority \(it has none\): devices would reject every serial/,
    )
    assert.match(missing.problems[0].fix, /have the brand list acme-factory in the model's serial-authority/)
    const other = await checkService(authorityLab(['acme-factory'], {model: 'acme-tv'}).config, {env})
    assert.match(other.problems[0].message, /model\.assert is the model acme\/acme-tv, not acme\/acme-pc/)
    assert.match(other.problems[0].fix, /snap known --remote model series=16 brand-id=acme model=acme-pc/)
    // And serve itself refuses to start with them.
    assert.throws(() => loadServiceConfig(authorityLab(undefined).config, {env}), /does not list acme-factory in its serial-authority/)
  })

  test('PostgreSQL not migrated: a problem saying serve migrate; migrated: none', async () => {
    const lab = makeLab()
    labs.push(lab)
    const url = await server.createDatabase('check_1')
    writeFileSync(lab.config, readFileSync(lab.config, 'utf8').replace('database: sqlite:serve.db', `database: ${url}`))
    const before = await checkService(lab.config, {env})
    assert.equal(before.problems.length, 1)
    assert.ok(before.problems[0].message.includes(`is at schema version 0, and serve needs ${SCHEMA_VERSION}: every instance would refuse to start`), before.problems[0].message)
    assert.match(before.problems[0].fix, /^run snap-gadget serve migrate --config /)
    assert.ok(!JSON.stringify(before).includes(server.password), 'the password is never shown')
    await migrateDatabase(loadServiceConfig(lab.config, {env}).database)
    const after = await checkService(lab.config, {env})
    assert.deepEqual(after.problems, [])
    assert.deepEqual(after.schema, {found: SCHEMA_VERSION, needed: SCHEMA_VERSION})
  })

  test('an empty allowlist is a warning', async () => {
    const lab = makeLab()
    labs.push(lab)
    writeFileSync(lab.config, readFileSync(lab.config, 'utf8').replace('    chain:', '    serials: allowlist\n    chain:'))
    await migrateDatabase(loadServiceConfig(lab.config, {env}).database)
    const result = await checkService(lab.config, {env})
    assert.deepEqual(result.problems, [])
    assert.ok(result.warnings.some((w) => w.startsWith('acme/acme-pc issues serials from its allowlist, which is empty: every device is refused until snap-gadget serve import --serials FILE')))
  })

  test('no hardware identity imported for a model that onboards by them alone is a warning', async () => {
    const lab = makeLab()
    labs.push(lab)
    writeFileSync(lab.config, readFileSync(lab.config, 'utf8').replace('    api-key: {env: LAB_API_KEY}\n', '    onboarding: hardware-identity\n'))
    await migrateDatabase(loadServiceConfig(lab.config, {env}).database)
    const result = await checkService(lab.config, {env})
    assert.deepEqual(result.problems, [])
    assert.ok(
      result.warnings.some((w) => w.startsWith('acme/acme-pc onboards devices by hardware identity alone, and no identity is imported: every device is refused until snap-gadget serve import')),
      result.warnings.join('\n'),
    )
  })
})
