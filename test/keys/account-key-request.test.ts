/**
 * The account-key-request made without snap: laid out as snap export-key --account lays it out,
 * self-signed, and accepted by snapd's own asserts package. (Byte for byte against snap itself: in
 * test/commands/key.test.ts, through the key manager.)
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {before, describe, test} from 'node:test'

import {parseAssertion} from '../../src/assertions/decode.js'
import {verifyAssertionSignature} from '../../src/assertions/verify.js'
import {UserError} from '../../src/errors.js'
import {makeAccountKeyRequest} from '../../src/keys/account-key-request.js'
import {SNAPD_PACKAGES, snapdCheck, testKeys} from '../helpers/assertions.js'
import {fixtures, shared} from '../helpers/paths.js'
import {buildGoTool, goUnavailable, requireGo} from '../runtime/helpers.js'

const SINCE = new Date('2026-03-04T05:06:07.890Z')

describe('makeAccountKeyRequest', () => {
  let checker = ''
  before(async () => {
    if (goUnavailable(SNAPD_PACKAGES) === undefined) checker = await buildGoTool(fixtures('assertions', 'snapd-check.go'), 'snapd-check')
  })

  test("the headers snap export-key --account writes, in its order; the key's own encoding as the body; self-signed", () => {
    const {brand} = testKeys()
    const request = makeAccountKeyRequest({accountId: 'acme-brand', key: brand, name: 'serials', since: SINCE})
    const expected = [
      'type: account-key-request',
      `public-key-sha3-384: ${brand.keyId}`,
      'account-id: acme-brand',
      'name: serials',
      'since: 2026-03-04T05:06:07Z',
      'body-length: 717',
      `sign-key-sha3-384: ${brand.keyId}`,
      '',
      brand.encodedPublicKey,
      '',
    ].join('\n')
    assert.ok(request.text.startsWith(expected), request.text)
    assert.deepEqual(verifyAssertionSignature(request.assertion, brand.encodedPublicKey), {keyId: brand.keyId, valid: true})
    // snap's own request (shared fixtures) has the same headers in the same order.
    const snaps = parseAssertion(readFileSync(shared('fixtures', 'assertions', 'account-key-request.assert'), 'utf8'))
    assert.deepEqual(Object.keys(snaps.headers), Object.keys(request.assertion.headers))
  })

  test("snapd's asserts package decodes it and checks its self-signature", async (t) => {
    if (!requireGo(t, SNAPD_PACKAGES)) return
    const {brand, device} = testKeys()
    const request = makeAccountKeyRequest({accountId: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345', key: brand, name: 'serials-2026', since: SINCE})
    const content = request.text.slice(0, request.text.lastIndexOf('\n\n'))
    const otherSignature = makeAccountKeyRequest({accountId: 'acme-brand', key: device, name: 'serials', since: SINCE}).assertion.signature
    const [verdict, forged] = await snapdCheck(checker, [], [request.text, `${content}\n\n${otherSignature}\n`])
    assert.equal(verdict.check, 'ok')
    assert.equal(verdict.type, 'account-key-request')
    assert.equal(verdict.headers?.['account-id'], 'AbCdEfGhIjKlMnOpQrStUvWxYz012345')
    assert.notEqual(forged.check, 'ok', 'a signature by another key is refused: the check is not vacuous')
  })

  test('since defaults to now, in whole seconds; the signature time to since', () => {
    const before = Math.floor(Date.now() / 1000) * 1000
    const request = makeAccountKeyRequest({accountId: 'acme-brand', key: testKeys().brand, name: 'serials'})
    const since = Date.parse(request.assertion.headers.since as string)
    assert.ok(since >= before && since <= Date.now(), String(request.assertion.headers.since))
    assert.match(request.assertion.headers.since as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  })

  test('what snapd or the store would refuse: an account id, a key name, a key under 4096 bits', () => {
    const {brand, device2048} = testKeys()
    const refused = (input: Parameters<typeof makeAccountKeyRequest>[0], message: RegExp): void => {
      assert.throws(
        () => makeAccountKeyRequest(input),
        (error: unknown) => error instanceof UserError && error.code === 'E_ACCOUNT_KEY_REQUEST' && message.test(error.message),
      )
    }

    refused({accountId: 'Acme Brand', key: brand, name: 'serials'}, /^"Acme Brand" is not an account id$/)
    refused({accountId: 'a', key: brand, name: 'serials'}, /is not an account id/)
    refused({accountId: 'acme-brand', key: brand, name: 'Serials'}, /^"Serials" is not a key name: lower-case letters/)
    refused({accountId: 'acme-brand', key: brand, name: '../serials'}, /is not a key name/)
    refused({accountId: 'acme-brand', key: device2048, name: 'serials'}, /the key is 2048 bits; snapd signs with a key it did not make itself only from 4096 bits/)
    refused({accountId: 'acme-brand', key: brand, name: 'serials', since: new Date('nonsense')}, /the date is not valid/)
  })
})
