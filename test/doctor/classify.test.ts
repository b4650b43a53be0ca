/**
 * snapd's texts on the registration path → causes: the texts registration-failures.md quotes from
 * a real 2.57.6 daemon and from snapd's source (2.57 … 2.77), Go 1.19's and Go 1.20+'s TLS texts,
 * and every refusal `serve` can send (its message ends with the refusal's fix).
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {classifyMessage, serveRefusal} from '../../src/doctor/classify.js'
import {CAUSES} from '../../src/doctor/causes.js'
import {REFUSALS, type RefusalCode, ServiceRefusal} from '../../src/service/refusals.js'

const RID = 'cannot retrieve request-id for making a request for a serial'
const DELIVER = 'cannot deliver device serial request'

const cases: [string, string, string][] = [
  // The real 2.57.6 daemon (registration-failures.md, cap).
  [`${RID}: Post "https://api.snapcraft.io/api/v1/snaps/auth/request-id": dial tcp: lookup api.snapcraft.io on 10.255.255.53:53: no such host`, 'dns', 'request-id'],
  [`${RID}: Post "https://api.snapcraft.io/api/v1/snaps/auth/request-id": x509: certificate signed by unknown authority`, 'tls-unknown-authority', 'request-id'],
  [`${DELIVER}: Serial vault refused the request: model not enabled`, 'model-not-served', 'serial-request'],
  ['Will poll for device serial assertion in 60 seconds', 'serial-polling', 'serial-request'],
  // Transport, by Go version.
  [`${RID}: Post "https://vault.example/v1/request-id": tls: failed to verify certificate: x509: certificate signed by unknown authority`, 'tls-unknown-authority', 'request-id'],
  [`${RID}: Post "https://v/v1/request-id": x509: certificate has expired or is not yet valid: current time 2026-01-01T00:00:00Z is before 2026-03-01T00:00:00Z`, 'clock-behind', 'request-id'],
  [`${RID}: Post "https://v/v1/request-id": x509: certificate has expired or is not yet valid: current time 2027-01-01T00:00:00Z is after 2026-12-01T00:00:00Z`, 'certificate-expired', 'request-id'],
  [`${RID}: Post "https://v/v1/request-id": tls: failed to verify certificate: x509: certificate is valid for other.example, not v`, 'tls-hostname', 'request-id'],
  [`${RID}: Post "https://v/v1/request-id": remote error: tls: handshake failure`, 'tls-failed', 'request-id'],
  [`${RID}: Post "http://127.0.0.1:1/v1/request-id": dial tcp 127.0.0.1:1: connect: connection refused`, 'service-unreachable', 'request-id'],
  [`${RID}: Post "http://v/v1/request-id": dial tcp 10.0.0.9:443: i/o timeout`, 'service-unreachable', 'request-id'],
  [`${RID}: Post "https://v/v1/request-id": proxyconnect tcp: dial tcp 127.0.0.1:3128: connect: connection refused`, 'proxy-unreachable', 'request-id'],
  [`${RID}: Post "https://v/v1/request-id": dial tcp: lookup v on 127.0.0.53:53: Temporary failure in name resolution`, 'no-network', 'request-id'],
  [`${DELIVER}: Post "http://v/v1/serial": EOF`, 'service-unreachable', 'serial-request'],
  // Statuses.
  [`${RID}: unexpected status 401`, 'api-key-invalid', 'request-id'],
  [`${RID}: unexpected status 404`, 'service-url-wrong', 'request-id'],
  [`${RID}: unexpected status 503`, 'service-error', 'request-id'],
  [`${DELIVER}: unexpected status 500`, 'service-error', 'serial-request'],
  [`${DELIVER}: unexpected status 409`, 'service-refused', 'serial-request'],
  [`${RID}: unexpected status 429`, 'request-id-refused', 'request-id'],
  ["cannot read response with request-id for making a request for a serial: invalid character '<' looking for beginning of value", 'service-url-wrong', 'request-id'],
  // The hooks.
  ['run hook "prepare-device": exit status 1', 'prepare-device-hook-failed', 'prepare-device'],
  ['run hook "prepare-device": \n-----\nline one\nline two\n-----', 'prepare-device-hook-failed', 'prepare-device'],
  ['run hook "prepare-device": waiting\n<exceeded maximum runtime of 10m0s>', 'prepare-device-hook-timeout', 'prepare-device'],
  ['failed to run prepare serial request hook: cannot run prepare serial request hook: run hook "prepare-serial-request": exit status 2', 'serial-hook-failed', 'prepare-serial-request'],
  ['failed to run prepare serial request hook: \'prepare-serial-request\' hook did not set mandatory field "hardware-id-key-sha384" in registration body', 'serial-hook-body-invalid', 'prepare-serial-request'],
  [
    'failed to run prepare serial request hook: cannot unmarshal registration body as JSON (hook did not overwrite or wrote incorrectly?): json: cannot unmarshal string into Go value of type map[string]interface {}',
    'serial-hook-body-invalid',
    'prepare-serial-request',
  ],
  [
    'internal error: cannot unmarshal snap "gw-100-gadget" option "registration.body" into *string: json: cannot unmarshal object into Go value of type string, json: {"a":"b"}',
    'serial-hook-body-object',
    'prepare-serial-request',
  ],
  ['internal error: cannot unmarshal snap "g" option "device-service.headers" into *map[string]string: json: cannot unmarshal string into Go value of type map[string]string', 'gadget-config', 'request-id'],
  // Keys, options, the serial's checks.
  ['cannot generate device key pair: EOF', 'device-key-failed', 'device-key'],
  ['cannot store device key pair: internal error: cannot access device keypair manager if ubuntu-save is unavailable', 'device-key-failed', 'device-key'],
  ['internal error: cannot find device key pair', 'device-key-missing', 'device-key'],
  ['cannot find gadget snap "pc": snap "pc" is not installed', 'gadget-config', 'request-id'],
  ['cannot parse device registration base URL "::": missing protocol scheme', 'gadget-config', 'request-id'],
  ['obtained serial assertion does not match provided device identity information (brand, model, key id): a / b / k != a / c / k', 'serial-mismatch', 'serial-checks'],
  ['obtained serial assertion is signed by authority "x" different from brand "a" without model assertion with serial-authority set to to allow for them', 'serial-authority', 'serial-checks'],
  ['cannot fetch signing key for the serial: account-key (abc) not found', 'serial-key-unknown', 'serial-checks'],
  ['cannot accept stream of assertions from device service: cannot resolve prerequisite assertion: account-key (abc)', 'serial-key-untrusted', 'serial-checks'],
  ['cannot accept stream of assertions from device service: cannot accept some assertions:\n - serial (1; brand-id:a model:m): no matching public key "k" for signature by "a"', 'serial-key-untrusted', 'serial-checks'],
  ['serial assertion timestamp "2020-01-01T00:00:00Z" outside of signing key validity (key valid since "2021-01-01T00:00:00Z")', 'serial-key-validity', 'serial-checks'],
  ['failed signature verification: crypto/rsa: verification error', 'serial-signature', 'serial-checks'],
  ['cannot read response to request for a serial: unexpected EOF', 'serial-response-invalid', 'serial-request'],
  ['cannot proceed, received assertion stream from the device service missing device serial assertion', 'serial-response-invalid', 'serial-request'],
  ['cannot save serial to device save assertion database: broken', 'serial-save', 'serial-checks'],
]

describe("snapd's texts → causes", () => {
  for (const [text, code, step] of cases) {
    it(`${code}: ${text.slice(0, 90).replaceAll('\n', ' ')}`, () => {
      const found = classifyMessage(text)
      assert.equal(found?.code, code)
      assert.equal(found?.step, step)
      assert.ok((CAUSES[found.code].steps as readonly string[]).includes(found.step), `${code} is not said to happen at ${step}`)
    })
  }

  it('an unknown text is unknown; a transport error doctor does not know keeps its step', () => {
    assert.equal(classifyMessage('something snapd never said'), undefined)
    assert.deepEqual(classifyMessage(`${DELIVER}: Post "http://v/v1/serial": something new`), {code: 'unknown-error', step: 'serial-request', url: 'http://v/v1/serial'})
  })

  it("what a text carries: the URL, the clock and the certificate's bounds, the hook's output and the runtime's own fix", () => {
    const clock = classifyMessage(`${RID}: Post "https://v/v1/request-id": x509: certificate has expired or is not yet valid: current time 2026-01-01T00:00:00Z is before 2026-03-01T00:00:00Z`)
    assert.equal(clock?.url, 'https://v/v1/request-id')
    assert.equal(clock?.deviceTime, '2026-01-01T00:00:00Z')
    assert.equal(clock?.notBefore, '2026-03-01T00:00:00Z')
    const hook = classifyMessage('run hook "prepare-device": \n-----\nprepare-device: no usable serial: none (fix: run `snap-gadget probe`)\n-----')
    assert.equal(hook?.hookOutput, 'prepare-device: no usable serial: none (fix: run `snap-gadget probe`)')
    assert.equal(hook?.runtimeFix, 'run `snap-gadget probe`')
    assert.equal(classifyMessage(`${RID}: unexpected status 401`)?.status, 401)
  })

  it('every refusal serve sends is recognised by its code, and each maps to a cause at the step it happens', () => {
    for (const code of Object.keys(REFUSALS) as RefusalCode[]) {
      const message = new ServiceRefusal(code).message
      assert.equal(serveRefusal(message), code, message)
      for (const prefix of [RID, DELIVER]) {
        const found = classifyMessage(`${prefix}: ${message}`)
        assert.ok(found, message)
        assert.equal(found.refusal, code)
        assert.equal(found.serviceMessage, message)
        assert.notEqual(found.code, 'unknown-error')
      }
    }

    // The api-key of another model, at the serial step: the model is not served.
    const other = new ServiceRefusal('api-key-invalid', 'the api-key is not the one of model "acme/gw-200" that the serial-request names').message
    assert.equal(classifyMessage(`${DELIVER}: ${other}`)?.code, 'model-not-served')
    assert.equal(classifyMessage(`${RID}: ${new ServiceRefusal('api-key-invalid').message}`)?.code, 'api-key-invalid')
    assert.equal(classifyMessage(`${DELIVER}: ${new ServiceRefusal('serial-taken', 'serial X of a/b was issued to another device key').message}`)?.code, 'serial-taken')
    assert.equal(classifyMessage(`${DELIVER}: ${new ServiceRefusal('request-id-expired').message}`)?.code, 'request-id-rejected')
  })
})
