/**
 * The gadget's prepare-device hook (and, for hardware-identity onboarding, its
 * prepare-serial-request hook, in the same data directories), run as snapd runs it (overlord/hookstate, osutil.RunAndWait)
 * but without snapd: the hook file itself, in its own process group, with the environment snapd
 * gives a hook (SNAP, SNAP_NAME, SNAP_DATA, SNAP_SAVE_DATA, …, and the hook's environment from
 * snap.yaml), killed after the hook timeout (snapd's is 10 minutes), its combined output kept as
 * snapd keeps it (the last 100 lines, at most 10 KiB).
 *
 * SNAP is a temporary tree presenting the gadget's files, with `usr/bin/qjs` replaced by a wrapper
 * that runs the chosen engine on this machine (QuickJS as it is; Node without QuickJS's --std)
 * and adds `--root DIR` for captured hardware. `snapctl` on PATH is the simulator's (see
 * snapctl-shim.ts); what the hook set is read afterwards with snapd's types, and only when the
 * hook exits 0: snapd drops a failed hook's changes.
 */
import {spawn} from 'node:child_process'
import {chmodSync, mkdirSync, readdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {extname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {isSecretHeader, SecretRedactor} from '../device/redact.js'
import {shellQuote} from '../support/shell-quote.js'
import type {GadgetTree, HookEngine} from './inputs.js'
import {encodeShimState, type IgnoredChange, type OptionValue, readSerialRequestConfig, readSnapctlLog, replayConfig, type SerialRequestConfig, type SnapctlRecord} from './snapctl-shim.js'

/** snapd's default hook timeout (overlord/hookstate/hookmgr.go defaultHookTimeout). */
export const SNAPD_HOOK_TIMEOUT_MS = 10 * 60 * 1000
/** What snapd keeps of a hook's output (strutil.NewLimitedBuffer(100, 10*1024)). */
const OUTPUT_LINES = 100
const OUTPUT_BYTES = 10 * 1024
/** After SIGKILL, how long the simulator waits for the hook to be gone. */
const KILL_WAIT_MS = 5000

export interface HookRunOptions {
  gadget: GadgetTree
  engine: HookEngine
  /** The name snapd reads the gadget's configuration under: the model's gadget. */
  configName: string
  /** Captured hardware: passed to the runtime as --root. */
  root?: string
  /** What `snapctl get api-key` answers (the factory's `snap set <gadget> api-key=…`). */
  apiKey?: string
  /** Plugs `snapctl is-connected` reports as not connected. */
  disconnected: readonly string[]
  timeoutMs: number
  /** An empty directory for this run; the caller removes it. */
  workDir: string
  /**
   * Where the device's data directories are (SNAP_DATA, SNAP_COMMON, SNAP_SAVE_DATA, …): kept
   * between the device's hooks and, when the caller keeps it, between runs. Default: in workDir.
   */
  dataDir?: string
  /** The gadget's configuration before the hook; default: the factory's api-key, when given. */
  initial?: Record<string, OptionValue>
  /** The device architecture (SNAP_ARCH). */
  architecture: string
  signal?: AbortSignal
}

export interface HookReport {
  /** False when the gadget has no prepare-device hook: snapd then makes no hook task. */
  ran: boolean
  exitCode: null | number
  signal: null | string
  timedOut: boolean
  /** The combined output as snapd keeps it, secrets masked. */
  output: string
  ms: number
  /** Every snapctl call, in order, secrets masked. */
  calls: SnapctlRecord[]
  /** Changes snapd's transaction refused (set.go drops the error). */
  ignored: IgnoredChange[]
  /** What snapd reads to build the serial request, secret header values masked; undefined when the hook failed or a value has the wrong type. */
  config?: SerialRequestConfig
  /** Why the attempt ends here, in snapd's words: the hook task's error, or the request task's. */
  failure?: string
  /** Which task ends: the hook's ("Run prepare-device hook") or the request's ("Request device serial"). */
  failedTask?: 'hook' | 'request-serial'
}

/** A hook run: its report (secrets masked), and the values snapd reads as they are. */
export interface HookRun {
  report: HookReport
  config?: SerialRequestConfig
  /** The gadget's whole configuration after the hook, when it succeeded (what the next hook starts from). */
  options?: Record<string, OptionValue>
}

export type GadgetHook = 'prepare-device' | 'prepare-serial-request'

/** Runs the prepare-serial-request hook (snapd 2.74+) and returns the configuration it left; its report says how it ran. */
export async function runSerialRequestHook(options: HookRunOptions): Promise<HookRun> {
  return runGadgetHook('prepare-serial-request', options)
}

/** Runs the prepare-device hook and reads what it set. */
export async function runPrepareDeviceHook(options: HookRunOptions): Promise<HookRun> {
  return runGadgetHook('prepare-device', options)
}

async function runGadgetHook(name: GadgetHook, options: HookRunOptions): Promise<HookRun> {
  const started = performance.now()
  const redactor = new SecretRedactor()
  if (options.apiKey) redactor.add(options.apiKey, '<api-key>')
  const initial = options.initial ?? initialConfig(options.apiKey)
  const hook = name === 'prepare-device' ? options.gadget.hook && {environment: options.gadget.environment, file: options.gadget.hook} : options.gadget.serialRequestHook
  if (!hook) {
    const replayed = replayConfig({gadget: options.configName, initial}, [])
    const {config} = readSerialRequestConfig(replayed)
    return {config, options: replayed.all(), report: {calls: [], config: config && masked(config, redactor), exitCode: null, ignored: [], ms: 0, output: '', ran: false, signal: null, timedOut: false}}
  }

  const layout = prepareLayout(name, hook, initial, options)
  const child = spawn(layout.hook, [], {cwd: layout.env.SNAP_DATA, detached: true, env: layout.env, stdio: ['ignore', 'pipe', 'pipe']})
  const output = new TailBuffer(OUTPUT_BYTES)
  child.stdout.on('data', (chunk: Buffer) => output.write(chunk))
  child.stderr.on('data', (chunk: Buffer) => output.write(chunk))
  let timedOut = false
  let aborted = false
  const kill = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
    } catch {}
  }

  let timer: NodeJS.Timeout | undefined
  let giveUp: NodeJS.Timeout | undefined
  const onAbort = (): void => {
    aborted = true
    kill()
  }

  options.signal?.addEventListener('abort', onAbort, {once: true})
  const ended = await new Promise<{code: null | number; signal: null | string; error?: string}>((resolve) => {
    child.once('error', (error) => resolve({code: null, error: (error as NodeJS.ErrnoException).code ?? error.message, signal: null}))
    child.once('close', (code, signal) => resolve({code, signal}))
    timer = setTimeout(() => {
      timedOut = true
      kill()
      // A descendant that left the process group may hold the output open: stop waiting for it.
      giveUp = setTimeout(() => resolve({code: null, signal: 'SIGKILL'}), KILL_WAIT_MS)
    }, options.timeoutMs)
  }).finally(() => {
    clearTimeout(timer)
    clearTimeout(giveUp)
    options.signal?.removeEventListener('abort', onAbort)
  })

  const calls = readSnapctlLog(layout.log)
  let text = truncateOutput(output.text(), OUTPUT_LINES, OUTPUT_BYTES)
  let failure: string | undefined
  if (ended.error !== undefined) {
    failure = `run hook ${JSON.stringify(name)}: ${ended.error === 'EACCES' ? `fork/exec ${layout.hook}: permission denied (the hook file must be executable)` : `fork/exec ${layout.hook}: ${ended.error}`}`
  } else if (timedOut || ended.code !== 0) {
    const reason = timedOut ? `exceeded maximum runtime of ${goDuration(options.timeoutMs)}` : aborted ? 'aborted' : ended.signal ? `signal: ${signalName(ended.signal)}` : `exit status ${ended.code}`
    if (timedOut || aborted) text = `${text}\n<${reason}>`
    failure = `run hook ${JSON.stringify(name)}: ${outputError(text, reason)}`
  }

  const maskCall = (record: SnapctlRecord): SnapctlRecord => ({
    argv: record.argv.map((a) => redactor.redact(a)),
    status: record.status,
    stderr: redactor.redact(record.stderr),
    stdout: record.argv[0] === 'get' ? redactor.redact(record.stdout) : record.stdout,
  })
  const report: HookReport = {
    calls: calls.map(maskCall),
    exitCode: ended.code,
    ignored: [],
    ms: performance.now() - started,
    output: redactor.redact(text),
    ran: true,
    signal: ended.signal,
    timedOut,
  }
  if (failure !== undefined) return {report: {...report, failedTask: 'hook', failure: redactor.redact(failure)}}

  const config = replayConfig({gadget: options.configName, initial}, calls)
  report.ignored = config.ignored.map((i) => ({argument: redactor.redact(i.argument), reason: i.reason}))
  // What snapd reads of prepare-serial-request's work is registration.body alone (the caller's).
  if (name === 'prepare-serial-request') return {options: config.all(), report}
  const read = readSerialRequestConfig(config)
  if (read.error !== undefined) return {report: {...report, failedTask: 'request-serial', failure: redactor.redact(read.error)}}
  return {config: read.config, options: config.all(), report: {...report, config: masked(read.config!, redactor)}}
}

/** The values as a report shows them: credential headers as <name>, and the api-key nowhere. */
function masked(config: SerialRequestConfig, redactor: SecretRedactor): SerialRequestConfig {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(config.headers)) headers[name] = isSecretHeader(name, false) ? `<${name}>` : redactor.redact(value)
  return {body: redactor.redact(config.body), headers, proposedSerial: redactor.redact(config.proposedSerial), url: redactor.redact(config.url)}
}

interface Layout {
  hook: string
  env: Record<string, string>
  log: string
}

/**
 * The hook's world in `workDir`: snap/ (SNAP: the gadget's files, and the engine wrapper as
 * usr/bin/qjs), bin/snapctl, the shim's state, and the data directories snapd makes for a snap.
 */
function prepareLayout(name: GadgetHook, hook: {file: string; environment: Record<string, string>}, initial: Record<string, OptionValue>, options: HookRunOptions): Layout {
  const {gadget, workDir} = options
  const snap = join(workDir, 'snap')
  mkdirSync(snap)
  mirror(gadget.dir, snap, new Set(['usr', ...(gadget.kind === 'project' ? ['meta'] : [])]))
  if (gadget.kind === 'project') {
    mkdirSync(join(snap, 'meta', 'hooks'), {recursive: true})
    symlinkSync(hook.file, join(snap, 'meta', 'hooks', name))
  }

  mkdirSync(join(snap, 'usr', 'bin'), {recursive: true})
  mirror(join(gadget.dir, 'usr'), join(snap, 'usr'), new Set(['bin']))
  mirror(join(gadget.dir, 'usr', 'bin'), join(snap, 'usr', 'bin'), new Set(['qjs']))
  // Captured hardware is prepare-device's to read; prepare-serial-request reads only the key it made.
  writeExecutable(join(snap, 'usr', 'bin', 'qjs'), engineWrapper(options.engine, name === 'prepare-device' ? options.root : undefined))

  const bin = join(workDir, 'bin')
  mkdirSync(bin)
  const log = join(workDir, 'snapctl.log')
  const stateFile = join(workDir, 'snapctl-state.json')
  writeFileSync(stateFile, encodeShimState({disconnected: [...options.disconnected], gadget: options.configName, initial, log, plugs: gadget.plugs}), {mode: 0o600})
  const entry = join(workDir, 'snapctl.mjs')
  writeFileSync(entry, `import {snapctlShimMain} from ${JSON.stringify(shimModuleUrl())}\nprocess.exitCode = snapctlShimMain(${JSON.stringify(stateFile)}, process.argv.slice(2))\n`)
  const loaders = loaderFlags()
  // Loaders are named as this process was started: resolved from its working directory.
  const cd = loaders.length > 0 ? `cd ${shellQuote(process.cwd())} || exit 1\n` : ''
  writeExecutable(join(bin, 'snapctl'), `#!/bin/sh\n${cd}exec ${[process.execPath, ...loaders, entry].map(shellQuote).join(' ')} "$@"\n`)

  const snapName = gadget.name
  const revision = 'x1'
  const data = options.dataDir ?? workDir
  const dirs = {
    SNAP_COMMON: join(data, 'var', 'snap', snapName, 'common'),
    SNAP_DATA: join(data, 'var', 'snap', snapName, revision),
    SNAP_SAVE_DATA: join(data, 'var', 'lib', 'snapd', 'save', 'snap', snapName),
    SNAP_USER_COMMON: join(data, 'root', 'snap', snapName, 'common'),
    SNAP_USER_DATA: join(data, 'root', 'snap', snapName, revision),
  }
  for (const dir of Object.values(dirs)) mkdirSync(dir, {recursive: true})
  const env: Record<string, string> = {
    HOME: dirs.SNAP_USER_DATA,
    PATH: [bin, `${snap}/usr/sbin`, `${snap}/usr/bin`, `${snap}/sbin`, `${snap}/bin`, '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':'),
    SNAP: snap,
    SNAP_ARCH: options.architecture,
    SNAP_INSTANCE_KEY: '',
    SNAP_INSTANCE_NAME: snapName,
    SNAP_LIBRARY_PATH: '/var/lib/snapd/lib/gl:/var/lib/snapd/lib/gl32:/var/lib/snapd/void',
    SNAP_NAME: snapName,
    SNAP_REAL_HOME: dirs.SNAP_USER_DATA,
    SNAP_REVISION: revision,
    SNAP_VERSION: gadget.version,
    ...dirs,
  }
  if (process.env.LANG) env.LANG = process.env.LANG
  // snap.yaml's environment, its $VARs expanded against the hook's environment as snapd does.
  for (const [key, value] of Object.entries(hook.environment)) env[key] = value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a?: string, b?: string) => env[a ?? b ?? ''] ?? '')
  return {env, hook: join(snap, 'meta', 'hooks', name), log}
}

/** The gadget's configuration before the hook: the api-key the factory set, when it did. */
function initialConfig(apiKey: string | undefined): Record<string, OptionValue> {
  return apiKey === undefined ? {} : {'api-key': apiKey}
}

/** `$SNAP/usr/bin/qjs`: the engine, with --root added after the runtime's own arguments. */
function engineWrapper(engine: HookEngine, root: string | undefined): string {
  const tail = root === undefined ? '' : ` --root ${shellQuote(root)}`
  if (engine.kind === 'qjs') return `#!/bin/sh\nexec ${shellQuote(engine.command)} "$@"${tail}\n`
  // Node takes the bundle as QuickJS does, but has no --std: drop it, keep the rest in order.
  return `#!/bin/sh\nfor arg do\n  shift\n  [ "$arg" = --std ] || set -- "$@" "$arg"\ndone\nexec ${shellQuote(engine.command)} "$@"${tail}\n`
}

/** Symlinks every entry of `from` into `to`, except `skip`; nothing when `from` is not a directory. */
function mirror(from: string, to: string, skip: ReadonlySet<string>): void {
  let entries: string[]
  try {
    entries = readdirSync(from)
  } catch {
    return
  }

  for (const entry of entries) if (!skip.has(entry)) symlinkSync(join(from, entry), join(to, entry))
}

function writeExecutable(file: string, text: string): void {
  writeFileSync(file, text)
  chmodSync(file, 0o755)
}

/** The shim module beside this one: built JavaScript, or TypeScript when the tests run the sources. */
function shimModuleUrl(): string {
  const here = fileURLToPath(import.meta.url)
  return pathToFileURL(join(here, '..', `snapctl-shim${extname(here)}`)).href
}

/** The module loaders this process runs with (the tests' TypeScript loader): the shim needs them too. */
function loaderFlags(): string[] {
  const flags: string[] = []
  const argv = process.execArgv
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--import' || argv[i] === '--require' || argv[i] === '--loader') flags.push(argv[i], argv[++i])
    else if (/^--(?:import|require|loader)=/.test(argv[i])) flags.push(argv[i])
  }

  return flags
}

/** The last `limit` bytes written. */
class TailBuffer {
  private chunks: Buffer[] = []
  private length = 0

  constructor(private readonly limit: number) {}

  write(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.length += chunk.length
    while (this.length - this.chunks[0].length >= this.limit) this.length -= this.chunks.shift()!.length
  }

  text(): string {
    const all = Buffer.concat(this.chunks)
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8')
  }
}

/** strutil.TruncateOutput: at most the last `bytes` bytes, and of them the last `lines` lines. */
function truncateOutput(text: string, lines: number, bytes: number): string {
  const buffer = Buffer.from(text)
  const tail = buffer.length > bytes ? buffer.subarray(buffer.length - bytes).toString('utf8') : text
  const all = tail.split('\n')
  return all.length > lines ? all.slice(all.length - lines).join('\n') : tail
}

/** osutil.OutputErr: the output when there is some (between ----- lines when it has several), else the error. */
function outputError(output: string, reason: string): string {
  const trimmed = output.trim()
  if (trimmed === '') return reason
  return trimmed.includes('\n') ? `\n-----\n${trimmed}\n-----` : trimmed
}

/** A duration as Go prints it: 10m0s, 30s, 1m30s, 500ms. */
function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  const total = ms / 1000
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const seconds = Number((total % 60).toFixed(3))
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`
  if (minutes > 0) return `${minutes}m${seconds}s`
  return `${seconds}s`
}

/** Go's name of a signal in an exit error ("signal: killed"). */
function signalName(signal: string): string {
  const names: Record<string, string> = {SIGABRT: 'aborted', SIGINT: 'interrupt', SIGKILL: 'killed', SIGSEGV: 'segmentation fault', SIGTERM: 'terminated'}
  return names[signal] ?? signal
}
