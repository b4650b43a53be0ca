/**
 * What the prepare-device hook does, as one function the single-file runtime, the SDK and the
 * `prepare-device` command share: read the registration config, check the plugs the serial
 * sources and body facts need, derive the serial, build and sign the registration body, and hand
 * snapd the options in one correctly typed `snapctl set` call (which also unsets the options the
 * config no longer sets). Returns what it did, or with `dryRun` what it would do, as data; never prints.
 *
 * Failure is always a thrown UserError: the hook then exits non-zero, snapd discards every option
 * set in that run and tries again later. There is no fallback serial.
 */
import {InternalError, ioError, UserError} from '../errors.js'
import type {HardwareKeyType} from '../assertions/hardware-identity.js'
import {FileHardwareKeyStore, HARDWARE_EXPORT_FILE, HARDWARE_KEY_FILE, HardwareKey, type HardwareIdentityExport, hardwareIdentityExport, hardwareKeyDir} from '../identity/hardware-key.js'
import {type BodyFields, DeviceIdentity, IDENTITY_KEY_FILE, loadOrCreateIdentity, signWithIdentity} from '../identity/key.js'
import {type ChainSpec, deriveFromChain, resolveChain, type SerialChain, type SerialDerivation} from '../serial/chain.js'
import {checkRoot, createSourceContext} from '../serial/sources/context.js'
import {refusalOf} from '../serial/placeholders.js'
import type {SnapInterface} from '../serial/sources/source.js'
import {BODY_FACTS, emitRegistrationBody, readBodyFacts} from './body.js'
import {type BoardCatalog, defaultConfigFile, type DeviceServicePreset, fileBoards, loadRegistrationConfig, type RegistrationConfig, resolveHeaders} from './config.js'
import {host, readHostFile} from '../support/host.js'
import {isSecretHeader, maskFor, SecretRedactor} from './redact.js'
import {isConnected, isConnectedCall, registrationCall, runSnapctl, type SnapctlCall, type SnapctlRunner, spawnSnapctl, unsetBodyCall} from './snapctl.js'

export interface PrepareDeviceOptions {
  /** The registration config file (default `$SNAP/registration.json`), or a checked config. */
  config?: RegistrationConfig | string
  /** The directory that plays `/` for hardware reads (a captured tree); default `/`. */
  root?: string
  /** Decide everything, run nothing: no snapctl call, no key file written. */
  dryRun?: boolean
  /** The hook's environment: SNAP, SNAP_NAME, SNAP_DATA, SNAP_SAVE_DATA, header variables. */
  env?: Readonly<Record<string, string | undefined>>
  /** Learns every secret header value this run resolves, so the caller can mask them in what it prints. */
  redactor?: SecretRedactor
  /** How snapctl is run (default: spawned from PATH without a shell). */
  snapctl?: SnapctlRunner
  /** Where board profiles come from (default: the shipped profile files). */
  boards?: BoardCatalog
  /** Give up on a serial source that has not answered after this long (default 5000 ms). */
  sourceTimeoutMs?: number
}

interface PlugCheck {
  interface: SnapInterface
  /** The gadget's plug name. */
  plug: string
  /** The serial sources and body facts that read through it. */
  neededBy: string[]
  /** Undefined in a dry run. */
  connected?: boolean
}

interface IdentityUse {
  /** Unpadded base64url of the Ed25519 public key. */
  publicKey: string
  /** The key file; undefined for a dry run's throwaway key. */
  keyFile?: string
  /** This run made the key. */
  created: boolean
  /** A dry run without a key file signs with a throwaway key. */
  ephemeral: boolean
}

/** The hardware identity key prepare-device made or found (hardware-identity onboarding). */
export interface HardwareIdentityUse {
  keyType: HardwareKeyType
  /** The key file; undefined for a dry run's throwaway key. */
  keyFile?: string
  /** This run made the key. */
  created: boolean
  /** A dry run without a key file shows a throwaway key. */
  ephemeral: boolean
  /** What the factory station reads: the file in $SNAP_COMMON and the gadget option hardware-identity. */
  export: HardwareIdentityExport
  /** The export file; undefined in a dry run. */
  exportFile?: string
}

export interface PrepareDeviceResult {
  configFile?: string
  dryRun: boolean
  deviceService: {preset: DeviceServicePreset; url: string}
  /** Header names, and the variable a value came from (values are never part of the result); `unset`: a dry run's variable not set here. */
  headers: {env?: string; name: string; unset?: boolean}[]
  plugs: PlugCheck[]
  serial: SerialDerivation
  body: {
    fields: BodyFields
    /** The exact `registration.body` text. */
    text: string
    /** Configured facts this hardware does not have. */
    omittedFacts: string[]
  }
  identity?: IdentityUse
  /** How the service knows the device. */
  onboarding: 'api-key' | 'hardware-identity'
  hardwareIdentity?: HardwareIdentityUse
  /** Every snapctl call, in order: made, or in a dry run to be made. */
  calls: SnapctlCall[]
}

/** Runs (or plans, with `dryRun`) the prepare-device hook's work. */
export async function prepareDevice(options: PrepareDeviceOptions = {}): Promise<PrepareDeviceResult> {
  const env = options.env ?? host().env()
  const redactor = options.redactor ?? new SecretRedactor()
  try {
    return await prepare(options, env, redactor)
  } catch (error) {
    // snapctl's error text can echo the arguments it was given, api-key included.
    throw redactError(error, redactor)
  }
}

async function prepare(options: PrepareDeviceOptions, env: Readonly<Record<string, string | undefined>>, redactor: SecretRedactor): Promise<PrepareDeviceResult> {
  const boards = options.boards ?? fileBoards
  const dryRun = options.dryRun ?? false
  const config = typeof options.config === 'object' ? options.config : loadRegistrationConfig(options.config ?? defaultConfigFile(env), {boards})

  // Everything that can fail without touching the hardware fails first.
  const headers = resolveHeaders(config.headers, env, {dryRun})
  for (const [name, header] of headers) if (isSecretHeader(name, header.env !== undefined) && header.value !== '') redactor.add(header.value, maskFor(header.env))
  if (options.root !== undefined) await checkRoot(options.root)
  const chain = await resolveRegistrationChain(config, boards)
  const context = createSourceContext({brand: config.serial.brand, root: options.root})

  const plugs = neededPlugs(config, chain)
  const runner = options.snapctl ?? spawnSnapctl({env})
  const hardwareMode = config.onboarding.mode === 'hardware-identity'
  const calls: SnapctlCall[] = []
  if (hardwareMode) {
    // First of all: a body the prepare-serial-request hook left as an object stops every later attempt.
    const unset = unsetBodyCall()
    calls.push(unset)
    if (!dryRun) await runSnapctl(runner, unset)
  }

  calls.push(...plugs.map((p) => isConnectedCall(p.plug)))
  if (!dryRun) {
    for (const plug of plugs) plug.connected = await isConnected(runner, plug.plug)
    const missing = plugs.filter((p) => !p.connected)
    if (missing.length > 0) throw notConnected(missing, env)
  }

  const serial = await deriveFromChain(chain, context, {sourceTimeoutMs: options.sourceTimeoutMs}).catch((error: unknown) => {
    // The hook takes no --board or --chain: its chain is the registration config's.
    if (error instanceof UserError && error.code === 'E_SERIAL_NONE') {
      throw new UserError(error.code, error.message, {
        details: error.details,
        hint: 'run `snap-gadget probe` on this hardware (or --root over a capture of it) to see its identity sources, then set serial.board or serial.chain in the registration config',
        kind: error.kind,
      })
    }

    throw error
  })
  // The chain refuses placeholders (with rules for each value format) before its transforms; this
  // guards the one value that leaves the device against the unmistakable ones.
  const refusal = refusalOf(serial.serial)
  if (refusal && ['empty', 'known', 'repeated'].includes(refusal.rule)) throw new InternalError(`the chain produced a placeholder serial ${JSON.stringify(serial.serial)}: ${refusal.reason}`)

  const facts = hardwareMode ? {fields: {}, omitted: []} : await readBodyFacts(config.body.facts, {context, serialEntry: serial.entry})
  let fields: BodyFields = {serial: serial.serial, ...facts.fields, ...config.body.fields}
  let identity: IdentityUse | undefined
  const hardware = hardwareMode ? hardwareIdentity(env, dryRun, config.onboarding.keyType, serial.serial) : undefined
  if (config.identity.enabled) {
    const key = deviceIdentity(env, dryRun)
    fields = signWithIdentity(fields, key.identity)
    identity = {created: key.created, ephemeral: key.file === undefined, publicKey: key.identity.publicKeyText}
    if (key.file !== undefined) identity.keyFile = key.file
  }

  // In hardware-identity onboarding the body is the prepare-serial-request hook's (registration.body is unset here).
  const text = hardwareMode ? '' : emitRegistrationBody(fields)
  const set = registrationCall({
    body: hardwareMode ? undefined : text,
    hardwareIdentity: hardware?.export as Record<string, string> | undefined,
    headers,
    proposedSerial: config.proposedSerial ? serial.serial : undefined,
    url: config.deviceService.url,
  })
  calls.push(set)
  if (!dryRun) await runSnapctl(runner, set)

  const result: PrepareDeviceResult = {
    body: {fields: hardwareMode ? {} : fields, omittedFacts: facts.omitted, text},
    calls,
    deviceService: config.deviceService,
    dryRun,
    headers: config.headers.map((h) => (h.env === undefined ? {name: h.name} : {env: h.env, name: h.name, ...(headers.get(h.name)?.unset ? {unset: true} : {})})),
    onboarding: config.onboarding.mode,
    plugs,
    serial,
  }
  if (config.place.file !== undefined) result.configFile = config.place.file
  if (identity) result.identity = identity
  if (hardware) result.hardwareIdentity = hardware
  return result
}

/** The chain the config names: its own chain, else its board's, with chain settings from the config first. */
export async function resolveRegistrationChain(config: RegistrationConfig, boards: BoardCatalog = fileBoards): Promise<SerialChain> {
  const section = config.serial
  const board = section.board === undefined ? undefined : boards.load(section.board)
  const spec: ChainSpec = {
    chain: section.chain ?? board?.chain ?? [],
    normalise: section.normalise ?? board?.normalise,
    onDenied: section.onDenied ?? board?.onDenied,
    output: section.output ?? board?.output,
    transforms: section.transforms ?? board?.transforms,
  }
  if (section.chain !== undefined || !board) return resolveChain(spec, {name: 'custom', path: ['serial'], place: config.place})
  return resolveChain(spec, {name: board.id, place: {file: board.file}})
}

/** Each interface the serial chain and the body facts read through, with the gadget's plug name. */
export function neededPlugs(config: RegistrationConfig, chain: SerialChain): PlugCheck[] {
  const plugs = new Map<SnapInterface, PlugCheck>()
  const need = (iface: SnapInterface, by: string) => {
    const check = plugs.get(iface) ?? {interface: iface, neededBy: [], plug: config.plugs[iface] ?? iface}
    if (!check.neededBy.includes(by)) check.neededBy.push(by)
    plugs.set(iface, check)
  }

  for (const entry of chain.entries) for (const iface of entry.plugs) need(iface, entry.label)
  for (const fact of config.body.facts) for (const iface of BODY_FACTS[fact].plugs) need(iface, `body fact ${fact}`)
  return [...plugs.values()]
}

/** The same error with every secret value masked in its message, hint and details. */
function redactError(error: unknown, redactor: SecretRedactor): unknown {
  if (!(error instanceof UserError)) return error
  const masked = redactor.redact(error.message)
  const hint = error.hint === undefined ? undefined : redactor.redact(error.hint)
  if (masked === error.message && hint === error.hint) return error
  const details = error.details === undefined ? undefined : (JSON.parse(redactor.redact(JSON.stringify(error.details))) as unknown)
  return new UserError(error.code, masked, {column: error.column, details, file: error.file, hint, kind: error.kind, line: error.line})
}

function notConnected(missing: readonly PlugCheck[], env: Readonly<Record<string, string | undefined>>): UserError {
  const gadget = env.SNAP_INSTANCE_NAME || env.SNAP_NAME || '<gadget>'
  const list = missing.map((p) => `${p.plug} (${p.interface === p.plug ? '' : `${p.interface}, `}for ${p.neededBy.join(', ')})`).join(' and ')
  const first = missing[0].plug
  return new UserError('E_PLUG_NOT_CONNECTED', `the gadget's plug${missing.length > 1 ? 's' : ''} ${list} ${missing.length > 1 ? 'are' : 'is'} not connected, so the hook cannot read the hardware`, {
    details: {missing},
    hint: `connect before the hook runs: gadget.yaml "connections: [{plug: <gadget snap id>:${first}}]" (made at seeding; needs the gadget's snap id), or "snap connect ${gadget}:${first}" and snapd retries the hook`,
    kind: 'failed',
  })
}

/** The identity key kept in $SNAP_SAVE_DATA (UC20+, survives a factory reset), else $SNAP_DATA. */
function deviceIdentity(env: Readonly<Record<string, string | undefined>>, dryRun: boolean): {created: boolean; file?: string; identity: DeviceIdentity} {
  const dir = env.SNAP_SAVE_DATA || env.SNAP_DATA
  if (dryRun) {
    if (dir && exists(`${dir}/${IDENTITY_KEY_FILE}`)) return loadOrCreateIdentity(dir)
    return {created: false, identity: DeviceIdentity.generate()}
  }

  if (!dir) {
    throw new UserError('E_IDENTITY_DIR', 'neither SNAP_SAVE_DATA nor SNAP_DATA is set, so there is nowhere to keep the device identity key', {
      hint: 'run as the gadget\'s prepare-device hook (snapd sets them), set SNAP_DATA, or set "identity": {"enabled": false}',
      kind: 'failed',
    })
  }

  try {
    host().mkdir(dir, 0o700)
  } catch (error) {
    throw new UserError('E_IDENTITY_DIR', `cannot create the identity key directory ${dir}: ${(error as Error).message}`, {
      file: dir,
      hint: 'the hook runs as root; check that the data directory is writable',
      kind: 'failed',
    })
  }

  return loadOrCreateIdentity(dir)
}

/**
 * The hardware identity key, made when missing (never again), and its export written where a
 * factory station reads it: $SNAP_COMMON/hardware-identity.json. A dry run writes nothing: it
 * shows the key already there, else a throwaway one.
 */
function hardwareIdentity(env: Readonly<Record<string, string | undefined>>, dryRun: boolean, keyType: HardwareKeyType, hardwareId: string): HardwareIdentityUse {
  const dir = hardwareKeyDir(env)
  const file = dir === undefined ? undefined : `${dir}/${HARDWARE_KEY_FILE}`
  if (dryRun) {
    const existing = file !== undefined && exists(file) ? new FileHardwareKeyStore(file).load() : undefined
    const key = existing ?? HardwareKey.generate(keyType)
    return {created: false, ephemeral: !existing, export: hardwareIdentityExport(key, hardwareId), keyType: key.type, ...(existing ? {keyFile: file} : {})}
  }

  if (dir === undefined || file === undefined) {
    throw new UserError('E_IDENTITY_DIR', 'neither SNAP_SAVE_DATA nor SNAP_DATA is set, so there is nowhere to keep the hardware identity key', {
      hint: "run as the gadget's prepare-device hook (snapd sets them), or set SNAP_DATA",
      kind: 'failed',
    })
  }

  const common = env.SNAP_COMMON?.replace(/\/+$/, '')
  if (!common) {
    throw new UserError('E_IDENTITY_DIR', 'SNAP_COMMON is not set, so there is nowhere to write the hardware identity export for the factory station', {
      hint: "run as the gadget's prepare-device hook (snapd sets it), or set SNAP_COMMON",
      kind: 'failed',
    })
  }

  makeDir(dir, 'the hardware identity key')
  const {created, key} = new FileHardwareKeyStore(file).loadOrCreate(keyType)
  const exported = hardwareIdentityExport(key, hardwareId)
  makeDir(common, 'the hardware identity export')
  const exportFile = `${common}/${HARDWARE_EXPORT_FILE}`
  writePublicFile(exportFile, `${JSON.stringify(exported, null, 2)}\n`)
  return {created, ephemeral: false, export: exported, exportFile, keyFile: file, keyType: key.type}
}

function makeDir(dir: string, what: string): void {
  try {
    host().mkdir(dir, 0o700)
  } catch (error) {
    throw new UserError('E_IDENTITY_DIR', `cannot create the directory of ${what} ${dir}: ${(error as Error).message}`, {
      file: dir,
      hint: 'the hook runs as root; check that the data directory is writable',
      kind: 'failed',
    })
  }
}

/** Replaces `file` with `text` (mode 0644) atomically, unless it already holds exactly that. */
function writePublicFile(file: string, text: string): void {
  const data = Buffer.from(text, 'utf8')
  try {
    if (Buffer.from(readHostFile(file, 64 * 1024)).equals(data)) return
  } catch {
    // missing, or not what we write: replaced below
  }

  const temp = `${file}.${host().pid()}.${Buffer.from(host().randomBytes(6)).toString('hex')}.tmp`
  try {
    host().writeNewFile(temp, data, 0o644)
    host().rename(temp, file)
  } catch (error) {
    try {
      host().unlink(temp)
    } catch {
      // never made, or already renamed
    }

    throw ioError(file, error, 'write')
  }
}

function exists(path: string): boolean {
  try {
    host().lstat(path)
    return true
  } catch {
    return false
  }
}

function describeHardwareUse(use: HardwareIdentityUse): string {
  return `${use.keyType} ${use.export['hardware-id-key-sha3-384']} (${use.ephemeral ? 'throwaway, dry run' : use.created ? 'new' : 'reused'})`
}

/** What a dry run's reader should know that the calls do not say: unset variables, a throwaway key. */
export function dryRunNotes(result: PrepareDeviceResult): string[] {
  const notes: string[] = []
  for (const header of result.headers) {
    if (header.unset) notes.push(`${header.env} is not set here; the hook needs it set, and sends it as the ${header.name} header`)
  }

  if (result.hardwareIdentity?.ephemeral) notes.push(`the hardware identity key shown is a throwaway one: the device makes its own ${result.hardwareIdentity.keyType} key on its first run, once`)
  if (result.identity?.ephemeral) notes.push(`the identity signature in the body is made with a throwaway key (${result.identity.publicKey}): the device makes its own key on its first run`)
  return notes
}

/**
 * The hardware identity export as comment lines (`# …`), for a dry run's output: the calls above
 * them stay a script a shell would run.
 */
export function describeHardwareExport(result: PrepareDeviceResult): string[] {
  const use = result.hardwareIdentity
  if (!use) return []
  const where = use.exportFile ?? '$SNAP_COMMON/hardware-identity.json'
  return [
    `# hardware identity: what the factory station reads (${where}, and snap get <gadget> hardware-identity)`,
    ...Object.entries(use.export as unknown as Record<string, string>).flatMap(([name, value]) =>
      name === 'public-key-pem'
        ? [
            `#   ${name}:`,
            ...value
              .trimEnd()
              .split('\n')
              .map((line) => `#     ${line}`),
          ]
        : [`#   ${name}: ${value}`],
    ),
  ]
}

/** One line for the hook's log: what was handed to snapd. */
export function describePreparation(result: PrepareDeviceResult): string {
  const hardware = result.hardwareIdentity ? `; hardware identity key ${describeHardwareUse(result.hardwareIdentity)}` : ''
  const identity = result.identity ? `; identity key ${result.identity.publicKey} (${result.identity.ephemeral ? 'throwaway, dry run' : result.identity.created ? 'new' : 'reused'})` : ''
  const omitted = result.body.omittedFacts.length > 0 ? `; not on this hardware: ${result.body.omittedFacts.join(', ')}` : ''
  return `${result.dryRun ? 'would propose' : 'proposed'} serial ${result.serial.serial} (${result.serial.entry}) to ${result.deviceService.url}${identity}${hardware}${omitted}`
}
