/**
 * `snap-gadget hardware-identity sign` end to end through bin/run.js: the stations' exports in,
 * hardware-identity assertions out, run again and again over a growing export directory as a
 * factory does, a key seen twice refused with the output file left as it was.
 */
import assert from 'node:assert/strict'
import {copyFileSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, test} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {hardwareIdentityView, parseAssertions, verifyAssertionSignature} from '../../src/assertions/index.js'
import {testKeys} from '../helpers/assertions.js'
import {runCli} from '../helpers/cli.js'
import {hardwareKeys, stationRow} from '../helpers/hardware.js'
import {fixtures} from '../helpers/paths.js'

let work: string
let exports: string
let key: string
const base = () => ['hardware-identity', 'sign', exports, '--issuer', 'acme', '--key', key, '--manufacturer', 'Acme Devices Ltd.', '--hardware-name', 'acme-gw-r2']

before(() => {
  work = freshDir('snap-gadget-hwid-')
  exports = join(work, 'exports')
  mkdirSync(exports)
  key = join(work, 'identities.pem')
  copyFileSync(fixtures('assertions', 'brand.pem'), key)
  const keys = hardwareKeys()
  writeFileSync(join(exports, 'station-1.jsonl'), [stationRow(keys['ecdsa-p256'], 'ACME-1'), stationRow(keys['ecdsa-p384'], 'ACME-2')].map((r) => JSON.stringify(r)).join('\n'))
})

describe('hardware-identity sign', () => {
  test('a directory of exports to --out, then again: nothing new, the file unchanged; a new export extends it', async () => {
    const out = join(work, 'identities.assert')
    const first = await runCli([...base(), '--out', out])
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /wrote .*identities\.assert: 2 identities signed by acme \(key /)
    const text = readFileSync(out, 'utf8')
    const assertions = parseAssertions(text)
    assert.deepEqual(
      assertions.map((a) => hardwareIdentityView(a).hardwareId),
      ['ACME-1', 'ACME-2'],
    )
    for (const a of assertions) assert.ok(verifyAssertionSignature(a, testKeys().brand.encodedPublicKey).valid)

    const again = await runCli([...base(), '--out', out, '--json'])
    assert.equal(again.code, 0, again.stderr)
    const report = JSON.parse(again.stdout) as {signed: number; kept: number; file: string}
    assert.deepEqual([report.signed, report.kept, report.file], [0, 2, out])
    assert.equal(readFileSync(out, 'utf8'), text, 'nothing new: the file is as it was')

    writeFileSync(
      join(exports, 'station-2.csv'),
      `hardware-id,hardware-id-key,hardware-id-key-sha3-384,key-type,public-key-pem\nACME-3,${hardwareKeys()['rsa-2048'].id.text},${hardwareKeys()['rsa-2048'].id.digest},rsa-2048,"${hardwareKeys()['rsa-2048'].id.key.export({format: 'pem', type: 'spki'})}"\n`,
    )
    const extended = await runCli([...base(), '--out', out])
    assert.equal(extended.code, 0, extended.stderr)
    assert.match(extended.stdout, /1 identity signed by acme .*, 2 kept from/)
    const now = readFileSync(out, 'utf8')
    assert.ok(now.startsWith(text))
    assert.equal(parseAssertions(now).length, 3)

    const fresh = await runCli([...base(), '--out', out, '--force', '--json'])
    assert.equal(fresh.code, 0, fresh.stderr)
    assert.equal((JSON.parse(fresh.stdout) as {signed: number}).signed, 3, '--force signs every device afresh')
  })

  test('without --out the assertions go to stdout and the summary to stderr', async () => {
    const result = await runCli([...base(), join(exports, 'station-1.jsonl')])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(parseAssertions(result.stdout).length, 3, 'the directory and the file again: each device once')
    assert.match(result.stderr, /3 identities signed by acme .*2 repeated rows left out/)
  })

  test('a key seen under two hardware ids: exit 1, nothing signed, the output file untouched', async () => {
    const out = join(work, 'conflict.assert')
    writeFileSync(out, '')
    const dir = join(work, 'conflict')
    mkdirSync(dir)
    writeFileSync(join(dir, 'a.json'), JSON.stringify(stationRow(hardwareKeys()['ecdsa-p256'], 'ACME-1')))
    writeFileSync(join(dir, 'b.json'), JSON.stringify(stationRow(hardwareKeys()['ecdsa-p256'], 'ACME-1-again')))
    const result = await runCli(['hardware-identity', 'sign', dir, '--issuer', 'acme', '--key', key, '--manufacturer', 'Acme', '--hardware-name', 'gw', '--out', out])
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stderr, /error: the key .* is exported as hardware id "ACME-1" \(.*a\.json:1\) and as "ACME-1-again" \(.*b\.json:1\): nothing was signed/)
    assert.match(result.stderr, /hint: a hardware identity is one key of one device/)
    assert.equal(readFileSync(out, 'utf8'), '')
  })

  test('a hostile hardware id never reaches the terminal raw; a small issuer key is refused', async () => {
    const dir = join(work, 'hostile')
    mkdirSync(dir)
    writeFileSync(join(dir, 'a.json'), JSON.stringify(stationRow(hardwareKeys()['ecdsa-p256'], 'ACME\u001b]0;owned\u0007')))
    const hostile = await runCli(['hardware-identity', 'sign', dir, '--issuer', 'acme', '--key', key, '--manufacturer', 'Acme', '--hardware-name', 'gw'])
    assert.equal(hostile.code, 2)
    assert.doesNotMatch(hostile.stderr, /\u001b/)
    assert.match(hostile.stderr, /control character/)
    const small = await runCli(['hardware-identity', 'sign', exports, '--issuer', 'acme', '--key', fixtures('assertions', 'device-2048.pem'), '--manufacturer', 'Acme', '--hardware-name', 'gw'])
    assert.equal(small.code, 2)
    assert.match(small.stderr, /2048-bit RSA key/)
  })
})
