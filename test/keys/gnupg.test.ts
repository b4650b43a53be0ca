/**
 * GnuPG exports read on node:crypto, against keys real GnuPG made here with the parameters
 * `snap create-key` uses, and ids `snap keys` reports for them. (`snap create-key` itself is run
 * end to end in test/commands/key.test.ts.)
 */
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'

import fc from 'fast-check'

import {loadSigningKey} from '../../src/assertions/keys.js'
import {signAssertion} from '../../src/assertions/sign.js'
import {decodeAssertionPublicKey, verifyAssertionSignature} from '../../src/assertions/verify.js'
import {UserError} from '../../src/errors.js'
import {gnupgPublicKey, importGnupgKey, looksLikeGnupgExport, readGnupgExport} from '../../src/keys/gnupg.js'
import {type GnupgHome, haveTools, makeGnupgHome, requireTools, run, SNAPD_KEY_CREATION} from '../helpers/key-tools.js'

let home: GnupgHome | undefined
const exports: Record<string, Buffer> = {}
let fingerprints: Record<string, string> = {}

before(() => {
  if (!haveTools('gpg')) return
  home = makeGnupgHome()
  home.generate('serials')
  home.generate('protected-key', {passphrase: 'correct horse'})
  home.generate('small-key', {bits: 2048})
  home.gpg(['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'edwards-key', 'ed25519', 'sign', 'never'])
  exports.binary = home.exportSecret('serials')
  exports.armored = home.exportSecret('serials', {armor: true})
  exports.protected = home.exportSecret('protected-key', {passphrase: 'correct horse'})
  exports.small = home.exportSecret('small-key')
  exports.edwards = home.exportSecret('edwards-key')
  exports.public = home.gpg(['--export', 'serials'])
  exports.stub = home.gpg(['--export-secret-subkeys', 'serials'])
  exports.all = home.gpg(['--pinentry-mode', 'loopback', '--passphrase', 'correct horse', '--export-secret-keys'])
  const listing = String(home.gpg(['--list-secret-keys', '--with-colons']))
  fingerprints = Object.fromEntries([...listing.matchAll(/^fpr:+([0-9A-F]{40}):\n(?:grp:.*\n)?uid:(?:[^:]*:){8}([^:]+):/gm)].map((m) => [m[2], m[1]]))
})

after(() => home?.remove())

function refused(input: Uint8Array | string, code: string, message: RegExp, hint?: RegExp, options: Parameters<typeof importGnupgKey>[1] = {source: 'serials.gpg'}): UserError {
  let caught: unknown
  try {
    importGnupgKey(input, options)
  } catch (error) {
    caught = error
  }

  assert.ok(caught instanceof UserError, `expected a UserError, got ${String(caught)}`)
  assert.equal(caught.code, code, caught.message)
  assert.match(caught.message, message)
  if (hint) assert.match(caught.hint ?? '', hint)
  return caught
}

describe('importGnupgKey', () => {
  test('a key made as snap create-key makes it, binary and armoured: the PEM key has the id snap keys shows, and signs what its GnuPG public key verifies', (t) => {
    if (!requireTools(t, 'gpg', 'snap')) return
    const snapIds = home!.snapKeys()
    assert.match(snapIds.serials, /^[\w-]{64}$/)
    for (const input of [exports.binary, exports.armored, exports.armored.toString('utf8')]) {
      const imported = importGnupgKey(input)
      assert.equal(imported.name, 'serials')
      assert.equal(imported.fingerprint, fingerprints.serials)
      assert.equal(imported.created.getTime(), SNAPD_KEY_CREATION * 1000)
      assert.equal(imported.signingKey.bits, 4096)
      assert.equal(imported.signingKey.keyId, snapIds.serials)
      assert.match(imported.pem, /^-----BEGIN PRIVATE KEY-----\n/)
      assert.equal(loadSigningKey(imported.pem).keyId, snapIds.serials, 'serve loads the PEM with the same id')
    }

    const imported = importGnupgKey(exports.binary)
    const exported = String(run('snap', ['export-key', 'serials'], home!.env()).stdout).trim()
    assert.equal(imported.signingKey.encodedPublicKey, exported, "the public half is snap export-key's text")
    const signed = signAssertion({headers: {'account-id': 'acme-brand', 'authority-id': 'acme-brand', 'display-name': 'Acme', username: 'acme', validation: 'unproven'}, type: 'account'}, imported.signingKey)
    assert.deepEqual(verifyAssertionSignature(signed.assertion, decodeAssertionPublicKey(exported)), {keyId: snapIds.serials, valid: true})
  })

  test('a passphrase-protected key is refused with the commands that import an unprotected copy', (t) => {
    if (!requireTools(t, 'gpg')) return
    const fpr = fingerprints['protected-key']
    const error = refused(exports.protected, 'E_GNUPG_PROTECTED', /^serials\.gpg holds the key "protected-key" \([0-9A-F]{40}\) protected by a passphrase, which snap-gadget does not ask for$/)
    const hint = error.hint!
    assert.match(hint, /leaving the key in ~\/\.snap\/gnupg as it is/)
    assert.ok(hint.includes(`gpg --homedir ~/.snap/gnupg --pinentry-mode loopback --export-secret-keys 0x${fpr} | gpg --homedir "$copy" --batch --import`), hint)
    assert.ok(hint.includes(`gpg --homedir "$copy" --pinentry-mode loopback --passwd 0x${fpr}`), hint)
    assert.ok(hint.includes(`| snap-gadget key import-gnupg - --out protected-key.pem; gpgconf --homedir "$copy" --kill gpg-agent; rm -rf "$copy"`), hint)
    const elsewhere = refused(exports.protected, 'E_GNUPG_PROTECTED', /protected/, undefined, {gnupgHome: "/srv/brand's keys", pemFile: 'keys/serial key.pem', source: 'x'})
    assert.ok(elsewhere.hint!.includes(`gpg --homedir '/srv/brand'\\''s keys' --pinentry-mode loopback`), elsewhere.hint)
    assert.ok(elsewhere.hint!.includes("--out 'keys/serial key.pem';"), elsewhere.hint)
  })

  test('keys snapd cannot sign with: under 4096 bits, not RSA', (t) => {
    if (!requireTools(t, 'gpg')) return
    refused(exports.small, 'E_GNUPG_KEY_SIZE', /"small-key" .* a 2048-bit RSA key; snapd refuses to sign with a key it does not hold itself under 4096 bits/, /snap create-key <name>.*rsa_keygen_bits:4096/)
    refused(exports.edwards, 'E_GNUPG_NOT_RSA', /"edwards-key" .* whose algorithm is EdDSA \(ed25519\); snapd signs with RSA keys only/, /RSA 4096/)
    refused(home!.gpg(['--export', 'edwards-key']), 'E_GNUPG_NOT_RSA', /whose algorithm is EdDSA/, undefined)
  })

  test('exports without the secret: the public key, a stub; several keys at once', (t) => {
    if (!requireTools(t, 'gpg')) return
    const fpr = fingerprints.serials
    refused(exports.public, 'E_GNUPG_PUBLIC', /holds only the public half of the key "serials" .*gpg --export/, new RegExp(`--export-secret-keys 0x${fpr} \\| snap-gadget key import-gnupg - --out serials\\.pem`))
    refused(exports.stub, 'E_GNUPG_NO_SECRET', /holds no secret for the key "serials" .*only a stub/, new RegExp(`--export-secret-keys 0x${fpr}$`))
    refused(exports.all, 'E_GNUPG_EXPORT', /holds 4 keys \("serials", "protected-key", "small-key", "edwards-key"\); a signing key is one/, /--export-secret-keys 0x<fingerprint>/)
  })

  test('damaged exports: the secret checksum, secret numbers that do not match, the armour checksum, a cut export', (t) => {
    if (!requireTools(t, 'gpg')) return
    // An old-format secret-key packet with a 2-byte length: header 3 bytes, and the checksum its last 2.
    const bytes = Buffer.from(exports.binary)
    assert.equal(bytes[0], 0x95)
    const end = 3 + bytes.readUInt16BE(1)
    const wrongSum = Buffer.from(bytes)
    wrongSum[end - 3] ^= 0x01
    refused(wrongSum, 'E_GNUPG_EXPORT', /wrong checksum over the secret key of the key "serials"/, /export the key again/)
    // The same change with its checksum fixed: u (p⁻¹ mod q, the last number) no longer fits p and q.
    const wrongNumber = Buffer.from(wrongSum)
    wrongNumber.writeUInt16BE((wrongNumber.readUInt16BE(end - 2) + (wrongNumber[end - 3] - bytes[end - 3]) + 0x10000) & 0xffff, end - 2)
    refused(wrongNumber, 'E_GNUPG_EXPORT', /secret numbers that do not belong to the public key of the key "serials"/)
    const armored = exports.armored.toString('utf8')
    const body = armored.split('\n')[3]
    const altered = armored.replace(body, body.slice(0, 10) + (body[10] === 'A' ? 'B' : 'A') + body.slice(11))
    refused(altered, 'E_GNUPG_EXPORT', /armour checksum does not match/)
    refused(armored.replace(/^=.*$/m, '=AB'), 'E_GNUPG_EXPORT', /armour checksum does not match/)
    refused(armored.split('-----END')[0], 'E_GNUPG_EXPORT', /no "-----END PGP PRIVATE KEY BLOCK-----" line/)
    refused(bytes.subarray(0, 400), 'E_GNUPG_EXPORT', /not a GnuPG key export: truncated/)
  })
})

describe('damaged exports, at random', () => {
  test('a changed, cut or extended export is imported or refused with a UserError, never a crash', (t) => {
    if (!requireTools(t, 'gpg')) return
    const original = exports.binary
    const damage = fc.oneof(
      fc.record({at: fc.nat(original.length - 1), byte: fc.integer({max: 255, min: 0}), kind: fc.constant('set' as const)}),
      fc.record({at: fc.nat(original.length - 1), kind: fc.constant('cut' as const)}),
      fc.record({bytes: fc.uint8Array({maxLength: 64}), kind: fc.constant('append' as const)}),
    )
    fc.assert(
      fc.property(fc.array(damage, {maxLength: 4, minLength: 1}), (changes) => {
        let bytes = Buffer.from(original)
        for (const change of changes) {
          if (change.kind === 'set') bytes[Math.min(change.at, bytes.length - 1)] = change.byte
          else if (change.kind === 'cut') bytes = bytes.subarray(0, change.at)
          else bytes = Buffer.concat([bytes, change.bytes])
        }

        try {
          importGnupgKey(bytes)
        } catch (error) {
          if (!(error instanceof UserError)) throw error
        }
      }),
      {numRuns: 300},
    )
  })
})

describe('what is not a GnuPG export', () => {
  test('empty input, PEM, text: each says what it is', () => {
    refused('', 'E_GNUPG_EXPORT', /not a GnuPG key export: it is empty/, /gpg --homedir ~\/\.snap\/gnupg --export-secret-keys <name>/)
    refused('-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n', 'E_GNUPG_EXPORT', /no "-----BEGIN PGP PRIVATE KEY BLOCK-----" line, and not binary OpenPGP/)
    refused(Buffer.alloc(2 * 1024 * 1024, 0x95), 'E_GNUPG_EXPORT', /is 2097152 bytes: not the export of one key/)
    assert.equal(looksLikeGnupgExport('-----BEGIN PRIVATE KEY-----'), false)
    assert.equal(looksLikeGnupgExport(Uint8Array.of(0x30, 0x82)), false, 'DER')
    assert.equal(looksLikeGnupgExport(Uint8Array.of(0x99, 0x02, 0x0d)), true, 'an old-format public-key packet')
  })

  test('readGnupgExport and gnupgPublicKey read public exports too', (t) => {
    if (!requireTools(t, 'gpg')) return
    const [key] = readGnupgExport(exports.public)
    assert.deepEqual(key.userIds, ['serials'])
    assert.equal(key.secret.kind, 'none')
    assert.equal(looksLikeGnupgExport(exports.public), true)
    assert.equal(looksLikeGnupgExport(exports.armored.toString('utf8')), true)
    const {publicKey} = gnupgPublicKey(exports.public)
    assert.equal(publicKey.asymmetricKeyDetails?.modulusLength, 4096)
  })
})
