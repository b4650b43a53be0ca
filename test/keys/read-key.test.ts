/**
 * A key's snapd id from every form a brand holds it in, against ids snap itself reported
 * (the shared fixtures' keys.txt, `snap keys` on a GnuPG home made here).
 */
import assert from 'node:assert/strict'
import {createPrivateKey, createPublicKey, generateKeyPairSync} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {after, before, describe, test} from 'node:test'

import {UserError} from '../../src/errors.js'
import {readPublicKey, readPublicKeys} from '../../src/keys/read-key.js'
import {makeBrandChain, testKeys} from '../helpers/assertions.js'
import {type GnupgHome, haveTools, makeGnupgHome, requireTools} from '../helpers/key-tools.js'
import {fixtures, shared} from '../helpers/paths.js'

const pem = (name: string): string => readFileSync(fixtures('assertions', `${name}.pem`), 'utf8')
const sharedFixture = (name: string): string => readFileSync(shared('fixtures', 'assertions', name), 'utf8')
/** `snap keys` printed these for the shared fixtures' keys. */
const BRAND_TEST_ID = 'Zk0oO8eYhBjl_IDVLUu9biFPSMNq67eJVLwQV81z64L0e3Nkr1D1JjgfjuEC8nQB'

let home: GnupgHome | undefined
before(() => {
  if (!haveTools('gpg')) return
  home = makeGnupgHome()
  home.generate('gnupg-key', {bits: 2048})
})
after(() => home?.remove())

function refused(input: string | Uint8Array, code: string, message: RegExp, hint?: RegExp): void {
  assert.throws(
    () => readPublicKey(input, 'key.file'),
    (error: unknown) => {
      assert.ok(error instanceof UserError, String(error))
      assert.equal(error.code, code, error.message)
      assert.match(error.message, message)
      if (hint) assert.match(error.hint ?? '', hint)
      return true
    },
  )
}

describe('readPublicKey: the same id from every form of a key', () => {
  test('PEM private keys (PKCS#1, PKCS#8) and public keys (SPKI, PKCS#1, SPKI as DER) of one key', () => {
    const {brand} = testKeys()
    const privateKey = createPrivateKey(pem('brand'))
    const publicKey = createPublicKey(privateKey)
    const forms: Array<[string | Uint8Array, string]> = [
      [pem('brand'), 'pem-private'],
      [privateKey.export({format: 'pem', type: 'pkcs8'}), 'pem-private'],
      [publicKey.export({format: 'pem', type: 'spki'}), 'pem-public'],
      [publicKey.export({format: 'pem', type: 'pkcs1'}), 'pem-public'],
      [publicKey.export({format: 'der', type: 'spki'}), 'der-public'],
      [brand.encodedPublicKey, 'snapd'],
    ]
    for (const [input, form] of forms) {
      const key = readPublicKey(input)
      assert.equal(key.keyId, brand.keyId, form)
      assert.equal(key.form, form)
      assert.equal(key.bits, 4096)
      assert.equal(key.encodedPublicKey, brand.encodedPublicKey)
    }
  })

  test("snap export-key output and snap's own account-key-request: the ids snap keys printed", () => {
    assert.equal(readPublicKey(sharedFixture('brand-key.pub')).keyId, BRAND_TEST_ID)
    const request = readPublicKey(sharedFixture('account-key-request.assert'))
    assert.deepEqual({accountId: request.accountId, form: request.form, keyId: request.keyId, name: request.name}, {accountId: 'acme-brand', form: 'account-key-request', keyId: BRAND_TEST_ID, name: 'brand-test'})
  })

  test('an account-key, and a chain (account, account-key): the account-key; several account-keys: readPublicKeys', () => {
    const {brand, device, root} = testKeys()
    const chain = makeBrandChain(root, brand, {keyName: 'serials'})
    const key = readPublicKey(chain.accountKey.text)
    assert.deepEqual({accountId: key.accountId, form: key.form, keyId: key.keyId, name: key.name}, {accountId: 'acme-brand', form: 'account-key', keyId: brand.keyId, name: 'serials'})
    assert.equal(readPublicKey(chain.stream).keyId, brand.keyId)
    const other = makeBrandChain(root, device, {keyName: 'models'})
    const both = `${chain.stream}\n${other.accountKey.text}`
    assert.deepEqual(
      readPublicKeys(both).map((k) => k.keyId),
      [brand.keyId, device.keyId],
    )
    refused(both, 'E_KEY_FORMAT', /^key\.file holds 2 account-keys/)
  })

  test('a GnuPG export, public or secret: the id snap keys shows for it', (t) => {
    if (!requireTools(t, 'gpg', 'snap')) return
    const id = home!.snapKeys()['gnupg-key']
    for (const input of [home!.gpg(['--export', 'gnupg-key']), home!.exportSecret('gnupg-key', {armor: true})]) {
      const key = readPublicKey(input)
      assert.equal(key.keyId, id)
      assert.equal(key.form, 'gnupg')
      assert.equal(key.name, 'gnupg-key')
      assert.equal(key.bits, 2048, 'a key under 4096 bits has an id too')
    }
  })

  test('a key under 4096 bits is read, with its size', () => {
    assert.equal(readPublicKey(pem('device-2048')).bits, 2048)
  })
})

describe('readPublicKey: what is refused, and why', () => {
  test('an account-key whose declared id is not its body (snapd refuses it too)', () => {
    const {brand, device, root} = testKeys()
    const text = makeBrandChain(root, brand).accountKey.text.replace(`public-key-sha3-384: ${brand.keyId}`, `public-key-sha3-384: ${device.keyId}`)
    refused(text, 'E_KEY_MISMATCH', new RegExp(`declares public-key-sha3-384 "${device.keyId}", but its body is the key ${brand.keyId}`), /public key does not match provided key id/)
  })

  test('assertions without an account-key', () => {
    refused(sharedFixture('model-uc22.assert'), 'E_KEY_FORMAT', /holds a model assertion, and no account-key/, /snap known --remote account-key public-key-sha3-384=<key id>/)
  })

  test('an encrypted private key: its public half is the way', () => {
    refused(pem('encrypted'), 'E_KEY_ENCRYPTED', /encrypted with a passphrase/, /openssl pkey -in <key> -pubout/)
    refused(pem('encrypted-pkcs1'), 'E_KEY_ENCRYPTED', /encrypted with a passphrase/)
  })

  test('keys that are not RSA, certificates, text, empty input, damaged base64', () => {
    refused(pem('ec'), 'E_SIGNING_KEY', /is an EC key; snapd signs with RSA/)
    refused(createPublicKey(createPrivateKey(pem('ec'))).export({format: 'pem', type: 'spki'}), 'E_KEY_FORMAT', /is an EC key; snapd's keys are RSA/)
    refused(generateKeyPairSync('ed25519').publicKey.export({format: 'der', type: 'spki'}), 'E_KEY_FORMAT', /is an ED25519 key/)
    refused('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'E_KEY_FORMAT', /is a PEM "CERTIFICATE", not a key/)
    refused('hello: world\n', 'E_KEY_FORMAT', /is not a key: no PEM, assertion or GnuPG export in it/, /PEM key .*snap export-key <name>.*account-key.*GnuPG/)
    refused('', 'E_KEY_FORMAT', /is not a key: it is empty/)
    refused('AAAA', 'E_ASSERTION_KEY', /unsupported format version 0/)
    refused(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00), 'E_KEY_FORMAT', /binary but not a DER public key/)
  })
})
