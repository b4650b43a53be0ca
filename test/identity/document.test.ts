/**
 * Verifying the identity carried by real signed assertions (test/fixtures/registration, made with
 * `snap sign` and accepted by snapd's asserts package), by hand-assembled assertion text, and by
 * bare registration bodies.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, test} from 'node:test'

import {stringify} from 'yaml'

import {UserError} from '../../src/errors.js'
import {type IdentityDocumentReport, parseRegistrationBody, verifyIdentityDocument} from '../../src/identity/document.js'
import {DeviceIdentity, signWithIdentity} from '../../src/identity/key.js'
import {makeBrandChain, testKeys} from '../helpers/assertions.js'
import {fixtures, shared} from '../helpers/paths.js'

const fixture = (name: string): Buffer => readFileSync(fixtures('registration', name))
const brandKey = fixture('brand-key.pub').toString('utf8')
const statuses = (report: IdentityDocumentReport): Record<string, string> => Object.fromEntries(report.checks.map((c) => [c.name, c.status]))

const identity = DeviceIdentity.fromSeed(new Uint8Array(32).fill(3))
const quoted = (fields: object): string => stringify(fields, {defaultKeyType: 'PLAIN', defaultStringType: 'QUOTE_DOUBLE'})

/** A serial assertion as a vault would return it, with a placeholder signature (not checkable). */
function handMadeSerial(body: string, serial = 'ACME-7'): string {
  return [
    'type: serial',
    'authority-id: acme-brand',
    'brand-id: acme-brand',
    'model: acme-gateway-22',
    `serial: ${serial}`,
    'device-key:',
    '    AcbBTQRWhcGAARAAzj2UhXfRbDtKBqjNFSX5sV/mR3DEBA3To/9sdIGOweh9S1oANR+YyWDUpMB7',
    'device-key-sha3-384: Q5TCz_HIbI7anu6gPp3sbw_st2_yHws8EwJBHfCmwlnHTQDO7BON17MPuN3WSQKn',
    'timestamp: 2024-01-02T03:04:05Z',
    `body-length: ${Buffer.byteLength(body)}`,
    'sign-key-sha3-384: Zk0oO8eYhBjl_IDVLUu9biFPSMNq67eJVLwQV81z64L0e3Nkr1D1JjgfjuEC8nQB',
    '',
    body,
    '',
    'AcLBcwQAAQoAHRYhBM6Dj0/ma4V8vGXj7uQCKd9gq3KoBQJrAtr3AAoJEOQCKd9gq3KojvMP/ju4',
    '',
  ].join('\n')
}

describe('serial assertions signed by a brand key', () => {
  test('an identity body copied into the serial: every check passes', () => {
    const report = verifyIdentityDocument(fixture('serial-identity.assert'), {brandKey, file: 'serial-identity.assert'})
    assert.equal(report.valid, true, JSON.stringify(report.checks))
    assert.equal(report.kind, 'serial')
    assert.deepEqual(statuses(report), {'assertion-signature': 'ok', 'identity-signature': 'ok', serial: 'ok'})
    assert.deepEqual(report.assertion, {
      brandId: 'acme-brand',
      model: 'acme-gateway-22',
      serial: 'ACME-1000000012345678',
      signKeyId: 'qMAIAwn1C7RCvakOn0Ga5eIe7x3a06fCkCikffgB9JmJLlhEfAlkSGM-A0_oF4_1',
      type: 'serial',
    })
    assert.equal(report.identity.publicKey, 'vMbYhXyQv9z_Yj_gH9vq-_AoEPRN_JBcKudrc5exxmk')
    assert.deepEqual(report.identity.signedFields, ['board-model', 'identity-key', 'identity-scheme', 'mac', 'serial'])
    assert.deepEqual(report.warnings, [])
  })

  test('the brand key may be given as an account-key-request assertion', () => {
    const keyAssertion = readFileSync(shared('fixtures', 'assertions', 'account-key-request.assert'), 'utf8')
    const report = verifyIdentityDocument(fixture('serial-identity.assert'), {brandKey: keyAssertion})
    assert.equal(statuses(report)['assertion-signature'], 'failed', 'another brand key')
    assert.match(report.checks.find((c) => c.name === 'assertion-signature')!.message, /not by Zk0oO8eY/)
  })

  test('a body changed after the device signed it fails, although the brand signed it', () => {
    const report = verifyIdentityDocument(fixture('serial-identity-altered-body.assert'), {brandKey})
    assert.equal(report.valid, false)
    assert.deepEqual(statuses(report), {'assertion-signature': 'ok', 'identity-signature': 'failed', serial: 'ok'})
    assert.equal(report.identity.failure?.code, 'E_IDENTITY_SIGNATURE')
  })

  test('a changed byte in the serial breaks the brand signature and the identity', () => {
    const tampered = fixture('serial-identity.assert').toString('utf8').replace('Rev 1.4', 'Rev 1.3')
    const report = verifyIdentityDocument(tampered, {brandKey})
    assert.deepEqual(statuses(report), {'assertion-signature': 'failed', 'identity-signature': 'failed', serial: 'ok'})
  })

  test('without a brand key the assertion signature is skipped, not failed', () => {
    const report = verifyIdentityDocument(fixture('serial-identity.assert'))
    assert.equal(report.valid, true)
    assert.equal(statuses(report)['assertion-signature'], 'skipped')
  })

  test('the self-signed serial-request is checked against its own device-key', () => {
    const report = verifyIdentityDocument(fixture('serial-request-identity.assert'))
    assert.equal(report.valid, true, JSON.stringify(report.checks))
    assert.equal(report.kind, 'serial-request')
    assert.deepEqual(statuses(report), {'assertion-signature': 'ok', 'identity-signature': 'ok', serial: 'ok'})
  })

  test('the shared fixture serial has a body but no identity: fails with the reason', () => {
    const report = verifyIdentityDocument(readFileSync(shared('fixtures', 'assertions', 'serial.assert')))
    assert.equal(report.valid, false)
    assert.equal(report.identity.failure?.code, 'E_IDENTITY_MISSING')
  })

  test('the serial-request and model stream: the serial-request is used', () => {
    const report = verifyIdentityDocument(readFileSync(shared('fixtures', 'assertions', 'serial-post-body.txt')))
    assert.equal(report.kind, 'serial-request')
    assert.equal(statuses(report)['assertion-signature'], 'ok')
    assert.equal(report.identity.failure?.code, 'E_IDENTITY_MISSING')
  })

  test('a serial without a body has no identity', () => {
    const report = verifyIdentityDocument(readFileSync(shared('fixtures', 'assertions', 'serial-request-minimal.assert')))
    assert.equal(report.valid, false)
    assert.match(report.checks[0].message, /no body/)
  })

  test('a model assertion alone is not something to verify', () => {
    assert.throws(
      () => verifyIdentityDocument(readFileSync(shared('fixtures', 'assertions', 'model-uc22.assert')), {file: 'm.assert'}),
      (e: unknown) => e instanceof UserError && e.code === 'E_IDENTITY_NO_SERIAL' && e.kind === 'failed' && /found model/.test(e.message),
    )
  })
})

describe('the brand key in the forms a brand holds it', () => {
  const {brand, device, root} = testKeys()
  const chain = makeBrandChain(root, brand, {keyName: 'serials'})
  const body = quoted(signWithIdentity({serial: 'ACME-9', 'board-model': 'BeagleBone Black'}, identity))
  const serial = chain.signSerial({body, deviceKey: device.encodedPublicKey, model: 'acme-gateway', serial: 'ACME-9'}).text
  const otherKey = (key: typeof brand, name: string): string => makeBrandChain(root, key, {keyName: name}).accountKey.text
  const check = (brandKey: string | Uint8Array) => verifyIdentityDocument(serial, {brandKey, brandKeyFile: 'keys.file'}).checks.find((c) => c.name === 'assertion-signature')!

  test('the PEM private key serve signs with, its public key, snap export-key output, the account-key, a chain: each checks the signature', () => {
    const publicPem = brand.publicKey.export({format: 'pem', type: 'spki'}) as string
    for (const brandKey of [readFileSync(fixtures('assertions', 'brand.pem')), publicPem, brand.encodedPublicKey, chain.accountKey.text, chain.stream, `${chain.stream}\n${otherKey(device, 'models')}`]) {
      const result = check(brandKey)
      assert.equal(result.status, 'ok', result.message)
      assert.match(result.message, new RegExp(`^the serial assertion is signed by the brand key ${brand.keyId}`))
    }

    assert.match(check(chain.stream).message, / \(account-key "serials" of acme-brand\)$/)
  })

  test('a chain without the key that signed: says which keys it holds; one other key: says whose signature it is', () => {
    const none = check(`${otherKey(device, 'models')}\n${otherKey(root, 'root')}`)
    assert.equal(none.status, 'failed')
    assert.equal(none.message, `none of the 2 account-keys in keys.file is the key that signed the serial (${brand.keyId}); it holds ${device.keyId} ("models" of acme-brand), ${root.keyId} ("root" of acme-brand)`)
    const other = check(device.publicKey.export({format: 'pem', type: 'spki'}) as string)
    assert.equal(other.status, 'failed')
    assert.match(other.message, new RegExp(`signed by key ${brand.keyId}, not by ${device.keyId}`))
  })

  test('a file with no key in it is a usage error that names it', () => {
    assert.throws(
      () => check(chain.account.text),
      (e: unknown) => e instanceof UserError && e.code === 'E_KEY_FORMAT' && /^keys\.file holds an account assertion, and no account-key$/.test(e.message),
    )
  })
})

describe('hand-assembled serial assertion text', () => {
  const body = quoted(signWithIdentity({serial: 'ACME-7', 'board-model': 'BeagleBone Black'}, identity))

  test('the identity verifies; the placeholder signature is only checked with a brand key', () => {
    const report = verifyIdentityDocument(handMadeSerial(body))
    assert.equal(report.valid, true, JSON.stringify(report.checks))
    assert.deepEqual(statuses(report), {'assertion-signature': 'skipped', 'identity-signature': 'ok', serial: 'ok'})
    const withKey = verifyIdentityDocument(handMadeSerial(body), {brandKey: readFileSync(shared('fixtures', 'assertions', 'brand-key.pub'), 'utf8')})
    assert.equal(statuses(withKey)['assertion-signature'], 'failed')
  })

  test('a serial header different from the body serial fails', () => {
    const report = verifyIdentityDocument(handMadeSerial(body, 'ACME-8'))
    assert.deepEqual(statuses(report), {'assertion-signature': 'skipped', 'identity-signature': 'ok', serial: 'failed'})
    assert.equal(report.valid, false)
  })

  test('YAML errors in the body point at the line in the file', () => {
    const broken = `${body}bad: [unclosed\n`
    const text = handMadeSerial(broken)
    const badLine = text.split('\n').indexOf('bad: [unclosed') + 1
    assert.throws(
      () => verifyIdentityDocument(text, {file: 's.assert'}),
      (e: unknown) => e instanceof UserError && e.code === 'E_BODY_YAML' && e.file === 's.assert' && e.line !== undefined && e.line >= badLine && e.line <= badLine + 1,
    )
  })
})

describe('registration body YAML', () => {
  test('a body with identity verifies', () => {
    const report = verifyIdentityDocument(fixture('body-identity.yaml'), {file: 'body-identity.yaml'})
    assert.equal(report.kind, 'registration-body')
    assert.equal(report.valid, true)
    assert.deepEqual(statuses(report), {'identity-signature': 'ok'})
  })

  test('a tampered body fails', () => {
    const tampered = fixture('body-identity.yaml').toString('utf8').replace('ACME-1000000012345678', 'ACME-1000000012345679')
    const report = verifyIdentityDocument(tampered)
    assert.equal(report.valid, false)
    assert.equal(report.identity.failure?.code, 'E_IDENTITY_SIGNATURE')
  })

  test('a body that starts with a type: field is still a body', () => {
    const text = quoted(signWithIdentity({type: 'gateway', serial: 'X1'}, identity))
    assert.equal(verifyIdentityDocument(text).kind, 'registration-body')
    assert.equal(verifyIdentityDocument(text).valid, true)
  })

  test('an unquoted number is not a string: the identity cannot cover it', () => {
    const text = `serial: 1000000012345678\n${quoted(signWithIdentity({}, identity))}`
    const report = verifyIdentityDocument(text)
    assert.equal(report.identity.failure?.code, 'E_IDENTITY_FIELDS')
    assert.match(report.identity.failure!.message, /serial is number/)
  })

  test('values that YAML 1.1 reads differently produce a warning', () => {
    const fields = signWithIdentity({enabled: 'yes', time: '1:30', plain: 'ok'}, identity)
    const text = Object.entries(fields)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n')
    const report = verifyIdentityDocument(text)
    assert.equal(report.valid, true)
    assert.equal(report.warnings.length, 1)
    assert.match(report.warnings[0], /enabled, time/)
    assert.doesNotMatch(report.warnings[0], /plain/)
  })

  test('not YAML, not a map, empty: clear errors', () => {
    const errorCode = (text: string): string => {
      try {
        parseRegistrationBody(text, {file: 'b.yaml'})
      } catch (error) {
        return (error as UserError).code
      }

      return 'none'
    }

    assert.equal(errorCode('a: [1'), 'E_BODY_YAML')
    assert.equal(errorCode('a: 1\na: 2'), 'E_BODY_YAML')
    assert.equal(errorCode('- a\n- b'), 'E_BODY_NOT_MAP')
    assert.equal(errorCode(''), 'E_BODY_NOT_MAP')
    assert.equal(errorCode('a: 1\n---\nb: 2'), 'E_BODY_YAML')
  })
})
