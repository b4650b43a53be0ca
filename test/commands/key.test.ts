/**
 * `snap-gadget key …` end to end through bin/run.js, against the real tools a brand uses: keys made
 * by `snap create-key` itself and by GnuPG, ids as `snap keys` reports them.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {createPrivateKey, createPublicKey} from 'node:crypto'
import {copyFileSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {parseAssertion} from '../../src/assertions/decode.js'
import {loadSigningKey} from '../../src/assertions/keys.js'
import {verifyAssertionSignature} from '../../src/assertions/verify.js'
import {makeAccountKeyRequest} from '../../src/keys/account-key-request.js'
import {importGnupgKey} from '../../src/keys/gnupg.js'
import {signatureCreationTime, testKeys} from '../helpers/assertions.js'
import {runCli} from '../helpers/cli.js'
import {type GnupgHome, haveTools, makeGnupgHome, requireTools, run, snapCreateKey} from '../helpers/key-tools.js'
import {binRun, fixtures, projectRoot, shared} from '../helpers/paths.js'

const PASSPHRASE = 'correct horse'
let work: string
let home: GnupgHome | undefined

before(() => {
  work = freshDir('snap-gadget-key-')
  if (!haveTools('gpg', 'snap', 'script')) return
  home = makeGnupgHome()
  snapCreateKey(home, 'serials')
  home.generate('protected-key', {passphrase: PASSPHRASE})
})

after(() => {
  home?.remove()
})

describe('key import-gnupg', () => {
  test('a key snap create-key made (empty passphrase): a 0600 PEM file with the id snap keys shows, never over a file without --force', async (t) => {
    if (!requireTools(t, 'gpg', 'snap', 'script')) return
    const snapIds = home!.snapKeys()
    const out = join(work, 'serials.pem')
    const exported = home!.exportSecret('serials')
    const result = await runCli(['key', 'import-gnupg', '-', '--out', out], {input: exported})
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, `wrote ${out} (mode 0600): the GnuPG key "serials", RSA 4096, key id ${snapIds.serials}\n`)
    assert.equal(statSync(out).mode & 0o777, 0o600)
    const written = readFileSync(out, 'utf8')
    assert.equal(loadSigningKey(written).keyId, snapIds.serials)
    const id = await runCli(['key', 'id', out])
    assert.equal(id.stdout, `${snapIds.serials}\n`, 'key id of the PEM file is what snap keys showed for the GnuPG key')
    for (const output of [result.stdout, result.stderr]) assert.doesNotMatch(output, /PRIVATE KEY|MII/)

    const armored = join(work, 'serials.asc')
    writeFileSync(armored, home!.exportSecret('serials', {armor: true}))
    const again = await runCli(['key', 'import-gnupg', armored, '--out', out, '--json'])
    assert.equal(again.code, 2)
    assert.equal((JSON.parse(again.stdout) as {error: {code: string}}).error.code, 'E_EXISTS')
    assert.equal(readFileSync(out, 'utf8'), written, 'the file is as it was')

    writeFileSync(out, 'something else\n', {mode: 0o644})
    const forced = await runCli(['key', 'import-gnupg', armored, '--out', out, '--force', '--json'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.deepEqual(JSON.parse(forced.stdout), {bits: 4096, file: out, fingerprint: importGnupgKey(exported).fingerprint, keyId: snapIds.serials, name: 'serials'})
    assert.equal(readFileSync(out, 'utf8'), written)
    assert.equal(statSync(out).mode & 0o777, 0o600, 'the replaced file is 0600 too')
  })

  test("a protected key is refused; the hint's exact commands, typed into a terminal, import an unprotected copy and leave the key protected", async (t) => {
    if (!requireTools(t, 'gpg', 'snap', 'script')) return
    const out = join(work, 'protected.pem')
    const env = {SNAP_GNUPG_HOME: home!.dir}
    const refused = await runCli(['key', 'import-gnupg', '-', '--out', out], {env, input: home!.exportSecret('protected-key', {passphrase: PASSPHRASE})})
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /^error: <stdin> holds the key "protected-key" \([0-9A-F]{40}\) protected by a passphrase, which snap-gadget does not ask for\n/)
    const hint = /\n {2}hint: .*\(gpg asks for the passphrase twice, then for a new one: press Enter\): (copy=.*)\n$/.exec(refused.stderr)?.[1]
    assert.ok(hint, refused.stderr)
    assert.ok(hint.includes(`--homedir ${home!.dir} `), 'the hint names the GnuPG home snap uses (SNAP_GNUPG_HOME)')

    // The commands as a user pastes them: snap-gadget on PATH, gpg asking on the terminal.
    const bin = join(work, 'bin')
    mkdirSync(bin, {recursive: true})
    symlinkSync(binRun, join(bin, 'snap-gadget'))
    const typed = await typeIntoTerminal(hint, {...home!.env(), PATH: `${bin}:${process.env.PATH}`}, [PASSPHRASE, PASSPHRASE, ''])
    assert.equal(typed.code, 0, typed.output)
    assert.equal(loadSigningKey(readFileSync(out)).keyId, home!.snapKeys()['protected-key'])
    assert.equal(statSync(out).mode & 0o777, 0o600)
    assert.throws(() => importGnupgKey(home!.exportSecret('protected-key', {passphrase: PASSPHRASE})), /protected by a passphrase/, 'the key in GnuPG keeps its passphrase')
  })

  test('what is not a GnuPG secret key: exit 2 with the reason', async () => {
    const pem = await runCli(['key', 'import-gnupg', '-', '--out', join(work, 'x.pem')], {input: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n'})
    assert.equal(pem.code, 2)
    assert.match(pem.stderr, /error: <stdin> is not a GnuPG key export: no "-----BEGIN PGP PRIVATE KEY BLOCK-----" line, and not binary OpenPGP/)
    const missing = await runCli(['key', 'import-gnupg', join(work, 'nope.gpg'), '--out', join(work, 'x.pem')])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /no such file or directory/)
  })
})

describe('key id', () => {
  test("prints snapd's id alone, from a PEM key, snap export-key output or an account-key, a file or stdin", async () => {
    const {brand} = testKeys()
    const file = await runCli(['key', 'id', fixtures('assertions', 'brand.pem')])
    assert.equal(file.code, 0, file.stderr)
    assert.equal(file.stdout, `${brand.keyId}\n`)
    assert.equal(file.stderr, '')
    const stdin = await runCli(['key', 'id', '-'], {input: brand.encodedPublicKey})
    assert.equal(stdin.stdout, `${brand.keyId}\n`)
    const request = await runCli(['key', 'id', shared('fixtures', 'assertions', 'account-key-request.assert'), '--json'])
    assert.equal(request.code, 0, request.stderr)
    assert.deepEqual(JSON.parse(request.stdout), {
      accountId: 'acme-brand',
      bits: 4096,
      file: shared('fixtures', 'assertions', 'account-key-request.assert'),
      form: 'account-key-request',
      keyId: 'Zk0oO8eYhBjl_IDVLUu9biFPSMNq67eJVLwQV81z64L0e3Nkr1D1JjgfjuEC8nQB',
      name: 'brand-test',
    })
  })

  test('the id of a GnuPG key is the one snap keys shows for it', async (t) => {
    if (!requireTools(t, 'gpg', 'snap', 'script')) return
    const result = await runCli(['key', 'id', '-'], {input: home!.gpg(['--export', 'serials'])})
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, `${home!.snapKeys().serials}\n`)
  })

  test('a key under 4096 bits: its id, and a warning; not a key: exit 2', async () => {
    const small = await runCli(['key', 'id', fixtures('assertions', 'device-2048.pem')])
    assert.equal(small.code, 0, small.stderr)
    assert.equal(small.stdout, `${testKeys().device2048.keyId}\n`)
    assert.match(small.stderr, /^warning: .*device-2048\.pem is a 2048-bit RSA key: snapd signs with a key it did not make itself only from 4096 bits\n$/)
    const ec = await runCli(['key', 'id', fixtures('assertions', 'ec.pem')])
    assert.equal(ec.code, 2)
    assert.match(ec.stderr, /error: .*ec\.pem is an EC key/)
    assert.equal(ec.stdout, '')
  })
})

describe('key keymgr', () => {
  const keymgr = join(projectRoot, 'bin', 'keymgr.js')
  let keys: string
  let snapEnv: NodeJS.ProcessEnv
  before(() => {
    keys = join(work, 'keymgr-keys')
    mkdirSync(keys)
    copyFileSync(fixtures('assertions', 'device-2048.pem'), join(keys, 'small.pem'))
    // SNAPD_EXT_KEYMGR names bin/keymgr.js as the installed snap-gadget-keymgr: run by its #! line.
    snapEnv = {HOME: work, LANG: 'C.UTF-8', PATH: `${dirname(process.execPath)}:${process.env.PATH}`, SNAP_GADGET_KEYS: keys, SNAPD_EXT_KEYMGR: keymgr}
    if (home) writeFileSync(join(keys, 'serials.pem'), importGnupgKey(home.exportSecret('serials')).pem, {mode: 0o600})
  })

  test('snap keys and snap export-key see the PEM key of a snap create-key key as they saw it in GnuPG', (t) => {
    if (!requireTools(t, 'gpg', 'snap', 'script')) return
    const listed = JSON.parse(String(run('snap', ['keys', '--json'], snapEnv).stdout)) as Array<{name: string; 'sha3-384': string}>
    assert.deepEqual(listed, [
      {name: 'serials', 'sha3-384': home!.snapKeys().serials},
      {name: 'small', 'sha3-384': testKeys().device2048.keyId},
    ])
    assert.equal(String(run('snap', ['export-key', 'serials'], snapEnv).stdout), String(run('snap', ['export-key', 'serials'], home!.env()).stdout))
  })

  test('snap sign -k NAME and snap export-key --account sign with the PEM key: our decoder and verifier accept what they print', (t) => {
    if (!requireTools(t, 'gpg', 'snap', 'script')) return
    const key = loadSigningKey(readFileSync(join(keys, 'serials.pem')))
    const statement = join(work, 'account.json')
    writeFileSync(
      statement,
      JSON.stringify({'account-id': 'acme-brand', 'authority-id': 'acme-brand', 'display-name': 'Acme', timestamp: '2024-01-01T00:00:00Z', type: 'account', username: 'acme', validation: 'unproven'}),
    )
    const signed = parseAssertion(String(run('snap', ['sign', '-k', 'serials', statement], snapEnv).stdout))
    assert.equal(signed.headers['sign-key-sha3-384'], key.keyId)
    assert.deepEqual(verifyAssertionSignature(signed, key.encodedPublicKey), {keyId: key.keyId, valid: true})

    const request = parseAssertion(String(run('snap', ['export-key', '--account=acme-brand', 'serials'], snapEnv).stdout))
    assert.equal(request.type, 'account-key-request')
    assert.deepEqual(
      {...request.headers, since: undefined},
      {'account-id': 'acme-brand', 'body-length': '717', name: 'serials', 'public-key-sha3-384': key.keyId, 'sign-key-sha3-384': key.keyId, since: undefined, type: 'account-key-request'},
    )
    assert.equal(request.body, key.encodedPublicKey)
    assert.deepEqual(verifyAssertionSignature(request, key.encodedPublicKey), {keyId: key.keyId, valid: true}, 'self-signed, as snapd checks it')
  })

  test("snap reports the key manager's reason for a missing key, and its own for a key under 4096 bits", (t) => {
    if (!requireTools(t, 'snap')) return
    const statement = join(work, 'small.json')
    writeFileSync(
      statement,
      JSON.stringify({'account-id': 'acme-brand', 'authority-id': 'acme-brand', 'display-name': 'Acme', timestamp: '2024-01-01T00:00:00Z', type: 'account', username: 'acme', validation: 'unproven'}),
    )
    const missing = spawnSync('snap', ['sign', '-k', 'absent', statement], {env: snapEnv})
    assert.equal(missing.status, 1)
    assert.match(String(missing.stderr), /no key named \\"absent\\": .*absent\.pem does not exist/)
    const small = spawnSync('snap', ['export-key', '--account=acme-brand', 'small'], {env: snapEnv})
    assert.notEqual(small.status, 0)
    assert.match(String(small.stderr), /signing needs at least a 4096 bits key, got 2048/, 'snap lists the key (get-public-key serves it) and refuses to sign with it')
  })

  test('the operations run directly: JSON and DER out, refusals with exit 2, never a private key', async () => {
    const env = {SNAP_GADGET_KEYS: keys}
    const features = await runCli(['key', 'keymgr', 'features'])
    assert.equal(features.stdout, '{"public-keys":["DER"],"signing":["RSA-PKCS"]}')
    const names = await runCli(['key', 'keymgr', 'key-names'], {env})
    assert.equal(names.code, 0, names.stderr)
    assert.deepEqual((JSON.parse(names.stdout) as {'key-names': string[]})['key-names'].includes('small'), true)
    const der = spawnSync(keymgr, ['get-public-key', '-f', 'DER', '-k', 'small'], {env: snapEnv})
    assert.equal(der.status, 0, String(der.stderr))
    assert.deepEqual(der.stdout, createPublicKey(createPrivateKey(readFileSync(join(keys, 'small.pem')))).export({format: 'der', type: 'spki'}))

    const unset = await runCli(['key', 'keymgr', 'key-names'], {env: {SNAP_GADGET_KEYS: ''}})
    assert.equal(unset.code, 2)
    assert.match(unset.stderr, /error: no key directory: SNAP_GADGET_KEYS is not set\n {2}hint: export SNAP_GADGET_KEYS=/)
    const traversal = await runCli(['key', 'keymgr', 'get-public-key', '-f', 'DER', '-k', '../keymgr-keys/small'], {env})
    assert.equal(traversal.code, 2)
    assert.match(traversal.stderr, /error: "\.\.\/keymgr-keys\/small" is not a key name/)
    const garbage = await runCli(['key', 'keymgr', 'sign', '-m', 'RSA-PKCS', '-k', 'small'], {env, input: 'sign this'})
    assert.equal(garbage.code, 2)
    assert.match(garbage.stderr, /sign expects a SHA-512 DigestInfo on standard input \(83 bytes\)/)
    const pem = await runCli(['key', 'keymgr', 'get-public-key', '-f', 'PEM', '-k', 'small'], {env})
    assert.equal(pem.code, 2)
    const noKey = await runCli(['key', 'keymgr', 'sign', '-m', 'RSA-PKCS'], {env})
    assert.equal(noKey.code, 2)
    assert.match(noKey.stderr, /sign needs -k NAME/)
    for (const output of [features, names, unset, traversal, garbage, pem, noKey]) assert.doesNotMatch(output.stdout + output.stderr, /PRIVATE KEY/)
  })
})

describe('key account-key-request', () => {
  let keys: string
  let snapEnv: NodeJS.ProcessEnv
  before(() => {
    keys = join(work, 'request-keys')
    mkdirSync(keys)
    copyFileSync(fixtures('assertions', 'brand.pem'), join(keys, 'serials.pem'))
    snapEnv = {HOME: work, LANG: 'C.UTF-8', PATH: `${dirname(process.execPath)}:${process.env.PATH}`, SNAP_GADGET_KEYS: keys, SNAPD_EXT_KEYMGR: join(projectRoot, 'bin', 'keymgr.js')}
  })

  test('is what snap export-key --account prints for the same key, but for since; at the same times, byte for byte', async (t) => {
    if (!requireTools(t, 'snap')) return
    const {brand} = testKeys()
    const theirs = String(run('snap', ['export-key', '--account=acme-brand', 'serials'], snapEnv).stdout)
    const ours = await runCli(['key', 'account-key-request', join(keys, 'serials.pem'), '--account', 'acme-brand'])
    assert.equal(ours.code, 0, ours.stderr)
    const content = (text: string): string => text.slice(0, text.lastIndexOf('\n\n')).replace(/^since: .*$/m, 'since: …')
    assert.equal(content(ours.stdout), content(theirs))
    assert.deepEqual(verifyAssertionSignature(parseAssertion(ours.stdout), brand.encodedPublicKey), {keyId: brand.keyId, valid: true})

    const snaps = parseAssertion(theirs)
    const same = makeAccountKeyRequest({accountId: 'acme-brand', key: brand, name: 'serials', signatureTime: signatureCreationTime(snaps.signature), since: new Date(snaps.headers.since as string)})
    assert.equal(same.text, theirs)
  })

  test('--out writes the request (never over a file without --force), --json says what it made; a file name that is no key name needs --name', async () => {
    const {brand} = testKeys()
    const out = join(work, 'serials.account-key-request')
    const written = await runCli(['key', 'account-key-request', join(keys, 'serials.pem'), '--account', 'acme-brand', '--out', out, '--json'])
    assert.equal(written.code, 0, written.stderr)
    const result = JSON.parse(written.stdout) as {accountId: string; file: string; keyId: string; name: string; since: string}
    assert.deepEqual({...result, since: undefined}, {accountId: 'acme-brand', file: out, keyId: brand.keyId, name: 'serials', since: undefined})
    assert.equal(parseAssertion(readFileSync(out)).headers.since, result.since)
    assert.equal(statSync(out).mode & 0o777, 0o644)
    const again = await runCli(['key', 'account-key-request', join(keys, 'serials.pem'), '--account', 'acme-brand', '--out', out])
    assert.equal(again.code, 2)
    assert.match(again.stderr, /already exists/)

    const unnamed = await runCli(['key', 'account-key-request', fixtures('assertions', 'brand.pem'), '--account', 'acme-brand'])
    assert.equal(unnamed.code, 0, unnamed.stderr)
    assert.match(unnamed.stdout, /^name: brand$/m)
    const stdin = await runCli(['key', 'account-key-request', '-', '--account', 'acme-brand'], {input: readFileSync(fixtures('assertions', 'brand.pem'))})
    assert.equal(stdin.code, 2)
    assert.match(stdin.stderr, /the key's name cannot come from stdin.*\n {2}hint: give it with --name/)
    const named = await runCli(['key', 'account-key-request', '-', '--account', 'acme-brand', '--name', 'serials'], {input: readFileSync(fixtures('assertions', 'brand.pem'))})
    assert.match(named.stdout, /^name: serials$/m)
    const small = await runCli(['key', 'account-key-request', fixtures('assertions', 'device-2048.pem'), '--account', 'acme-brand', '--name', 'small'])
    assert.equal(small.code, 2)
    assert.match(small.stderr, /2048-bit RSA key/)
  })
})

/**
 * Runs a shell command line in a terminal (script(1)) and answers each "Enter passphrase:" prompt
 * in turn, as a user typing. GnuPG flushes what was typed ahead when it turns echo off, so each
 * answer waits for its prompt.
 */
function typeIntoTerminal(command: string, env: NodeJS.ProcessEnv, answers: string[]): Promise<{code: number | null; output: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {env, stdio: ['pipe', 'pipe', 'pipe'], timeout: 300_000})
    let output = ''
    let since = ''
    let next = 0
    const read = (data: Buffer): void => {
      output += String(data)
      since += String(data)
      if (next < answers.length && /Enter passphrase:\s*$/.test(since)) {
        since = ''
        const answer = answers[next++]
        setTimeout(() => child.stdin.write(`${answer}\n`), 500)
      }
    }

    child.stdout.on('data', read)
    child.stderr.on('data', read)
    child.on('error', reject)
    child.on('close', (code) => {
      child.stdin.destroy()
      resolve({code, output})
    })
  })
}
