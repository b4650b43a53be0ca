/**
 * planScaffold: every file of a new gadget project, as data, before anything is written. All
 * names are checked with snapd's rules, the model with the rules `snap sign` applies, and the
 * registration config with the runtime's own checks, so a plan that comes back is a project that
 * snapd, snapcraft and the prepare-device runtime accept.
 */
import {join, resolve} from 'node:path'

import {UserError} from '../errors.js'
import type {HardwareKeyType} from '../assertions/hardware-identity.js'
import {checkRegistrationConfig, ONBOARDING_MODES, type OnboardingMode} from '../device/config.js'
import {neededPlugs, resolveRegistrationChain} from '../device/prepare.js'
import {quoteInput} from '../support/echo.js'
import {type Base, BASES, type GadgetBoardProfile, loadBoardProfile, selectFor, TEMPLATES_DIR} from './boards.js'
import {engineFor, quickjsPart} from './engine.js'
import {boardFiles, checkPaths, dataFiles, type PlannedFile, renderFile, sharedFiles} from './files.js'
import {buildModelJson, checkModelJson, MODEL_GRADES, type ModelGrade, type ModelJson, type ModelSnapInput, STORAGE_SAFETIES, type StorageSafety} from './model-assertion.js'
import {checkName} from './naming.js'
import {API_KEY_OPTION, DEFAULT_API_KEY_ENV, deviceServiceOf, HARDWARE_IDENTITY_SNAPD, registrationConfig} from './registration.js'
import {rfc3339} from '../support/rfc3339.js'

export type {PlannedFile} from './files.js'
export {DEVICE_ENGINE} from './engine.js'
export {DEVICE_SERVICES} from './registration.js'

export interface ScaffoldOptions {
  /** Where the project goes; relative to `cwd`. */
  directory: string
  cwd?: string
  board: string
  /** Vendor board profiles (a profile directory, or a directory of them). */
  boardDirs?: readonly string[]
  base?: Base
  architecture?: string
  /** The gadget snap's name (default: `<brand>-<board>`). */
  name?: string
  /** The brand's account id. */
  brand: string
  /** The model name (default: `<board>-<track>`). */
  model?: string
  /** The model's display-name. */
  displayName?: string
  summary?: string
  /** The snap's version (default: `<track>-0.1`). */
  version?: string
  /** Model grade; default signed when every snap id is known, else dangerous. */
  grade?: ModelGrade
  storageSafety?: StorageSafety
  /** The gadget's snap id (after `snapcraft register`): enables gadget.yaml connections. */
  gadgetId?: string
  /** The gadget's default-channel in the model (default latest/stable). */
  gadgetChannel?: string
  kernel?: string
  kernelId?: string
  kernelChannel?: string
  /** A brand store id for the model's `store` header. */
  store?: string
  /** More snaps for the model: `name[=snap-id][@channel]` or objects. */
  extraSnaps?: readonly (ModelSnapInput | string)[]
  /** model.json in the UC16/UC18 form. */
  legacyModel?: boolean
  /** The serial board profile whose chain the hook runs (default: the board's). */
  serialBoard?: string
  /** serial-vault, model-service, or a device-service URL. */
  deviceService?: string
  /** Extra, non-secret headers for the device service. */
  headers?: Readonly<Record<string, string>>
  /** The environment variable that holds the api-key; null: no api-key header. */
  apiKeyEnv?: null | string
  /** Hardware facts for the registration body. */
  bodyFacts?: readonly string[]
  /** Fixed registration body fields. */
  bodyFields?: Readonly<Record<string, string>>
  /** Sign the registration body with the device identity key (default true). */
  identity?: boolean
  /**
   * How the device service knows the device: api-key (the default, any snapd) or hardware-identity
   * (snapd 2.74 and later: the prepare-serial-request hook, `assumes: [snapd2.74]`, no api-key).
   */
  onboarding?: OnboardingMode
  /** The hardware identity key's type (hardware-identity onboarding; default ecdsa-p256). */
  hardwareKeyType?: HardwareKeyType
  /** The model's timestamp (RFC 3339; default: now). */
  timestamp?: string
}

export interface ScaffoldPlan {
  /** Absolute project directory. */
  directory: string
  board: {id: string; title: string; origin: string}
  base: Base
  architecture: string
  name: string
  brand: string
  model: string
  grade: ModelGrade
  serialBoard: string
  /** The plugs the prepare-device hook declares. */
  plugs: string[]
  deviceService: {preset: string; url: string}
  apiKeyEnv: null | string
  onboarding: OnboardingMode
  files: PlannedFile[]
  /** What is left to do by hand (register the name, add boot firmware, …). */
  todo: string[]
  modelJson: ModelJson
  registration: Record<string, unknown>
}

/** The defaults `init` offers (and the prompts show) for the options given so far. */
export function scaffoldDefaults(options: Pick<ScaffoldOptions, 'board' | 'boardDirs' | 'brand' | 'cwd' | 'gadgetId' | 'kernel' | 'kernelId'> & Partial<ScaffoldOptions>): {
  base: Base
  architecture: string
  name: string
  model: string
  grade: ModelGrade
  board: GadgetBoardProfile
} {
  const board = loadBoardProfile(options.board, {boardDirs: options.boardDirs, cwd: options.cwd})
  const base = options.base ?? board.bases.at(-1)!
  const architecture = options.architecture ?? board.architectures[0]
  const track = base.replace(/^core/, '')
  const kernelId = options.kernelId ?? (options.kernel === undefined || options.kernel === board.kernel?.name ? board.kernel?.id : undefined)
  const grade: ModelGrade = options.gadgetId !== undefined && kernelId !== undefined ? 'signed' : 'dangerous'
  return {architecture, base, board, grade, model: `${board.id}-${track}`, name: `${options.brand}-${board.id}`}
}

/** Plans the project: checks every input, renders every file; writes nothing. */
export async function planScaffold(options: ScaffoldOptions): Promise<ScaffoldPlan> {
  const cwd = options.cwd ?? process.cwd()
  // 1. Names, before anything else looks at them.
  checkName('account id', options.brand, '--brand', 'your brand account id: the id of your store account (snapcraft whoami), or its 2-28 character name')
  const defaults = scaffoldDefaults(options)
  const {board} = defaults
  const base = options.base ?? defaults.base
  if (!(BASES as readonly string[]).includes(base) || !board.bases.includes(base)) {
    throw new UserError('E_INIT_BASE', `the ${board.id} board profile supports ${board.bases.join(' and ')}, not ${quoteInput(String(base))}`, {hint: `pass --base ${board.bases.at(-1)}`, kind: 'usage'})
  }

  const architecture = options.architecture ?? defaults.architecture
  if (!board.architectures.includes(architecture)) {
    throw new UserError('E_INIT_ARCH', `the ${board.id} board profile is for ${board.architectures.join(' and ')}, not ${quoteInput(String(architecture))}`, {hint: `pass --arch ${board.architectures[0]}`, kind: 'usage'})
  }

  const track = base.replace(/^core/, '')
  const name = checkName('snap name', options.name ?? defaults.name, options.name === undefined ? 'the default gadget name' : '--name', 'pass --name with 2-40 characters of a-z, 0-9 and hyphens')
  const model = checkName('model name', options.model ?? defaults.model, '--model')
  const version = options.version ?? `${track}-0.1`
  if (!/^[a-zA-Z0-9](?:[a-zA-Z0-9:.+~-]{0,30}[a-zA-Z0-9+~])?$/.test(version)) {
    throw new UserError('E_INIT_NAME', `--snap-version ${quoteInput(version)} is not a snap version: up to 32 of letters, digits and ":.+~-", starting and ending with a letter or digit`, {
      hint: 'e.g. --snap-version 24-1.0',
      kind: 'usage',
    })
  }

  const displayName = options.displayName === undefined ? undefined : requireOneLine(options.displayName, '--display-name', 255)
  const summary = requireOneLine(options.summary ?? defaultSummary(options.brand, model), '--summary', 78)
  if (options.gadgetId !== undefined) checkName('snap id', options.gadgetId, '--gadget-id')
  if (options.kernelId !== undefined) checkName('snap id', options.kernelId, '--kernel-id')
  if (options.store !== undefined) checkName('store id', options.store, '--store')
  if (options.gadgetChannel !== undefined) checkName('channel', options.gadgetChannel, '--gadget-channel')
  if (options.kernelChannel !== undefined) checkName('channel', options.kernelChannel, '--kernel-channel')
  const onboarding = options.onboarding ?? 'api-key'
  if (!(ONBOARDING_MODES as readonly string[]).includes(onboarding)) throw new UserError('E_INIT_FLAG', `--onboarding ${quoteInput(onboarding)} is not one of ${ONBOARDING_MODES.join(', ')}`, {kind: 'usage'})
  if (onboarding === 'hardware-identity') {
    const given = [typeof options.apiKeyEnv === 'string' && '--api-key-env', options.bodyFacts && '--body-fact', options.bodyFields && '--body-field'].filter(Boolean)
    if (given.length > 0) {
      throw new UserError('E_INIT_FLAG', `${given.join(' and ')} ${given.length > 1 ? 'have' : 'has'} no place in --onboarding hardware-identity`, {
        hint: 'the device sends no api-key and its body is the hardware proof the prepare-serial-request hook sets; leave them out, or use --onboarding api-key',
        kind: 'usage',
      })
    }
  } else if (options.hardwareKeyType !== undefined) {
    throw new UserError('E_INIT_FLAG', '--hardware-key-type is for --onboarding hardware-identity', {hint: 'add --onboarding hardware-identity, or leave the key type out', kind: 'usage'})
  }

  const apiKeyEnv = onboarding === 'hardware-identity' ? null : options.apiKeyEnv === undefined ? DEFAULT_API_KEY_ENV : options.apiKeyEnv
  if (apiKeyEnv !== null) checkName('environment variable', apiKeyEnv, '--api-key-env')

  // 2. The kernel and the model.
  const kernelName = options.kernel ?? board.kernel?.name
  if (kernelName === undefined) {
    throw new UserError('E_INIT_KERNEL', `the ${board.id} board has no published kernel snap: name yours with --kernel`, {
      hint: `e.g. --kernel ${options.brand}-${board.id}-kernel (and --kernel-id once it is registered)`,
      kind: 'usage',
    })
  }

  checkName('snap name', kernelName, '--kernel')
  const ownKernel = kernelName === board.kernel?.name
  const kernel: ModelSnapInput = {channel: options.kernelChannel ?? (ownKernel && board.kernel?.channel ? board.kernel.channel.replace('{track}', track) : 'latest/stable'), name: kernelName}
  const kernelId = options.kernelId ?? (ownKernel ? board.kernel?.id : undefined)
  if (kernelId !== undefined) kernel.id = kernelId
  const gadget: ModelSnapInput = {channel: options.gadgetChannel ?? 'latest/stable', name}
  if (options.gadgetId !== undefined) gadget.id = options.gadgetId
  const grade = options.grade ?? defaults.grade
  if (!(MODEL_GRADES as readonly string[]).includes(grade)) throw new UserError('E_INIT_GRADE', `--grade ${quoteInput(grade)} is not one of ${MODEL_GRADES.join(', ')}`, {kind: 'usage'})
  if (options.storageSafety !== undefined && !(STORAGE_SAFETIES as readonly string[]).includes(options.storageSafety)) {
    throw new UserError('E_INIT_GRADE', `--storage-safety ${quoteInput(String(options.storageSafety))} is not one of ${STORAGE_SAFETIES.join(', ')}`, {kind: 'usage'})
  }

  const extraSnaps = (options.extraSnaps ?? []).map((s) => (typeof s === 'string' ? parseSnapSpec(s) : s))
  for (const snap of extraSnaps) {
    checkName('snap name', snap.name, '--snap')
    if (snap.id !== undefined) checkName('snap id', snap.id, `--snap ${snap.name}`)
    if (snap.channel !== undefined) checkName('channel', snap.channel, `--snap ${snap.name}`)
  }

  const timestamp = options.timestamp ?? rfc3339(new Date())
  const modelInput = {architecture, base, brand: options.brand, displayName, extraSnaps, gadget, grade, kernel, legacy: options.legacyModel, model, storageSafety: options.storageSafety, store: options.store, timestamp}
  const modelJson = buildModelJson(modelInput)
  checkModelJson(modelJson)

  // 3. The registration config, checked by the runtime's own rules; the hook's plugs from its chain.
  const serialBoard = options.serialBoard ?? board.serialBoard
  const deviceService = deviceServiceOf(options.deviceService ?? 'serial-vault')
  const registration = registrationConfig({
    apiKeyEnv,
    bodyFacts: options.bodyFacts,
    bodyFields: options.bodyFields,
    brand: options.brand,
    deviceService,
    hardwareKeyType: options.hardwareKeyType,
    headers: options.headers,
    identity: options.identity,
    onboarding,
    serialBoard,
  })
  let config
  try {
    config = checkRegistrationConfig(registration, {file: 'runtime/registration.json'})
  } catch (error) {
    if (error instanceof UserError) throw new UserError('E_INIT_REGISTRATION', `the registration settings are not valid: ${error.message}`, {hint: error.hint, kind: 'usage'})
    throw error
  }

  const plugs = neededPlugs(config, await resolveRegistrationChain(config)).map((p) => p.plug)

  // 4. Files.
  const directory = resolve(cwd, options.directory)
  const context = renderContext({
    apiKeyEnv,
    architecture,
    base,
    board,
    deviceService,
    displayName,
    gadgetId: options.gadgetId,
    grade,
    kernel,
    model,
    modelJson,
    name,
    onboarding,
    plugs,
    serialBoard,
    summary,
    track,
    version,
  })
  const files = [...sharedFiles(board, context), ...boardFiles(board, context), ...dataFiles(modelJson, registration, onboarding)]
  checkPaths(files, directory)

  const todo: string[] = []
  if (options.gadgetId === undefined) todo.push(`Register the gadget name (snapcraft register ${name}), then add its snap id to the connections in gadget.yaml (and to model.json for a signed model).`)
  for (const [path, why] of Object.entries(board.externalContent)) todo.push(`${path}: ${why}.`)
  if (kernelId === undefined) todo.push(`Add the kernel snap id of ${kernelName} to model.json once it is registered (needed for a signed model).`)
  if (onboarding === 'hardware-identity') {
    todo.push(
      `Onboard each device by its hardware identity (snapd 2.74 or later): the factory station reads the export from $SNAP_COMMON/hardware-identity.json or snap get ${name} hardware-identity, snap-gadget hardware-identity sign certifies it, and the device service imports it (snap-gadget serve import).`,
    )
  }

  if (apiKeyEnv !== null) todo.push(`Give the api-key at build time (${apiKeyEnv}, see README.md) or in the factory (snap set ${name} ${API_KEY_OPTION}=…); never commit it.`)

  return {
    apiKeyEnv,
    architecture,
    base,
    board: {id: board.id, origin: board.origin, title: board.title},
    brand: options.brand,
    deviceService,
    directory,
    files,
    grade,
    model,
    modelJson,
    name,
    onboarding,
    plugs,
    registration,
    serialBoard,
    todo,
  }
}

function defaultSummary(brand: string, model: string): string {
  const text = `Gadget of the ${brand} ${model} Ubuntu Core device`
  return text.length <= 78 ? text : 'Ubuntu Core gadget'
}

/** `text` as given for `flag`, refused unless it is one line: no control characters, not blank, at most `max` characters (for YAML and model headers). */
function requireOneLine(text: string, flag: string, max: number): string {
  if (/[\u0000-\u001F\u007F]/.test(text)) throw new UserError('E_INIT_TEXT', `${flag} ${quoteInput(text)} has a line break or a control character`, {hint: `give ${flag} as one line of text`, kind: 'usage'})
  if (text.trim() === '') throw new UserError('E_INIT_TEXT', `${flag} is blank`, {hint: `give ${flag} some text, or leave it out`, kind: 'usage'})
  if ([...text].length > max) throw new UserError('E_INIT_TEXT', `${flag} has ${[...text].length} characters; it may have ${max}`, {hint: `shorten ${flag}`, kind: 'usage'})
  return text
}

/** `name[=snap-id][@channel]` */
function parseSnapSpec(spec: string): ModelSnapInput {
  const at = spec.indexOf('@')
  const head = at === -1 ? spec : spec.slice(0, at)
  const [name, id] = head.split('=', 2)
  const snap: ModelSnapInput = {name}
  if (id !== undefined) snap.id = id
  if (at !== -1) snap.channel = spec.slice(at + 1)
  return snap
}

interface ContextInput {
  apiKeyEnv: null | string
  architecture: string
  base: Base
  board: GadgetBoardProfile
  deviceService: {preset: string; url: string}
  displayName?: string
  gadgetId?: string
  grade: ModelGrade
  kernel: ModelSnapInput
  model: string
  modelJson: ModelJson
  name: string
  onboarding: OnboardingMode
  plugs: string[]
  serialBoard: string
  summary: string
  track: string
  version: string
}

/** Everything a template may read. Strict mode: every key is present (null when unset). */
function renderContext(input: ContextInput): Record<string, unknown> {
  const {board, base, architecture} = input
  const target = {architecture, base}
  const hookEnv = input.apiKeyEnv === null ? null : {[input.apiKeyEnv]: `$${input.apiKeyEnv}`}
  const context: Record<string, unknown> = {
    apiKeyEnv: input.apiKeyEnv,
    apiKeyOption: API_KEY_OPTION,
    architecture,
    base,
    board: {
      bootloader: board.bootloader,
      console: board.console ?? null,
      description: board.description,
      externalContent: Object.entries(board.externalContent).map(([path, why]) => ({path, why})),
      id: board.id,
      notes: board.notes,
      title: board.title,
    },
    brand: input.modelJson['brand-id'],
    connections: input.gadgetId === undefined ? null : input.plugs.map((plug) => ({plug: `${input.gadgetId}:${plug}`})),
    description: {description: `${board.description}\n\nThe prepare-device hook derives the device serial from the hardware and registers the device with its brand's device service.\n`},
    deviceService: input.deviceService,
    displayName: input.displayName ?? null,
    gadgetId: input.gadgetId ?? null,
    grade: input.grade,
    hookEnvironment: hookEnv,
    kernel: {channel: input.kernel.channel ?? 'latest/stable', id: input.kernel.id ?? null, name: input.kernel.name},
    legacy: !('snaps' in input.modelJson),
    model: input.model,
    name: input.name,
    engine: engineFor(base, architecture),
    hardwareIdentity: input.onboarding === 'hardware-identity',
    plugs: input.plugs,
    serialBoard: input.serialBoard,
    summary: input.summary,
    track: input.track,
    version: input.version,
  }
  context.volumes = selectFor(board.volumes, target)
  context.imageFiles = Object.keys(board.volumes).map((volume) => `${volume}.img`)
  context.parts = snapcraftParts(board, context, target)
  // snapd before 2.74 skips the prepare-serial-request hook without a word; assumes makes it refuse the gadget.
  // An older snapdX.Y the board assumes says nothing more then: snapd2.74 alone.
  const older = (entry: string) => /^snapd\d/.test(entry) && compareSnapd(entry, HARDWARE_IDENTITY_SNAPD) < 0
  const assumes = input.onboarding === 'hardware-identity' ? [...(board.assumes[base] ?? []).filter((entry) => !older(entry)), HARDWARE_IDENTITY_SNAPD] : [...(board.assumes[base] ?? [])]
  context.assumes = assumes.length > 0 ? assumes : null
  context.platforms = base === 'core22' ? null : {[architecture]: {'build-for': [architecture], 'build-on': buildHosts(architecture)}}
  context.architectures = base === 'core22' ? [{'build-for': [architecture], 'build-on': buildHosts(architecture)}] : null
  return context
}

/** Compares two `snapdX.Y[.Z]` assumes entries by their numbers. */
function compareSnapd(a: string, b: string): number {
  const numbers = (entry: string) => entry.slice('snapd'.length).split('.').map(Number)
  const [x, y] = [numbers(a), numbers(b)]
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0)
  return 0
}

/** Gadgets are built natively or on amd64 (snapcraft cross-builds the stage-packages). */
function buildHosts(architecture: string): string[] {
  return architecture === 'amd64' ? ['amd64'] : ['amd64', architecture]
}

/** The board's parts, then QuickJS and snap-gadget's registration runtime. */
function snapcraftParts(board: GadgetBoardProfile, context: Record<string, unknown>, target: {architecture: string; base: string}): Record<string, unknown> {
  const resolveFiles = (parts: Record<string, unknown>, dir: string, from: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {}
    for (const [name, raw] of Object.entries(parts)) {
      const part: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
        if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'file' in value) {
          const file = (value as {file: string}).file
          part[key] = renderFile(join(dir, file), `${from}/${file}`, context, `${file.replace(/\.hbs$/, '')}`)
        } else {
          part[key] = value
        }
      }

      out[name] = part
    }

    return out
  }

  const boardParts = resolveFiles(selectFor(board.parts, target) as Record<string, unknown>, board.dir, `boards/${board.id}`)
  const {architecture} = target
  const quickjs = quickjsPart(target.base as Base, architecture)
  const ownParts = resolveFiles(
    {
      quickjs,
      'registration-runtime': {
        '#': "snap-gadget's registration runtime (one JavaScript file) and its settings, run by snap/hooks/prepare-device with the quickjs part's qjs",
        plugin: 'nil',
        source: 'runtime',
        'override-build': {file: 'parts/registration-runtime.sh.hbs'},
      },
    },
    join(TEMPLATES_DIR, 'gadget'),
    'gadget',
  )
  return {...boardParts, ...ownParts}
}
