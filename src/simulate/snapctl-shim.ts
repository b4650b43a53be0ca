/**
 * `snapctl` as snapd 2.57.6 answers a gadget's prepare-device hook, without snapd: the program the
 * simulator puts first on the hook's PATH, and the reading of what the hook set.
 *
 * - `set` is typed exactly as snapd's ctlcmd does (overlord/hookstate/ctlcmd/set.go): the text
 *   after `=` becomes one JSON value when it is one (numbers kept as written), else the raw
 *   string; `-s` keeps the raw string, `-t` demands JSON; `key!` unsets. An invalid option name, or
 *   a path through an option that is not a map, makes snapd's transaction refuse the value, and
 *   set.go drops that error: the value is silently not set (said here as a note).
 * - `unset`, `get` (the factory's `snap set <gadget> api-key=…`, and what the hook set so far),
 *   `is-connected` (every plug of the gadget connected unless the simulator was told otherwise).
 * - The options snapd reads to build the serial request (devicestate/handlers_serial.go
 *   getSerialRequestConfig) are read with snapd's Go types: device-service.url, proposed-serial and
 *   body as strings, device-service.headers as a map of strings; a mismatch is snapd's error.
 *
 * The program records every call as a line of JSON in its log, which is also its state: `get`
 * replays the log's sets, so later calls see earlier ones as snapd's transaction does.
 */
import {appendFileSync, closeSync, fstatSync, openSync, readSync} from 'node:fs'

import {decodeOneJsonValue, GoNumber, goJson, type GoJsonValue, jsonKind} from './go-json.js'

/** An option value as snapd stores it. */
export type OptionValue = GoJsonValue

/** snapd's option name rule, per dotted part (overlord/configstate/config/helpers.go validKey). */
const VALID_KEY = /^(?:[a-z0-9]+-?)*[a-z](?:-?[a-z0-9])*$/

// --- snapctl set and unset: what a call does --------------------------------------------------------

/** One change a `set`/`unset` call makes, and how snapd typed it. */
interface OptionChange {
  key: string
  /** Undefined: the option is unset. */
  value?: OptionValue
  /** The argument as the hook wrote it. */
  argument: string
  /** How snapd read the text: JSON, or the raw string (not JSON, or -s). */
  typedAs?: 'json' | 'string'
}

interface SetCall {
  changes: OptionChange[]
  /** snapctl's error, as snapctl prints it after `error: error running snapctl: `; the call then changes nothing. */
  error?: string
}

/** What `snapctl set ARGS…` does in a prepare-device hook (ctlcmd set.go Execute, setConfigSetting). */
export function parseSetCall(args: readonly string[]): SetCall {
  let asString = false
  let typed = false
  const positional: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--') {
      positional.push(...args.slice(i + 1))
      break
    }

    if (arg.startsWith('-') && arg.length > 1) {
      if (arg.startsWith('--')) return {changes: [], error: `unknown flag \`${arg.slice(2).split('=')[0]}'`}
      for (const flag of arg.slice(1)) {
        if (flag === 's') asString = true
        else if (flag === 't') typed = true
        else return {changes: [], error: `unknown flag \`${flag}'`}
      }

      continue
    }

    positional.push(arg)
  }

  if (positional.length === 0) return {changes: [], error: 'set which option?'}
  if (typed && asString) return {changes: [], error: 'cannot use -t and -s together'}
  const [first] = positional
  if (!first.includes('=') && first.includes(':')) return {changes: [], error: 'interface attributes can only be set during the execution of prepare hooks'}

  const changes: OptionChange[] = []
  for (const argument of positional) {
    const at = argument.indexOf('=')
    if (at < 0 && argument.endsWith('!')) {
      changes.push({argument, key: argument.slice(0, -1)})
      continue
    }

    if (at < 0) return {changes: [], error: `invalid parameter: ${JSON.stringify(argument)} (want key=value)`}
    const key = argument.slice(0, at)
    const text = argument.slice(at + 1)
    if (asString) {
      changes.push({argument, key, typedAs: 'string', value: text})
      continue
    }

    const value = decodeOneJsonValue(text)
    if (value === undefined && typed) return {changes: [], error: `failed to parse JSON: the value of ${key} is not one JSON value`}
    changes.push(value === undefined ? {argument, key, typedAs: 'string', value: text} : {argument, key, typedAs: 'json', value})
  }

  return {changes}
}

/** What `snapctl unset KEYS…` does. */
function parseUnsetCall(args: readonly string[]): SetCall {
  if (args.length === 0) return {changes: [], error: 'unset which option?'}
  return {changes: args.map((key) => ({argument: key, key}))}
}

// --- the gadget's configuration -------------------------------------------------------------------------

/** A change snapd's transaction refused; set.go drops the error, so the value is silently not set. */
export interface IgnoredChange {
  argument: string
  reason: string
}

/**
 * The gadget's configuration as snapd's transaction sees it during the hook: what was there before
 * (the factory's api-key), with the hook's changes applied in order.
 */
export class GadgetConfig {
  private readonly values: Record<string, OptionValue>
  readonly ignored: IgnoredChange[] = []

  constructor(
    readonly gadget: string,
    initial: Record<string, OptionValue> = {},
  ) {
    this.values = cloneValue(initial) as Record<string, OptionValue>
  }

  /** Applies one change as config.Transaction.Set does; a refused change is recorded in `ignored`. */
  apply(change: OptionChange): void {
    const reason = this.set(change.key, change.value === undefined ? null : change.value)
    if (reason !== undefined) this.ignored.push({argument: change.argument, reason})
  }

  /** The value at a dotted key; undefined when unset. A path through a non-map is snapd's error. */
  get(key: string): {value?: OptionValue; error?: string} {
    const parts = key.split('.')
    let node: OptionValue = purgeNulls(this.values) ?? {}
    for (let i = 0; i < parts.length; i++) {
      if (node === null || typeof node !== 'object' || Array.isArray(node) || node instanceof GoNumber) {
        return {error: `snap ${JSON.stringify(this.gadget)} option ${JSON.stringify(parts.slice(0, i).join('.'))} is not a map`}
      }

      if (!Object.hasOwn(node, parts[i])) return {}
      node = node[parts[i]]
    }

    return {value: node}
  }

  /** Every option, nulls purged (what `snap get -d <gadget>` would show). */
  all(): Record<string, OptionValue> {
    return (purgeNulls(this.values) as Record<string, OptionValue> | undefined) ?? {}
  }

  private set(key: string, value: OptionValue): string | undefined {
    const parts = key.split('.')
    for (const part of parts) if (!VALID_KEY.test(part)) return `invalid option name: ${JSON.stringify(part)}`
    let node = this.values
    for (let i = 0; i < parts.length - 1; i++) {
      const next = Object.hasOwn(node, parts[i]) ? node[parts[i]] : undefined
      if (next === undefined || next === null) node[parts[i]] = {}
      else if (typeof next !== 'object' || Array.isArray(next) || next instanceof GoNumber) {
        return `snap ${JSON.stringify(this.gadget)} option ${JSON.stringify(parts.slice(0, i + 1).join('.'))} is not a map`
      }

      node = node[parts[i]] as Record<string, OptionValue>
    }

    node[parts.at(-1)!] = value
    return undefined
  }
}

/** A deep copy (structuredClone would turn a GoNumber into a plain object). */
function cloneValue(value: OptionValue): OptionValue {
  if (Array.isArray(value)) return value.map(cloneValue)
  if (value !== null && typeof value === 'object' && !(value instanceof GoNumber)) {
    const out: Record<string, OptionValue> = {}
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, {configurable: true, enumerable: true, value: cloneValue(v), writable: true})
    return out
  }

  return value
}

/** A copy without null values, in maps at any depth; undefined when nothing is left of a map. */
function purgeNulls(value: OptionValue): OptionValue | undefined {
  if (value === null) return undefined
  if (value === undefined || typeof value !== 'object' || Array.isArray(value) || value instanceof GoNumber) return value
  const out: Record<string, OptionValue> = {}
  for (const [k, v] of Object.entries(value)) {
    const kept = purgeNulls(v)
    if (kept !== undefined) out[k] = kept
  }

  return out
}

// --- what snapd reads to build the serial request ---------------------------------------------------

/** The options snapd reads from the gadget's configuration, typed as snapd types them. */
export interface SerialRequestConfig {
  /** device-service.url as set ('' when unset: the Canonical store). */
  url: string
  headers: Record<string, string>
  proposedSerial: string
  body: string
}

/**
 * device-service.url, device-service.headers, registration.body and
 * registration.proposed-serial read into snapd's Go types (handlers_serial.go:604-630); a value of
 * another type is the error snapd gives, which fails the "Request device serial" task.
 */
export function readSerialRequestConfig(config: GadgetConfig): {config?: SerialRequestConfig; error?: string} {
  const read = (key: string, goType: 'map[string]string' | 'string'): {value?: Record<string, string> | string; error?: string} => {
    const {error, value} = config.get(key)
    if (error !== undefined) return {error}
    if (value === undefined) return {}
    const mismatch = (kind: string, into: string): string =>
      `internal error: cannot unmarshal snap ${JSON.stringify(config.gadget)} option ${JSON.stringify(key)} into *${goType}: json: cannot unmarshal ${kind} into Go value of type ${into}, json: ${goJson(value)}`
    if (goType === 'string') return typeof value === 'string' ? {value} : {error: mismatch(jsonKind(value), 'string')}
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof GoNumber) return {error: mismatch(jsonKind(value), 'map[string]string')}
    const headers: Record<string, string> = {}
    for (const [name, inner] of Object.entries(value)) {
      if (typeof inner !== 'string') return {error: mismatch(jsonKind(inner), 'string')}
      headers[name] = inner
    }

    return {value: headers}
  }

  const url = read('device-service.url', 'string')
  if (url.error) return {error: url.error}
  const headers = read('device-service.headers', 'map[string]string')
  if (headers.error) return {error: headers.error}
  const body = read('registration.body', 'string')
  if (body.error) return {error: body.error}
  const proposed = read('registration.proposed-serial', 'string')
  if (proposed.error) return {error: proposed.error}
  return {
    config: {
      body: (body.value as string | undefined) ?? '',
      headers: (headers.value as Record<string, string> | undefined) ?? {},
      proposedSerial: (proposed.value as string | undefined) ?? '',
      url: (url.value as string | undefined) ?? '',
    },
  }
}

// --- the program on the hook's PATH ----------------------------------------------------------------------

/** What the simulator tells the shim: written once per hook run, beside its log. */
export interface ShimState {
  gadget: string
  /** The configuration before the hook (the factory's api-key). */
  initial: Record<string, OptionValue>
  /** The gadget's plugs and slots; undefined when unknown (every name then exists). */
  plugs?: string[]
  /** Plugs is-connected reports as not connected. */
  disconnected: string[]
  /** The call log (JSON lines). */
  log: string
}

/** One call as the log records it. */
export interface SnapctlRecord {
  argv: string[]
  status: number
  stdout: string
  stderr: string
}

/** The log is the state; a hook that calls snapctl more than this is not preparing a device. */
const MAX_SNAPCTL_CALLS = 1000
const MAX_LOG_BYTES = 16 * 1024 * 1024
const MAX_STATE_BYTES = 1024 * 1024

/** The calls recorded in `log`, in order (bounded: at most MAX_LOG_BYTES are read). */
export function readSnapctlLog(log: string): SnapctlRecord[] {
  let text: string
  try {
    text = readCapped(log, MAX_LOG_BYTES)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }

  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as SnapctlRecord)
}

/** Replays the changes of the recorded successful set/unset calls onto the initial configuration. */
export function replayConfig(state: Pick<ShimState, 'gadget' | 'initial'>, records: readonly SnapctlRecord[]): GadgetConfig {
  const config = new GadgetConfig(state.gadget, state.initial)
  for (const record of records) {
    if (record.status !== 0) continue
    const [command, ...args] = record.argv
    const call = command === 'set' ? parseSetCall(args) : command === 'unset' ? parseUnsetCall(args) : undefined
    for (const change of call?.changes ?? []) config.apply(change)
  }

  return config
}

/** What snapctl answers to `argv`, given the configuration so far. */
export function answerSnapctl(state: ShimState, config: GadgetConfig, argv: readonly string[]): Omit<SnapctlRecord, 'argv'> {
  const fail = (message: string): Omit<SnapctlRecord, 'argv'> => ({status: 1, stderr: `error: error running snapctl: ${message}\n`, stdout: ''})
  const [command, ...args] = argv
  switch (command) {
    case 'set':
    case 'unset': {
      const call = command === 'set' ? parseSetCall(args) : parseUnsetCall(args)
      return call.error === undefined ? {status: 0, stderr: '', stdout: ''} : fail(call.error)
    }

    case 'get': {
      const keys = args.filter((a) => !a.startsWith('-'))
      const typed = args.includes('-t')
      const document = args.includes('-d')
      if (keys.length === 0) return fail('get which option?')
      const found: Record<string, OptionValue> = {}
      for (const key of keys) {
        const {error, value} = config.get(key)
        if (error !== undefined) return fail(error)
        if (value !== undefined) found[key] = value
        else if (!typed) found[key] = ''
      }

      const shown = !document && keys.length === 1 ? found[keys[0]] : found
      if (typed && shown === undefined) return {status: 0, stderr: '', stdout: 'null\n'}
      if (typeof shown === 'string' && !typed) return {status: 0, stderr: '', stdout: `${shown}\n`}
      return {status: 0, stderr: '', stdout: `${shown === undefined ? '' : goIndent(shown)}\n`}
    }

    case 'is-connected': {
      const plug = args.find((a) => !a.startsWith('-'))
      if (plug === undefined) return fail('the required argument `<plug|slot>` was not provided')
      if (state.plugs !== undefined && !state.plugs.includes(plug)) return fail(`snap ${JSON.stringify(state.gadget)} has no plug or slot named ${JSON.stringify(plug)}`)
      return {status: state.disconnected.includes(plug) ? 1 : 0, stderr: '', stdout: ''}
    }

    default: {
      return fail(`${JSON.stringify(command ?? '')} is not answered by the simulated snapd (it answers set, unset, get and is-connected)`)
    }
  }
}

/** json.MarshalIndent(value, "", "\t"), as `snapctl get` prints a map. */
function goIndent(value: OptionValue, depth = 0): string {
  const pad = '\t'.repeat(depth + 1)
  const end = '\t'.repeat(depth)
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[\n${value.map((v) => pad + goIndent(v, depth + 1)).join(',\n')}\n${end}]`
  if (value !== null && typeof value === 'object' && !(value instanceof GoNumber)) {
    const keys = Object.keys(value).sort()
    return keys.length === 0 ? '{}' : `{\n${keys.map((k) => `${pad}${goJson(k)}: ${goIndent(value[k], depth + 1)}`).join(',\n')}\n${end}}`
  }

  return goJson(value)
}

/**
 * The shim's entry: answers one snapctl call and records it. `stateFile` is the ShimState the
 * simulator wrote for this hook run.
 */
export function snapctlShimMain(stateFile: string, argv: readonly string[]): number {
  const state = JSON.parse(readCapped(stateFile, MAX_STATE_BYTES), reviveState) as ShimState
  const records = readSnapctlLog(state.log)
  let answer: Omit<SnapctlRecord, 'argv'>
  if (records.length >= MAX_SNAPCTL_CALLS) answer = {status: 1, stderr: `error: error running snapctl: the simulated snapd answers at most ${MAX_SNAPCTL_CALLS} calls per hook run\n`, stdout: ''}
  else answer = answerSnapctl(state, replayConfig(state, records), argv)
  appendFileSync(state.log, `${JSON.stringify({argv, ...answer})}\n`)
  process.stdout.write(answer.stdout)
  process.stderr.write(answer.stderr)
  return answer.status
}

/** The state file keeps numbers as {"$number": text}: restores them as GoNumber. */
function reviveState(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as {$number?: unknown}).$number === 'string') {
    return new GoNumber((value as {$number: string}).$number)
  }

  return value
}

/** The state as the shim reads it back (GoNumber kept). */
export function encodeShimState(state: ShimState): string {
  return JSON.stringify(state, (_key, value: unknown) => (value instanceof GoNumber ? {$number: value.text} : value))
}

/** A file's text, refusing more than `limit` bytes. */
function readCapped(file: string, limit: number): string {
  const fd = openSync(file, 'r')
  try {
    const size = fstatSync(fd).size
    if (size > limit) throw new Error(`${file} is larger than ${limit} bytes`)
    const buffer = Buffer.alloc(size)
    let read = 0
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, null)
      if (n === 0) break
      read += n
    }

    return buffer.subarray(0, read).toString('utf8')
  } finally {
    closeSync(fd)
  }
}
