/**
 * The serve config: what is refused at start, at its line, rather than discovered on a device
 * that silently rejects its serial (a signing key that is not the chain's account-key, a key
 * registered to another account), and secrets that stay secret.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {chmodSync, copyFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import {UserError} from '../../src/errors.js'
import {describeDatabase, loadServiceConfig, loadServiceDatabase} from '../../src/service/index.js'
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
    assert.deepEqual(loaded.database, {kind: 'sqlite', path: join(dir, 'serve.db')})
  })

  test('no chain works, with a warning that devices will need the store', () => {
    const {config} = lab(`models:\n  - {brand: acme, model: acme-pc, api-key: literal-key, signing-key: serials.pem}\n`)
    const loaded = loadServiceConfig(config, {env: {}})
    assert.equal(loaded.models[0].apiKeyFrom, 'literal')
    assert.ok(loaded.warnings.some((w) => /no chain: devices must fetch the brand's account-key from the store/.test(w)))
  })

  test('remodel-from and remodel-serial: read as given, keep by default; a brand the config holds no key of is warned about', () => {
    const {config} = lab(`models:\n${model()}${model('    remodel-from: [acme/acme-pc, globex/*]\n', 'other-literal-key', 'acme-pc-v2')}`)
    const loaded = loadServiceConfig(config, {env})
    assert.deepEqual(
      loaded.models.map((m) => [m.remodelFrom, m.remodelSerial]),
      [
        [[], 'keep'],
        [['acme/acme-pc', 'globex/*'], 'keep'],
      ],
    )
    assert.deepEqual(
      loaded.warnings.filter((w) => /remodelled from/.test(w)),
      [
        'models[1] (acme/acme-pc-v2) takes devices remodelled from globex/*, but no model of the config is of brand globex: serve holds no key of globex to check their original serials, and refuses them; add a model of globex with its signing key and chain',
      ],
    )
    const bad = refused(lab(`models:\n${model('    remodel-from: [acme-pc]\n')}`).config)
    assert.match(bad.message, /remodel-from/)
  })

  test('serve log needs only the database, not the keys or the api-key', () => {
    const {config, dir} = lab()
    assert.deepEqual(loadServiceDatabase(config), {kind: 'sqlite', path: join(dir, 'serve.db')})
  })
})

describe('risky set-ups start, with a warning each, once, that says the fix', () => {
  test('a signing key others may read, a literal api-key, and a network listen without TLS', () => {
    const made = lab(`listen: 0.0.0.0:0\nmodels:\n${model('', 'literal-key')}${model('', 'other-literal', 'acme-pi')}`)
    chmodSync(join(made.dir, 'serials.pem'), 0o644)
    const {warnings} = loadServiceConfig(made.config, {env})
    const about = (pattern: RegExp) => warnings.filter((w) => pattern.test(w))
    assert.equal(
      about(new RegExp(`the signing key ${join(made.dir, 'serials.pem')} can be read by every user \\(mode 0644\\): make it the serve user's alone with chmod 600 ${join(made.dir, 'serials.pem')}$`)).length,
      1,
      warnings.join('\n'),
    )
    assert.equal(about(/has its api-key written in .*serve\.yaml: whoever reads the file can register devices as acme\/acme-pc; use api-key: \{env: NAME\}/).length, 1)
    assert.equal(about(/acme\/acme-pi/).length, 1)
    assert.equal(about(/listen 0\.0\.0\.0:0 serves other machines over plain HTTP.*add tls:/).length, 1)
    assert.ok(!warnings.join('\n').includes('literal-key'), 'the api-key itself is never shown')
    chmodSync(join(made.dir, 'serials.pem'), 0o640)
    assert.match(loadServiceConfig(made.config, {env}).warnings.join('\n'), /can be read by its group \(mode 0640\)/)
  })

  test('loopback and TLS listens, an api-key from the environment and a private key: no warning', () => {
    for (const listen of ['127.0.0.1:0', '[::1]:0', 'localhost:0']) assert.deepEqual(loadServiceConfig(lab(`listen: "${listen}"\nmodels:\n${model()}`).config, {env}).warnings, [], listen)
  })
})

describe('limits', () => {
  test('defaults that hold a factory line, and each one configurable', () => {
    assert.deepEqual(loadServiceConfig(lab().config, {env}).limits, {
      anonymousRequestIds: 200_000,
      anonymousRequestIdsPerClient: 20_000,
      bodyBytes: 67_108_864,
      bodyBytesPerClient: 16_777_216,
      connections: 1024,
      connectionsPerClient: 256,
      serialLength: 200,
    })
    const set = loadServiceConfig(
      lab(
        `limits: {connections: 10, connections-per-client: 2, body-bytes: 1048576, body-bytes-per-client: 65536, serial-length: 32, anonymous-request-ids: 100, anonymous-request-ids-per-client: 10}\nmodels:\n${model()}`,
      ).config,
      {env},
    ).limits
    assert.deepEqual(set, {anonymousRequestIds: 100, anonymousRequestIdsPerClient: 10, bodyBytes: 1_048_576, bodyBytesPerClient: 65_536, connections: 10, connectionsPerClient: 2, serialLength: 32})
  })

  test('a per-client limit over the total, an unknown limit, a limit that is not a number', () => {
    const over = refused(lab(`limits: {connections: 10, connections-per-client: 20}\nmodels:\n${model()}`).config)
    assert.match(over.message, /limits\.connections-per-client: is 20, more than limits\.connections \(10\)/)
    assert.equal(over.line, 1)
    const unknown = refused(lab(`limits: {conections: 10}\nmodels:\n${model()}`).config)
    assert.match(unknown.message, /unknown key "conections"/)
    assert.match(unknown.hint ?? '', /connections/)
    assert.match(refused(lab(`limits: {serial-length: many}\nmodels:\n${model()}`).config).message, /limits\.serial-length/)
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

  test('postgres:// and postgresql:// URLs; the password never appears in what is shown', () => {
    const secret = 's3cr3t-pa55'
    const loaded = loadServiceConfig(lab(`database: postgres://serve:${secret}@db.example:5433/serials\nmodels:\n${model()}`).config, {env})
    assert.deepEqual(loaded.database, {kind: 'postgres', shown: 'postgres://serve:***@db.example:5433/serials', url: `postgres://serve:${secret}@db.example:5433/serials`})
    assert.equal(describeDatabase(loaded.database), 'postgres://serve:***@db.example:5433/serials')
    const long = loadServiceDatabase(lab(`database: postgresql://serve@db.example/serials?sslmode=require&password=${secret}\nmodels:\n${model()}`).config)
    assert.equal(long.kind, 'postgres')
    assert.doesNotMatch(describeDatabase(long), new RegExp(secret))
    for (const database of [`postgres://serve:${secret}@db.example`, `postgres://serve:${secret}@/serials`, `postgres://serve:${secret}@[::1`]) {
      const error = refused(lab(`database: "${database}"\nmodels:\n${model()}`).config)
      assert.equal(error.code, 'E_SERVE_CONFIG')
      assert.match(error.message, /^database: /)
      assert.doesNotMatch(`${error.message} ${error.hint}`, new RegExp(secret), database)
    }

    const notOne = refused(lab(`database: mysql://root:${secret}@x/y\nmodels:\n${model()}`).config)
    assert.doesNotMatch(`${notOne.message} ${notOne.hint}`, new RegExp(secret))
    assert.match(notOne.hint ?? '', /postgres:\/\//)
  })

  test('an alias bomb or a thousand nested brackets is a user error at its line, not a crash', () => {
    let bomb = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n'
    for (let i = 1; i < 10; i++) bomb += `a${i}: &a${i} [${Array.from({length: 10}, () => `*a${i - 1}`).join(', ')}]\n`
    const laughs = refused(lab(`${bomb}models:\n${model()}`).config)
    assert.equal(laughs.code, 'E_SERVE_CONFIG')
    assert.equal(laughs.exitCode, 2)
    assert.match(laughs.message, /refused: it holds more than 200000 values once its aliases are expanded/)
    assert.ok(laughs.line !== undefined)
    const nested = refused(lab(`x: ${'['.repeat(1000)}${']'.repeat(1000)}\nmodels:\n${model()}`).config)
    assert.match(nested.message, /refused: it nests more than 64 levels deep/)
    assert.equal(nested.line, 1)
  })

  test('a TLS certificate that is not PEM, or a key that is not its certificate, names the file and the fix', () => {
    const made = lab()
    const tls = (certificate: string, key: string) => writeFileSync(made.config, `tls: {certificate: ${certificate}, key: ${key}}\nlisten: 127.0.0.1:0\nmodels:\n${model()}`)
    const pem = (name: string, args: string[]) =>
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${name}`, ...args], {cwd: made.dir, stdio: 'ignore'})
    pem('one', ['-keyout', 'one.key', '-out', 'one.crt'])
    pem('two', ['-keyout', 'two.key', '-out', 'two.crt'])
    tls('one.crt', 'one.key')
    assert.equal(loadServiceConfig(made.config, {env}).tls?.certificateFile, 'one.crt')
    tls('one.crt', 'two.key')
    const mismatch = refused(made.config)
    assert.match(mismatch.message, /tls\.key: two\.key is not the key of the certificate one\.crt/)
    assert.match(mismatch.hint ?? '', /CN=one/)
    assert.equal(mismatch.line, 1)
    writeFileSync(join(made.dir, 'der.crt'), execFileSync('openssl', ['x509', '-in', join(made.dir, 'one.crt'), '-outform', 'DER']))
    tls('der.crt', 'one.key')
    assert.match(refused(made.config).message, /tls\.certificate: der\.crt is not a PEM certificate/)
    tls('one.crt', 'one.crt')
    assert.match(refused(made.config).message, /tls\.key: one\.crt is not a PEM private key/)
  })

  test('a config that is not a regular file is refused without reading it', () => {
    const error = refused('/dev/zero')
    assert.equal(error.code, 'E_NOT_A_FILE')
    assert.equal(error.exitCode, 2)
  })
})
