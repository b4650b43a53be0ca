/**
 * A lab without the store: everything `serve` and a simulated device need to register offline,
 * made in one directory. A device accepts a serial only when its signing key chains up to a root
 * it trusts; real devices trust only the store's root (Canonical's), so a lab makes a test root of
 * its own and says so:
 *
 *     keys/root.pem ──signs──▶ assertions/root.account, root.account-key      (the test root)
 *                    ──signs──▶ assertions/brand.account, brand.account-key, serials.account-key
 *     keys/brand.pem ─signs──▶ model.assert                                   (the brand's model)
 *     keys/serials.pem ──────▶ the serials serve signs
 *
 * plus serve.yaml (the chain serve returns with each serial), the api-key devices send, a gadget
 * made as `init --device-service local` makes it, and a README saying what to run.
 */
import {generateKeyPair, randomBytes} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {basename, dirname, join, relative, resolve} from 'node:path'
import {promisify} from 'node:util'

import {type HeaderMap, type SignedAssertion, signAssertion, type SigningKey, signingKeyFromKeyObject} from '../assertions/index.js'
import {ioError, UserError} from '../errors.js'
import type {Base} from '../scaffold/boards.js'
import {planScaffold} from '../scaffold/plan.js'
import {writeScaffold} from '../scaffold/write.js'
import {rfc3339} from '../support/rfc3339.js'

const generateKeyPairAsync = promisify(generateKeyPair)

/** The test root's account id: not Canonical's, so nothing it signs passes on a real device. */
export const LAB_ROOT_ID = 'lab-root'
/** The variable the lab's serve config reads the api-key from. */
const LAB_API_KEY_ENV = 'LAB_API_KEY'
/** Where `init --device-service local` points a gadget, and where the lab's serve listens. */
const LAB_LISTEN = '127.0.0.1:8642'

interface LabOptions {
  /** The lab directory: made, and refused when it holds anything unless `force`. */
  directory: string
  cwd?: string
  /** The brand's account id (default acme). */
  brand?: string
  /** The board profile of the lab's gadget (default pc-amd64), and its base. */
  board?: string
  base?: Base
  /** Replace what the directory holds. */
  force?: boolean
  /** The time the assertions are signed at (tests fix it). */
  now?: Date
}

interface LabFile {
  /** Relative to the lab directory. */
  path: string
  what: string
}

export interface LabResult {
  directory: string
  brand: string
  model: string
  /** The gadget project, relative to the lab. */
  gadget: string
  /** The URL the gadget and serve agree on. */
  url: string
  keyIds: {root: string; brand: string; serials: string}
  files: LabFile[]
}

/** Makes the lab; writes into a temporary directory beside it and moves it into place whole. */
export async function initLab(options: LabOptions): Promise<LabResult> {
  const cwd = options.cwd ?? process.cwd()
  const directory = resolve(cwd, options.directory)
  const brand = options.brand ?? 'acme'
  const now = options.now ?? new Date()
  checkTarget(directory, Boolean(options.force))

  // RSA 4096, what snapd demands of keys it does not hold itself; made on the thread pool, together.
  const [root, brandKey, serials] = await Promise.all([newKey(4096), newKey(4096), newKey(4096)])
  const staging = `${directory}.lab-${randomBytes(4).toString('hex')}`
  try {
    mkdirSync(staging, {recursive: true})
    const files: LabFile[] = []
    const write = (path: string, content: string | Uint8Array, what: string, mode = 0o644): void => {
      const target = join(staging, path)
      mkdirSync(dirname(target), {recursive: true})
      writeFileSync(target, content, {mode})
      chmodSync(target, mode)
      files.push({path, what})
    }

    // 1. The gadget, as init makes it for a service on the factory's own machine.
    const plan = await planScaffold({board: options.board ?? 'pc-amd64', ...(options.base ? {base: options.base} : {}), brand, cwd: staging, deviceService: 'local', directory: 'gadget', timestamp: rfc3339(now)})
    writeScaffold(plan)
    files.push({path: 'gadget/', what: `the gadget (${plan.board.id}, ${plan.base}), made as init --device-service local makes it`})

    // 2. The keys: PEM, the user's alone.
    write('keys/root.pem', pem(root), 'the test root key: it signs the brand account and account-keys (a lab stand-in for the store)', 0o600)
    write('keys/brand.pem', pem(brandKey), 'the brand key: it signs the model', 0o600)
    write('keys/serials.pem', pem(serials), 'the serial signing key serve signs with', 0o600)

    // 3. The chain, signed by the test root; the model, signed by the brand.
    // Valid from a day before anything it signs (the model and the serials are dated now or later).
    const since = rfc3339(new Date(now.getTime() - 24 * 3600 * 1000))
    const signed = (type: string, headers: HeaderMap, key: SigningKey, body?: string): SignedAssertion => signAssertion({body, headers, type}, key, {signatureTime: now})
    const account = (id: string, display: string) => signed('account', {'account-id': id, 'authority-id': LAB_ROOT_ID, 'display-name': display, timestamp: rfc3339(now), username: id, validation: 'verified'}, root)
    const accountKey = (id: string, key: SigningKey, name: string) => signed('account-key', {'account-id': id, 'authority-id': LAB_ROOT_ID, name, 'public-key-sha3-384': key.keyId, since}, root, key.encodedPublicKey)
    const rootAccount = account(LAB_ROOT_ID, 'Lab root (test only)')
    const rootAccountKey = accountKey(LAB_ROOT_ID, root, 'root')
    write('assertions/root.account', rootAccount.text, 'the test root account')
    write('assertions/root.account-key', rootAccountKey.text, "the test root's account-key")
    write('assertions/trusted.assert', `${rootAccount.text}\n${rootAccountKey.text}`, 'what a lab device trusts: the test root (device register --trust)')
    write('assertions/brand.account', account(brand, `${brand} (lab)`).text, 'the brand account, signed by the test root')
    write('assertions/brand.account-key', accountKey(brand, brandKey, 'brand').text, "the brand key's account-key")
    write('assertions/serials.account-key', accountKey(brand, serials, 'serials').text, "the serial signing key's account-key")
    const {type: _type, ...modelHeaders} = plan.modelJson as unknown as HeaderMap
    write('model.assert', signed('model', {...modelHeaders, timestamp: rfc3339(now)}, brandKey).text, `the model ${brand}/${plan.model}, signed by the brand`)

    // 4. serve's config and the api-key its devices send.
    write('api-key', `${randomBytes(16).toString('hex')}\n`, `the api-key the gadget's devices send (serve reads it from $${LAB_API_KEY_ENV})`, 0o600)
    write('serve.yaml', serveConfig(brand, plan.model), 'the serve config: the serials key and the chain it returns with each serial')
    write('README.md', readme({brand, gadget: 'gadget', model: plan.model, rootKeyId: root.keyId}), 'what to run')

    if (existsSync(directory)) rmSync(directory, {force: true, recursive: true})
    renameSync(staging, directory)
    return {brand, directory, files, gadget: 'gadget', keyIds: {brand: brandKey.keyId, root: root.keyId, serials: serials.keyId}, model: plan.model, url: plan.deviceService.url}
  } catch (error) {
    rmSync(staging, {force: true, recursive: true})
    if (error instanceof UserError) throw error
    if ((error as NodeJS.ErrnoException).code !== undefined) throw ioError(directory, error, 'write')
    throw error
  }
}

function checkTarget(directory: string, force: boolean): void {
  if (!existsSync(directory)) return
  let entries: string[]
  try {
    entries = readdirSync(directory)
  } catch (error) {
    throw ioError(directory, error, 'read')
  }

  if (entries.length > 0 && !force) {
    throw new UserError('E_EXISTS', `${directory} already holds ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}: a lab goes into a new or empty directory`, {
      file: directory,
      hint: `choose another directory, or pass --force to replace what ${basename(directory)} holds`,
    })
  }
}

async function newKey(bits: number): Promise<SigningKey> {
  const {privateKey} = await generateKeyPairAsync('rsa', {modulusLength: bits})
  return signingKeyFromKeyObject(privateKey)
}

function pem(key: SigningKey): string {
  return key.privateKey.export({format: 'pem', type: 'pkcs8'}).toString()
}

function serveConfig(brand: string, model: string): string {
  return `# yaml-language-server: $schema=https://snap-gadget.dev/schemas/serve.schema.json
# The lab's device service: snap-gadget serve --config serve.yaml (with ${LAB_API_KEY_ENV} set).
listen: ${LAB_LISTEN}
database: sqlite:serve.db
models:
  - brand: ${brand}
    model: ${model}
    api-key: {env: ${LAB_API_KEY_ENV}}
    signing-key: keys/serials.pem
    chain: [assertions/brand.account, assertions/serials.account-key]
`
}

function readme(lab: {brand: string; model: string; gadget: string; rootKeyId: string}): string {
  return `# A registration lab without the store

This directory holds everything a device service and a simulated device need to register offline:
a **test root** (\`keys/root.pem\`, id \`${lab.rootKeyId}\`), the brand \`${lab.brand}\`'s account and
account-keys signed by it, the serial signing key \`serve\` signs with (\`keys/serials.pem\`), the model
\`${lab.brand}/${lab.model}\` signed by the brand (\`model.assert\`), a serve config (\`serve.yaml\`), the
api-key devices send (\`api-key\`), and a gadget (\`${lab.gadget}/\`) made as \`snap-gadget init
--device-service local\` makes it.

Real devices trust only the store's root: nothing signed here is accepted on one. In the lab, a
device is told to trust the test root (\`assertions/trusted.assert\`).

## Run it

In one terminal:

\`\`\`sh
export ${LAB_API_KEY_ENV}="$(cat api-key)"
snap-gadget serve --config serve.yaml
\`\`\`

In another, play a device of the model against it:

\`\`\`sh
snap-gadget device register ${lab.gadget} --model model.assert --trust assertions/trusted.assert --api-key-file api-key
\`\`\`

\`snap-gadget serve log --config serve.yaml\` lists what was signed.

## What each file is

| File | What |
|---|---|
| \`keys/*.pem\` | RSA 4096 private keys, mode 0600: keep them to the lab |
| \`assertions/trusted.assert\` | the test root's account and account-key: what a lab device trusts |
| \`assertions/brand.account\`, \`serials.account-key\` | the chain \`serve\` returns with each serial |
| \`assertions/brand.account-key\` | the account-key of the brand key that signs the model |
| \`model.assert\` | the model, signed by the brand key |
| \`serve.yaml\`, \`api-key\` | the device service's config, and the api-key it reads from \`$${LAB_API_KEY_ENV}\` |
| \`${lab.gadget}/\` | the gadget project |
`
}

/** The lab's files as a reader lists them, relative to where the command runs. */
export function describeLabPath(result: LabResult, cwd = process.cwd()): string {
  const shown = relative(cwd, result.directory)
  return shown === '' ? '.' : shown.startsWith('..') ? result.directory : shown
}
