/**
 * The device identity: Ed25519 through tweetnacl, byte-identical to node:crypto; the key file
 * (0600, atomic, reused, refused when unsafe, never leaked); the canonical signing input a brand
 * backend must reproduce; and proof-of-possession verification against tampering.
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {createPrivateKey, createPublicKey, type KeyObject, sign, verify} from 'node:crypto'
import {chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {inspect, promisify} from 'node:util'
import {describe, test} from 'node:test'

import fc from 'fast-check'
import nacl from 'tweetnacl'
import {parse} from 'yaml'

import {UserError} from '../../src/errors.js'
import {type BodyFields, DeviceIdentity, IDENTITY_KEY_FILE, IDENTITY_SCHEME, identitySigningInput, loadOrCreateIdentity, signWithIdentity} from '../../src/identity/key.js'
import {verifyIdentity} from '../../src/identity/verify.js'
import {fixtures, projectRoot} from '../helpers/paths.js'
import {scratchDir} from '../helpers/scratch.js'

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const nodePrivateKey = (seed: Uint8Array): KeyObject => createPrivateKey({format: 'der', key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), type: 'pkcs8'})
const nodePublicKey = (raw: Uint8Array): KeyObject => createPublicKey({format: 'jwk', key: {crv: 'Ed25519', kty: 'OKP', x: Buffer.from(raw).toString('base64url')}})

const scratch = scratchDir('snap-gadget-identity-')
let dirCount = 0
const freshDir = (): string => {
  const dir = join(scratch, `d${dirCount++}`)
  mkdirSync(dir, {mode: 0o700})
  return dir
}

function expectUserError(fn: () => unknown, code: string): UserError {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof UserError, `expected UserError ${code}, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    return error
  }

  assert.fail(`expected UserError ${code}, nothing was thrown`)
}

describe('Ed25519 with tweetnacl is node:crypto Ed25519', () => {
  test('RFC 8032 test vector 1', () => {
    const identity = DeviceIdentity.fromSeed(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'))
    assert.equal(Buffer.from(identity.publicKey).toString('hex'), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
    assert.equal(Buffer.from(identity.sign(new Uint8Array())).toString('hex'), 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b')
  })

  test('same seed: same public key and byte-identical signatures as tweetnacl and node:crypto; each verifies the other', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 32, minLength: 32}), fc.uint8Array({maxLength: 300}), (seed, message) => {
        const identity = DeviceIdentity.fromSeed(seed)
        const naclPair = nacl.sign.keyPair.fromSeed(seed)
        assert.deepEqual(Buffer.from(identity.publicKey), Buffer.from(naclPair.publicKey), 'tweetnacl derives the same public key')
        assert.deepEqual(Buffer.from(identity.sign(message)), Buffer.from(nacl.sign.detached(message, naclPair.secretKey)), 'tweetnacl signs the same bytes')
        const privateKey = nodePrivateKey(seed)
        const publicKey = createPublicKey(privateKey)
        assert.equal(identity.publicKeyText, publicKey.export({format: 'jwk'}).x)

        const ours = identity.sign(message)
        const theirs = sign(null, message, privateKey)
        assert.deepEqual(Buffer.from(ours), theirs)
        assert.ok(verify(null, message, nodePublicKey(identity.publicKey), ours), 'node verifies our signature')
        const body = signWithIdentity({message: Buffer.from(message).toString('base64')}, identity)
        const nodeSigned = sign(null, identitySigningInput(body), privateKey).toString('base64url')
        assert.equal(body['identity-signature'], nodeSigned, 'the body signature is node:crypto Ed25519 over the signing input')
        assert.equal(verifyIdentity({...body, 'identity-signature': nodeSigned}).valid, true, 'tweetnacl verifies node')
      }),
      {numRuns: 60},
    )
  })

  test('seeds must be 32 bytes', () => {
    expectUserError(() => DeviceIdentity.fromSeed(new Uint8Array(31)), 'E_IDENTITY_SEED')
  })
})

describe('canonical signing input (what a brand backend reproduces)', () => {
  test('domain prefix, then sorted-key JSON without whitespace, identity-signature left out', () => {
    const input = identitySigningInput({
      serial: 'ACME-1',
      mac: ['b8:27:eb:12:34:56', 'dc:a6:32:00:00:01'],
      board: {revision: 'c03111', model: 'Raspberry Pi 4'},
      'identity-scheme': IDENTITY_SCHEME,
      'identity-key': 'KEY',
      'identity-signature': 'ignored',
    })
    assert.equal(
      Buffer.from(input).toString('utf8'),
      'snap-gadget-identity-v1\n' +
        '{"board":{"model":"Raspberry Pi 4","revision":"c03111"},"identity-key":"KEY","identity-scheme":"snap-gadget-identity-v1",' +
        '"mac":["b8:27:eb:12:34:56","dc:a6:32:00:00:01"],"serial":"ACME-1"}',
    )
  })

  test('keys sort by UTF-16 code units; strings escape as RFC 8785 says', () => {
    const input = identitySigningInput({z: 'tab\tquote"backslash\\', é: 'ü€😀', A: '\u0001\u001f\u007f', '😀': 'x', ﬀ: 'y', '': 'empty'})
    assert.equal(Buffer.from(input).toString('utf8'), 'snap-gadget-identity-v1\n{"":"empty","A":"\\u0001\\u001f\u007f","z":"tab\\tquote\\"backslash\\\\","é":"ü€😀","😀":"x","ﬀ":"y"}')
  })

  test('order of fields in the body does not matter', () => {
    const identity = DeviceIdentity.fromSeed(new Uint8Array(32).fill(1))
    const body = signWithIdentity({a: '1', b: '2'}, identity)
    const reordered = Object.fromEntries(Object.entries(body).reverse())
    assert.equal(verifyIdentity(reordered).valid, true)
  })

  test('only strings, lists and maps of strings can be signed', () => {
    for (const bad of [{n: 1}, {n: true}, {n: null}, {n: ['ok', 2]}, {n: {deep: new Date(0)}}, {n: '\uD800'}]) {
      const error = expectUserError(() => identitySigningInput(bad as unknown as BodyFields), 'E_IDENTITY_FIELDS')
      assert.match(error.message, /\bn\b/, 'the message names the field')
    }
  })

  test('the fixture body was signed by the fixture seed (deterministic Ed25519)', () => {
    const body = parse(readFileSync(fixtures('registration', 'body-identity.yaml'), 'utf8')) as BodyFields
    const identity = DeviceIdentity.fromSeed(Buffer.from('5eed5eed00112233445566778899aabbccddeeff0011223344556677889900aa', 'hex'))
    const {'identity-scheme': _scheme, 'identity-key': _key, 'identity-signature': signature, ...fields} = body
    assert.deepEqual(signWithIdentity(fields, identity)['identity-signature'], signature)
  })
})

describe('signWithIdentity and verifyIdentity', () => {
  const identity = DeviceIdentity.fromSeed(new Uint8Array(32).fill(7))
  const other = DeviceIdentity.fromSeed(new Uint8Array(32).fill(8))
  const fields: BodyFields = {serial: '1000000012345678', 'board-model': 'Raspberry Pi 4', mac: ['dc:a6:32:12:34:56'], extra: {nested: ['a', 'b']}}
  const body = signWithIdentity(fields, identity)

  test('adds the three identity fields after the given ones, and verifies', () => {
    assert.deepEqual(Object.keys(body), [...Object.keys(fields), 'identity-scheme', 'identity-key', 'identity-signature'])
    assert.equal(body['identity-scheme'], IDENTITY_SCHEME)
    assert.equal(body['identity-key'], identity.publicKeyText)
    assert.match(body['identity-signature'] as string, /^[A-Za-z0-9_-]{86}$/)
    assert.deepEqual(verifyIdentity(body), {
      publicKey: identity.publicKeyText,
      scheme: IDENTITY_SCHEME,
      signedFields: ['board-model', 'extra', 'identity-key', 'identity-scheme', 'mac', 'serial'],
      valid: true,
    })
    assert.equal(fields['identity-key'], undefined, 'the input is not modified')
  })

  const tampered: Array<[string, BodyFields, string]> = [
    ['a changed value', {...body, serial: '1000000012345679'}, 'E_IDENTITY_SIGNATURE'],
    ['a changed list item', {...body, mac: ['dc:a6:32:12:34:57']}, 'E_IDENTITY_SIGNATURE'],
    ['a changed nested value', {...body, extra: {nested: ['a', 'c']}}, 'E_IDENTITY_SIGNATURE'],
    ['an added field', {...body, added: 'x'}, 'E_IDENTITY_SIGNATURE'],
    ['a removed field', Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'board-model')), 'E_IDENTITY_SIGNATURE'],
    ['another key', {...body, 'identity-key': other.publicKeyText}, 'E_IDENTITY_SIGNATURE'],
    ['a signature by another key', signWithIdentity(fields, other), 'valid'],
    ['another key with the original signature', {...signWithIdentity(fields, other), 'identity-signature': body['identity-signature']}, 'E_IDENTITY_SIGNATURE'],
    ['an unknown scheme', {...body, 'identity-scheme': 'snap-gadget-identity-v2'}, 'E_IDENTITY_SCHEME'],
    ['a padded key', {...body, 'identity-key': `${body['identity-key']}=`}, 'E_IDENTITY_ENCODING'],
    ['a short signature', {...body, 'identity-signature': (body['identity-signature'] as string).slice(2)}, 'E_IDENTITY_ENCODING'],
    ['standard base64 instead of base64url', {...body, 'identity-key': Buffer.from(identity.publicKey).toString('base64')}, 'E_IDENTITY_ENCODING'],
    ['a numeric field', {...body, serial: 1000000012345678 as unknown as string}, 'E_IDENTITY_FIELDS'],
    ['no identity fields', fields, 'E_IDENTITY_MISSING'],
    ['no signature', Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'identity-signature')), 'E_IDENTITY_MISSING'],
  ]
  for (const [name, input, expected] of tampered) {
    test(`${name}: ${expected === 'valid' ? 'still valid' : `fails with ${expected}`}`, () => {
      const result = verifyIdentity(input)
      if (expected === 'valid') return assert.equal(result.valid, true)
      assert.equal(result.valid, false)
      assert.equal(result.failure?.code, expected, result.failure?.message)
    })
  }

  test('not a map: fails', () => {
    for (const input of [null, 'text', ['a'], 42]) assert.equal(verifyIdentity(input).failure?.code, 'E_IDENTITY_FIELDS')
  })

  test('refuses to sign a body that already carries identity fields', () => {
    expectUserError(() => signWithIdentity(body, identity), 'E_IDENTITY_FIELDS')
  })

  test('any single-character change to a signed YAML body fails verification', () => {
    const yaml = Object.entries(body)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join('\n')
    assert.equal(verifyIdentity(parse(yaml)).valid, true)
    const signatureLine = yaml.indexOf('identity-signature')
    fc.assert(
      fc.property(fc.nat({max: signatureLine - 1}), fc.constantFrom('x', '0', '"', ' ', '-'), (at, ch) => {
        if (yaml[at] === ch) return
        const changed = yaml.slice(0, at) + ch + yaml.slice(at + 1)
        let fieldsAfter: unknown
        try {
          fieldsAfter = parse(changed)
        } catch {
          return // no longer YAML: cannot even be read
        }

        assert.equal(verifyIdentity(fieldsAfter).valid, false, `changed offset ${at} to ${ch}`)
      }),
      {numRuns: 300},
    )
  })
})

describe('the key file', () => {
  test('is made on the first call with mode 0600, and reused after', () => {
    const dir = freshDir()
    const first = loadOrCreateIdentity(dir)
    assert.equal(first.created, true)
    assert.equal(first.file, join(dir, IDENTITY_KEY_FILE))
    assert.equal(statSync(first.file).mode & 0o777, 0o600)
    const second = loadOrCreateIdentity(dir)
    assert.equal(second.created, false)
    assert.equal(second.identity.publicKeyText, first.identity.publicKeyText)
    assert.deepEqual(readdirSync(dir), [IDENTITY_KEY_FILE], 'no temporary files are left')
  })

  test('has the documented format', () => {
    const dir = freshDir()
    const {file, identity} = loadOrCreateIdentity(dir)
    const text = readFileSync(file, 'utf8')
    assert.ok(text.endsWith('}\n'))
    const data = JSON.parse(text) as Record<string, unknown>
    assert.deepEqual(Object.keys(data), ['format', 'version', 'algorithm', 'seed', 'public-key'])
    assert.equal(data.format, 'snap-gadget-identity-key')
    assert.equal(data.version, 1)
    assert.equal(data.algorithm, 'ed25519')
    assert.equal(data['public-key'], identity.publicKeyText)
    const seed = Buffer.from(data.seed as string, 'base64url')
    assert.equal(seed.length, 32)
    assert.equal(DeviceIdentity.fromSeed(seed).publicKeyText, identity.publicKeyText)
  })

  test('a retry in another process reuses the key', async () => {
    const dir = freshDir()
    const first = loadOrCreateIdentity(dir)
    const [a, b] = await Promise.all([childIdentity(dir), childIdentity(dir)])
    assert.deepEqual(
      [a, b],
      [
        {created: false, publicKey: first.identity.publicKeyText},
        {created: false, publicKey: first.identity.publicKeyText},
      ],
    )
  })

  test('processes racing on the first run agree on one key', async () => {
    const dir = freshDir()
    const results = await Promise.all(Array.from({length: 4}, () => childIdentity(dir)))
    assert.equal(new Set(results.map((r) => r.publicKey)).size, 1, JSON.stringify(results))
    assert.equal(results.filter((r) => r.created).length, 1, 'exactly one process made it')
    assert.deepEqual(readdirSync(dir), [IDENTITY_KEY_FILE])
  })

  test('honours a file name', () => {
    const dir = freshDir()
    assert.equal(loadOrCreateIdentity(dir, {fileName: 'other.key'}).file, join(dir, 'other.key'))
  })

  test('a key readable by group or others is refused, not repaired', () => {
    for (const mode of [0o640, 0o604, 0o660, 0o602]) {
      const dir = freshDir()
      const {file} = loadOrCreateIdentity(dir)
      chmodSync(file, mode)
      const error = expectUserError(() => loadOrCreateIdentity(dir), 'E_IDENTITY_KEY_PERMISSIONS')
      assert.equal(error.kind, 'failed')
      assert.equal(error.file, file)
      assert.match(error.message, new RegExp(`mode 0${mode.toString(8)}`))
      assert.equal(statSync(file).mode & 0o777, mode)
    }
  })

  test('a symbolic link, a directory or a FIFO is refused', () => {
    const dir = freshDir()
    const real = loadOrCreateIdentity(freshDir()).file
    symlinkSync(real, join(dir, IDENTITY_KEY_FILE))
    assert.match(expectUserError(() => loadOrCreateIdentity(dir), 'E_IDENTITY_KEY_FILE').message, /symbolic link/)

    const withDir = freshDir()
    mkdirSync(join(withDir, IDENTITY_KEY_FILE), {mode: 0o700})
    assert.match(expectUserError(() => loadOrCreateIdentity(withDir), 'E_IDENTITY_KEY_FILE').message, /directory/)

    const withFifo = freshDir()
    const mkfifo = promisify(execFile)('mkfifo', ['-m', '600', join(withFifo, IDENTITY_KEY_FILE)])
    return mkfifo.then(() => {
      assert.match(expectUserError(() => loadOrCreateIdentity(withFifo), 'E_IDENTITY_KEY_FILE').message, /special file/)
    })
  })

  test('a damaged file is refused without quoting its content', () => {
    const seedText = Buffer.alloc(32, 9).toString('base64url')
    const publicKey = DeviceIdentity.fromSeed(Buffer.alloc(32, 9)).publicKeyText
    const good = {format: 'snap-gadget-identity-key', version: 1, algorithm: 'ed25519', seed: seedText, 'public-key': publicKey}
    const damaged = [
      `{"seed": "${seedText}"`,
      JSON.stringify({...good, format: 'other'}),
      JSON.stringify({...good, version: 2}),
      JSON.stringify({...good, algorithm: 'rsa'}),
      JSON.stringify({...good, seed: seedText.slice(1)}),
      JSON.stringify({...good, 'public-key': DeviceIdentity.fromSeed(Buffer.alloc(32, 10)).publicKeyText}),
    ]
    for (const text of damaged) {
      const dir = freshDir()
      writeFileSync(join(dir, IDENTITY_KEY_FILE), text, {mode: 0o600})
      const error = expectUserError(() => loadOrCreateIdentity(dir), 'E_IDENTITY_KEY_FORMAT')
      assert.ok(!JSON.stringify({...error.toJSON(), hint: error.hint, stack: error.stack}).includes(seedText.slice(0, 12)), 'the secret is not in the error')
    }

    const dir = freshDir()
    writeFileSync(join(dir, IDENTITY_KEY_FILE), JSON.stringify(good), {mode: 0o600})
    assert.equal(loadOrCreateIdentity(dir).identity.publicKeyText, publicKey)
  })

  test('a missing directory is an I/O error naming it', () => {
    const missing = join(scratch, 'no-such-dir')
    const error = expectUserError(() => loadOrCreateIdentity(missing), 'E_IO_ENOENT')
    assert.equal(error.file, missing)
  })

  test('the secret key is never printed or serialized', () => {
    const {file, identity} = loadOrCreateIdentity(freshDir())
    const seed = (JSON.parse(readFileSync(file, 'utf8')) as {seed: string}).seed
    const secretHex = Buffer.from(seed, 'base64url').toString('hex')
    for (const shown of [inspect(identity, {depth: 9, showHidden: true}), JSON.stringify(identity), String(identity), JSON.stringify(Object.entries(identity)), inspect({identity}, {depth: 9})]) {
      assert.ok(!shown.includes(seed) && !shown.includes(secretHex), shown)
    }

    assert.deepEqual(Object.keys(identity).sort(), ['algorithm', 'publicKey'])
  })
})

interface ChildResult {
  created: boolean
  publicKey: string
}

/** loadOrCreateIdentity in a separate node process, as a retried hook would run. */
async function childIdentity(dir: string): Promise<ChildResult> {
  const script = `
    import {loadOrCreateIdentity} from './src/identity/key.ts'
    const {created, identity} = loadOrCreateIdentity(process.argv[1])
    process.stdout.write(JSON.stringify({created, publicKey: identity.publicKeyText}))
  `
  const {stdout} = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], {cwd: projectRoot})
  return JSON.parse(stdout) as ChildResult
}
