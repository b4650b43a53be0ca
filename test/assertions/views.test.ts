/** Typed views: the headers each use needs, from snapd-signed fixtures; a missing one is named with its line. */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'

import {accountKeyValidAt, accountKeyView, modelView, parseAssertion, serialRequestView, serialView} from '../../src/assertions/index.js'
import {UserError} from '../../src/errors.js'
import {makeBrandChain, testKeys} from '../helpers/assertions.js'
import {shared} from '../helpers/paths.js'

const fixture = (name: string) => parseAssertion(readFileSync(shared('fixtures', 'assertions', name), 'utf8'))

test('model, serial-request and serial views of what snap sign made', () => {
  const model = modelView(fixture('model-uc22.assert'))
  assert.equal(model.brandId, model.authorityId)
  assert.match(model.model, /\S/)
  assert.deepEqual(model.serialAuthority, [])
  assert.equal(model.signKeyId.length, 64)

  const request = serialRequestView(fixture('serial-request.assert'))
  assert.match(request.requestId, /\S/)
  assert.ok(request.deviceKey.startsWith('AcbB'))
  assert.equal(request.original, undefined)

  const serial = serialView(fixture('serial.assert'))
  assert.deepEqual([serial.brandId, serial.model, serial.serial, serial.revision], ['acme-brand', 'acme-gateway-22', 'ACME-0000000012345678', 1])
  assert.equal(serial.deviceKeyId, 'Q5TCz_HIbI7anu6gPp3sbw_st2_yHws8EwJBHfCmwlnHTQDO7BON17MPuN3WSQKn')
})

test('an account-key: its validity window, as snapd judges a signing key', () => {
  const {brand, root} = testKeys()
  const key = accountKeyView(parseAssertion(makeBrandChain(root, brand, {since: '2024-01-01T00:00:00Z', until: '2025-01-01T00:00:00Z'}).accountKey.text))
  assert.equal(key.publicKeyId, brand.keyId)
  assert.ok(!accountKeyValidAt(key, new Date('2023-12-31T23:59:59Z')))
  assert.ok(accountKeyValidAt(key, new Date('2024-06-01T00:00:00Z')))
  assert.ok(!accountKeyValidAt(key, new Date('2025-01-01T00:00:00Z')), 'until is exclusive')
})

test('a missing header, a header of the wrong shape and the wrong type are UserErrors at the assertion', () => {
  const text = readFileSync(shared('fixtures', 'assertions', 'serial.assert'), 'utf8')
  const withoutSerial = parseAssertion(text.replace(/^serial: .*\n/m, 'serial:\n  - a\n  - b\n'), {})
  assert.throws(
    () => serialView(withoutSerial, 'x.assert'),
    (error: unknown) => error instanceof UserError && error.code === 'E_ASSERTION_HEADER' && /serial header that is a list, not a string/.test(error.message) && error.file === 'x.assert' && error.line === 1,
  )
  assert.throws(() => modelView(fixture('serial.assert')), /the model assertion is a serial assertion/)
})
