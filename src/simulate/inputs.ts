/**
 * What `device register` is given, read from files: the gadget (a project, or a built snap tree),
 * the model (an assertion, or the project's model input signed here), the roots the device
 * trusts, and a captured-hardware template. Every read is bounded; every mistake is a UserError
 * that names the file.
 */
import {accessSync, constants, existsSync, statSync} from 'node:fs'
import {delimiter, join, resolve} from 'node:path'

import {parse as parseYaml} from 'yaml'

import {type Assertion, parseAssertions} from '../assertions/decode.js'
import {loadSigningKey} from '../assertions/keys.js'
import {type Assembled, assembleAssertion, AssemblyError, type AssembledModel} from '../assertions/assemble.js'
import {signAssertion} from '../assertions/sign.js'
import {UserError} from '../errors.js'
import {readBoundedFile} from '../support/bounded-read.js'

/** snap.yaml and snapcraft.yaml are a few KB. */
const MAX_SNAP_YAML_BYTES = 1024 * 1024
/** A model with its brand's chain, or a root's account and account-key: a few KB each. */
const MAX_ASSERTION_FILE_BYTES = 4 * 1024 * 1024

/** What runs the gadget's `$SNAP/usr/bin/qjs`. */
export interface HookEngine {
  kind: 'node' | 'qjs'
  /** The program (absolute path, or a name looked up on PATH). */
  command: string
}

export interface GadgetTree {
  dir: string
  /** A project (snap/snapcraft.yaml, snap/hooks/) or a built snap tree (meta/snap.yaml, meta/hooks/). */
  kind: 'project' | 'snap'
  name: string
  version: string
  /** The prepare-device hook; undefined when the gadget has none (snapd then skips the hook). */
  hook?: string
  /** The snap's plug and slot names: what `snapctl is-connected` knows. */
  plugs: string[]
  /** The environment snap.yaml gives the hook: the snap's, then the hook's own. */
  environment: Record<string, string>
  /**
   * The prepare-serial-request hook (hardware-identity onboarding, snapd 2.74 and later), with the
   * environment snap.yaml gives it; undefined when the gadget has none.
   */
  serialRequestHook?: {file: string; environment: Record<string, string>}
}

/** Reads a gadget project directory or a built snap tree. */
export function readGadgetTree(path: string): GadgetTree {
  const dir = resolve(path)
  if (!isDirectory(dir)) {
    throw new UserError('E_REGISTER_GADGET', `${path} is not a directory`, {hint: 'give the gadget project directory (made by snap-gadget init) or a built snap tree (with meta/snap.yaml)', kind: 'io'})
  }

  const built = join(dir, 'meta', 'snap.yaml')
  const projectYaml = ['snap/snapcraft.yaml', 'snapcraft.yaml', '.snapcraft.yaml'].map((p) => join(dir, p)).find((p) => existsSync(p))
  const kind = existsSync(built) ? 'snap' : projectYaml ? 'project' : undefined
  if (!kind) {
    throw new UserError('E_REGISTER_GADGET', `${path} is neither a gadget project (snap/snapcraft.yaml) nor a built snap tree (meta/snap.yaml)`, {
      hint: 'give the directory snap-gadget init made, or the unpacked gadget snap (unsquashfs)',
      kind: 'io',
    })
  }

  const yamlFile = kind === 'snap' ? built : projectYaml!
  let doc: unknown
  try {
    doc = parseYaml(readBoundedFile(yamlFile, MAX_SNAP_YAML_BYTES, {what: 'snap.yaml'}).toString('utf8'), {maxAliasCount: 100})
  } catch (error) {
    if (error instanceof UserError) throw error
    throw new UserError('E_REGISTER_GADGET', `${yamlFile} is not valid YAML: ${(error as Error).message}`, {file: yamlFile, hint: 'fix the file (snapcraft and snapd would refuse it too)'})
  }

  const snap = isMap(doc) ? doc : {}
  if (snap.type !== undefined && snap.type !== 'gadget') {
    throw new UserError('E_REGISTER_GADGET', `${yamlFile} describes a snap of type ${JSON.stringify(snap.type)}, not a gadget`, {file: yamlFile, hint: 'prepare-device is a gadget hook: give the gadget'})
  }

  const name = typeof snap.name === 'string' ? snap.name : ''
  if (name === '') throw new UserError('E_REGISTER_GADGET', `${yamlFile} has no name`, {file: yamlFile, hint: 'a snap needs a name'})
  const hooks = isMap(snap.hooks) ? snap.hooks : {}
  const hookFile = (hook: string) => join(dir, kind === 'snap' ? `meta/hooks/${hook}` : `snap/hooks/${hook}`)
  const hookEnvironment = (hook: string) => ({...stringMap(snap.environment), ...stringMap(isMap(hooks[hook]) ? hooks[hook].environment : undefined)})
  const serialRequestFile = hookFile('prepare-serial-request')
  return {
    dir,
    environment: hookEnvironment('prepare-device'),
    hook: existsSync(hookFile('prepare-device')) ? hookFile('prepare-device') : undefined,
    kind,
    name,
    plugs: plugAndSlotNames(snap),
    ...(existsSync(serialRequestFile) ? {serialRequestHook: {environment: hookEnvironment('prepare-serial-request'), file: serialRequestFile}} : {}),
    version: snap.version === undefined ? '' : String(snap.version),
  }
}

/** The plugs and slots snapd knows the snap by: declared at the top, or named by an app or hook. */
function plugAndSlotNames(snap: Record<string, unknown>): string[] {
  const names = new Set<string>()
  const add = (entry: unknown): void => {
    if (Array.isArray(entry)) for (const n of entry) if (typeof n === 'string') names.add(n)
    if (isMap(entry)) for (const n of Object.keys(entry)) names.add(n)
  }

  add(snap.plugs)
  add(snap.slots)
  for (const group of [snap.apps, snap.hooks]) {
    if (!isMap(group)) continue
    for (const item of Object.values(group)) {
      if (!isMap(item)) continue
      add(item.plugs)
      add(item.slots)
    }
  }

  return [...names].sort()
}

export interface ModelInput {
  model: AssembledModel
  /** The model's gadget snap name. */
  gadget: string
  /** Other assertions of the file (the brand's account and account-key): what the device holds from its seed. */
  seed: Assembled[]
}

/**
 * The model: an assertion (optionally followed by the brand's account and account-key, as a seed
 * holds them), or the project's model input (model.json, as `snap sign` takes it) signed here
 * with `signKey`.
 */
export function readModel(file: string, options: {signKey?: string; now?: Date} = {}): ModelInput {
  const bytes = readBoundedFile(file, MAX_ASSERTION_FILE_BYTES, {what: 'model'})
  const text = bytes.toString('utf8')
  let assertions: Assertion[]
  if (text.trimStart().startsWith('{')) {
    if (!options.signKey) {
      throw new UserError('E_REGISTER_MODEL', `${file} is a model input (JSON), not a signed model assertion`, {
        file,
        hint: "sign it as snap sign would: add --sign-key with the brand's PEM key, or give the model assertion",
      })
    }

    assertions = [signModelInput(file, text, options.signKey)]
  } else {
    assertions = parseFile(file, bytes)
  }

  const views = assertions.map((a) => viewOf(a, file))
  const models = views.filter((v): v is AssembledModel => v.type === 'model')
  if (models.length !== 1) throw new UserError('E_REGISTER_MODEL', `${file} holds ${models.length} model assertions; a device has one`, {file, hint: 'give the model assertion of the device'})
  const seed = views.filter((v) => v.type !== 'model')
  const strays = seed.filter((v) => v.type !== 'account' && v.type !== 'account-key')
  if (strays.length > 0) {
    throw new UserError('E_REGISTER_MODEL', `${file} holds a ${strays[0].assertion.type} assertion; beside the model, only the brand's account and account-key belong there`, {file, hint: 'leave other assertions out'})
  }

  const gadget = modelGadget(models[0])
  if (!gadget) throw new UserError('E_REGISTER_MODEL', `the model in ${file} names no gadget snap`, {file, hint: 'a device registers through its gadget: the model needs one (snaps: with type gadget, or gadget:)'})
  return {gadget, model: models[0], seed}
}

/** The roots the device trusts: account and account-key assertions, taken as they are. */
export function readTrust(files: readonly string[]): Assembled[] {
  const views: Assembled[] = []
  for (const file of files) {
    for (const view of parseFile(file, readBoundedFile(file, MAX_ASSERTION_FILE_BYTES, {what: 'assertion'})).map((a) => viewOf(a, file))) {
      if (view.type !== 'account' && view.type !== 'account-key') {
        throw new UserError('E_REGISTER_TRUST', `${file} holds a ${view.assertion.type} assertion; a trusted root is an account and its account-key`, {
          file,
          hint: "give the root's account and account-key assertions (a lab's test root, or `snap known --remote account account-id=canonical` and its key)",
        })
      }

      views.push(view)
    }
  }

  if (files.length > 0 && !views.some((v) => v.type === 'account-key')) {
    throw new UserError('E_REGISTER_TRUST', `${files.join(', ')} hold no account-key: nothing to check signatures with`, {file: files[0], hint: "add the root's account-key assertion"})
  }

  return views
}

/** The gadget the model names: the snaps entry of type gadget (UC20+), or the gadget header (name[=track]). */
function modelGadget(model: AssembledModel): string | undefined {
  const {headers} = model.assertion
  if (typeof headers.gadget === 'string') return headers.gadget.split('=')[0]
  if (Array.isArray(headers.snaps)) {
    for (const entry of headers.snaps) if (isMap(entry) && entry.type === 'gadget' && typeof entry.name === 'string') return entry.name
  }

  return undefined
}

function parseFile(file: string, bytes: Buffer): Assertion[] {
  try {
    return parseAssertions(bytes, {file})
  } catch (error) {
    if (error instanceof UserError) throw new UserError('E_REGISTER_MODEL', error.located, {cause: error, file, hint: error.hint ?? 'give assertions as snap sign and snap known write them', line: error.line})
    throw error
  }
}

function viewOf(assertion: Assertion, file: string): Assembled {
  try {
    return assembleAssertion(assertion)
  } catch (error) {
    if (error instanceof AssemblyError) throw new UserError('E_REGISTER_MODEL', `${file}: snapd would not decode it: ${error.message}`, {file, hint: 'give assertions snapd accepts', line: assertion.line})
    throw error
  }
}

function signModelInput(file: string, text: string, keyFile: string): Assertion {
  let input: unknown
  try {
    input = JSON.parse(text)
  } catch (error) {
    throw new UserError('E_REGISTER_MODEL', `${file} is not valid JSON: ${(error as Error).message}`, {file, hint: 'give the model input as snap sign takes it'})
  }

  if (!isMap(input)) throw new UserError('E_REGISTER_MODEL', `${file} is not a JSON object`, {file, hint: 'give the model input as snap sign takes it: an object of headers'})
  const {body, ...headers} = input
  if (body !== undefined && typeof body !== 'string') throw new UserError('E_REGISTER_MODEL', `"body" in ${file} must be a string`, {file, hint: 'snap sign takes the body as a string'})
  const key = loadSigningKey(readBoundedFile(keyFile, 64 * 1024, {what: 'key'}), keyFile)
  try {
    return signAssertion({body, headers: headers as never, type: 'model'}, key).assertion
  } catch (error) {
    if (error instanceof UserError) throw new UserError('E_REGISTER_MODEL', `cannot sign ${file}: ${error.message}`, {cause: error, file, hint: error.hint})
    throw error
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function stringMap(value: unknown): Record<string, string> {
  if (!isMap(value)) return {}
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) if (v !== null && typeof v !== 'object') out[k] = String(v)
  return out
}

/**
 * The engine `$SNAP/usr/bin/qjs` runs: `qjs` (the given program, or the one on PATH) or this Node;
 * `auto` takes qjs when PATH has one, else Node.
 */
export function resolveEngine(choice: 'auto' | 'node' | 'qjs', qjs?: string): HookEngine {
  if (qjs !== undefined) {
    const command = resolve(qjs)
    if (!isExecutable(command)) throw new UserError('E_REGISTER_ENGINE', `${qjs} is not an executable file`, {hint: 'give the path of a QuickJS qjs binary (or a script that runs one)', kind: 'io'})
    if (choice === 'node') throw new UserError('E_REGISTER_ENGINE', '--qjs names a QuickJS binary, and --engine node asks for Node', {hint: 'leave out one of them'})
    return {command, kind: 'qjs'}
  }

  if (choice === 'node') return {command: process.execPath, kind: 'node'}
  const found = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, 'qjs'))
    .find((file) => isExecutable(file))
  if (found) return {command: found, kind: 'qjs'}
  if (choice === 'qjs') {
    throw new UserError('E_REGISTER_ENGINE', 'no qjs on PATH', {hint: 'install QuickJS (apt install quickjs), give its path with --qjs, or run the hook on Node with --engine node', kind: 'io'})
  }

  return {command: process.execPath, kind: 'node'}
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}
