/**
 * The assertion parser against every real assertion in ../shared/fixtures/assertions (made by
 * `snap sign`, decoded by snapd into verify-output.txt), the signatures over the exact content
 * bytes, malformed inputs, and a round trip through snapd's header encoding.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {describe, test} from 'node:test'

import fc from 'fast-check'

import {type Assertion, type HeaderMap, type HeaderValue, headerText, parseAssertion, parseAssertions} from '../../src/assertions/decode.js'
import {encodeHeaders} from '../../src/assertions/encode.js'
import {publicKeyId} from '../../src/assertions/keys.js'
import {decodeAssertionPublicKey, verifyAssertionSignature} from '../../src/assertions/verify.js'
import {UserError} from '../../src/errors.js'
import {fixtures, shared} from '../helpers/paths.js'

const dir = (...parts: string[]): string => shared('fixtures', 'assertions', ...parts)
const read = (name: string): Buffer => readFileSync(dir(name))
const readText = (name: string): string => read(name).toString('utf8')
const assertionFiles = readdirSync(dir())
  .filter((f) => f.endsWith('.assert') || f === 'serial-post-body.txt')
  .sort()

const brandKey = readText('brand-key.pub')

/** The key each fixture assertion is signed with (registration-protocol.md §2.4, offline-signing.md §7). */
function signingKey(assertion: Assertion): string {
  if (assertion.type === 'serial-request') return headerText(assertion, 'device-key')!
  if (assertion.type === 'account-key-request') return assertion.body
  return brandKey
}

function expectUserError(fn: () => unknown, code: string, line?: number): UserError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }

  assert.ok(caught instanceof UserError, `expected a UserError ${code}, got ${String(caught)}`)
  assert.equal(caught.code, code, caught.message)
  if (line !== undefined) assert.equal(caught.line, line, `line of: ${caught.message}`)
  assert.equal(caught.file, 'case.assert')
  return caught
}

describe('fixtures made by snap sign', () => {
  test('the fixture list is complete', () => {
    assert.deepEqual(assertionFiles, [
      'account-key-request.assert',
      'model-uc16.assert',
      'model-uc18.assert',
      'model-uc22.assert',
      'model-uc24-dangerous.assert',
      'serial-post-body.txt',
      'serial-request-extkm.assert',
      'serial-request-minimal.assert',
      'serial-request.assert',
      'serial.assert',
    ])
  })

  for (const file of assertionFiles) {
    test(`${file}: parses, and its signature covers the exact content bytes`, () => {
      const assertions = parseAssertions(read(file), {file})
      for (const assertion of assertions) {
        const check = verifyAssertionSignature(assertion, signingKey(assertion))
        assert.equal(check.valid, true, `${file} ${assertion.type}: ${check.reason}`)
        const tampered = Buffer.from(assertion.content)
        tampered[tampered.length - 1] ^= 0x01
        assert.equal(verifyAssertionSignature({...assertion, content: tampered}, signingKey(assertion)).valid, false)
      }
    })
  }

  for (const file of assertionFiles.filter((f) => f.endsWith('.assert'))) {
    test(`${file}: content is everything before the last empty line (snapd's Decode)`, () => {
      const bytes = read(file)
      const assertion = parseAssertion(bytes, {file})
      const split = bytes.lastIndexOf('\n\n')
      assert.deepEqual(Buffer.from(assertion.content), bytes.subarray(0, split))
      assert.equal(
        assertion.signature,
        bytes
          .subarray(split + 2)
          .toString('utf8')
          .replace(/\n$/, ''),
      )
    })
  }

  for (const json of readdirSync(dir()).filter((f) => f.endsWith('.json'))) {
    const file = json.replace(/\.json$/, '.assert')
    test(`${file}: headers and body equal the snap sign input ${json}`, () => {
      const input = JSON.parse(readText(json)) as Record<string, HeaderValue>
      const assertion = parseAssertion(read(file), {file})
      const {body = '', ...inputHeaders} = input
      const {'body-length': bodyLength, 'sign-key-sha3-384': signKey, ...headers} = assertion.headers
      assert.deepEqual(headers, inputHeaders)
      assert.equal(assertion.body, body)
      assert.equal(bodyLength, body === '' ? undefined : String(Buffer.byteLength(body as string)))
      assert.match(String(signKey), /^[A-Za-z0-9_-]{64}$/)
      assert.equal(assertion.type, input.type)
    })
  }

  test('headers appear in snapd order: type, authority, primary keys, sorted rest, body-length, sign key', () => {
    const serial = parseAssertion(read('serial.assert'))
    assert.deepEqual(Object.keys(serial.headers), ['type', 'authority-id', 'revision', 'brand-id', 'model', 'serial', 'device-key', 'device-key-sha3-384', 'timestamp', 'body-length', 'sign-key-sha3-384'])
  })

  test('decoded headers agree with snapd (verify-output.txt)', () => {
    const verified = parseVerifyOutput(readText('verify-output.txt'))
    assert.equal(verified.length, 11)
    const byFile = new Map<string, Assertion[]>()
    for (const entry of verified) {
      if (!byFile.has(entry.file)) byFile.set(entry.file, parseAssertions(read(entry.file), {file: entry.file}))
      const assertion = byFile.get(entry.file)![entry.index]
      const h = assertion.headers
      assert.equal(assertion.type, entry.type, entry.file)
      assert.equal(h['sign-key-sha3-384'], entry.signKey)
      assert.equal(Buffer.byteLength(assertion.body), Number(entry.bodyLength))

      const expected: Record<string, HeaderValue | undefined> = {
        'account-id': entry.fields['account-id'],
        architecture: entry.fields.arch,
        base: entry.fields.base || undefined,
        'brand-id': entry.fields.brand,
        'device-key-sha3-384': entry.fields['device-key-id'],
        grade: entry.fields.grade === 'unset' ? undefined : entry.fields.grade,
        model: entry.fields.model,
        name: entry.fields.name,
        'public-key-sha3-384': entry.fields['key-id'],
        'request-id': entry.fields['request-id'],
        revision: entry.fields.revision,
        serial: entry.fields.serial || undefined,
        series: entry.fields.series,
        store: entry.fields.store || undefined,
      }
      for (const [name, value] of Object.entries(expected)) {
        if (entry.fields[reverseName(name)] === undefined) continue
        assert.equal(h[name], value, `${entry.file} ${entry.type} header ${name}`)
      }

      // Extended models: each snap snapd lists comes from the snaps header (defaults filled in).
      const snaps = h.snaps as HeaderMap[] | undefined
      for (const snap of entry.snaps) {
        const declared = snaps?.find((s) => s.name === snap.name)
        if (!snaps) continue
        assert.ok(declared, `${entry.file}: snap ${snap.name} in the snaps header`)
        assert.equal(declared.id ?? '', snap.id)
        assert.equal(declared.type ?? 'app', snap.type)
        assert.equal(declared['default-channel'] ?? 'latest/stable', snap.channel)
        assert.equal(declared.presence ?? 'required', snap.presence)
      }

      if (entry.fields.gadget && !snaps) assert.equal(String(h.gadget).split('=')[0], entry.fields.gadget)
      if (entry.fields.kernel && !snaps) assert.equal(String(h.kernel).split('=')[0], entry.fields.kernel)
    }
  })

  test('key ids are the unpadded base64url SHA3-384 of the encoded keys (keys.txt)', () => {
    const keys = Object.fromEntries(
      readText('keys.txt')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)),
    ) as Record<string, string>
    assert.equal(publicKeyId(brandKey), keys['brand-test'])
    assert.equal(publicKeyId(readText('device-key.pub')), keys['device-test'])
    assert.equal(publicKeyId(readText('ext-device-key.pub')), 'wC7LOA9Fr6YSwmFZd0m81x1waVSYhVxYZ0QmejM6ExSTHqOxdnhS9XaS2EsssMMn')
    assert.equal(decodeAssertionPublicKey(brandKey).bits, 4096)
    const request = parseAssertion(read('serial-request.assert'))
    assert.equal(publicKeyId(headerText(request, 'device-key')!), request.headers['sign-key-sha3-384'])
  })

  test('the serial POST body is a stream: the serial-request, then the model', () => {
    const stream = parseAssertions(read('serial-post-body.txt'), {file: 'serial-post-body.txt'})
    assert.deepEqual(
      stream.map((a) => [a.type, a.line, a.bodyLine]),
      [
        ['serial-request', 1, 20],
        ['model', 35, 0],
      ],
    )
    assert.deepEqual(Buffer.from(stream[0].content), Buffer.from(parseAssertion(read('serial-request.assert')).content))
    assert.deepEqual(Buffer.from(stream[1].content), Buffer.from(parseAssertion(read('model-uc22.assert')).content))
    assert.equal(verifyAssertionSignature(stream[1], readText('device-key.pub')).valid, false, 'the model is not signed by the device key')
  })

  test('a string input parses the same as its bytes', () => {
    assert.deepEqual(parseAssertions(readText('serial-post-body.txt')), parseAssertions(read('serial-post-body.txt')))
  })
})

describe('the identity fixtures (signed by snap sign, checked by snapd)', () => {
  const fixtureKey = readFileSync(fixtures('registration', 'brand-key.pub'), 'utf8')
  for (const name of ['serial-identity.assert', 'serial-identity-altered-body.assert', 'serial-request-identity.assert']) {
    test(name, () => {
      const assertion = parseAssertion(readFileSync(fixtures('registration', name)))
      const key = assertion.type === 'serial' ? fixtureKey : headerText(assertion, 'device-key')!
      assert.equal(verifyAssertionSignature(assertion, key).valid, true)
      assert.match(assertion.body, /^identity-key: /m)
    })
  }
})

describe('malformed input', () => {
  const serial = readText('serial.assert')
  const model = readText('model-uc16.assert')
  const parse = (text: string | Uint8Array): Assertion[] => parseAssertions(text, {file: 'case.assert'})

  const cases: Array<[string, () => string | Uint8Array, string, number?]> = [
    ['empty input', () => '', 'E_ASSERTION_EMPTY'],
    ['no empty line after the headers', () => 'type: model\nsign-key-sha3-384: x\n', 'E_ASSERTION_SYNTAX', 1],
    ['a header line without a colon', () => model.replace('architecture: armhf', 'architecture armhf'), 'E_ASSERTION_SYNTAX', 6],
    ['an upper-case header name', () => model.replace('kernel:', 'Kernel:'), 'E_ASSERTION_SYNTAX', 8],
    ['a repeated header', () => model.replace('kernel: pi2-kernel', 'kernel: pi2-kernel\nkernel: other'), 'E_ASSERTION_SYNTAX', 9],
    ['no space after the colon', () => model.replace('kernel: pi2-kernel', 'kernel:pi2-kernel'), 'E_ASSERTION_SYNTAX', 8],
    ['a multi-line value indented by 3 spaces', () => serial.replace(/\n {4}zK0x/, '\n   zK0x'), 'E_ASSERTION_SYNTAX', 9],
    ['a multi-line introduction with nothing after it', () => model.replace('required-snaps:\n  - acme-agent', 'required-snaps:'), 'E_ASSERTION_SYNTAX', 10],
    ['a repeated map key in a list item', () => readText('model-uc22.assert').replace('    name: acme-gateway-gadget', '    name: acme-gateway-gadget\n    name: again'), 'E_ASSERTION_SYNTAX', 15],
    ['a missing type header', () => model.replace('type: model\n', ''), 'E_ASSERTION_HEADER', 1],
    ['a list as type', () => model.replace('type: model', 'type:\n  - model'), 'E_ASSERTION_HEADER', 1],
    ['a malformed sign-key-sha3-384', () => model.replace(/sign-key-sha3-384: \S+/, 'sign-key-sha3-384: abc'), 'E_ASSERTION_HEADER', 1],
    ['body-length with a leading zero', () => serial.replace('body-length: 56', 'body-length: 056'), 'E_ASSERTION_BODY_LENGTH', 1],
    ['a negative body-length', () => serial.replace('body-length: 56', 'body-length: -1'), 'E_ASSERTION_BODY_LENGTH', 1],
    ['body-length one byte short', () => serial.replace('body-length: 56', 'body-length: 55'), 'E_ASSERTION_BODY_LENGTH', 26],
    ['body-length one byte long', () => serial.replace('body-length: 56', 'body-length: 57'), 'E_ASSERTION_BODY_LENGTH', 26],
    ['body-length past the end', () => serial.replace('body-length: 56', 'body-length: 5600'), 'E_ASSERTION_BODY_LENGTH', 23],
    ['a body without body-length', () => model.replace('\n\nAcLB', '\n\nbody: text\n\nAcLB'), 'E_ASSERTION_SIGNATURE', 14],
    ['an empty signature', () => model.slice(0, model.lastIndexOf('\n\n') + 2), 'E_ASSERTION_SIGNATURE', 14],
    ['a signature that is not base64', () => model.replace('\n\nAcLB', '\n\nAc!B'), 'E_ASSERTION_SIGNATURE', 14],
    ['a signature of another format version', () => model.replace('\n\nAcLB', '\n\nAsLB'), 'E_ASSERTION_SIGNATURE', 14],
    ['two empty lines between assertions', () => `${serial}\n\n${model}`, 'E_ASSERTION_SYNTAX', 38],
    ['two extra empty lines at the end', () => `${model}\n\n`, 'E_ASSERTION_SYNTAX', 25],
    ['Windows line endings', () => model.replaceAll('\n', '\r\n'), 'E_ASSERTION_ENCODING', 1],
    ['a byte order mark', () => `\uFEFF${model}`, 'E_ASSERTION_ENCODING', 1],
    ['invalid UTF-8 in a header', () => Buffer.concat([Buffer.from(model.slice(0, 40)), Buffer.from([0xc3, 0x28]), Buffer.from(model.slice(40))]), 'E_ASSERTION_ENCODING', 3],
    ['invalid UTF-8 in the body', () => Buffer.from(serial.replace('mac: "b8', 'mac: "\u00ff8'), 'latin1'), 'E_ASSERTION_ENCODING', 23],
  ]

  for (const [name, input, code, line] of cases) {
    test(name, () => {
      const error = expectUserError(() => parse(input()), code, line)
      assert.ok(error.message.length > 10)
    })
  }

  test('the unmodified fixtures parse, and so does one trailing empty line (as in snapd)', () => {
    assert.equal(parse(serial).length, 1)
    assert.equal(parse(model).length, 1)
    assert.equal(parse(`${model}\n`).length, 1)
  })

  test('parseAssertion wants exactly one', () => {
    expectUserError(() => parseAssertion(read('serial-post-body.txt'), {file: 'case.assert'}), 'E_ASSERTION_COUNT', 35)
  })

  test('headerText refuses lists and maps', () => {
    const uc22 = parseAssertion(read('model-uc22.assert'))
    assert.equal(headerText(uc22, 'model'), 'acme-gateway-22')
    assert.equal(headerText(uc22, 'absent'), undefined)
    assert.throws(
      () => headerText(uc22, 'snaps'),
      (e: unknown) => e instanceof UserError && e.code === 'E_ASSERTION_HEADER',
    )
  })
})

describe('round trip through snapd header encoding', () => {
  const name = fc.stringMatching(/^[a-z](?:-?[a-z0-9]){0,8}$/)
  const line = fc.string({maxLength: 12, unit: fc.constantFrom('a', 'Z', '0', ' ', ':', '-', '=', '/', 'é', '#', '"', '\t')})
  const text = fc.oneof(
    line,
    fc.array(line, {maxLength: 4, minLength: 2}).map((lines) => lines.join('\n')),
  )
  const {value} = fc.letrec<{value: HeaderValue}>((tie) => ({
    value: fc.oneof({depthSize: 'small', withCrossShrink: true}, text, fc.array(tie('value'), {maxLength: 3, minLength: 1}), fc.dictionary(name, tie('value'), {maxKeys: 3, minKeys: 1, noNullPrototype: true})),
  }))

  test('parse(encode(headers)) returns the headers', () => {
    fc.assert(
      fc.property(fc.dictionary(name, value, {maxKeys: 5, noNullPrototype: true}), fc.string({maxLength: 30}), (extra, body) => {
        const headers: HeaderMap = {type: 'test-type', ...extra, 'sign-key-sha3-384': 'A'.repeat(64)}
        delete headers['body-length']
        if (body !== '') headers['body-length'] = String(Buffer.byteLength(body))
        const content = encodeHeaders(headers) + (body === '' ? '' : `\n\n${body}`)
        const parsed = parseAssertion(`${content}\n\nAcLBcw==\n`)
        assert.deepEqual(parsed.headers, headers)
        assert.equal(parsed.body, body)
        assert.equal(Buffer.from(parsed.content).toString('utf8'), content)
      }),
      {numRuns: 300},
    )
  })
})

interface VerifiedEntry {
  file: string
  index: number
  type: string
  signKey: string
  bodyLength: string
  fields: Record<string, string>
  snaps: Array<Record<string, string>>
}

/** verify-output.txt: "<file>: type=… sign-key=… body-length=…", then indented details. */
function parseVerifyOutput(text: string): VerifiedEntry[] {
  const entries: VerifiedEntry[] = []
  const pairs = (line: string): Record<string, string> => Object.fromEntries([...line.matchAll(/([a-z-]+)=("[^"]*"|\[[^\]]*\]|\S+)/g)].map(([, k, v]) => [k, v.replace(/^"|"$/g, '')]))
  for (const line of text.split('\n')) {
    const head = /^(\S+): type=(\S+) sign-key=(\S+) body-length=(\d+)$/.exec(line)
    if (head) {
      const index = entries.filter((e) => e.file === head[1]).length
      entries.push({bodyLength: head[4], fields: {}, file: head[1], index, signKey: head[3], snaps: [], type: head[2]})
    } else if (/^ {4}snap /.test(line)) {
      entries.at(-1)!.snaps.push({name: line.trim().split(' ')[1], ...pairs(line)})
    } else if (/^ {2}\S/.test(line) && entries.length > 0) {
      Object.assign(entries.at(-1)!.fields, pairs(line.replace(/^ {2}\S+ /, '')))
    }
  }

  return entries
}

function reverseName(header: string): string {
  const names: Record<string, string> = {
    architecture: 'arch',
    'brand-id': 'brand',
    'device-key-sha3-384': 'device-key-id',
    'public-key-sha3-384': 'key-id',
  }
  return names[header] ?? header
}
