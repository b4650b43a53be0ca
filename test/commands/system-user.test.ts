/**
 * `snap-gadget system-user` end to end through bin/run.js: the auto-import.assert a factory puts on
 * a USB stick, the password from a file, from standard input and from the terminal (a real
 * pseudo-terminal, through script(1)), never echoed, never in the output; --output never over a
 * file without --force; --json; and what is refused before anything is signed.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, test} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {parseAssertions, verifyAssertionSignature} from '../../src/assertions/index.js'
import {systemUserView} from '../../src/assertions/system-user.js'
import {sha512Crypt} from '../../src/support/sha512-crypt.js'
import {makeBrandChain, testKeys} from '../helpers/assertions.js'
import {runCli} from '../helpers/cli.js'
import {binRun, fixtures} from '../helpers/paths.js'

const PASSWORD = 'Werk 2 — Linie 4!'
let work: string
let files: {account: string; accountKey: string; model: string; password: string; pub: string}

before(() => {
  work = freshDir('snap-gadget-system-user-')
  const chain = makeBrandChain(testKeys().root, testKeys().brand, {brandId: 'acme'})
  files = {account: join(work, 'acme.account'), accountKey: join(work, 'acme.account-key'), model: join(work, 'model.assert'), password: join(work, 'password'), pub: join(work, 'id_ed25519.pub')}
  writeFileSync(files.account, chain.account.text)
  writeFileSync(files.accountKey, chain.accountKey.text)
  writeFileSync(files.model, chain.signModel({model: 'acme-pc'}).text)
  writeFileSync(files.password, `${PASSWORD}\nsecond line ignored\n`)
  const keygen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'support@acme', '-f', join(work, 'id_ed25519')])
  assert.equal(keygen.status, 0, String(keygen.stderr))
})

const base = (): string[] => [
  'system-user',
  '--key',
  fixtures('assertions', 'brand.pem'),
  '--chain',
  files.account,
  '--chain',
  files.accountKey,
  '--model-assertion',
  files.model,
  '--email',
  'factory@acme.example',
  '--username',
  'factory',
]

/** The system-user of a bundle, checked: account, account-key, then the user, signed by the brand key; its password hash is of `password`. */
function checkBundle(text: string, password: string): ReturnType<typeof systemUserView> {
  const assertions = parseAssertions(text)
  assert.deepEqual(
    assertions.map((a) => a.type),
    ['account', 'account-key', 'system-user'],
  )
  assert.equal(verifyAssertionSignature(assertions[2], testKeys().brand.encodedPublicKey).valid, true, 'signed by the brand key')
  const user = systemUserView(assertions[2])
  const hash = String(assertions[2].headers.password)
  const salt = /^\$6\$([^$]+)\$/.exec(hash)?.[1]
  assert.equal(sha512Crypt(password, {salt}), hash, 'the hash is of the password given')
  assert.ok(!text.includes(password), 'the password itself is nowhere')
  return user
}

describe('system-user', () => {
  test('--password-file and --ssh-key to --output: the bundle a device imports, the password only as its hash; a second run is refused without --force', async () => {
    const out = join(work, 'auto-import.assert')
    const run = await runCli([...base(), '--password-file', files.password, '--ssh-key', files.pub, '--name', 'Factory line 4', '--output', out])
    assert.equal(run.code, 0, run.stderr)
    const user = checkBundle(readFileSync(out, 'utf8'), PASSWORD)
    assert.equal(user.username, 'factory')
    assert.deepEqual(user.models, ['acme-pc'])
    assert.deepEqual(user.sshKeys, [readFileSync(files.pub, 'utf8').trim()])
    // 72 hours by default.
    assert.equal(Date.parse(user.until) - Date.parse(user.since), 72 * 3600 * 1000)
    for (const stream of [run.stdout, run.stderr]) assert.ok(!stream.includes(PASSWORD))
    assert.match(run.stdout + run.stderr, /auto-import\.assert/)

    const before = readFileSync(out, 'utf8')
    const again = await runCli([...base(), '--password-file', files.password, '--output', out])
    assert.equal(again.code, 2, again.stderr)
    assert.match(again.stderr, /exists.*--force|--force/)
    assert.equal(readFileSync(out, 'utf8'), before, 'the file is left as it was')

    const forced = await runCli([...base(), '--password-file', files.password, '--output', out, '--force'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.notEqual(readFileSync(out, 'utf8'), before)
  })

  test('--password-file - reads standard input; --json reports without the password or its hash', async () => {
    const run = await runCli([...base(), '--password-file', '-', '--serial', 'ACME-0001', '--valid-for', '8h', '--json'], {input: `${PASSWORD}\n`})
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as Record<string, unknown>
    assert.equal(result.format, 1)
    assert.deepEqual(result.serials, ['ACME-0001'])
    assert.ok(!run.stdout.includes(PASSWORD) && !run.stdout.includes('$6$'))
    assert.ok(Array.isArray(result.features) && JSON.stringify(result.features).includes('2.64'), 'says which snapd binds serials before registration')
  })

  test('--ask-password on a real terminal: asked twice, nothing echoed; two different answers are refused', async () => {
    const out = join(work, 'prompted.assert')
    const typed = await typeAtPrompts([...base(), '--ask-password', '--output', out], [PASSWORD, PASSWORD])
    assert.equal(typed.code, 0, typed.output)
    assert.match(typed.output, /password for the new user: \r?\npassword for the new user again: /)
    assert.ok(!typed.output.includes(PASSWORD), 'not echoed')
    checkBundle(readFileSync(out, 'utf8'), PASSWORD)

    const mistyped = await typeAtPrompts([...base(), '--ask-password', '--output', join(work, 'mistyped.assert')], [PASSWORD, 'something else'])
    assert.notEqual(mistyped.code, 0)
    assert.match(mistyped.output, /the two passwords differ/)
    assert.ok(!existsSync(join(work, 'mistyped.assert')))
  })

  test('refused before signing: no terminal for --ask-password, a password on argv, serials without one model, a private key as --ssh-key, a model of another brand', async () => {
    const noTerminal = await runCli([...base(), '--ask-password'])
    assert.equal(noTerminal.code, 2)
    assert.match(noTerminal.stderr, /no terminal to ask for the password on/)

    const argv = await runCli([...base(), '--password', PASSWORD])
    assert.equal(argv.code, 2)
    assert.match(argv.stderr, /unknown flag --password/)

    const twoModels = await runCli([
      'system-user',
      '--key',
      fixtures('assertions', 'brand.pem'),
      '--brand',
      'acme',
      '--model',
      'a',
      '--model',
      'b',
      '--serial',
      'S1',
      '--email',
      'e@acme.example',
      '--username',
      'e',
      '--password-file',
      files.password,
    ])
    assert.equal(twoModels.code, 2)
    assert.match(twoModels.stderr, /serials bind the user to devices of exactly one model, and 2 are given/)

    const privateKey = await runCli([...base(), '--ssh-key', join(work, 'id_ed25519')])
    assert.equal(privateKey.code, 2)
    assert.match(privateKey.stderr, /is a private key/)
    assert.ok(!privateKey.stderr.includes('BEGIN OPENSSH'), 'the private key is not printed')

    const other = makeBrandChain(testKeys().root, testKeys().device, {brandId: 'other'})
    const otherModel = join(work, 'other.model')
    writeFileSync(otherModel, other.signModel({model: 'other-pc'}).text)
    const foreign = await runCli([...base(), '--model-assertion', otherModel, '--password-file', files.password])
    assert.equal(foreign.code, 2)
    assert.match(foreign.stderr, /the model other-pc is of brand other, not acme/)
  })
})

/**
 * Runs the CLI on a pseudo-terminal (script(1)) and types each answer when its prompt appears, as
 * a person does: what the terminal shows is the output.
 */
function typeAtPrompts(args: string[], answers: string[]): Promise<{code: number | null; output: string}> {
  const command = [process.execPath, binRun, ...args].map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ')
  const child = spawn('script', ['-qec', command, '/dev/null'], {env: {...process.env, NO_COLOR: '1'}, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000})
  let output = ''
  let asked = 0
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
    // Each prompt ends in ": "; answer the next one once it is shown.
    const prompts = output.match(/password for the new user(?: again)?: /g)?.length ?? 0
    while (asked < prompts && asked < answers.length) child.stdin.write(`${answers[asked++]}\r`)
  })
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      child.stdin.destroy()
      resolve({code, output})
    })
  })
}
