/**
 * `snap-gadget identity verify` end to end: real signed serial assertions, a body signed here with a
 * fresh device key, tampering, stdin, --json, and the exit codes.
 */
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, test} from 'node:test'

import {stringify} from 'yaml'

import {freshDir} from '../helpers/scratch.js'
import {loadOrCreateIdentity, signWithIdentity} from '../../src/identity/key.js'
import {makeBrandChain, testKeys} from '../helpers/assertions.js'
import {runCli} from '../helpers/cli.js'
import {fixtures, shared} from '../helpers/paths.js'

const registration = (name: string): string => fixtures('registration', name)
const brandKey = registration('brand-key.pub')

let work: string
let bodyFile: string
let tamperedFile: string
let devicePublicKey: string

before(() => {
  work = freshDir('snap-gadget-identity-verify-')
  const {identity} = loadOrCreateIdentity(work)
  devicePublicKey = identity.publicKeyText
  const fields = signWithIdentity({serial: '1000000012345678', 'board-model': 'Raspberry Pi 5', mac: ['2c:cf:67:00:00:01']}, identity)
  const body = stringify(fields, {defaultKeyType: 'PLAIN', defaultStringType: 'QUOTE_DOUBLE'})
  bodyFile = join(work, 'body.yaml')
  writeFileSync(bodyFile, body)
  tamperedFile = join(work, 'tampered.yaml')
  writeFileSync(tamperedFile, body.replace('Raspberry Pi 5', 'Raspberry Pi 4'))
})

describe('identity verify', () => {
  test('a registration body signed by the device key: exit 0', async () => {
    const result = await runCli(['identity', 'verify', bodyFile])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^identity verified: registration body /)
    assert.match(result.stdout, new RegExp(`identity key: ${devicePublicKey}`))
    assert.match(result.stdout, /✓ identity-signature/)
    assert.equal(result.stderr, '')
  })

  test('--json returns the report', async () => {
    const result = await runCli(['identity', 'verify', bodyFile, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const report = JSON.parse(result.stdout) as {valid: boolean; kind: string; identity: {publicKey: string; signedFields: string[]}}
    assert.equal(report.valid, true)
    assert.equal(report.kind, 'registration-body')
    assert.equal(report.identity.publicKey, devicePublicKey)
    assert.deepEqual(report.identity.signedFields, ['board-model', 'identity-key', 'identity-scheme', 'mac', 'serial'])
  })

  test('a tampered body: exit 1 with the reason', async () => {
    const result = await runCli(['identity', 'verify', tamperedFile])
    assert.equal(result.code, 1)
    assert.match(result.stdout, /identity NOT verified/)
    assert.match(result.stderr, /error: .*tampered\.yaml: identity verification failed: the identity signature does not match/)
    assert.match(result.stderr, /hint: /)
  })

  test('a body without identity fields: the hint says they are missing, not that the body was tampered with', async () => {
    const plain = join(work, 'plain.yaml')
    writeFileSync(plain, 'serial: "1000000012345678"\nboard-model: "Raspberry Pi 5"\n')
    const result = await runCli(['identity', 'verify', plain])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /identity verification failed: the registration body has no identity fields/)
    assert.match(result.stderr, /hint: the identity fields are missing: the device did not sign this body/)
    assert.doesNotMatch(result.stderr, /changed after the device signed it/)
    const tampered = await runCli(['identity', 'verify', tamperedFile])
    assert.match(tampered.stderr, /hint: a body changed after the device signed it/)
  })

  test('a tampered body with --json: the error carries the report', async () => {
    const result = await runCli(['identity', 'verify', tamperedFile, '--json'])
    assert.equal(result.code, 1)
    const {error} = JSON.parse(result.stdout) as {error: {code: string; details: {identity: {failure: {code: string}}}}}
    assert.equal(error.code, 'E_IDENTITY_INVALID')
    assert.equal(error.details.identity.failure.code, 'E_IDENTITY_SIGNATURE')
  })

  test('a brand-signed serial assertion, with its brand key: every check passes', async () => {
    const result = await runCli(['identity', 'verify', registration('serial-identity.assert'), '--brand-key', brandKey])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /identity verified: serial assertion/)
    assert.match(result.stdout, /brand acme-brand, model acme-gateway-22, serial ACME-1000000012345678/)
    for (const check of ['identity-signature', 'serial', 'assertion-signature']) assert.match(result.stdout, new RegExp(`✓ ${check}:`))
  })

  test('--brand-key takes the PEM key serve signs with, and a chain file; a chain without the signing key says so', async () => {
    const {brand, device, root} = testKeys()
    const chain = makeBrandChain(root, brand, {keyName: 'serials'})
    const serial = join(work, 'brand-signed.assert')
    writeFileSync(serial, chain.signSerial({body: readFileSync(bodyFile, 'utf8'), deviceKey: device.encodedPublicKey, model: 'acme-gateway', serial: '1000000012345678'}).text)
    const pem = await runCli(['identity', 'verify', serial, '--brand-key', fixtures('assertions', 'brand.pem')])
    assert.equal(pem.code, 0, pem.stderr)
    assert.match(pem.stdout, new RegExp(`✓ assertion-signature: the serial assertion is signed by the brand key ${brand.keyId}\n`))
    const chainFile = join(work, 'chain.assert')
    writeFileSync(chainFile, chain.stream)
    const fromChain = await runCli(['identity', 'verify', serial, '--brand-key', chainFile])
    assert.equal(fromChain.code, 0, fromChain.stderr)
    assert.match(fromChain.stdout, /✓ assertion-signature: .* \(account-key "serials" of acme-brand\)/)
    const otherChain = join(work, 'other-chain.assert')
    writeFileSync(otherChain, `${makeBrandChain(root, device).stream}\n${makeBrandChain(root, root, {keyName: 'root'}).accountKey.text}`)
    const none = await runCli(['identity', 'verify', serial, '--brand-key', otherChain])
    assert.equal(none.code, 1)
    assert.match(none.stdout, new RegExp(`✗ assertion-signature: none of the 2 account-keys in .*other-chain\\.assert is the key that signed the serial \\(${brand.keyId}\\)`))
  })

  test('a serial assertion whose body changed before the brand signed it: exit 1', async () => {
    const result = await runCli(['identity', 'verify', registration('serial-identity-altered-body.assert'), '--brand-key', brandKey])
    assert.equal(result.code, 1)
    assert.match(result.stdout, /✗ identity-signature/)
    assert.match(result.stdout, /✓ assertion-signature/)
  })

  test('from stdin', async () => {
    const result = await runCli(['identity', 'verify', '-'], {input: readFileSync(registration('serial-request-identity.assert'), 'utf8')})
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /serial-request assertion <stdin>/)
  })

  test('a serial without identity fields: exit 1', async () => {
    const result = await runCli(['identity', 'verify', shared('fixtures', 'assertions', 'serial.assert')])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /no identity fields/)
  })

  test('a malformed assertion: exit 2 with the place', async () => {
    const broken = join(work, 'broken.assert')
    writeFileSync(broken, readFileSync(registration('serial-identity.assert'), 'utf8').replace('body-length: 319', 'body-length: 0319'))
    const result = await runCli(['identity', 'verify', broken])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /broken\.assert:1: "body-length" must be a decimal number/)
  })

  test('a missing file: exit 2', async () => {
    const result = await runCli(['identity', 'verify', join(work, 'nope.assert')])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /no such file or directory/)
  })
})
