/**
 * Hardware identities judged by snapd's own code (the newest snapd source Debian packages, 2.77,
 * built in GOPATH mode: test/fixtures/assertions/hardware-identity-check.go):
 *
 * 1. the hardware-identity assertions we sign decode and are added to an asserts.Database that
 *    holds the issuer's chain (a test root, the issuer's account and account-key), for every key
 *    type, with the values snapd's accessors give equal to ours; what we refuse to read, snapd
 *    refuses to decode or add, and the other way round;
 * 2. VerifyNonceSignature accepts the signatures a device makes as the conventions say, for every
 *    key type, and refuses the tampered ones, with our verifier agreeing on every case.
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {createHash, generateKeyPairSync, sign} from 'node:crypto'
import {before, describe, test} from 'node:test'
import {promisify} from 'node:util'

import {
  type AssertionInput,
  decodeNonceSignatureText,
  HARDWARE_KEY_TYPES,
  hardwareIdentityInput,
  hardwareIdentityView,
  hardwareIdKeyDigest,
  type HardwareKeyType,
  nonceHashOf,
  parseAssertion,
  signAssertion,
  signingKeyFromKeyObject,
  verifyNonceSignature,
} from '../../src/assertions/index.js'
import {makeBrandChain, SIGNATURE_TIME, testKeys} from '../helpers/assertions.js'
import {hardwareKeys, signRequestId} from '../helpers/hardware.js'
import {fixtures} from '../helpers/paths.js'
import {buildSnapdNewestTool, snapdNewest} from '../helpers/snapd-newest.js'

interface Verdicts {
  assertions: {type?: string; headers?: Record<string, unknown>; check: string; hardware?: Record<string, string>}[]
  nonces: string[]
}

interface NonceCase {
  identity: string
  nonce: string
  /** Standard base64 of the signature's bytes. */
  signature: string
  hash: string
}

const CURVES: Record<string, string> = {'ecdsa-p256': 'ecdsa-P-256', 'ecdsa-p384': 'ecdsa-P-384'}
const {env, reason} = snapdNewest()
if (env === undefined && process.env.CI === 'true') throw new Error(`snapd's newest Go source is required in CI: ${reason}`)

describe("snapd's asserts package judges our hardware identities", {skip: env === undefined ? reason : undefined}, () => {
  let checker = ''
  const {brand: issuer, root} = testKeys()
  const chain = makeBrandChain(root, issuer, {brandId: 'acme-brand'})
  const judge = async (assertions: string[], nonces: NonceCase[] = []): Promise<Verdicts> => {
    const child = promisify(execFile)(checker, [], {maxBuffer: 64 * 1024 * 1024, timeout: 60_000})
    child.child.stdin!.end(JSON.stringify({assertions: [chain.account.text, chain.accountKey.text, ...assertions], nonces, trusted: chain.trusted.map((a) => a.text)}))
    const verdicts = JSON.parse((await child).stdout) as Verdicts
    assert.deepEqual(
      verdicts.assertions.slice(0, 2).map((v) => v.check),
      ['ok', 'ok'],
      "the issuer's chain",
    )
    return {...verdicts, assertions: verdicts.assertions.slice(2)}
  }

  const identity = (type: HardwareKeyType, overrides: Partial<Parameters<typeof hardwareIdentityInput>[0]> = {}) =>
    signAssertion(
      hardwareIdentityInput({
        hardwareId: `ACME-${type}`,
        hardwareName: 'acme-gw-r2',
        issuerId: 'acme-brand',
        key: hardwareKeys()[type].id,
        manufacturer: 'Acme Devices Ltd. — Werk 2',
        timestamp: '2026-05-01T08:00:00Z',
        ...overrides,
      }),
      issuer,
      {signatureTime: SIGNATURE_TIME},
    ).text

  before(async () => {
    checker = await buildSnapdNewestTool(env!, fixtures('assertions', 'hardware-identity-check.go'), 'hardware-identity-check')
  })

  test('every key type: decoded and added under the issuer chain, with the values we wrote', async () => {
    const texts = HARDWARE_KEY_TYPES.map((type) => identity(type))
    const verdicts = await judge(texts)
    for (const [i, type] of HARDWARE_KEY_TYPES.entries()) {
      const verdict = verdicts.assertions[i]
      assert.equal(verdict.check, 'ok', `${type}: ${verdict.check}`)
      const ours = hardwareIdentityView(parseAssertion(texts[i]))
      assert.deepEqual(verdict.hardware, {
        'hardware-id': ours.hardwareId,
        'hardware-id-key-sha3-384': ours.hardwareIdKeyDigest,
        'hardware-name': ours.hardwareName,
        'issuer-id': ours.issuerId,
        'key-type': CURVES[type] ?? type,
        manufacturer: ours.manufacturer,
      })
      assert.equal(verdict.headers?.['hardware-id-key'], hardwareKeys()[type].id.text, 'the key header as one line')
    }
  })

  test('what we refuse to read, snapd refuses to decode or add; what we read, it adds', async () => {
    const good = identity('ecdsa-p256')
    const head = good.slice(0, good.indexOf('\n\n'))
    const raw = (headers: Record<string, string>, key = issuer): string => signAssertion({headers, type: 'hardware-identity'} as AssertionInput, key, {signatureTime: SIGNATURE_TIME}).text
    const base = Object.fromEntries(
      head
        .split('\n')
        .slice(1, -1)
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
    )
    const key = hardwareKeys()['rsa-2048'].id.text
    const wrapped = key.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')
    const stranger = signingKeyFromKeyObject(generateKeyPairSync('rsa', {modulusLength: 4096}).privateKey)
    const cases: Record<string, [string, boolean]> = {
      'as made': [good, true],
      'authority is not the issuer': [raw({...base, 'authority-id': 'canonical'}), false],
      'issuer id with an underscore': [raw({...base, 'authority-id': 'acme_brand', 'issuer-id': 'acme_brand'}), false],
      'hardware-name with a space': [raw({...base, 'hardware-name': 'acme gw'}), false],
      'digest of the DER bytes (the reference example)': [raw({...base, 'hardware-id-key-sha3-384': createHash('sha3-384').update(Buffer.from(base['hardware-id-key'], 'base64')).digest('base64url')}), false],
      'empty manufacturer left out': [raw(Object.fromEntries(Object.entries(base).filter(([k]) => k !== 'manufacturer'))), false],
      'key that is not a key': [raw({...base, 'hardware-id-key': 'bm90IGEga2V5', 'hardware-id-key-sha3-384': hardwareIdKeyDigest('bm90IGEga2V5')}), false],
      'key wrapped over lines, digest over the wrapped text': [raw({...base, 'hardware-id-key': wrapped, 'hardware-id-key-sha3-384': hardwareIdKeyDigest(wrapped)}), true],
      'key wrapped over lines, digest over the one-line text': [raw({...base, 'hardware-id-key': wrapped, 'hardware-id-key-sha3-384': hardwareIdKeyDigest(key)}), false],
      'signed by a key the issuer never registered': [raw(base, stranger), true],
    }
    const names = Object.keys(cases)
    const verdicts = await judge(names.map((name) => cases[name][0]))
    for (const [i, name] of names.entries()) {
      const [text, weRead] = cases[name]
      let ours = true
      try {
        hardwareIdentityView(parseAssertion(text))
      } catch {
        ours = false
      }

      assert.equal(ours, weRead, `${name}: our view`)
      const check = verdicts.assertions[i].check
      if (name === 'signed by a key the issuer never registered') {
        assert.match(check, /no matching public key/, name)
      } else {
        assert.equal(check === 'ok', weRead, `${name}: snapd says ${check}`)
      }
    }
  })

  test('VerifyNonceSignature: the device signatures of every key type verify; tampered ones, raw ECDSA and the wrong hash do not; our verifier agrees', async () => {
    const requestId = 'f3b1c0de9a8e4b7c6d5e4f3a2b1c0d9e8f7a6b5c'
    const cases: {name: string; type: HardwareKeyType; nonce: string; signature: Buffer; hash: string; ok: boolean}[] = []
    for (const type of HARDWARE_KEY_TYPES) {
      const key = hardwareKeys()[type]
      const good = signRequestId(key, requestId)
      const hash = nonceHashOf(type)
      const flipped = Buffer.from(good)
      flipped[flipped.length >> 1] ^= 0x40
      cases.push(
        {hash, name: `${type}: as signed`, nonce: requestId, ok: true, signature: good, type},
        {hash, name: `${type}: the text read back from URL-safe unpadded base64`, nonce: requestId, ok: true, signature: decodeNonceSignatureText(good.toString('base64url'))!, type},
        {hash, name: `${type}: a byte of the signature changed`, nonce: requestId, ok: false, signature: flipped, type},
        {hash, name: `${type}: another nonce`, nonce: `${requestId.slice(0, -1)}0`, ok: false, signature: good, type},
        {hash, name: `${type}: the nonce with a newline`, nonce: `${requestId}\n`, ok: false, signature: good, type},
        {hash: hash === 'sha256' ? 'sha512' : 'sha256', name: `${type}: another hash`, nonce: requestId, ok: false, signature: good, type},
      )
      if (type.startsWith('ecdsa')) {
        cases.push(
          {hash, name: `${type}: raw r||s`, nonce: requestId, ok: false, signature: sign(hash, Buffer.from(requestId), {dsaEncoding: 'ieee-p1363', key: key.privateKey}), type},
          {hash, name: `${type}: DER and a byte after it`, nonce: requestId, ok: false, signature: Buffer.concat([good, Buffer.of(0)]), type},
        )
      } else {
        cases.push(
          {hash, name: `${type}: PSS`, nonce: requestId, ok: false, signature: sign(hash, Buffer.from(requestId), {key: key.privateKey, padding: 6}), type},
          {hash, name: `${type}: one byte short`, nonce: requestId, ok: false, signature: good.subarray(1), type},
        )
      }
    }

    const identities = Object.fromEntries(HARDWARE_KEY_TYPES.map((type) => [type, identity(type)]))
    const verdicts = await judge(
      [],
      cases.map((c) => ({hash: c.hash, identity: identities[c.type], nonce: c.nonce, signature: c.signature.toString('base64')})),
    )
    for (const [i, c] of cases.entries()) {
      assert.equal(verdicts.nonces[i] === 'ok', c.ok, `${c.name}: snapd says ${verdicts.nonces[i]}`)
      const ours = verifyNonceSignature(hardwareKeys()[c.type].id.key, c.nonce, c.signature, c.hash as 'sha256')
      assert.equal(ours.valid, c.ok, `${c.name}: ours says ${JSON.stringify(ours)}`)
    }
  })
})
