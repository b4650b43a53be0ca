/**
 * The factory's side of secure onboarding as an SDK: the stations' exports read in each form and
 * checked row by row, and the hardware-identity assertions signed from them, idempotently, with a
 * key under two hardware ids (or a hardware id with two keys) refused before anything is signed.
 */
import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {Ajv2020} from 'ajv/dist/2020.js'

import {HARDWARE_KEY_TYPES, hardwareIdentityView, parseAssertions, verifyAssertionSignature} from '../../src/assertions/index.js'
import {UserError} from '../../src/errors.js'
import {certifyHardwareIdentities} from '../../src/identity/certify.js'
import {readStationExports, type StationRow} from '../../src/identity/station-export.js'
import {testKeys} from '../helpers/assertions.js'
import {hardwareKeyFrom, hardwareKeys, newHardwareKey, stationRow} from '../helpers/hardware.js'
import {projectRoot} from '../helpers/paths.js'
import {scratchDir} from '../helpers/scratch.js'

const dir = scratchDir('hardware-identity-')
let files = 0
const file = (name: string, text: string): string => {
  const path = join(dir, `${++files}-${name}`)
  writeFileSync(path, text)
  return path
}

const csvCell = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value)
const csv = (rows: Record<string, string>[]): string => {
  const names = Object.keys(rows[0])
  return `${names.join(',')}\r\n${rows.map((row) => names.map((n) => csvCell(row[n] ?? '')).join(',')).join('\r\n')}\r\n`
}

const failsWith = (run: () => unknown, code: string, reason: RegExp) => assert.throws(run, (error: unknown) => error instanceof UserError && error.code === code && reason.test(error.message), `${code} ${reason.source}`)

const issuer = testKeys().brand
const certify = (rows: StationRow[], over: Partial<Parameters<typeof certifyHardwareIdentities>[1]> = {}) =>
  certifyHardwareIdentities(rows, {hardwareName: 'acme-gw-r2', issuerId: 'acme', key: issuer, manufacturer: 'Acme Devices Ltd.', now: new Date('2026-05-01T08:00:00Z'), ...over})

describe('station exports', () => {
  test('JSON, JSONL and CSV (a quoted PEM cell), from files and a directory, agree; the schema accepts every row', () => {
    const keys = HARDWARE_KEY_TYPES.map((type) => hardwareKeys()[type])
    const rows = keys.map((key, n) => stationRow(key, `ACME-${n}`))
    const sub = join(dir, 'station-dir')
    mkdirSync(sub)
    writeFileSync(join(sub, 'a.json'), JSON.stringify(rows[0], null, 2))
    writeFileSync(
      join(sub, 'b.jsonl'),
      `${rows
        .slice(1, 3)
        .map((r) => JSON.stringify(r))
        .join('\n')}\n\n`,
    )
    writeFileSync(join(sub, 'c.csv'), csv(rows.slice(3)))
    writeFileSync(join(sub, 'notes.txt'), 'not an export')
    const read = readStationExports([sub])
    assert.deepEqual(
      read.rows.map((r) => [r.hardwareId, r.key.type, r.key.digest]),
      keys.map((key, n) => [`ACME-${n}`, key.type, key.id.digest]),
    )
    assert.deepEqual(
      read.rows.map((r) => r.source.slice(sub.length + 1)),
      // A row's line is where it starts in the file: the PEM cell of the row before spans lines.
      ['a.json:1', 'b.jsonl:1', 'b.jsonl:2', 'c.csv:2', `c.csv:${3 + rows[3]['public-key-pem'].split('\n').length - 1}`],
    )
    assert.deepEqual(read.skipped, [join(sub, 'notes.txt')])
    const validate = new Ajv2020({allErrors: true, strict: true}).compile(JSON.parse(readFileSync(join(projectRoot, 'schemas', 'hardware-identity-export.schema.json'), 'utf8')))
    for (const row of rows) assert.ok(validate(row), JSON.stringify(validate.errors))
    assert.ok(!validate({...rows[0], 'hardware-id-key': `${rows[0]['hardware-id-key'].slice(0, 64)}\n${rows[0]['hardware-id-key'].slice(64)}`}), 'a wrapped key is not the export form')
  })

  test('every row is checked: digest, key type, PEM, fields; each refusal names file and line', () => {
    const key = hardwareKeys()['ecdsa-p256']
    const other = hardwareKeys()['ecdsa-p384']
    const row = stationRow(key, 'ACME-1')
    const refused = (over: Record<string, unknown>, reason: RegExp, code = 'E_HARDWARE_EXPORT') => {
      const path = file('row.jsonl', `${JSON.stringify({...row, ...over})}\n`)
      assert.throws(
        () => readStationExports([path]),
        (error: unknown) => error instanceof UserError && error.code === code && reason.test(error.message) && error.message.startsWith(`${path}:1: `) && error.line === 1,
        reason.source,
      )
    }

    refused({'hardware-id-key-sha3-384': other.id.digest}, /is not the digest of its hardware-id-key/)
    refused({'key-type': 'ecdsa-p384'}, /key-type says ecdsa-p384, but the hardware-id-key is ecdsa-p256/)
    refused({'key-type': 'ed25519'}, /key-type "ed25519" is not one snapd verifies with/)
    refused({'public-key-pem': other.id.key.export({format: 'pem', type: 'spki'})}, /public-key-pem of "ACME-1" is not the key of its hardware-id-key/)
    refused({'public-key-pem': 'nope'}, /not a PEM public key/)
    refused({'hardware-id-key': `${key.id.text.slice(0, 60)}\n${key.id.text.slice(60)}`}, /spans several lines/)
    refused({'hardware-id': undefined}, /the hardware-id field is missing/)
    refused({'hardware-id': 'ACME\u001b[2J'}, /control character/)
    refused({'hardware-id': ' ACME-1'}, /surrounding spaces/)
    refused({'hardware-id': 7}, /hardware-id field is a number, not a string/)
    refused({hardware_id: 'x'}, /unknown field "hardware_id"/)
    refused({'hardware-name': 'acme gw'}, /hardware-name "acme gw" is not snapd's form/)
    const rsa = hardwareKeyFrom(newHardwareKey('rsa-2048'))
    refused({'hardware-id-key': rsa.id.text.replace(/.{4}$/, '')}, /standard base64|not a DER/)
    assert.equal(readStationExports([file('extra.json', JSON.stringify({...row, 'exported-at': '2026-05-01'}))]).rows.length, 1, 'a field unlike any known one is left alone')
  })

  test('what is not an export says so', () => {
    failsWith(() => readStationExports([file('array.json', '[]')]), 'E_HARDWARE_EXPORT', /one JSON object per device, not an array/)
    failsWith(() => readStationExports([file('bad.jsonl', '{"hardware-id": "x"}\n{oops\n')]), 'E_HARDWARE_EXPORT', /:2: not JSON/)
    failsWith(() => readStationExports([file('noheader.csv', 'ACME-1,abc\n')]), 'E_HARDWARE_EXPORT', /:1: the first line is not a header/)
    failsWith(() => readStationExports([file('short.csv', 'hardware-id,key-type\nACME-1\n')]), 'E_HARDWARE_EXPORT', /:2: the row has 1 cells, the header 2/)
    failsWith(() => readStationExports([file('open.csv', 'hardware-id,public-key-pem\nACME-1,"-----BEGIN\n')]), 'E_HARDWARE_EXPORT', /:2: a quoted cell is not closed/)
    failsWith(() => readStationExports([file('empty.jsonl', '\n\n')]), 'E_HARDWARE_EXPORT', /holds no device/)
    const empty = join(dir, 'empty-dir')
    mkdirSync(empty)
    failsWith(() => readStationExports([empty]), 'E_HARDWARE_EXPORT', /holds no station export/)
    failsWith(() => readStationExports([join(dir, 'missing.json')]), 'E_IO_ENOENT', /no such file/)
  })
})

describe('certifying', () => {
  test('one assertion per device, signed by the issuer, as the view reads it; every key type', () => {
    const rows = readStationExports([file('all.jsonl', HARDWARE_KEY_TYPES.map((type, n) => JSON.stringify(stationRow(hardwareKeys()[type], `ACME-${n}`))).join('\n'))]).rows
    const result = certify(rows)
    const assertions = parseAssertions(result.text)
    assert.equal(assertions.length, HARDWARE_KEY_TYPES.length)
    for (const [n, assertion] of assertions.entries()) {
      const view = hardwareIdentityView(assertion)
      assert.deepEqual(
        [view.issuerId, view.hardwareId, view.hardwareIdKeyDigest, view.hardwareName, view.manufacturer, view.timestamp],
        ['acme', `ACME-${n}`, hardwareKeys()[HARDWARE_KEY_TYPES[n]].id.digest, 'acme-gw-r2', 'Acme Devices Ltd.', '2026-05-01T08:00:00Z'],
      )
      assert.ok(verifyAssertionSignature(assertion, issuer.encodedPublicKey).valid)
    }

    assert.deepEqual(
      result.identities.map((i) => i.status),
      HARDWARE_KEY_TYPES.map(() => 'signed'),
    )
  })

  test('per-row manufacturer and hardware name win over the defaults; a row with neither is refused', () => {
    const key = hardwareKeys()['ecdsa-p256']
    const [row] = readStationExports([file('r.json', JSON.stringify(stationRow(key, 'ACME-9', {'hardware-name': 'gw-mini', manufacturer: 'Acme Subcontract'})))]).rows
    const view = hardwareIdentityView(parseAssertions(certify([row]).text)[0])
    assert.deepEqual([view.hardwareName, view.manufacturer], ['gw-mini', 'Acme Subcontract'])
    const [bare] = readStationExports([file('b.json', JSON.stringify(stationRow(key, 'ACME-9')))]).rows
    failsWith(() => certify([bare], {manufacturer: undefined}), 'E_HARDWARE_IDENTITY', /no manufacturer for "ACME-9"/)
    failsWith(() => certify([bare], {issuerId: 'Acme Inc'}), 'E_HARDWARE_IDENTITY', /issuer id "Acme Inc" is not an account id/)
  })

  test('idempotent: a device exported twice is certified once; an earlier output is kept byte for byte and only new devices are signed', () => {
    const [a, b, c] = [hardwareKeys()['ecdsa-p256'], hardwareKeys()['ecdsa-p384'], hardwareKeys()['rsa-2048']]
    const first = readStationExports([file('d1.jsonl', [stationRow(a, 'A'), stationRow(b, 'B'), stationRow(a, 'A')].map((r) => JSON.stringify(r)).join('\n'))]).rows
    const one = certify(first)
    assert.equal(one.identities.length, 2)
    assert.equal(one.repeated, 1)
    const second = readStationExports([file('d2.csv', csv([stationRow(b, 'B'), stationRow(c, 'C')]))]).rows
    const two = certify([...first, ...second], {earlier: {file: 'identities.assert', text: one.text}, now: new Date('2026-06-01T00:00:00Z')})
    assert.deepEqual(
      two.identities.map((i) => [i.hardwareId, i.status]),
      [
        ['A', 'kept'],
        ['B', 'kept'],
        ['C', 'signed'],
      ],
    )
    assert.equal(two.repeated, 4, 'A twice and B twice, each certified already')
    assert.ok(two.text.startsWith(one.text), 'the earlier assertions, unchanged, first')
    const three = certify([...first, ...second], {earlier: {file: 'identities.assert', text: two.text}})
    assert.equal(three.text, two.text, 'a third run over the same exports changes nothing')
  })

  test('a key under two hardware ids, or a hardware id with two keys, is refused, also against an earlier run, and nothing is signed', () => {
    const [a, b] = [hardwareKeys()['ecdsa-p256'], hardwareKeys()['ecdsa-p384']]
    const rows = (...list: Record<string, string>[]) => readStationExports([file('c.jsonl', list.map((r) => JSON.stringify(r)).join('\n'))]).rows
    failsWith(
      () => certify(rows(stationRow(a, 'A'), stationRow(a, 'A2'))),
      'E_HARDWARE_IDENTITY_CONFLICT',
      new RegExp(`the key ${a.id.digest} is exported as hardware id "A" \\(.*:1\\) and as "A2" \\(.*:2\\): nothing was signed`),
    )
    failsWith(() => certify(rows(stationRow(a, 'A'), stationRow(b, 'A'))), 'E_HARDWARE_IDENTITY_CONFLICT', /hardware id "A" has the key .* and the key/)
    const earlier = certify(rows(stationRow(a, 'A')))
    failsWith(() => certify(rows(stationRow(a, 'Z')), {earlier: {file: 'out.assert', text: earlier.text}}), 'E_HARDWARE_IDENTITY_CONFLICT', /exported as hardware id "A" \(out\.assert\) and as "Z"/)
  })

  test("an earlier output that is not this issuer's identities is refused", () => {
    const [row] = readStationExports([file('e.json', JSON.stringify(stationRow(hardwareKeys()['ecdsa-p256'], 'E')))]).rows
    const earlier = certify([row]).text
    failsWith(() => certify([row], {earlier: {file: 'out.assert', text: 'hello\n'}}), 'E_HARDWARE_IDENTITY', /out\.assert is not an assertion file/)
    failsWith(() => certify([row], {earlier: {file: 'out.assert', text: earlier}, issuerId: 'other-issuer'}), 'E_HARDWARE_IDENTITY', /holds identities of issuer "acme", not other-issuer/)
    failsWith(() => certify([row], {earlier: {file: 'out.assert', text: earlier.replace('hardware-id: E', 'hardware-id: F')}}), 'E_HARDWARE_IDENTITY', /signature does not verify/)
  })
})
