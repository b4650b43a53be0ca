/**
 * snapctl, as the prepare-device hook must call it. snapd types the text after `key=` as one JSON
 * value when it parses as JSON, else as a raw string, and later decodes the options into Go
 * strings and a map of strings: an unquoted all-digit serial becomes a JSON number and
 * registration fails for ever. So every option here is `key=<JSON literal>`: strings through
 * JSON.stringify, the headers as a JSON object of strings, never `-s`. snapctl is spawned with an
 * argv array (no shell), and every exit status is checked.
 *
 * A snapctl that hangs (snapd busy, a wedged socket) must not hold the hook until snapd's own hook
 * timeout (10 minutes): each call gets SNAPCTL_TIMEOUT_MS, then SIGTERM, then SIGKILL to its
 * process group SNAPCTL_GRACE_MS later; all calls of a run share HOOK_SNAPCTL_BUDGET_MS.
 */
import {UserError} from '../errors.js'
import {host, type SpawnResult} from '../support/host.js'
import {shellQuote} from '../support/shell-quote.js'
import {isSecretHeader, maskFor} from './redact.js'

/** The gadget options snapd reads when it builds the serial request. */
const RegistrationOption = {
  body: 'registration.body',
  headers: 'device-service.headers',
  proposedSerial: 'registration.proposed-serial',
  url: 'device-service.url',
} as const
type RegistrationOption = (typeof RegistrationOption)[keyof typeof RegistrationOption]

/** Every option the runtime owns, in the order it sets them; those it does not set are unset. */
export const MANAGED_OPTIONS: readonly RegistrationOption[] = [RegistrationOption.url, RegistrationOption.headers, RegistrationOption.proposedSerial, RegistrationOption.body]

/** Linux refuses a single argument of 128 KiB or more (MAX_ARG_STRLEN, the NUL included). */
const MAX_ARGUMENT_BYTES = 128 * 1024 - 1
/** One snapctl call may take this long before it is sent SIGTERM. */
export const SNAPCTL_TIMEOUT_MS = 20_000
/** After SIGTERM, this long before SIGKILL goes to the call's whole process group. */
export const SNAPCTL_GRACE_MS = 3000
/** Every snapctl call of one hook run together: far below snapd's 10-minute hook timeout. */
export const HOOK_SNAPCTL_BUDGET_MS = 60_000
const MAX_OUTPUT_BYTES = 64 * 1024

interface SnapctlResult {
  /** The exit status; null when killed or not started. */
  status: null | number
  signal?: null | string
  stdout: string
  stderr: string
  /** Why it could not run: `ENOENT` (no snapctl), `ETIMEDOUT` (killed), … */
  error?: string
}

/** Runs `snapctl <args…>` and reports how it ended; never throws for snapctl's sake. */
export type SnapctlRunner = (args: readonly string[]) => Promise<SnapctlResult> | SnapctlResult

interface SpawnSnapctlOptions {
  /** The program (default `snapctl`, looked up on PATH). */
  command?: string
  env?: Readonly<Record<string, string | undefined>>
  /** SIGTERM to a call after this long (default SNAPCTL_TIMEOUT_MS). */
  timeoutMs?: number
  /** SIGKILL to its process group this long after SIGTERM (default SNAPCTL_GRACE_MS). */
  graceMs?: number
  /** All calls together (default HOOK_SNAPCTL_BUDGET_MS): a later call gets only what is left. */
  budgetMs?: number
}

/** The real runner: spawns snapctl through the host, without a shell, bounded in time and output. */
export function spawnSnapctl(options: SpawnSnapctlOptions = {}): SnapctlRunner {
  const command = options.command ?? 'snapctl'
  const budget = options.budgetMs ?? HOOK_SNAPCTL_BUDGET_MS
  let spent = 0
  return async (args): Promise<SnapctlResult> => {
    const left = budget - spent
    if (left <= 0) return {error: 'ETIMEDOUT', status: null, stderr: '', stdout: ''}
    const started = host().now()
    const result: SpawnResult = await host().spawn([command, ...args], {
      env: options.env ?? host().env(),
      graceMs: options.graceMs ?? SNAPCTL_GRACE_MS,
      maxOutputBytes: MAX_OUTPUT_BYTES,
      timeoutMs: Math.min(options.timeoutMs ?? SNAPCTL_TIMEOUT_MS, left),
    })
    spent += host().now() - started
    return result
  }
}

/** A header value, and where it came from (values from the environment are never shown). */
export interface ResolvedHeader {
  value: string
  /** The environment variable it was read from. */
  env?: string
  /** A dry run's: the variable is not set where the plan was made (the value is shown as <$NAME>). */
  unset?: boolean
}

/**
 * One snapctl invocation. `argv` is exact; `redacted` is the same with values from the
 * environment (the api-key) replaced by `<$NAME>`, and is what printing or serialising shows.
 */
export class SnapctlCall {
  readonly argv: readonly string[]
  readonly redacted: readonly string[]

  constructor(argv: readonly string[], redacted: readonly string[] = argv) {
    for (const arg of argv) {
      const bytes = Buffer.byteLength(arg, 'utf8')
      if (bytes > MAX_ARGUMENT_BYTES) {
        throw new UserError('E_SNAPCTL_ARGUMENT', `the snapctl argument ${JSON.stringify(arg.slice(0, 40))}… is ${bytes} bytes; one argument may not exceed ${MAX_ARGUMENT_BYTES}`, {
          hint: 'shorten the registration body or the header values',
          kind: 'failed',
        })
      }
    }

    this.argv = Object.freeze([...argv])
    this.redacted = Object.freeze([...redacted])
  }

  /** The call as a shell command line (quoted for display; it is never run through a shell). */
  toString(): string {
    return ['snapctl', ...this.redacted].map(shellQuote).join(' ')
  }

  toJSON(): readonly string[] {
    return this.redacted
  }

  // util.inspect's hook, by its registered symbol: the runtime need not load node:util for it.
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SnapctlCall { ${this.toString()} }`
  }
}

/** `key=<JSON string literal>`: snapd stores a string whatever the text looks like. */
export function stringOption(key: string, value: string): string {
  return `${key}=${JSON.stringify(value)}`
}

/** `snapctl is-connected <plug>` */
export function isConnectedCall(plug: string): SnapctlCall {
  return new SnapctlCall(['is-connected', plug])
}

interface RegistrationValues {
  url: string
  /** Header name → value, in order; an empty map unsets the headers. */
  headers: ReadonlyMap<string, ResolvedHeader>
  /** Undefined: unset registration.proposed-serial (the service reads the serial from the body). */
  proposedSerial?: string
  /** Undefined: unset registration.body (the prepare-serial-request hook sets it). */
  body?: string
  /** The hardware identity export, set as the gadget option `hardware-identity` (a JSON object). */
  hardwareIdentity?: Readonly<Record<string, string>>
}

/**
 * The one `snapctl set` call for the values. The managed options the values leave out are unset in
 * the same call, as `key!` (snapd's unset syntax since 2.41, the release of `snapctl unset`): a
 * value an earlier hook set persists until it is unset, and one call is one process on every
 * hook run instead of two.
 */
export function registrationCall(values: RegistrationValues): SnapctlCall {
  const argv = ['set']
  const redacted = ['set']
  const add = (arg: string, shown = arg) => {
    argv.push(arg)
    redacted.push(shown)
  }

  add(stringOption(RegistrationOption.url, values.url))
  if (values.headers.size > 0) {
    const real: Record<string, string> = {}
    const shown: Record<string, string> = {}
    for (const [name, header] of values.headers) {
      real[name] = header.value
      shown[name] = isSecretHeader(name, header.env !== undefined) ? maskFor(header.env) : header.value
    }

    add(`${RegistrationOption.headers}=${JSON.stringify(real)}`, `${RegistrationOption.headers}=${JSON.stringify(shown)}`)
  }

  if (values.proposedSerial !== undefined) add(stringOption(RegistrationOption.proposedSerial, values.proposedSerial))
  if (values.body !== undefined) add(stringOption(RegistrationOption.body, values.body))
  if (values.hardwareIdentity !== undefined) add(`${HARDWARE_IDENTITY_OPTION}=${JSON.stringify(values.hardwareIdentity)}`)
  for (const key of MANAGED_OPTIONS) if (!argv.some((arg) => arg.startsWith(`${key}=`))) add(unsetOption(key))
  return new SnapctlCall(argv, redacted)
}

/** The gadget option a factory station reads the hardware identity export from (`snap get <gadget> hardware-identity`). */
const HARDWARE_IDENTITY_OPTION = 'hardware-identity'

/**
 * `snapctl unset registration.body`: prepare-device's first call in hardware-identity onboarding.
 * Once the prepare-serial-request hook has run, registration.body is a JSON object, which snapd
 * (2.74 to 2.77) fails to read as the string it expects before it runs the hook again: every later
 * attempt would fail until something clears it (secure-onboarding.md §1, the retry hazard).
 */
export function unsetBodyCall(): SnapctlCall {
  return new SnapctlCall(['unset', RegistrationOption.body])
}

/** `snapctl get <key>` */
export function getCall(key: string): SnapctlCall {
  return new SnapctlCall(['get', key])
}

/** `snapctl set registration.body=<JSON object>`: snapd parses the value as JSON, so the body is an object, as the hook must leave it. */
export function bodyObjectCall(body: Readonly<Record<string, string>>): SnapctlCall {
  return new SnapctlCall(['set', `${RegistrationOption.body}=${JSON.stringify(body)}`])
}

/** `key!`: unsets the option within a `snapctl set` call. */
export function unsetOption(key: string): string {
  return `${key}!`
}

/** Runs a call; a failure to start, a signal or a non-zero exit is a UserError (E_SNAPCTL_FAILED). */
export async function runSnapctl(runner: SnapctlRunner, call: SnapctlCall): Promise<SnapctlResult> {
  const result = await runner(call.argv)
  if (result.error === undefined && result.status === 0) return result
  throw snapctlFailure(call, result)
}

/**
 * Whether the gadget's plug is connected. snapctl exits 0 when it is and 1 without output when it
 * is not; any other outcome (the gadget has no such plug, snapd unreachable) is an error.
 */
export async function isConnected(runner: SnapctlRunner, plug: string): Promise<boolean> {
  const call = isConnectedCall(plug)
  const result = await runner(call.argv)
  if (result.error === undefined && result.status === 0) return true
  if (result.error === undefined && result.status === 1 && result.stderr.trim() === '') return false
  if (/has no plug or slot named/.test(result.stderr)) {
    throw new UserError('E_PLUG_UNDECLARED', `the gadget has no plug named "${plug}": ${firstLine(result.stderr)}`, {
      hint: `declare the plug for the prepare-device hook (snapcraft.yaml: hooks: prepare-device: plugs: [${plug}]), or map the interface to your plug's name in the registration config "plugs"`,
      kind: 'failed',
    })
  }

  throw snapctlFailure(call, result)
}

function snapctlFailure(call: SnapctlCall, result: SnapctlResult): UserError {
  const what = `snapctl ${call.argv[0]}`
  let why: string
  if (result.error === 'ENOENT') why = 'snapctl was not found on PATH'
  else if (result.error === 'ETIMEDOUT')
    why = `snapctl did not answer in time (stopped with ${result.signal ?? 'SIGKILL'}; each call may take ${SNAPCTL_TIMEOUT_MS / 1000} s, all calls of a run ${HOOK_SNAPCTL_BUDGET_MS / 1000} s)`
  else if (result.error !== undefined) why = `snapctl could not run (${result.error})`
  else if (result.signal) why = `snapctl was killed by ${result.signal}`
  else why = `snapctl exited ${result.status}${result.stderr.trim() ? `: ${firstLine(result.stderr)}` : ''}`
  return new UserError('E_SNAPCTL_FAILED', `${what} failed: ${why}`, {
    details: {argv: call.redacted, status: result.status},
    hint:
      result.error === 'ENOENT' ? "run it as the gadget's prepare-device hook (snapctl needs snapd and SNAP_COOKIE), or use --dry-run" : 'snapd retries the hook with back-off; check `snap changes` and the snapd journal',
    kind: 'failed',
  })
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? ''
  return line.trim().slice(0, 300)
}
