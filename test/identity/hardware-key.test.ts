/**
 * The hardware identity key on the Node host (the SDK and `node prepare-device.cjs`): every key
 * type snapd verifies with is made, kept and read back; the export is what the station's reader
 * and `hardware-identity sign` take; the proof verifies as snapd's VerifyNonceSignature checks it;
 * the key is made once even when two runs race; the private key is never in what is printed or
 * serialized; the key file is PEM that node:crypto and OpenSSL read.
 */
import assert from 'node:assert/strict'
import {createPrivateKey, createPublicKey} from 'node:crypto'
import {readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {describe, it} from 'node:test'
import {inspect} from 'node:util'

import {freshDir} from '../helpers/scratch.js'
import {HARDWARE_KEY_TYPES, nonceHashOf, readHardwareIdKey, verifyNonceSignature} from '../../src/assertions/hardware-identity.js'
import {UserError} from '../../src/errors.js'
import {FileHardwareKeyStore, HardwareKey, hardwareIdentityExport, hardwareKeyDir, hardwareProofBody} from '../../src/identity/hardware-key.js'
import {readStationExports} from '../../src/identity/station-export.js'
import {useHost} from '../../src/support/host.js'
import {nodeHost} from '../../src/support/node-host.js'

describe('the hardware identity key on Node', () => {
  for (const type of HARDWARE_KEY_TYPES) {
    it(`${type}: made once, read back, exported as the station takes it, and its proof verifies`, () => {
      const dir = freshDir(`snap-gadget-hardware-key-${type}-`)
      const store = new FileHardwareKeyStore(join(dir, 'hardware-identity.key'))
      assert.equal(store.load(), undefined)
      const made = store.loadOrCreate(type)
      assert.equal(made.created, true)
      assert.equal(made.key.type, type)
      assert.equal(statSync(store.location).mode & 0o777, 0o600)
      const again = store.loadOrCreate('ecdsa-p384')
      assert.deepEqual([again.created, again.key.type, again.key.digest], [false, type, made.key.digest], 'the key there is kept, whatever type is asked for now')

      const pem = readFileSync(store.location, 'utf8')
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n(?:[A-Za-z0-9+/=]{1,64}\n)+-----END PRIVATE KEY-----\n$/)
      const spki = createPublicKey(createPrivateKey(pem)).export({format: 'der', type: 'spki'}).toString('base64')
      const read = readHardwareIdKey(spki)
      assert.deepEqual([made.key.text, made.key.digest, made.key.type], [read.text, read.digest, read.type], "the service's reading of the same key")

      const file = join(dir, 'hardware-identity.json')
      writeFileSync(file, JSON.stringify(hardwareIdentityExport(made.key, 'ACME-7')))
      const [row] = readStationExports([file]).rows
      assert.deepEqual([row.hardwareId, row.key.digest, row.key.type], ['ACME-7', read.digest, type])

      const body = hardwareProofBody(made.key, 'REQ-0001')
      assert.equal(body['hardware-id-key-sha384'], read.digest)
      assert.equal(body['hardware-id-key-sha3-384'], read.digest)
      const signature = Buffer.from(body['request-id-signature'], 'base64')
      assert.equal(signature.toString('base64'), body['request-id-signature'], 'standard base64, padded')
      assert.deepEqual(verifyNonceSignature(read.key, 'REQ-0001', signature, nonceHashOf(type)), {valid: true})
      assert.equal(verifyNonceSignature(read.key, 'REQ-0002', signature, nonceHashOf(type)).valid, false)
    })
  }

  it('two runs that race make one key: the one that links its file first wins, the other takes it', () => {
    const file = join(freshDir('snap-gadget-hardware-key-race-'), 'hardware-identity.key')
    const winner = HardwareKey.generate('ecdsa-p256')
    // The other run writes its key between this run's read (nothing there) and its link into place.
    useHost({
      ...nodeHost,
      link(from, to) {
        writeFileSync(to, winner.pkcs8Pem(), {flag: 'wx', mode: 0o600})
        nodeHost.link(from, to)
      },
    })
    try {
      const taken = new FileHardwareKeyStore(file).loadOrCreate('ecdsa-p256')
      assert.deepEqual([taken.created, taken.key.digest], [false, winner.digest])
    } finally {
      useHost(nodeHost)
    }

    assert.equal(readFileSync(file, 'utf8'), winner.pkcs8Pem(), 'the first key stays')
    assert.deepEqual(readdirSync(dirname(file)), ['hardware-identity.key'], 'no temporary file left')
  })

  it('never shows the private key: JSON, inspect and the export hold the public key only', () => {
    const key = HardwareKey.generate('ecdsa-p256')
    const privateBase64 = key.pkcs8Pem().split('\n').slice(1, -2).join('')
    for (const shown of [JSON.stringify(key), inspect(key, {depth: 5, showHidden: true}), JSON.stringify(hardwareIdentityExport(key, 'X')), JSON.stringify(hardwareProofBody(key, 'R'))]) {
      assert.ok(!shown.includes(privateBase64.slice(0, 40)), shown)
      assert.ok(!shown.includes('PRIVATE'), shown)
    }

    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(key)) as object).sort(), ['hardware-id-key', 'hardware-id-key-sha3-384', 'type'])
  })

  it('refuses a key file that is no key, or a key of a type snapd cannot verify with', () => {
    const dir = freshDir('snap-gadget-hardware-key-bad-')
    const refused = (text: string, code: string, message: RegExp) => {
      const file = join(dir, `${code}-${Math.random()}.key`)
      writeFileSync(file, text, {mode: 0o600})
      assert.throws(
        () => new FileHardwareKeyStore(file).load(),
        (error: UserError) => error.code === code && message.test(error.message) && /certify and import again/.test(error.hint ?? ''),
      )
    }

    refused('hello\n', 'E_IDENTITY_KEY_FORMAT', /is not a PEM private key/)
    refused('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'E_IDENTITY_KEY_FORMAT', /is not a PKCS#8 private key/)
    const ed25519 = createPrivateKey({format: 'jwk', key: {crv: 'Ed25519', d: Buffer.alloc(32, 7).toString('base64url'), kty: 'OKP', x: ''}})
    refused(ed25519.export({format: 'pem', type: 'pkcs8'}) as string, 'E_HARDWARE_KEY', /is not a key snapd verifies a request-id signature with/)
  })

  it('lives in $SNAP_SAVE_DATA, else $SNAP_DATA', () => {
    assert.equal(hardwareKeyDir({SNAP_DATA: '/var/snap/g/x1', SNAP_SAVE_DATA: '/var/lib/snapd/save/snap/g/'}), '/var/lib/snapd/save/snap/g')
    assert.equal(hardwareKeyDir({SNAP_DATA: '/var/snap/g/x1', SNAP_SAVE_DATA: ''}), '/var/snap/g/x1')
    assert.equal(hardwareKeyDir({}), undefined)
  })
})
