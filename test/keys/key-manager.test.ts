/**
 * The external key manager's operations over a key directory, and snapd's key names. snap itself
 * drives the manager in test/commands/key.test.ts.
 */
import assert from 'node:assert/strict'
import {createHash, createPrivateKey, createPublicKey, verify} from 'node:crypto'
import {copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, test} from 'node:test'

import fc from 'fast-check'

import {freshDir} from '../helpers/scratch.js'
import {UserError} from '../../src/errors.js'
import {isValidKeyName} from '../../src/keys/names.js'
import {KEY_MANAGER_FEATURES, keyFile, listKeyNames, publicKeyDer, signDigestInfo} from '../../src/keys/key-manager.js'
import {fixtures} from '../helpers/paths.js'

const brandPem = readFileSync(fixtures('assertions', 'brand.pem'))
const SHA512_PREFIX = Buffer.from('3051300d060960864801650304020305000440', 'hex')
let dir: string

before(() => {
  dir = freshDir('snap-gadget-keymgr-')
  copyFileSync(fixtures('assertions', 'brand.pem'), join(dir, 'serials.pem'))
  copyFileSync(fixtures('assertions', 'root.pem'), join(dir, '2024-models.pem'))
  copyFileSync(fixtures('assertions', 'device-2048.pem'), join(dir, 'small.pem'))
  symlinkSync(join(dir, 'serials.pem'), join(dir, 'linked.pem'))
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.pem'))
  mkdirSync(join(dir, 'folder.pem'))
  writeFileSync(join(dir, 'Brand Key.pem'), '')
  writeFileSync(join(dir, 'serials.pem.bak'), '')
  writeFileSync(join(dir, 'notes.txt'), '')
})

const digestInfo = (message: string): Buffer => Buffer.concat([SHA512_PREFIX, createHash('sha512').update(message).digest()])

function throwsUserError(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UserError, String(error))
    assert.equal(error.code, code, error.message)
    assert.match(error.message, message)
    return true
  })
}

describe('the key manager', () => {
  test('features: what snapd checks for', () => {
    assert.equal(JSON.stringify(KEY_MANAGER_FEATURES), '{"public-keys":["DER"],"signing":["RSA-PKCS"]}')
  })

  test('key-names: each regular NAME.pem with a name snapd takes, sorted; the rest left out with the reason', () => {
    const {names, skipped} = listKeyNames(dir)
    assert.deepEqual(names, ['2024-models', 'linked', 'serials', 'small'])
    assert.deepEqual(
      skipped.map((s) => s.file),
      ['Brand Key.pem', 'dangling.pem', 'folder.pem'],
    )
    assert.match(skipped[0].reason, /^"Brand Key" is not a key name snapd takes: lower-case letters and digits/)
    assert.equal(skipped[1].reason, 'not a regular file')
    throwsUserError(() => listKeyNames(join(dir, 'missing')), 'E_KEY_DIRECTORY', /the key directory .*missing does not exist/)
    throwsUserError(() => listKeyNames(join(dir, 'notes.txt')), 'E_KEY_DIRECTORY', /is not a directory/)
  })

  test('get-public-key: the DER public key, also of a key too small to sign with', () => {
    assert.deepEqual(publicKeyDer(dir, 'serials'), createPublicKey(createPrivateKey(brandPem)).export({format: 'der', type: 'spki'}))
    assert.equal(createPublicKey({format: 'der', key: publicKeyDer(dir, 'small'), type: 'spki'}).asymmetricKeyDetails?.modulusLength, 2048)
    throwsUserError(() => publicKeyDer(dir, 'absent'), 'E_KEY_NOT_FOUND', /^no key named "absent": .*absent\.pem does not exist$/)
  })

  test('sign: the PKCS#1 v1.5 signature over the SHA-512 DigestInfo snapd sends, and nothing else', () => {
    const signature = signDigestInfo(dir, 'serials', digestInfo('hello'))
    assert.equal(signature.length, 512)
    assert.ok(verify('sha512', Buffer.from('hello'), createPublicKey(createPrivateKey(brandPem)), signature))
    throwsUserError(() => signDigestInfo(dir, 'serials', Buffer.from('hello')), 'E_KEYMGR_INPUT', /expects a SHA-512 DigestInfo on standard input \(83 bytes\), as snapd sends it; got 5 bytes$/)
    const otherKind = Buffer.from(digestInfo('hello'))
    otherKind[14] = 0x01 // SHA-256's object identifier ends in 1
    throwsUserError(() => signDigestInfo(dir, 'serials', otherKind), 'E_KEYMGR_INPUT', /got 83 bytes of another kind/)
    throwsUserError(() => signDigestInfo(dir, 'small', digestInfo('hello')), 'E_SIGNING_KEY', /key "small" \(.*small\.pem\) is a 2048-bit RSA key; snapd refuses keys it does not hold itself under 4096 bits/)
  })

  test('a name outside snapd key names never becomes a path', () => {
    for (const name of ['../serials', 'keys/serials', '/etc/passwd', '.hidden', '', 'Serials', 'serials.pem', 'a--b', '-serials', 'serials-', '2024', 'x'.repeat(129)]) {
      throwsUserError(() => keyFile(dir, name), 'E_KEY_NAME', /is not a key name: lower-case letters and digits/)
      throwsUserError(() => publicKeyDer(dir, name), 'E_KEY_NAME', /is not a key name/)
    }

    assert.equal(keyFile(dir, 'brand-key-2'), join(dir, 'brand-key-2.pem'))
  })
})

describe('key names', () => {
  test("are snapd's account-key names: the same verdict as its pattern", () => {
    // snapd's own pattern (asserts/account_key.go); fine on short strings, exponential on long ones.
    const snapd = /^(?:[a-z0-9]+-?)*[a-z](?:-?[a-z0-9])*$/
    const word = fc.string({maxLength: 10, unit: fc.constantFrom('a', 'z', '0', '9', '-', 'A', '_', '.', '/', ' ')})
    fc.assert(fc.property(word, (name) => isValidKeyName(name) === snapd.test(name)))
    for (const name of ['serials', 'a', 'brand-key-2', '2024-serials', 'a1-b2-c3']) assert.ok(isValidKeyName(name), name)
  })

  test('are checked in linear time', () => {
    const started = performance.now()
    assert.equal(isValidKeyName(`${'a0'.repeat(50)}!`), false)
    assert.ok(performance.now() - started < 50)
  })
})
