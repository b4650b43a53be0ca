import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {describe, test} from 'node:test'

import {type HeaderMap, type HeaderValue, parseAssertion} from '../../src/assertions/decode.js'
import {assertionContent, type AssertionInput, encodeHeaders} from '../../src/assertions/encode.js'
import {UserError} from '../../src/errors.js'
import {shared} from '../helpers/paths.js'

const KEY_ID = 'K'.repeat(64)
const content = (input: AssertionInput): string => assertionContent(input, KEY_ID).content
const lines = (...all: string[]): string => all.join('\n')

function refused(input: AssertionInput, message: RegExp, hint?: RegExp): void {
  assert.throws(
    () => assertionContent(input, KEY_ID),
    (error: unknown) => {
      assert.ok(error instanceof UserError, String(error))
      assert.equal(error.code, 'E_ASSERTION_INPUT')
      assert.match(error.message, /^cannot sign the assertion: /)
      assert.match(error.message, message)
      if (hint) assert.match(error.hint ?? '', hint)
      return true
    },
  )
}

describe('the content snap sign signed, byte for byte (shared fixtures)', () => {
  const dir = shared('fixtures', 'assertions')
  for (const json of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    test(json, () => {
      const {body, type, ...headers} = JSON.parse(readFileSync(`${dir}/${json}`, 'utf8')) as {body?: string; type: string} & HeaderMap
      const signed = parseAssertion(readFileSync(`${dir}/${json.replace(/\.json$/, '.assert')}`))
      const ours = assertionContent({body, headers, type}, String(signed.headers['sign-key-sha3-384']))
      assert.equal(ours.content, Buffer.from(signed.content).toString('utf8'))
      assert.deepEqual(Object.keys(ours.headers), Object.keys(signed.headers))
    })
  }
})

describe('header order (asserts.go assembleAndSign)', () => {
  test('type, authority-id, revision, primary key in its order, the rest by name, body-length, sign key', () => {
    const text = content({
      body: 'b\n',
      headers: {
        zeta: 'z',
        serial: 'S1',
        'device-key-sha3-384': 'd',
        model: 'm',
        revision: '2',
        'brand-id': 'acme',
        'authority-id': 'acme',
        alpha: 'a',
        timestamp: '2024-01-01T00:00:00Z',
      },
      type: 'serial',
    })
    assert.equal(
      text,
      lines(
        'type: serial',
        'authority-id: acme',
        'revision: 2',
        'brand-id: acme',
        'model: m',
        'serial: S1',
        'alpha: a',
        'device-key-sha3-384: d',
        'timestamp: 2024-01-01T00:00:00Z',
        'zeta: z',
        'body-length: 2',
        `sign-key-sha3-384: ${KEY_ID}`,
        '',
        'b\n',
      ),
    )
  })

  test('format comes before authority-id and only when not 0; revision 0 is left out', () => {
    const declaration = {'authority-id': 'canonical', 'publisher-id': 'p', series: '16', 'snap-id': 'i', 'snap-name': 'n', timestamp: 't'}
    assert.match(content({headers: {...declaration, format: '2', revision: '0'}, type: 'snap-declaration'}), /^type: snap-declaration\nformat: 2\nauthority-id: canonical\nseries: 16\nsnap-id: i\npublisher-id: p\n/)
    assert.match(content({headers: {...declaration, format: '0'}, type: 'snap-declaration'}), /^type: snap-declaration\nauthority-id: canonical\nseries: 16\n/)
    refused({headers: {...declaration, format: '6'}, type: 'snap-declaration'}, /up to format 5, not 6/)
    refused({headers: {'authority-id': 'a', 'brand-id': 'a', format: '1', model: 'm', series: '16'}, type: 'model'}, /signs model assertions up to format 0/)
  })

  test('signatory-id follows authority-id when it differs, and is not written when it is the same', () => {
    const headers = {'account-id': 'a', 'authority-id': 'root', 'display-name': 'A', validation: 'verified'}
    assert.match(content({headers: {...headers, 'signatory-id': 'delegate'}, type: 'account'}), /^type: account\nauthority-id: root\nsignatory-id: delegate\naccount-id: a\n/)
    assert.doesNotMatch(content({headers: {...headers, 'signatory-id': 'root'}, type: 'account'}), /signatory-id/)
  })

  test('an optional primary key at its default is not written (snap-revision provenance)', () => {
    const headers = {'authority-id': 'c', 'developer-id': 'd', 'snap-id': 'i', 'snap-revision': '1', 'snap-sha3-384': 'h', 'snap-size': '1', timestamp: 't'}
    assert.doesNotMatch(content({headers: {...headers, provenance: 'global-upload'}, type: 'snap-revision'}), /provenance/)
    assert.doesNotMatch(content({headers, type: 'snap-revision'}), /provenance/)
    assert.match(content({headers: {...headers, provenance: 'acme-ci'}, type: 'snap-revision'}), /\nsnap-sha3-384: h\nprovenance: acme-ci\ndeveloper-id: d\n/)
  })

  test('serial-request: no authority, no primary key: the rest by name', () => {
    assert.equal(
      content({headers: {'request-id': 'r', model: 'm', 'brand-id': 'b', 'device-key': 'k'}, type: 'serial-request'}),
      lines('type: serial-request', 'brand-id: b', 'device-key: k', 'model: m', 'request-id: r', `sign-key-sha3-384: ${KEY_ID}`),
    )
  })

  test('the returned headers are in the written order, as parseAssertion returns them', () => {
    const {content: text, headers} = assertionContent({body: 'x', headers: {'request-id': 'r', model: 'm', 'brand-id': 'b', 'device-key': 'k'}, type: 'serial-request'}, KEY_ID)
    assert.deepEqual(headers, parseAssertion(`${text}\n\nAcLBcw==\n`).headers)
  })
})

describe('header values (headers.go appendEntry)', () => {
  const encode = (value: HeaderValue): string => encodeHeaders({name: value})

  test('single line, kept verbatim; an empty string leaves "name: "', () => {
    assert.equal(encode('  spaced: #value  '), 'name:   spaced: #value  ')
    assert.equal(encode(''), 'name: ')
    assert.equal(encode('Größe ✓ 𝄞'), 'name: Größe ✓ 𝄞')
  })

  test('multi-line: 4 more spaces than the entry, a final newline leaves an indented empty line', () => {
    assert.equal(encode('one\ntwo'), 'name:\n    one\n    two')
    assert.equal(encode('one\n\nthree\n'), 'name:\n    one\n    \n    three\n    ')
    assert.equal(encode('\n'), 'name:\n    \n    ')
  })

  test('lists: "  - item", nested lists, maps and multi-line text one level deeper', () => {
    assert.equal(encode(['a', '', 'b c']), 'name:\n  - a\n  - \n  - b c')
    assert.equal(encode([['x', 'y'], 'z']), 'name:\n  -\n    - x\n    - y\n  - z')
    assert.equal(encode([{b: '2', a: '1'}]), 'name:\n  -\n    a: 1\n    b: 2')
    assert.equal(encode(['l1\nl2']), 'name:\n  -\n      l1\n      l2')
  })

  test('maps: keys sorted, nested values one level deeper', () => {
    assert.equal(encode({zz: 'last', aa: 'first', mm: {y: '2', x: '1'}}), 'name:\n  aa: first\n  mm:\n    x: 1\n    y: 2\n  zz: last')
    assert.equal(encode({text: 'l1\nl2', list: ['a']}), 'name:\n  list:\n    - a\n  text:\n      l1\n      l2')
  })

  test('empty lists and maps are left out, at the top and inside maps', () => {
    assert.equal(encodeHeaders({a: '1', b: [], c: {}, d: {e: [], f: '2'}}), 'a: 1\nd:\n  f: 2')
    assert.equal(
      content({headers: {'brand-id': 'b', 'device-key': 'k', list: [], map: {}, model: 'm', 'request-id': 'r'}, type: 'serial-request'}),
      lines('type: serial-request', 'brand-id: b', 'device-key: k', 'model: m', 'request-id: r', `sign-key-sha3-384: ${KEY_ID}`),
    )
  })

  test('whatever is encoded parses back to the same value', () => {
    const value: HeaderValue = {list: ['a', ['b', 'c\nd'], {e: '', f: 'g\n'}], text: 'x\n\ny\n', word: ' w '}
    const text = content({headers: {'brand-id': 'b', 'device-key': 'k', extra: value, model: 'm', 'request-id': 'r'}, type: 'serial-request'})
    assert.deepEqual(parseAssertion(`${text}\n\nAcLBcw==\n`).headers.extra, value)
  })
})

describe('what snapd refuses, refused before signing', () => {
  const request = {'brand-id': 'b', 'device-key': 'k', model: 'm', 'request-id': 'r'}
  const serial = {'authority-id': 'b', 'brand-id': 'b', model: 'm', serial: 'S'}

  test('unknown types and header names snapd cannot read', () => {
    refused({headers: {}, type: 'gadget'}, /unknown assertion type "gadget"/, /serial-request/)
    refused({headers: {}, type: 'toString'}, /unknown assertion type/)
    for (const name of ['Upper', '1st', 'two--dashes', 'end-', 'under_score', '']) refused({headers: {...request, [name]: 'x'}, type: 'serial-request'}, /invalid header name/)
    refused({headers: {...request, extra: {Bad: 'x'}}, type: 'serial-request'}, /invalid map key "Bad" in header extra/)
  })

  test("the signer's own headers", () => {
    refused({headers: {...request, 'sign-key-sha3-384': KEY_ID}, type: 'serial-request'}, /"sign-key-sha3-384" header is written by the signer/)
    refused({body: 'x', headers: {...request, 'body-length': '1'}, type: 'serial-request'}, /"body-length" header is written by the signer/)
    refused({headers: {...request, type: 'serial'}, type: 'serial-request'}, /differs from the type to sign/)
    assert.match(content({headers: {...request, type: 'serial-request'}, type: 'serial-request'}), /^type: serial-request\nbrand-id/)
  })

  test('scalars other than strings, with the header named', () => {
    const cases: Array<[unknown, RegExp]> = [
      [16, /header series is a number \(16\)/],
      [true, /header series is a boolean/],
      [null, /header series is null/],
      [new Date(0), /header series is a Date/],
      [Buffer.from('x'), /header series is a Buffer object/],
    ]
    for (const [value, message] of cases) refused({headers: {'authority-id': 'b', 'brand-id': 'b', model: 'm', series: value as string}, type: 'model'}, message, /as a string/)
    refused({headers: {...request, extra: {list: ['a', 1 as unknown as string]}}, type: 'serial-request'}, /header extra\.list\[1\] is a number/)
    refused({headers: {...request, extra: ['a', undefined as unknown as string]}, type: 'serial-request'}, /header extra\[1\] is undefined/)
    refused({headers: {...request, extra: ['a', []]}, type: 'serial-request'}, /extra\[1\] is an empty list, which snapd would drop/)
  })

  test('primary-key headers: present, non-empty, without "/"', () => {
    refused({headers: {...serial, serial: ''}, type: 'serial'}, /primary-key header "serial" must be a non-empty string/, /brand-id, model, serial/)
    refused({headers: {...serial, serial: 'a/b'}, type: 'serial'}, /"serial" cannot contain "\/": "a\/b"/)
    refused({headers: {...serial, model: undefined as unknown as string}, type: 'serial'}, /"model" must be a non-empty string/)
    refused({headers: {...serial, 'brand-id': ['b']}, type: 'serial'}, /"brand-id" must be a non-empty string/)
  })

  test('authority-id: required where the type has an authority, refused on self-signed types', () => {
    refused({headers: {...serial, 'authority-id': ''}, type: 'serial'}, /needs a non-empty "authority-id"/)
    refused({headers: {...request, 'authority-id': 'b'}, type: 'serial-request'}, /a serial-request assertion cannot have authority-id/)
    refused({headers: {...request, 'signatory-id': 'b'}, type: 'serial-request'}, /cannot have signatory-id/)
  })

  test('format and revision are decimal integers without leading zeros', () => {
    refused({headers: {...serial, revision: '01'}, type: 'serial'}, /"revision" must be a decimal integer string without leading zeros, not "01"/)
    refused({headers: {...serial, revision: '-1'}, type: 'serial'}, /"revision" must be a decimal integer/)
    refused({headers: {...serial, revision: '99999999999'}, type: 'serial'}, /"revision" is out of range/)
  })

  test("text our decoder could not read back, and sizes over snapd's limits", () => {
    refused({headers: {...request, serial: 'a\r\nb'}, type: 'serial-request'}, /header serial contains a carriage return/)
    refused({headers: {...request, serial: 'a\uD800'}, type: 'serial-request'}, /header serial is not valid Unicode/)
    refused({body: 'a\uDC00', headers: request, type: 'serial-request'}, /the body is not valid Unicode/)
    refused({body: 'x'.repeat(2 * 1024 * 1024 + 1), headers: request, type: 'serial-request'}, /the body is 2097153 bytes, more than snapd's limit/)
    refused({headers: {...request, extra: 'x'.repeat(128 * 1024)}, type: 'serial-request'}, /the headers are larger than snapd's limit/)
    assert.match(content({body: 'windows\r\nbody', headers: request, type: 'serial-request'}), /\n\nwindows\r\nbody$/, 'a body may hold CR: snapd keeps it as bytes')
  })
})
