import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {describe, test} from 'node:test'

import {parseAssertion} from '../../src/assertions/decode.js'
import {signAssertion, signAssertionAsync} from '../../src/assertions/sign.js'
import {verifyAssertionSignature} from '../../src/assertions/verify.js'
import {UserError} from '../../src/errors.js'
import {makeBrandChain, makeSerialRequest, SIGNATURE_TIME, testKeys} from '../helpers/assertions.js'

const signatureBytes = (signature: string): Buffer => Buffer.from(signature.replaceAll('\n', ''), 'base64')

describe('signAssertion', () => {
  test('text = content, an empty line, the signature, "\\n"; the assertion is the text parsed back', () => {
    const {device} = testKeys()
    const signed = makeSerialRequest({body: 'mac: "x"\n', brandId: 'acme-brand', deviceKey: device, model: 'acme-gateway', requestId: 'R'})
    assert.ok(signed.text.endsWith('\n'))
    assert.deepEqual(signed.assertion, parseAssertion(signed.text))
    assert.equal(signed.text, `${Buffer.from(signed.assertion.content).toString('utf8')}\n\n${signed.assertion.signature}\n`)
    assert.equal(signed.assertion.headers['sign-key-sha3-384'], device.keyId)
    assert.equal(signed.assertion.headers['body-length'], '9')
    assert.deepEqual(verifyAssertionSignature(signed.assertion, device.encodedPublicKey), {keyId: device.keyId, valid: true})
  })

  test('an empty body: no body-length, no body section', () => {
    const signed = makeSerialRequest({body: '', brandId: 'acme-brand', deviceKey: testKeys().device, model: 'acme-gateway', requestId: 'R'})
    assert.equal(signed.assertion.headers['body-length'], undefined)
    assert.match(signed.text, /\nsign-key-sha3-384: [\w-]{64}\n\nAcLB/)
  })

  test('the packet is what snapd writes: v4, binary, RSA, SHA-512, creation time only, no unhashed subpackets, hash tag, MPI', () => {
    for (const key of [testKeys().device, testKeys().device2048]) {
      const signed = makeSerialRequest({brandId: 'b', deviceKey: key, model: 'm', requestId: 'R'})
      const bytes = signatureBytes(signed.assertion.signature)
      const modulusBytes = key.bits / 8
      const bodyLength = 4 + 2 + 6 + 2 + 2 + 2 + modulusBytes
      assert.equal(bytes[0], 0x01)
      assert.equal(bytes[1], 0xc2, 'new-format packet, tag 2')
      assert.equal(((bytes[2] - 192) << 8) + bytes[3] + 192, bodyLength, 'two-byte length')
      const body = bytes.subarray(4)
      assert.deepEqual([...body.subarray(0, 8)], [4, 0x00, 1, 10, 0, 6, 5, 2])
      assert.equal(body.readUInt32BE(8), SIGNATURE_TIME.getTime() / 1000)
      assert.deepEqual([...body.subarray(12, 14)], [0, 0], 'no unhashed subpackets (snapd sets no issuer)')
      const hashedPart = body.subarray(0, 12)
      const trailer = Buffer.from([4, 0xff, 0, 0, 0, 12])
      const digest = createHash('sha512')
        .update(Buffer.concat([signed.assertion.content, hashedPart, trailer]))
        .digest()
      assert.deepEqual(body.subarray(14, 16), digest.subarray(0, 2), 'the first two bytes of the digest')
      assert.equal(body.readUInt16BE(16), key.bits, "MPI bit count: 8 × the value's bytes")
      assert.equal(body.length, 18 + modulusBytes)
      assert.equal(
        signed.assertion.signature
          .split('\n')
          .slice(0, -1)
          .every((line) => line.length === 76),
        true,
        '76-column lines',
      )
    }
  })

  test('a value with a leading zero byte keeps it, and its bit count stays 8 × its length (as x/crypto writes it)', () => {
    const key = testKeys().device2048
    let found = false
    for (let second = 0; second < 4000 && !found; second++) {
      const signed = makeSerialRequest({brandId: 'b', deviceKey: key, model: 'm', requestId: 'R', signatureTime: new Date(Date.UTC(2026, 0, 1) + second * 1000)})
      const bytes = signatureBytes(signed.assertion.signature)
      if (bytes[4 + 18] !== 0) continue
      found = true
      assert.equal(bytes.readUInt16BE(4 + 16), 2048)
      assert.equal(bytes.length, 4 + 18 + 256)
      assert.equal(verifyAssertionSignature(signed.assertion, key.encodedPublicKey).valid, true)
    }

    assert.ok(found, 'one signature in 256 starts with a zero byte')
  })

  test('deterministic for a fixed time; the time changes the bytes; whole seconds are kept', () => {
    const {brand} = testKeys()
    const chain = makeBrandChain(testKeys().root, brand)
    assert.equal(chain.signModel().text, chain.signModel().text)
    const model = chain.signModel().assertion
    const input = {headers: Object.fromEntries(Object.entries(model.headers).filter(([name]) => name !== 'sign-key-sha3-384')), type: 'model'}
    const at = (iso: string): string => signAssertion(input, brand, {signatureTime: new Date(iso)}).text
    assert.equal(at('2026-01-01T00:00:00.999Z'), at('2026-01-01T00:00:00.000Z'))
    assert.notEqual(at('2026-01-01T00:00:01Z'), at('2026-01-01T00:00:00Z'))
  })

  test('without a time, the signature is made now', () => {
    const signed = signAssertion({headers: {'brand-id': 'b', 'device-key': testKeys().device.encodedPublicKey, model: 'm', 'request-id': 'r'}, type: 'serial-request'}, testKeys().device)
    const seconds = signatureBytes(signed.assertion.signature).readUInt32BE(4 + 8)
    assert.ok(Math.abs(seconds * 1000 - Date.now()) < 60_000)
  })

  test('the signature covers the content: a changed byte, or another key, fails verification', () => {
    const {brand, root} = testKeys()
    const model = makeBrandChain(root, brand).signModel().assertion
    const changed = Buffer.from(model.content)
    changed[changed.indexOf('acme-gateway')] ^= 0x20
    assert.equal(verifyAssertionSignature({...model, content: changed}, brand.encodedPublicKey).valid, false)
    assert.match(verifyAssertionSignature(model, root.encodedPublicKey).reason ?? '', /signed by key .* not by/)
  })

  test('a signature time OpenPGP cannot hold is refused', () => {
    const input = {headers: {'brand-id': 'b', 'device-key': 'k', model: 'm', 'request-id': 'r'}, type: 'serial-request'}
    for (const time of [new Date('1969-12-31T23:59:59Z'), new Date('2106-02-08T00:00:00Z'), new Date(Number.NaN)]) {
      assert.throws(
        () => signAssertion(input, testKeys().device, {signatureTime: time}),
        (error: unknown) => error instanceof UserError && /outside OpenPGP's range/.test(error.message),
      )
    }
  })
})

describe('signAssertionAsync', () => {
  test("the same bytes as signAssertion for the same input, key and time, with the RSA on libuv's thread pool", async () => {
    const {brand, root} = testKeys()
    const model = makeBrandChain(root, brand).signModel().assertion
    const input = {body: 'a body\n', headers: Object.fromEntries(Object.entries(model.headers).filter(([name]) => !['body-length', 'sign-key-sha3-384'].includes(name))), type: 'model'}
    const signatureTime = new Date('2026-06-01T12:00:00Z')
    const inPool = await signAssertionAsync(input, brand, {signatureTime})
    assert.equal(inPool.text, signAssertion(input, brand, {signatureTime}).text)
    assert.equal(verifyAssertionSignature(inPool.assertion, brand.encodedPublicKey).valid, true)
  })

  test('refuses what signAssertion refuses, as a rejected promise', async () => {
    const input = {headers: {'brand-id': 'b', 'device-key': 'k', model: 'm', 'request-id': 'r'}, type: 'serial-request'}
    await assert.rejects(signAssertionAsync(input, testKeys().device, {signatureTime: new Date(Number.NaN)}), (error: unknown) => error instanceof UserError && /outside OpenPGP's range/.test(error.message))
    await assert.rejects(signAssertionAsync({headers: {}, type: 'no-such-type'}, testKeys().device), UserError)
  })
})
