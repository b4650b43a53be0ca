import assert from 'node:assert/strict'
import {createPrivateKey, createPublicKey, generateKeyPairSync} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {describe, test} from 'node:test'

import {encodePublicKey, loadSigningKey, MIN_SIGNING_KEY_BITS, publicKeyId, signingKeyFromKeyObject} from '../../src/assertions/keys.js'
import {encodeV1, KEY_CREATION_TIME, mpi, packet, PUBLIC_KEY_ALGORITHM_RSA, TAG_PUBLIC_KEY, uint32} from '../../src/assertions/openpgp.js'
import {decodeAssertionPublicKey, MIN_VERIFY_KEY_BITS} from '../../src/assertions/verify.js'
import {UserError} from '../../src/errors.js'
import {testKeys} from '../helpers/assertions.js'
import {fixtures, shared} from '../helpers/paths.js'

const pem = (name: string): Buffer => readFileSync(fixtures('assertions', `${name}.pem`))
const sharedFixture = (name: string): string => readFileSync(shared('fixtures', 'assertions', name), 'utf8')

function refused(input: string | Uint8Array, code: string, message: RegExp, hint: RegExp): UserError {
  let caught: unknown
  try {
    loadSigningKey(input, 'keys/brand.pem')
  } catch (error) {
    caught = error
  }

  assert.ok(caught instanceof UserError, `expected a UserError, got ${String(caught)}`)
  assert.equal(caught.code, code)
  assert.match(caught.message, /^keys\/brand\.pem /, 'the message names the source')
  assert.match(caught.message, message)
  assert.match(caught.hint ?? '', hint)
  return caught
}

describe('snapd key encoding and key ids', () => {
  // keys.txt lists the ids `snap keys` printed; the .pub files are `snap export-key` output.
  const knownIds = Object.fromEntries(
    sharedFixture('keys.txt')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/) as [string, string]),
  )

  for (const [file, name] of [
    ['brand-key.pub', 'brand-test'],
    ['device-key.pub', 'device-test'],
    ['ext-device-key.pub', 'ext-device'],
  ] as const) {
    test(`${file}: encodePublicKey writes snap export-key's exact text, publicKeyId its id`, () => {
      const exported = sharedFixture(file).trimEnd()
      const {key} = decodeAssertionPublicKey(exported)
      assert.equal(encodePublicKey(key), exported)
      const expectedId = knownIds[name] ?? readFileSync(shared('fixtures', 'assertions', 'README.md'), 'utf8').match(new RegExp(`\`${name}\` \\| \`([A-Za-z0-9_-]{64})\``))![1]
      assert.equal(publicKeyId(exported), expectedId)
      assert.equal(publicKeyId(exported.replaceAll('\n', '')), expectedId, 'line breaks do not count')
    })
  }

  test('the device-key header of the snap-signed serial-request is what we encode for that key', () => {
    const request = sharedFixture('serial-request.assert')
    const header = /^device-key:\n((?: {4}.*\n)+)/m.exec(request)![1].replaceAll('    ', '').trimEnd()
    assert.equal(encodePublicKey(decodeAssertionPublicKey(header).key), header)
  })

  test('the encoding: 0x01, a v4 RSA public-key packet dated 2016-01-01, 76-column lines; 529 bytes for RSA 4096', () => {
    const {device, device2048} = testKeys()
    const raw = Buffer.from(device.encodedPublicKey.replaceAll('\n', ''), 'base64')
    assert.equal(raw.length, 529)
    assert.deepEqual([...raw.subarray(0, 10)], [0x01, 0xc6, 0xc1, 0x4d, 4, 0x56, 0x85, 0xc1, 0x80, 1])
    assert.ok(device.encodedPublicKey.split('\n').every((line, i, all) => line.length === 76 || i === all.length - 1))
    assert.equal(device2048.bits, 2048)
    assert.equal(Buffer.from(device2048.encodedPublicKey.replaceAll('\n', ''), 'base64').length, 273)
  })

  test('a private key and its public key encode the same; the id is the one snapd derives from the encoding', () => {
    const {brand} = testKeys()
    assert.equal(encodePublicKey(brand.privateKey), brand.encodedPublicKey)
    assert.equal(encodePublicKey(brand.publicKey), brand.encodedPublicKey)
    assert.equal(brand.keyId, publicKeyId(brand.encodedPublicKey))
    assert.equal(decodeAssertionPublicKey(brand.encodedPublicKey).id, brand.keyId)
  })

  test('non-RSA keys have no snapd encoding', () => {
    const ec = createPublicKey(createPrivateKey(pem('ec')))
    assert.throws(
      () => encodePublicKey(ec),
      (error: UserError) => error.code === 'E_ASSERTION_KEY' && /RSA/.test(error.message),
    )
  })
})

describe('loadSigningKey', () => {
  test('PKCS#8 ("BEGIN PRIVATE KEY") and PKCS#1 ("BEGIN RSA PRIVATE KEY"), as text or bytes', () => {
    const root = loadSigningKey(pem('root').toString('utf8'))
    assert.equal(root.bits, 4096)
    assert.match(pem('brand').toString('utf8'), /^-----BEGIN RSA PRIVATE KEY-----/)
    const brand = loadSigningKey(pem('brand'))
    assert.equal(brand.bits, 4096)
    assert.notEqual(root.keyId, brand.keyId)
    assert.equal(brand.privateKey.type, 'private')
    assert.equal(brand.publicKey.type, 'public')
  })

  test('the same key in PKCS#1 and PKCS#8 has the same id', () => {
    const pkcs8 = createPrivateKey(pem('brand')).export({format: 'pem', type: 'pkcs8'}) as string
    assert.match(pkcs8, /BEGIN PRIVATE KEY/)
    assert.equal(loadSigningKey(pkcs8).keyId, loadSigningKey(pem('brand')).keyId)
  })

  test('encrypted keys are refused, with a way to decrypt a copy', () => {
    refused(pem('encrypted'), 'E_SIGNING_KEY', /encrypted with a passphrase/, /openssl pkey -in/)
    refused(pem('encrypted-pkcs1'), 'E_SIGNING_KEY', /encrypted with a passphrase/, /openssl pkey -in/)
  })

  test('an EC key is refused: snapd signs with RSA only', () => {
    refused(pem('ec'), 'E_SIGNING_KEY', /is an EC key; snapd signs with RSA/, /openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096/)
    const ed25519 = generateKeyPairSync('ed25519').privateKey.export({format: 'pem', type: 'pkcs8'})
    refused(ed25519, 'E_SIGNING_KEY', /is an ED25519 key/, /rsa_keygen_bits:4096/)
  })

  test(`a 2048-bit RSA key is refused: keys held outside snapd need ${MIN_SIGNING_KEY_BITS} bits`, () => {
    refused(pem('device-2048'), 'E_SIGNING_KEY', /is a 2048-bit RSA key; snapd refuses .* under 4096 bits/, /openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out brand\.pem/)
    assert.equal(signingKeyFromKeyObject(createPrivateKey(pem('device-2048'))).bits, 2048, 'signingKeyFromKeyObject has no floor')
  })

  test('GnuPG exports are refused with what a brand can do instead', () => {
    const armored = '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBFaFwYABEAC…\n-----END PGP PRIVATE KEY BLOCK-----\n'
    const hint = /snap create-key.*GnuPG.*same key id.*gpg --homedir ~\/\.snap\/gnupg --export-secret-keys <name> \| snap-gadget key import-gnupg - --out <name>\.pem/
    refused(armored, 'E_SIGNING_KEY', /GnuPG export/, hint)
    // `gpg --export-secret-keys` without --armor: a binary secret-key packet (tag 5, old format 0x95).
    refused(Uint8Array.of(0x95, 0x07, 0x46, 0x04, 0x56, 0x85, 0xc1, 0x80), 'E_SIGNING_KEY', /binary OpenPGP/, hint)
  })

  test('public keys, certificates, OpenSSH keys, other PEM, not PEM, empty, damaged: each says what it is', () => {
    const publicPem = createPublicKey(createPrivateKey(pem('root'))).export({format: 'pem', type: 'spki'})
    refused(publicPem, 'E_SIGNING_KEY', /holds a public key/, /private key/)
    refused('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'E_SIGNING_KEY', /holds a certificate/, /private key/)
    refused('-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n', 'E_SIGNING_KEY', /OpenSSH/, /ssh-keygen -p -m PEM/)
    refused('-----BEGIN DSA PRIVATE KEY-----\nMIIB\n-----END DSA PRIVATE KEY-----\n', 'E_SIGNING_KEY', /PEM "DSA PRIVATE KEY", not an RSA private key/, /RSA/)
    refused(sharedFixture('brand-key.pub'), 'E_SIGNING_KEY', /not a PEM private key/, /BEGIN PRIVATE KEY/)
    refused('', 'E_SIGNING_KEY', /not a PEM private key/, /BEGIN PRIVATE KEY/)
    const damaged = pem('root')
      .toString('utf8')
      .replace(/\n[A-Za-z0-9+/]{64}\n/, '\n' + 'A'.repeat(64) + '\n')
    refused(damaged, 'E_SIGNING_KEY', /cannot be read as a PEM private key/, /complete, unedited/)
    refused('x'.repeat(70_000), 'E_SIGNING_KEY', /is 70000 bytes/, /one RSA private key/)
  })

  test('the default source name reads as a sentence', () => {
    assert.throws(() => loadSigningKey(''), /^UserError: the signing key is not a PEM private key/)
  })
})

describe('degenerate public keys are refused wherever an assertion is verified', () => {
  const encode = (n: Uint8Array, e: Uint8Array): string => encodeV1(packet(TAG_PUBLIC_KEY, Buffer.concat([Uint8Array.of(4), uint32(KEY_CREATION_TIME), Uint8Array.of(PUBLIC_KEY_ALGORITHM_RSA), mpi(n), mpi(e)])))
  const modulusOf = (bits: number, exponent = 65_537): Buffer => {
    const {publicKey} = generateKeyPairSync('rsa', {modulusLength: bits, publicExponent: exponent})
    return Buffer.from(publicKey.export({format: 'jwk'}).n!, 'base64url')
  }

  const refusedKey = (text: string): string => {
    try {
      decodeAssertionPublicKey(text, 'the device-key header')
    } catch (error) {
      assert.ok(error instanceof UserError)
      assert.equal(error.code, 'E_ASSERTION_KEY')
      return error.message
    }

    return assert.fail('the key was accepted')
  }

  test('e = 1, e = 3 and any exponent but 65537, however it is written', () => {
    const n = modulusOf(2048)
    assert.match(refusedKey(encode(n, Uint8Array.of(1))), /the RSA public exponent is 1; only 65537 is accepted/)
    assert.match(refusedKey(encode(modulusOf(2048, 3), Uint8Array.of(3))), /public exponent is 3/)
    assert.match(refusedKey(encode(n, Buffer.from('0100000001', 'hex'))), /public exponent is 4294967297/)
    assert.equal(decodeAssertionPublicKey(encode(n, Uint8Array.of(1, 0, 1))).bits, 2048)
  })

  test(`moduli under ${MIN_VERIFY_KEY_BITS} bits (768, 1024, 2047), counted by their bits, not their bytes`, () => {
    for (const bits of [768, 1024])
      assert.match(refusedKey(encodePublicKey(generateKeyPairSync('rsa', {modulusLength: bits}).publicKey)), new RegExp(`the RSA key has ${bits} bits; keys under 2048 bits are refused \\(snapd makes 4096-bit keys\\)`))
    const short = modulusOf(2048)
    short[0] = 0x40 | (short[0] & 0x3f)
    assert.match(refusedKey(encode(short, Uint8Array.of(1, 0, 1))), /has 2047 bits/)
  })
})
