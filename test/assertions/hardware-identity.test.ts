/**
 * Hardware identities as snapd 2.73+ reads them, and the conventions snap-gadget settles: the key
 * on one line and its digest over that text, signatures over the request-id checked as
 * VerifyNonceSignature checks them (test/assertions/snapd-hardware.test.ts holds the same cases to
 * snapd's own code), the signature text read liberally, and the assertion built, signed and read
 * back with snapd's assembler checks.
 */
import assert from 'node:assert/strict'
import {createHash, generateKeyPairSync, sign} from 'node:crypto'
import {describe, test} from 'node:test'

import {
  decodeNonceSignatureText,
  HARDWARE_KEY_TYPES,
  hardwareIdentityInput,
  hardwareIdentityView,
  hardwareIdKeyDigest,
  hardwareIdKeyText,
  nonceHashOf,
  parseAssertion,
  readHardwareIdKey,
  signAssertion,
  verifyNonceSignature,
} from '../../src/assertions/index.js'
import {storedHardwareKey} from '../../src/assertions/hardware-identity.js'
import {UserError} from '../../src/errors.js'
import {SIGNATURE_TIME, testKeys} from '../helpers/assertions.js'
import {hardwareKeys, signRequestId} from '../helpers/hardware.js'

const REQUEST_ID = 'REQID-PREPARE-SERIAL-HOOK'

describe('the hardware-id-key and its digest', () => {
  test('every allowed key type reads back with its type and the digest of its one-line text', () => {
    for (const type of HARDWARE_KEY_TYPES) {
      const key = hardwareKeys()[type]
      assert.equal(key.type, type)
      assert.doesNotMatch(key.id.text, /\n/)
      assert.equal(key.id.text, key.id.key.export({format: 'der', type: 'spki'}).toString('base64'))
      // snapd's recipe (asserts/hardware_identity_test.go SetUpSuite): SHA3-384 of the base64 text.
      assert.equal(key.id.digest, createHash('sha3-384').update(key.id.text).digest('base64url'))
      assert.equal(key.id.digest.length, 64)
    }
  })

  test('what the conventions refuse, each with its reason', () => {
    const p256 = hardwareKeys()['ecdsa-p256'].id.text
    const refused = (text: string, reason: RegExp) =>
      assert.throws(
        () => readHardwareIdKey(text, 'hardware-id-key'),
        (error: unknown) => error instanceof UserError && error.code === 'E_HARDWARE_KEY' && reason.test(error.message),
        reason.source,
      )
    refused(p256.replace(/(.{64})/, '$1\n'), /spans several lines/)
    refused(`-----BEGIN PUBLIC KEY-----\n${p256}\n-----END PUBLIC KEY-----`, /several lines|armour/)
    refused(`-----BEGIN PUBLIC KEY-----${p256}-----END PUBLIC KEY-----`, /armour/)
    refused(p256.replace(/=+$/, ''), /not standard base64/)
    refused(p256.replaceAll('+', '-').replaceAll('/', '_'), /not standard base64/)
    refused('', /is empty/)
    refused('A'.repeat(5000), /5000 characters/)
    refused(Buffer.from('not a key').toString('base64'), /not a DER SubjectPublicKeyInfo/)
    refused(hardwareIdKeyText(generateKeyPairSync('ed25519').publicKey), /is an ED25519 key/)
    refused(hardwareIdKeyText(generateKeyPairSync('ec', {namedCurve: 'P-521'}).publicKey), /ECDSA key on secp521r1/)
    refused(hardwareIdKeyText(generateKeyPairSync('ec', {namedCurve: 'secp256k1'}).publicKey), /ECDSA key on secp256k1/)
    refused(hardwareIdKeyText(generateKeyPairSync('rsa', {modulusLength: 1024}).publicKey), /1024-bit RSA key/)
    refused(hardwareIdKeyText(generateKeyPairSync('rsa', {modulusLength: 2048, publicExponent: 3}).publicKey), /public exponent 3/)
    refused(hardwareIdKeyText(generateKeyPairSync('rsa', {modulusLength: 2560}).publicKey), /2560-bit RSA key/)
  })
})

describe('the key of an imported identity, as serve verifies with it', () => {
  test('every key type gives the key the DER import gives, and verifies the same signatures', () => {
    for (const type of HARDWARE_KEY_TYPES) {
      const key = hardwareKeys()[type]
      const stored = storedHardwareKey(key.id.text, type)
      assert.deepEqual(stored.export({format: 'jwk'}), key.id.key.export({format: 'jwk'}), type)
      // As the store may hold it: the text wrapped as a PEM body.
      assert.deepEqual(storedHardwareKey(key.id.text.replaceAll(/(.{64})/g, '$1\n'), type).export({format: 'jwk'}), key.id.key.export({format: 'jwk'}), type)
      const signature = signRequestId(key, REQUEST_ID)
      assert.deepEqual(verifyNonceSignature(stored, REQUEST_ID, signature, nonceHashOf(type)), {valid: true}, type)
      assert.equal(verifyNonceSignature(stored, `${REQUEST_ID}x`, signature, nonceHashOf(type)).valid, false, type)
    }
  })

  test('a point off the curve is refused, and an encoding other than the canonical one takes the DER path', () => {
    const p256 = hardwareKeys()['ecdsa-p256'].id
    const der = Buffer.from(p256.text, 'base64')
    const off = Buffer.from(der)
    off[off.length - 1] ^= 1
    assert.throws(() => storedHardwareKey(off.toString('base64'), 'ecdsa-p256'))
    // The P-256 key named as P-384 (an impossible record) is still read as what its DER says.
    assert.equal(storedHardwareKey(p256.text, 'ecdsa-p384').asymmetricKeyDetails?.namedCurve, 'prime256v1')
  })
})

describe('signatures over the request-id, as VerifyNonceSignature checks them', () => {
  for (const type of HARDWARE_KEY_TYPES) {
    test(`${type}: the device's signature verifies with the conventions' hash; a changed nonce, byte or hash does not`, () => {
      const key = hardwareKeys()[type]
      const signature = signRequestId(key, REQUEST_ID)
      const hash = nonceHashOf(type)
      assert.deepEqual(verifyNonceSignature(key.id.key, REQUEST_ID, signature, hash), {valid: true})
      assert.equal(verifyNonceSignature(key.id.key, `${REQUEST_ID}\n`, signature, hash).valid, false, 'the newline snapctl get prints is not signed')
      const flipped = Buffer.from(signature)
      flipped[flipped.length - 5] ^= 0x01
      assert.equal(verifyNonceSignature(key.id.key, REQUEST_ID, flipped, hash).valid, false)
      assert.equal(verifyNonceSignature(key.id.key, REQUEST_ID, signature, hash === 'sha256' ? 'sha384' : 'sha256').valid, false)
    })
  }

  test('ECDSA: raw r||s and DER with a byte after it are refused, as Go refuses them', () => {
    const key = hardwareKeys()['ecdsa-p256']
    const raw = sign('sha256', Buffer.from(REQUEST_ID), {dsaEncoding: 'ieee-p1363', key: key.privateKey})
    assert.equal(verifyNonceSignature(key.id.key, REQUEST_ID, raw, 'sha256').valid, false)
    const der = signRequestId(key, REQUEST_ID)
    assert.equal(verifyNonceSignature(key.id.key, REQUEST_ID, Buffer.concat([der, Buffer.of(0)]), 'sha256').valid, false)
  })

  test('RSA: PSS is refused, and so is a signature shorter than the modulus', () => {
    const key = hardwareKeys()['rsa-2048']
    const pss = sign('sha256', Buffer.from(REQUEST_ID), {key: key.privateKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */})
    assert.equal(verifyNonceSignature(key.id.key, REQUEST_ID, pss, 'sha256').valid, false)
    const good = signRequestId(key, REQUEST_ID)
    assert.match(String((verifyNonceSignature(key.id.key, REQUEST_ID, good.subarray(1), 'sha256') as {reason: string}).reason), /255 bytes, not the modulus's 256/)
  })

  test('a key snapd does not verify with is refused as snapd refuses it', () => {
    const {privateKey, publicKey} = generateKeyPairSync('ed25519')
    const check = verifyNonceSignature(publicKey, REQUEST_ID, sign(null, Buffer.from(REQUEST_ID), privateKey), 'sha256')
    assert.deepEqual(check, {reason: 'unsupported algorithm type: ed25519', valid: false})
  })

  test('the signature text: standard or URL-safe base64, padded or not; nothing else', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0x00, 0x10])
    for (const text of ['+/+/ABA=', '+/+/ABA', '-_-_ABA=', '-_-_ABA']) assert.deepEqual(decodeNonceSignatureText(text), bytes, text)
    for (const text of ['', '+/+/ABA==', '+/+/AB=A', '+/+/A', '+/+/ABA= ', '+/+/ ABA', 'not*base64', 'A'.repeat(2000)]) assert.equal(decodeNonceSignatureText(text), undefined, JSON.stringify(text))
  })
})

describe('the hardware-identity assertion', () => {
  const issuer = testKeys().brand
  const make = (overrides: Partial<Parameters<typeof hardwareIdentityInput>[0]> = {}) =>
    signAssertion(
      hardwareIdentityInput({
        hardwareId: 'ACME-0001',
        hardwareName: 'acme-gw-r2',
        issuerId: 'acme-brand',
        key: hardwareKeys()['rsa-4096'].id,
        manufacturer: 'Acme Devices Ltd.',
        timestamp: '2026-05-01T08:00:00Z',
        ...overrides,
      }),
      issuer,
      {signatureTime: SIGNATURE_TIME},
    )

  test("headers in snapd's order, the key on one line, and the view reads them back", () => {
    const signed = make()
    const key = hardwareKeys()['rsa-4096'].id
    const head = signed.text.slice(0, signed.text.indexOf('\n\n'))
    assert.deepEqual(
      head.split('\n').map((line) => line.slice(0, line.indexOf(':'))),
      ['type', 'authority-id', 'issuer-id', 'hardware-id-key-sha3-384', 'hardware-id', 'hardware-id-key', 'hardware-name', 'manufacturer', 'timestamp', 'sign-key-sha3-384'],
    )
    assert.ok(head.includes(`\nhardware-id-key: ${key.text}\n`), 'the key is one header line')
    const view = hardwareIdentityView(parseAssertion(signed.text))
    assert.equal(view.issuerId, 'acme-brand')
    assert.equal(view.authorityId, 'acme-brand')
    assert.equal(view.hardwareId, 'ACME-0001')
    assert.equal(view.hardwareIdKeyDigest, key.digest)
    assert.equal(view.publicKey.asymmetricKeyType, 'rsa')
    assert.equal(view.signKeyId, issuer.keyId)
    assert.equal(view.timestamp, '2026-05-01T08:00:00Z')
  })

  test('the builder refuses what snapd would not decode', () => {
    const refused = (overrides: Parameters<typeof make>[0], reason: RegExp) =>
      assert.throws(
        () => make(overrides),
        (error: unknown) => error instanceof UserError && error.code === 'E_HARDWARE_IDENTITY' && reason.test(error.message),
      )
    refused({issuerId: 'Acme_Brand'}, /issuer id "Acme_Brand" is not an account id/)
    refused({hardwareName: 'acme gw'}, /hardware name "acme gw"/)
    refused({hardwareName: '-acme'}, /hardware name/)
    refused({manufacturer: ' '}, /manufacturer is empty/)
    refused({hardwareId: ''}, /hardware id is empty/)
  })

  test("the view refuses, with snapd's reasons, what snapd's assembler refuses", () => {
    const text = make().text
    const head = text.slice(0, text.indexOf('\n\n'))
    const tail = text.slice(text.indexOf('\n\n'))
    const edited = (from: RegExp, to: string) => parseAssertion(head.replace(from, to) + tail)
    const refused = (assertion: ReturnType<typeof parseAssertion>, reason: RegExp) =>
      assert.throws(
        () => hardwareIdentityView(assertion, 'x.assert'),
        (error: unknown) => error instanceof UserError && error.code === 'E_ASSERTION_HEADER' && reason.test(error.message) && error.file === 'x.assert',
      )
    refused(edited(/^authority-id: .*$/m, 'authority-id: canonical'), /issuer id must match authority id/)
    refused(edited(/^hardware-name: .*$/m, 'hardware-name: acme_gw'), /hardware-name header that contains invalid characters/)
    refused(edited(/^hardware-id-key-sha3-384: .*$/m, `hardware-id-key-sha3-384: ${'A'.repeat(64)}`), /hardware id key does not match provided hash/)
    refused(edited(/^manufacturer: .*\n/m, ''), /has no manufacturer header/)
    const notKey = Buffer.from('not a key').toString('base64')
    refused(edited(/^hardware-id-key: .*$/m, `hardware-id-key: ${notKey}`), /cannot parse public key/)
  })

  test('a key header wrapped over lines is read as snapd reads it: the digest is over the text with its line breaks', () => {
    const key = hardwareKeys()['rsa-2048'].id
    const wrapped = key.text.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')
    const signed = signAssertion(
      {
        headers: {
          'authority-id': 'acme-brand',
          'hardware-id': 'X',
          'hardware-id-key': wrapped,
          'hardware-id-key-sha3-384': hardwareIdKeyDigest(wrapped),
          'hardware-name': 'x',
          'issuer-id': 'acme-brand',
          manufacturer: 'M',
        },
        type: 'hardware-identity',
      },
      issuer,
    )
    const view = hardwareIdentityView(parseAssertion(signed.text))
    assert.equal(view.hardwareIdKey, wrapped)
    assert.notEqual(view.hardwareIdKeyDigest, key.digest, 'not the digest of the one-line text')
  })
})
