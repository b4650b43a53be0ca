/**
 * The serve config: what is refused at start, at its line, rather than discovered on a device
 * that silently rejects its serial (a signing key that is not the chain's account-key, a key
 * registered to another account), and secrets that stay secret.
 */
import assert from 'node:assert/strict'
import {copyFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import {UserError} from '../../src/errors.js'
import {loadServiceConfig, loadServiceDatabase} from '../../src/service/index.js'
import {fixtures, shared} from '../helpers/paths.js'
import {accountKeyAssertion, API_KEY, brandKey, type Lab, makeLab} from './helpers.js'

const labs: Lab[] = []
after(() => {
  for (const lab of labs) rmSync(lab.dir, {force: true, recursive: true})
})

function lab(yaml?: string): Lab {
  const made = makeLab(yaml === undefined ? {} : {models: yaml})
  labs.push(made)
  return made
}

const env = {LAB_API_KEY: API_KEY}

function refused(config: string, environment: NodeJS.ProcessEnv = env): UserError {
  try {
    loadServiceConfig(config, {env: environment})
  } catch (error) {
    assert.ok(error instanceof UserError, String(error))
    return error
  }

  assert.fail('the config was accepted')
}

const model = (extra = '', apiKey = '{env: LAB_API_KEY}', name = 'acme-pc') => `  - brand: acme
    model: ${name}
    api-key: ${apiKey}
    signing-key: serials.pem
    chain: [acme.account, serials.account-key]
${extra}`

describe('a good config', () => {
  test('resolves the api-key, the key, the chain and the paths against its directory', () => {
    const {config, dir, chain} = lab()
    const loaded = loadServiceConfig(config, {env})
    assert.deepEqual(loaded.listen, {host: '127.0.0.1', port: 0})
    assert.deepEqual(loaded.database, {kind: 'sqlite', path: join(dir, 'serve.db')})
    assert.equal(loaded.models.length, 1)
    const [m] = loaded.models
    assert.equal(m.apiKey, API_KEY)
    assert.equal(m.apiKeyFrom, '$LAB_API_KEY')
    assert.equal(m.signingKey.keyId, brandKey.keyId)
    assert.deepEqual(m.chain, chain)
    assert.ok(m.brandKeys.has(brandKey.keyId))
    assert.deepEqual(loaded.warnings, [])
  })

  test('defaults: 127.0.0.1:8642 and sqlite:serve.db', () => {
    const {config, dir} = lab(`models:\n${model()}`)
    const loaded = loadServiceConfig(config, {env})
    assert.deepEqual(loaded.listen, {host: '127.0.0.1', port: 8642})
    assert.equal(loaded.database.path, join(dir, 'serve.db'))
  })

  test('no chain works, with a warning that devices will need the store', () => {
    const {config} = lab(`models:\n  - {brand: acme, model: acme-pc, api-key: literal-key, signing-key: serials.pem}\n`)
    const loaded = loadServiceConfig(config, {env: {}})
    assert.equal(loaded.models[0].apiKeyFrom, 'literal')
    assert.match(loaded.warnings[0], /no chain: devices must fetch the brand's account-key from the store/)
  })

  test('serve log needs only the database, not the keys or the api-key', () => {
    const {config, dir} = lab()
    assert.deepEqual(loadServiceDatabase(config), {kind: 'sqlite', path: join(dir, 'serve.db')})
  })
})

describe('refused at start, at the line', () => {
  test('an unknown key, with the keys allowed there', () => {
    const error = refused(lab(`listne: 127.0.0.1:1\nmodels:\n${model()}`).config)
    assert.match(error.message, /unknown key "listne"/)
    assert.equal(error.line, 1)
    assert.match(error.hint ?? '', /listen/)
  })

  test('an api-key from a variable that is not set names the variable, never a value', () => {
    const error = refused(lab().config, {})
    assert.match(error.message, /LAB_API_KEY is not set/)
    assert.equal(error.line, 6)
  })

  test('two models with one api-key', () => {
    const error = refused(lab(`models:\n${model()}${model('', '{env: LAB_API_KEY}', 'acme-pi')}`).config)
    assert.match(error.message, /the api-key is the same as that of models\[0\]/)
    assert.ok(!error.message.includes(API_KEY))
    assert.equal(error.line, 9)
  })

  test('the same model twice', () => {
    const error = refused(lab(`models:\n${model()}${model('', 'other-key')}`).config)
    assert.match(error.message, /acme\/acme-pc is configured twice/)
  })

  test('a signing key that is not the account-key of the chain', () => {
    const made = lab()
    copyFileSync(fixtures('assertions', 'root.pem'), join(made.dir, 'serials.pem'))
    const error = refused(made.config)
    assert.match(error.message, /no account-key for the signing key .*devices would reject every serial/)
    assert.match(error.hint ?? '', /snap known --remote account-key public-key-sha3-384=/)
  })

  test('a signing key registered to another account', () => {
    const made = lab()
    writeFileSync(join(made.dir, 'serials.account-key'), accountKeyAssertion(brandKey, 'someone-else'))
    const error = refused(made.config)
    assert.match(error.message, /registered to account someone-else, not to brand acme/)
  })

  test('an account-key that expired', () => {
    const made = lab()
    writeFileSync(join(made.dir, 'serials.account-key'), accountKeyAssertion(brandKey, 'acme', {until: '2021-01-01T00:00:00Z'}))
    assert.match(refused(made.config).message, /expired at 2021-01-01T00:00:00Z/)
  })

  test('a chain file that holds something else than account and account-key', () => {
    const made = lab()
    copyFileSync(shared('fixtures', 'assertions', 'model-uc22.assert'), join(made.dir, 'acme.account'))
    const error = refused(made.config)
    assert.match(error.message, /holds a model assertion/)
  })

  test('a key too weak to sign serials, at the signing-key line', () => {
    const made = lab()
    copyFileSync(fixtures('assertions', 'device-2048.pem'), join(made.dir, 'serials.pem'))
    const error = refused(made.config)
    assert.match(error.message, /2048/)
    assert.equal(error.line, 7)
  })

  test('listen that is not HOST:PORT, a database that is not sqlite', () => {
    assert.match(refused(lab(`listen: 127.0.0.1:99999\nmodels:\n${model()}`).config).message, /"127.0.0.1:99999" is not HOST:PORT/)
    assert.match(refused(lab(`listen: localhost\nmodels:\n${model()}`).config).message, /listen/)
    assert.match(refused(lab(`database: mysql://x\nmodels:\n${model()}`).config).message, /database/)
  })

  test('a config that is not a regular file is refused without reading it', () => {
    const error = refused('/dev/zero')
    assert.equal(error.code, 'E_IO_NOT_FILE')
    assert.equal(error.exitCode, 2)
  })
})
