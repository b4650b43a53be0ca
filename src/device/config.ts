/**
 * The registration config: a JSON file shipped in the gadget (`$SNAP/runtime/registration.json` by
 * default) telling the prepare-device runtime where the device registers, with which headers, how
 * the serial is derived and what goes into the registration body. JSON, so the on-device runtime
 * needs no YAML library; the schema is schemas/registration.schema.json (draft 2020-12).
 *
 * ```json
 * {
 *   "$schema": "https://raw.githubusercontent.com/…/schemas/registration.schema.json",
 *   "deviceService": {"preset": "serial-vault"},
 *   "headers": {"api-key": {"env": "MODEL_APIKEY"}},
 *   "serial": {"board": "raspberry-pi"},
 *   "proposedSerial": true,
 *   "body": {"facts": ["board-model", "board-revision", "mac-addresses"], "fields": {"line": "kiosk-2"}},
 *   "identity": {"enabled": true},
 *   "plugs": {"hardware-observe": "hardware-observe"}
 * }
 * ```
 *
 * - `deviceService.preset`: `serial-vault` (the Serial Vault's URL), `model-service` (Canonical's
 *   Model Service) or `custom` with `url`.
 * - `headers`: HTTP headers for both registration requests; a value is a string or
 *   `{"env": "NAME"}`, read from the hook's environment at run time (so the api-key is never
 *   written in a file). A variable that is not set is an error.
 * - `serial`: the serial SDK's chain configuration: `board` (a board profile) and/or `chain`,
 *   with `transforms`, `normalise`, `output`, `onDenied`, `brand`.
 * - `proposedSerial`: also set registration.proposed-serial (default true); the body always has
 *   `serial`.
 * - `body.facts`: hardware facts to add (see BODY_FACTS); `body.fields`: fixed fields (strings,
 *   lists and maps of strings).
 * - `identity.enabled`: sign the body with the device identity key (default true).
 * - `plugs`: the gadget's plug name for an interface, when it differs from the interface name.
 * - `onboarding`: `api-key` (the default: the service knows the device by the model's api-key) or
 *   `hardware-identity` (snapd 2.74 and later: the device's own hardware key, certified in the
 *   factory, signs the service's request-id in the prepare-serial-request hook), as a string or
 *   `{"mode": …, "keyType": …}` with the key type `ecdsa-p256` (the default), `ecdsa-p384`,
 *   `rsa-2048`, `rsa-3072` or `rsa-4096` (RSA needs the hooks run with Node). In
 *   hardware-identity mode the hook's body replaces prepare-device's, so `body` and `identity`
 *   have nothing to do and are refused, and so is an api-key header: the shared secret is what the
 *   mode does away with.
 *
 * Errors name the file, the line and column, the place (`headers.api-key.env`) and the fix.
 *
 * The checks here are written out rather than run from the schema: this module runs on the device
 * under QuickJS, where a JSON Schema validator would not fit the runtime's size limit, and the schema
 * cannot say what the runtime knows (board ids, facts). test/device/config.test.ts holds the two
 * to the same verdicts and the same lists.
 */
import {dirname, resolve} from 'node:path'

import {ioError, UserError} from '../errors.js'
import {type BoardCatalog, fileBoards} from '../serial/boards.js'
import {checkSerialSection, type SerialSection} from '../serial/config/serial-config.js'
import {checkKeys, closest, type ConfigPlace, configError, type DataPath, describeValue, isRecord, SNAP_INTERFACES} from '../serial/config/options.js'
import type {SnapInterface} from '../serial/sources/source.js'
import {host, readHostFile} from '../support/host.js'
import {parseJsonDocument} from '../support/json-with-positions.js'
import {BODY_FACTS} from './body.js'
import {DEFAULT_HARDWARE_KEY_TYPE, HARDWARE_KEY_TYPES, type HardwareKeyType} from '../assertions/hardware-identity.js'
import type {ResolvedHeader} from './snapctl.js'
import {type BodyFields, type BodyValue, IdentityField} from '../identity/key.js'

export type {BoardCatalog} from '../serial/boards.js'
export {fileBoards} from '../serial/boards.js'

/** Where the gadget ships the config, relative to $SNAP: the hook's --config, and the default without one. */
export const DEFAULT_CONFIG_NAME = 'runtime/registration.json'
/** A registration config is a few KB; a larger file is a mistake, not a config. */
const MAX_CONFIG_BYTES = 1024 * 1024

/** Device-service URLs of the presets (registration-protocol reference, §2.1). */
export const DEVICE_SERVICE_PRESETS = {
  'serial-vault': 'https://serial-vault-partners.canonical.com/v1/',
  'model-service': 'https://api.snapcraft.io/v1/',
  /** `snap-gadget serve` on its default address, for a device on the desk (README: try the whole flow). */
  local: 'http://127.0.0.1:8642/v1/',
} as const
export type DeviceServicePreset = 'custom' | keyof typeof DEVICE_SERVICE_PRESETS

interface HeaderSpec {
  name: string
  /** A literal value… */
  value?: string
  /** …or the environment variable that holds it. */
  env?: string
}

export const ONBOARDING_MODES = ['api-key', 'hardware-identity'] as const
export type OnboardingMode = (typeof ONBOARDING_MODES)[number]

export interface RegistrationConfig {
  /** Where it came from: errors of later stages point here. */
  place: ConfigPlace
  deviceService: {preset: DeviceServicePreset; url: string}
  headers: HeaderSpec[]
  serial: SerialSection
  proposedSerial: boolean
  body: {facts: string[]; fields: BodyFields}
  identity: {enabled: boolean}
  /** Interface → the gadget's plug name for it. */
  plugs: Partial<Record<SnapInterface, string>>
  /** How the service knows the device: the model's api-key, or the device's hardware identity key (of `keyType`). */
  onboarding: {mode: OnboardingMode; keyType: HardwareKeyType}
}

interface ParseConfigOptions {
  boards?: BoardCatalog
}

const TOP_KEYS = ['$schema', 'deviceService', 'headers', 'serial', 'proposedSerial', 'body', 'identity', 'plugs', 'onboarding']
/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~\dA-Za-z-]+$/
/** Headers snapd sets itself, or that HTTP derives from the request. */
const RESERVED_HEADERS = ['content-length', 'content-type', 'host', 'snap-device-capabilities', 'transfer-encoding', 'user-agent', 'x-snap-device-service-url']
const ENV_NAME = /^[A-Za-z_]\w*$/
/** Assertion header names: also what body field names may look like. */
const FIELD_NAME = /^[a-z](?:-?[a-z\d])*$/
/** Snap plug names. */
const PLUG_NAME = /^[a-z](?:-?[a-z\d])*$/
const MAX_FIELD_DEPTH = 8
// HTTP forbids control characters in header values except tab (Go's net/http refuses them).
const HEADER_VALUE_FORBIDDEN = /[\u0000-\u0008\u000A-\u001F\u007F]/
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/** `$SNAP/runtime/registration.json`, where the hook finds the config the gadget ships. */
export function defaultConfigFile(env: Readonly<Record<string, string | undefined>> = host().env()): string {
  const snap = env.SNAP
  if (!snap) {
    throw new UserError('E_REGISTRATION_CONFIG', `no registration config given, and $SNAP is not set (the hook looks for $SNAP/${DEFAULT_CONFIG_NAME})`, {
      hint: 'pass --config FILE, or run inside the gadget snap',
      kind: 'usage',
    })
  }

  return `${snap.replace(/\/+$/, '')}/${DEFAULT_CONFIG_NAME}`
}

/** Reads and checks a registration config file. */
export function loadRegistrationConfig(file: string, options: ParseConfigOptions = {}): RegistrationConfig {
  let text: string
  try {
    text = Buffer.from(readHostFile(file, MAX_CONFIG_BYTES)).toString('utf8')
  } catch (error) {
    throw ioError(file, error)
  }

  return parseRegistrationConfig(text, {...options, file})
}

/** Checks registration config text (JSON). */
export function parseRegistrationConfig(text: string, options: ParseConfigOptions & {file?: string} = {}): RegistrationConfig {
  const document = parseJsonDocument(text, {code: 'E_REGISTRATION_CONFIG', file: options.file, hint: 'the registration config is plain JSON: keys in double quotes, no comments, no trailing commas'})
  const place: ConfigPlace = {code: 'E_REGISTRATION_CONFIG', file: options.file, locate: document.locate}
  if (options.file !== undefined) place.baseDir = dirname(resolve(options.file))
  return checkRegistrationConfig(document.value, place, options)
}

/** Checks a parsed registration config. */
export function checkRegistrationConfig(data: unknown, where: ConfigPlace = {}, options: ParseConfigOptions = {}): RegistrationConfig {
  const place: ConfigPlace = {...where, code: 'E_REGISTRATION_CONFIG'}
  const boards = options.boards ?? fileBoards
  if (!isRecord(data)) throw configError(place, [], `the registration config is a JSON object, not ${describeValue(data)}`, 'start from {"deviceService": {"preset": "serial-vault"}, "serial": {"board": "…"}}')
  checkKeys(data, TOP_KEYS, place, [], 'the registration config')
  for (const key of ['deviceService', 'serial'] as const) {
    if (data[key] === undefined)
      throw configError(
        place,
        [],
        `"${key}" is missing`,
        key === 'serial' ? 'add "serial": {"board": "<id>"} or {"chain": [...]}' : 'add "deviceService": {"preset": "serial-vault"} (or model-service, or custom with url)',
      )
  }

  if (data.$schema !== undefined && typeof data.$schema !== 'string') throw configError(place, ['$schema'], '$schema must be a string', 'the URL or path of registration.schema.json, for editors')
  const serial = checkSerialSection(data.serial, place, ['serial'], {boards, what: 'serial'})
  const body = checkBody(data.body, place)
  const onboarding = checkOnboarding(data.onboarding, place)
  const headers = checkHeaders(data.headers, place)
  if (onboarding.mode === 'hardware-identity') checkHardwareIdentityMode(data, headers, place)
  return {
    body,
    deviceService: checkDeviceService(data.deviceService, place),
    headers,
    identity: onboarding.mode === 'hardware-identity' ? {enabled: false} : checkIdentity(data.identity, place),
    onboarding,
    place,
    plugs: checkPlugs(data.plugs, place),
    proposedSerial: checkBoolean(data.proposedSerial, place, ['proposedSerial'], true, 'true also sets registration.proposed-serial; false leaves the serial to the body'),
    serial,
  }
}

function checkDeviceService(raw: unknown, place: ConfigPlace): RegistrationConfig['deviceService'] {
  const path = ['deviceService']
  const presets = [...Object.keys(DEVICE_SERVICE_PRESETS), 'custom']
  if (!isRecord(raw))
    throw configError(place, path, `deviceService must be an object, not ${describeValue(raw)}`, '{"preset": "serial-vault"}, {"preset": "model-service"} or {"preset": "custom", "url": "https://…/v1/"}')
  checkKeys(raw, ['preset', 'url'], place, path, 'deviceService')
  const preset = raw.preset
  if (typeof preset !== 'string' || !presets.includes(preset)) {
    const guess = typeof preset === 'string' ? closest(preset, presets) : undefined
    throw configError(
      place,
      [...path, 'preset'],
      `preset must be one of ${presets.join(', ')}, not ${describeValue(preset)}`,
      guess ? `did you mean "${guess}"?` : 'serial-vault for the Serial Vault, model-service for the Model Service, custom with url for your own service',
    )
  }

  if (preset !== 'custom') {
    const url = DEVICE_SERVICE_PRESETS[preset as keyof typeof DEVICE_SERVICE_PRESETS]
    if (raw.url !== undefined) throw configError(place, [...path, 'url'], `url is only for preset custom; ${preset} is ${url}`, 'remove url, or set "preset": "custom"', 'key')
    return {preset: preset as DeviceServicePreset, url}
  }

  if (raw.url === undefined) throw configError(place, path, 'preset custom needs a url', 'add "url": "https://device-service.example.com/v1/"')
  return {preset: 'custom', url: checkUrl(raw.url, place, [...path, 'url'])}
}

function checkUrl(raw: unknown, place: ConfigPlace, path: DataPath): string {
  const fix = 'an absolute http(s) URL of the device service, e.g. "https://device-service.example.com/v1/"'
  if (typeof raw !== 'string' || raw === '') throw configError(place, path, `url must be a non-empty string, not ${describeValue(raw)}`, fix)
  const url = urlParts(raw)
  if (!url) throw configError(place, path, `${JSON.stringify(raw)} is not a URL`, fix)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError(place, path, `the URL scheme must be https (or http), not ${url.protocol.slice(0, -1)}`, fix)
  if (/[\s\u0000-\u001F\u007F]/.test(raw)) throw configError(place, path, 'the URL contains whitespace or control characters', 'percent-encode them, or remove them')
  if (url.username || url.password) throw configError(place, path, 'the URL carries a user name or password', 'pass credentials in headers (with {"env": …}), never in the URL')
  return raw
}

/**
 * The parts of an absolute URL the checks need, without the URL class (QuickJS has none): the
 * scheme, and for http(s) a user name or password and a host, as WHATWG URL reads them.
 */
function urlParts(raw: string): undefined | {password: string; protocol: string; username: string} {
  const scheme = /^([A-Za-z][\d+.A-Za-z-]*):(.*)$/s.exec(raw.trim())
  if (!scheme) return undefined
  const protocol = `${scheme[1].toLowerCase()}:`
  if (protocol !== 'https:' && protocol !== 'http:') return {password: '', protocol, username: ''}
  // Special schemes take any number of slashes (and backslashes) before the authority.
  const authority = /^[/\\]*([^/\\?#]*)/.exec(scheme[2])![1]
  const at = authority.lastIndexOf('@')
  const userinfo = at === -1 ? '' : authority.slice(0, at)
  const hostPort = authority.slice(at + 1)
  const host = /^(\[[\d.:A-Fa-f]+\]|[^:[\]]+)(?::(\d*))?$/.exec(hostPort)
  if (!host || (host[2] !== undefined && host[2] !== '' && Number(host[2]) > 65_535)) return undefined
  if (/[\s#%/<>?@[\\\]^|]/.test(host[1].startsWith('[') ? '' : host[1])) return undefined
  const colon = userinfo.indexOf(':')
  return {password: colon === -1 ? '' : userinfo.slice(colon + 1), protocol, username: colon === -1 ? userinfo : userinfo.slice(0, colon)}
}

function checkHeaders(raw: unknown, place: ConfigPlace): HeaderSpec[] {
  if (raw === undefined) return []
  const path = ['headers']
  if (!isRecord(raw)) throw configError(place, path, `headers must be an object of header name to value, not ${describeValue(raw)}`, '{"api-key": {"env": "MODEL_APIKEY"}}')
  const seen = new Map<string, string>()
  return Object.entries(raw).map(([name, value]): HeaderSpec => {
    const at = [...path, name]
    if (!HEADER_NAME.test(name)) throw configError(place, at, `"${name}" is not a valid HTTP header name`, 'letters, digits and - (e.g. api-key)', 'key')
    const lower = name.toLowerCase()
    if (RESERVED_HEADERS.includes(lower)) throw configError(place, at, `snapd sets the ${name} header itself`, 'remove it from headers', 'key')
    const earlier = seen.get(lower)
    if (earlier !== undefined) throw configError(place, at, `"${name}" and "${earlier}" are the same HTTP header (names ignore case)`, 'keep one of them', 'key')
    seen.set(lower, name)
    if (typeof value === 'string') {
      if (value === '') throw configError(place, at, `the value of header ${name} is empty`, 'give a value, or {"env": "NAME"} to read it from the environment')
      const bad = headerValueProblem(value)
      if (bad) throw configError(place, at, `the value of header ${name} ${bad}`, 'HTTP header values are one line, without control characters')
      return {name, value}
    }

    if (isRecord(value)) {
      checkKeys(value, ['env'], place, at, `header ${name}`)
      if (typeof value.env !== 'string' || !ENV_NAME.test(value.env)) {
        throw configError(place, [...at, 'env'], `env must name an environment variable, not ${describeValue(value.env)}`, 'e.g. {"env": "MODEL_APIKEY"}, set in snapcraft.yaml hooks.prepare-device.environment')
      }

      return {env: value.env, name}
    }

    throw configError(place, at, `the value of header ${name} must be a string or {"env": "NAME"}, not ${describeValue(value)}`, 'e.g. "api-key": {"env": "MODEL_APIKEY"}')
  })
}

function headerValueProblem(value: string): string | undefined {
  if (HEADER_VALUE_FORBIDDEN.test(value)) return 'contains a line break or another control character'
  if (LONE_SURROGATE.test(value)) return 'is not well-formed Unicode'
  return undefined
}

/**
 * The header values: literals as written, `{"env": …}` from `env`. A variable that is not set,
 * is empty or holds a line break is an error that names the variable but never shows its value.
 */
export function resolveHeaders(headers: readonly HeaderSpec[], env: Readonly<Record<string, string | undefined>> = host().env(), options: {dryRun?: boolean} = {}): Map<string, ResolvedHeader> {
  const values = new Map<string, ResolvedHeader>()
  for (const header of headers) {
    if (header.env === undefined) {
      values.set(header.name, {value: header.value ?? ''})
      continue
    }

    const value = env[header.env]
    // A dry run shows the value as <$NAME> whatever it is: it need not be set where the plan is made.
    if (options.dryRun && (value === undefined || value === '')) {
      values.set(header.name, {env: header.env, unset: true, value: ''})
      continue
    }

    const fix = `set ${header.env} for the hook (snapcraft.yaml: hooks: prepare-device: environment: ${header.env}: …)`
    if (value === undefined) throw new UserError('E_HEADER_ENV', `header ${header.name}: the environment variable ${header.env} is not set`, {hint: fix, kind: 'failed'})
    if (value === '') throw new UserError('E_HEADER_ENV', `header ${header.name}: the environment variable ${header.env} is empty`, {hint: fix, kind: 'failed'})
    const bad = headerValueProblem(value)
    if (bad)
      throw new UserError('E_HEADER_ENV', `header ${header.name}: the environment variable ${header.env} ${bad}`, {hint: `fix ${header.env}: HTTP header values are one line, without control characters`, kind: 'failed'})
    values.set(header.name, {env: header.env, value})
  }

  return values
}

function checkBody(raw: unknown, place: ConfigPlace): RegistrationConfig['body'] {
  const body: RegistrationConfig['body'] = {facts: [], fields: {}}
  if (raw === undefined) return body
  const path = ['body']
  if (!isRecord(raw)) throw configError(place, path, `body must be an object, not ${describeValue(raw)}`, '{"facts": ["board-model"], "fields": {"line": "3"}}')
  checkKeys(raw, ['facts', 'fields'], place, path, 'body')
  const facts = Object.keys(BODY_FACTS)
  if (raw.facts !== undefined) {
    if (!Array.isArray(raw.facts)) throw configError(place, [...path, 'facts'], `facts must be a list, not ${describeValue(raw.facts)}`, `a list of: ${facts.join(', ')}`)
    for (const [i, fact] of raw.facts.entries()) {
      if (typeof fact !== 'string' || !facts.includes(fact)) {
        const guess = typeof fact === 'string' ? closest(fact, facts) : undefined
        throw configError(place, [...path, 'facts', i], `unknown body fact ${describeValue(fact)}`, guess ? `did you mean "${guess}"?` : `body facts: ${facts.join(', ')}`)
      }

      if (body.facts.includes(fact)) throw configError(place, [...path, 'facts', i], `"${fact}" is listed twice`, 'list each fact once')
      body.facts.push(fact)
    }
  }

  if (raw.fields !== undefined) {
    if (!isRecord(raw.fields)) throw configError(place, [...path, 'fields'], `fields must be an object, not ${describeValue(raw.fields)}`, '{"line": "kiosk-2"}')
    const reserved = new Set<string>(['serial', ...Object.values(IdentityField), ...body.facts])
    for (const [name, value] of Object.entries(raw.fields)) {
      const at = [...path, 'fields', name]
      if (!FIELD_NAME.test(name)) throw configError(place, at, `"${name}" is not a valid body field name`, 'lower-case letters, digits and single dashes, starting with a letter (like assertion headers)', 'key')
      if (reserved.has(name)) {
        const by = name === 'serial' ? 'the derived serial' : body.facts.includes(name) ? 'the body fact of that name' : 'the device identity'
        throw configError(place, at, `the body field "${name}" is set by ${by}`, 'choose another name', 'key')
      }

      body.fields[name] = checkFieldValue(value, place, at, 0)
    }
  }

  return body
}

function checkFieldValue(raw: unknown, place: ConfigPlace, path: DataPath, depth: number): BodyValue {
  if (depth > MAX_FIELD_DEPTH) throw configError(place, path, `nested more than ${MAX_FIELD_DEPTH} levels deep`, 'flatten the field')
  if (typeof raw === 'string') {
    if (LONE_SURROGATE.test(raw)) throw configError(place, path, 'the string is not well-formed Unicode (a lone surrogate escape)', 'the registration body must be valid UTF-8')
    return raw
  }

  if (Array.isArray(raw)) return raw.map((item, i) => checkFieldValue(item, place, [...path, i], depth + 1))
  if (isRecord(raw)) {
    const map: {[name: string]: BodyValue} = {}
    for (const [key, value] of Object.entries(raw)) {
      if (LONE_SURROGATE.test(key)) throw configError(place, [...path, key], 'the key is not well-formed Unicode', 'the registration body must be valid UTF-8', 'key')
      map[key] = checkFieldValue(value, place, [...path, key], depth + 1)
    }

    return map
  }

  throw configError(
    place,
    path,
    `a body field value must be a string, a list or an object, not ${describeValue(raw)}`,
    typeof raw === 'number' || typeof raw === 'boolean' ? `quote it: "${String(raw)}" (every value in the body is a string)` : 'write it as a string',
  )
}

function checkIdentity(raw: unknown, place: ConfigPlace): RegistrationConfig['identity'] {
  if (raw === undefined) return {enabled: true}
  if (typeof raw === 'boolean') return {enabled: raw}
  if (!isRecord(raw)) throw configError(place, ['identity'], `identity must be an object or a boolean, not ${describeValue(raw)}`, '{"enabled": true}')
  checkKeys(raw, ['enabled'], place, ['identity'], 'identity')
  return {enabled: checkBoolean(raw.enabled, place, ['identity', 'enabled'], true, 'true signs the body with the device identity key')}
}

function checkOnboarding(raw: unknown, place: ConfigPlace): RegistrationConfig['onboarding'] {
  const path = ['onboarding']
  const modes = "api-key (the model's api-key in a header) or hardware-identity (the device's hardware key, snapd 2.74 and later)"
  const mode = (value: unknown, at: DataPath): OnboardingMode => {
    if (typeof value === 'string' && (ONBOARDING_MODES as readonly string[]).includes(value)) return value as OnboardingMode
    const guess = typeof value === 'string' ? closest(value, ONBOARDING_MODES) : undefined
    throw configError(place, at, `the onboarding mode must be ${ONBOARDING_MODES.join(' or ')}, not ${describeValue(value)}`, guess ? `did you mean "${guess}"?` : modes)
  }

  if (raw === undefined) return {keyType: DEFAULT_HARDWARE_KEY_TYPE, mode: 'api-key'}
  if (typeof raw === 'string') return {keyType: DEFAULT_HARDWARE_KEY_TYPE, mode: mode(raw, path)}
  if (!isRecord(raw)) throw configError(place, path, `onboarding must be a string or an object, not ${describeValue(raw)}`, '"hardware-identity", or {"mode": "hardware-identity", "keyType": "ecdsa-p256"}')
  checkKeys(raw, ['mode', 'keyType'], place, path, 'onboarding')
  const result: RegistrationConfig['onboarding'] = {keyType: DEFAULT_HARDWARE_KEY_TYPE, mode: raw.mode === undefined ? 'api-key' : mode(raw.mode, [...path, 'mode'])}
  if (raw.keyType !== undefined) {
    if (typeof raw.keyType !== 'string' || !(HARDWARE_KEY_TYPES as readonly string[]).includes(raw.keyType)) {
      const guess = typeof raw.keyType === 'string' ? closest(raw.keyType, HARDWARE_KEY_TYPES) : undefined
      throw configError(
        place,
        [...path, 'keyType'],
        `keyType must be one of ${HARDWARE_KEY_TYPES.join(', ')}, not ${describeValue(raw.keyType)}`,
        guess ? `did you mean "${guess}"?` : 'ecdsa-p256 (the default) or ecdsa-p384; RSA types need the hooks run with Node',
      )
    }

    if (result.mode !== 'hardware-identity') throw configError(place, [...path, 'keyType'], 'keyType is for "mode": "hardware-identity"', 'remove keyType, or set the mode to hardware-identity', 'key')
    result.keyType = raw.keyType as HardwareKeyType
  }

  return result
}

/** In hardware-identity mode: no api-key header, no body or identity of prepare-device's (the hook's body replaces it). */
function checkHardwareIdentityMode(data: Record<string, unknown>, headers: readonly HeaderSpec[], place: ConfigPlace): void {
  const apiKey = headers.find((header) => header.name.toLowerCase() === 'api-key')
  if (apiKey) {
    throw configError(
      place,
      ['headers', apiKey.name],
      'an api-key header in hardware-identity onboarding',
      'remove it: the device proves who it is with its hardware key, and a shared api-key on every device is what this mode does away with',
      'key',
    )
  }

  for (const key of ['body', 'identity'] as const) {
    if (data[key] === undefined || (key === 'identity' && (data.identity === false || (isRecord(data.identity) && data.identity.enabled === false)))) continue
    throw configError(place, [key], `"${key}" has no effect in hardware-identity onboarding: the prepare-serial-request hook's body (the hardware proof) replaces prepare-device's`, `remove "${key}"`, 'key')
  }
}

function checkPlugs(raw: unknown, place: ConfigPlace): RegistrationConfig['plugs'] {
  if (raw === undefined) return {}
  if (!isRecord(raw)) throw configError(place, ['plugs'], `plugs must be an object of interface to plug name, not ${describeValue(raw)}`, '{"hardware-observe": "hw-observe"}')
  checkKeys(raw, SNAP_INTERFACES, place, ['plugs'], 'plugs')
  const plugs: RegistrationConfig['plugs'] = {}
  for (const [iface, name] of Object.entries(raw)) {
    if (typeof name !== 'string' || !PLUG_NAME.test(name))
      throw configError(place, ['plugs', iface], `the plug name for ${iface} must be a snap plug name, not ${describeValue(name)}`, 'the name under plugs: in snapcraft.yaml, e.g. hw-observe')
    plugs[iface as SnapInterface] = name
  }

  return plugs
}

function checkBoolean(raw: unknown, place: ConfigPlace, path: DataPath, fallback: boolean, meaning: string): boolean {
  if (raw === undefined) return fallback
  if (typeof raw !== 'boolean') throw configError(place, path, `${path.at(-1)} must be true or false, not ${describeValue(raw)}`, meaning)
  return raw
}
