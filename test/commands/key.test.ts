/**
 * `snap-gadget key …` end to end through bin/run.js, against the real tools a brand uses: keys made
 * by `snap create-key` itself and by GnuPG, ids as `snap keys` reports them.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {loadSigningKey} from '../../src/assertions/keys.js'
import {importGnupgKey} from '../../src/keys/gnupg.js'
import {testKeys} from '../helpers/assertions.js'
import {runCli} from '../helpers/cli.js'
import {type GnupgHome, haveTools, makeGnupgHome, requireTools, snapCreateKey} from '../helpers/gnupg.js'
import {binRun, fixtures, shared} from '../helpers/paths.js'

const PASSPHRASE = 'correct horse'
let work: string
let home: GnupgHome | undefined

before(() => {
  work = mkdtempSync(join(tmpdir(), 'snap-gadget-key-'))
  if (!haveTools('gpg', 'snap', 'script')) return
  home = makeGnupgHome()
  snapCreateKey(home, 'serials')
  home.generate('protected-key', {passphrase: PASSPHRASE})
})

after(() => {
  home?.remove()
  rmSync(work, {force: true, recursive: true})
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
