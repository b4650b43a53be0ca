/**
 * The on-device prepare-device runtime, run by the gadget's hook. esbuild bundles this entry into
 * one file (dist/runtime/prepare-device.cjs) that runs on two engines with the same arguments:
 *
 *     qjs --std prepare-device.cjs [--config FILE] [--root DIR] [--dry-run] [--json]
 *     node prepare-device.cjs      [--config FILE] [--root DIR] [--dry-run] [--json]
 *     qjs --std prepare-device.cjs prepare-serial-request [--json]
 *
 * The second form is the prepare-serial-request hook of hardware-identity onboarding (snapd 2.74
 * and later): it signs the request-id snapd set with the hardware identity key prepare-device
 * made, and sets registration.body to the proof. One file serves both hooks.
 *
 * Gadgets ship QuickJS (about 1 MB) instead of Node.js (25–35 MB). The engine is told apart by the
 * `std` and `os` globals that `qjs --std` provides; hosts/install.ts then installs the QuickJS host,
 * else the Node host serves.
 *
 * Exit 0: snapd has the registration options. Anything else: one line on stderr saying why; snapd
 * discards the options of the failed run and runs the hook again with back-off. No output ever
 * carries a secret header value.
 */
import './hosts/install.js'

import {DEFAULT_CONFIG_NAME} from '../device/config.js'
import {describeHardwareExport, describePreparation, dryRunNotes, prepareDevice} from '../device/prepare.js'
import {describeSerialRequest, prepareSerialRequest} from '../device/serial-request.js'
import {SecretRedactor} from '../device/redact.js'
import {HOOK_SNAPCTL_BUDGET_MS, SNAPCTL_GRACE_MS, SNAPCTL_TIMEOUT_MS, type SnapctlRunner} from '../device/snapctl.js'
import {ExitCode, exitCodeFor, InternalError, UserError} from '../errors.js'
import {inertJson, terminalSafe} from '../support/echo.js'
import {host} from '../support/host.js'
import {builtinBoards} from './boards.js'

declare const SNAP_GADGET_VERSION: string | undefined

/** The one place the default config path is documented for the hook. */
export const USAGE = `usage: prepare-device [--config FILE] [--root DIR] [--dry-run] [--json]
       prepare-device prepare-serial-request [--json]
  (run as: qjs --std prepare-device.cjs …, or node prepare-device.cjs …)

Derives the device serial, builds the registration body and hands both to snapd with snapctl.
  --config FILE   registration config (default: $SNAP/${DEFAULT_CONFIG_NAME}, where the
                  generated gadget ships it and its hook names it)
  --root DIR      read the hardware under DIR instead of / (a captured tree)
  --dry-run       print the snapctl calls instead of making them
  --json          print the result (or the error) as JSON

prepare-serial-request (the hook of that name, hardware-identity onboarding, snapd 2.74 and
later): signs snapd's registration.request-id with the hardware identity key prepare-device made
in $SNAP_SAVE_DATA (else $SNAP_DATA) and sets registration.body to the proof, one JSON object.

Each snapctl call may take ${SNAPCTL_TIMEOUT_MS / 1000} s (then SIGTERM, and SIGKILL to its process group
${SNAPCTL_GRACE_MS / 1000} s later); all calls of a run together ${HOOK_SNAPCTL_BUDGET_MS / 1000} s. Secret header values
(api-key, tokens, anything from the environment) never appear in the output.
`

interface RuntimeArgs {
  /** The hook: prepare-device (the default) or prepare-serial-request. */
  hook: 'prepare-device' | 'prepare-serial-request'
  config?: string
  dryRun: boolean
  help: boolean
  json: boolean
  root?: string
  version: boolean
}

interface RuntimeIo {
  stdout: {write(text: string): unknown}
  stderr: {write(text: string): unknown}
  env: Readonly<Record<string, string | undefined>>
  /** How snapctl is run (default: spawned from PATH through the host). */
  snapctl?: SnapctlRunner
}

/**
 * The runtime's six flags, parsed by hand: QuickJS has no node:util, oclif cannot ship in a
 * gadget, and the Node project's parseArgs polyfill (@pkgjs/parseargs) would add 11 KB (minified) to a
 * bundle that must stay small (scripts/build.mjs holds its limit). Same forms as the CLI: `--name value`, `--name=value`.
 */
function parseRuntimeArgs(argv: readonly string[]): RuntimeArgs {
  const args: RuntimeArgs = {dryRun: false, help: false, hook: 'prepare-device', json: false, version: false}
  let from = 0
  if (argv[0] === 'prepare-serial-request') {
    args.hook = 'prepare-serial-request'
    from = 1
  }

  for (let i = from; i < argv.length; i++) {
    const arg = argv[i]
    const eq = arg.indexOf('=')
    const name = arg.startsWith('--') && eq !== -1 ? arg.slice(0, eq) : arg
    if (name === '--config' || name === '--root') {
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1)
      if (value === undefined || value === '') throw usage(`${name} needs a value`)
      if (name === '--config') args.config = value
      else args.root = value
    } else if (arg === '--dry-run') args.dryRun = true
    else if (arg === '--json') args.json = true
    else if (arg === '--help' || arg === '-h') args.help = true
    else if (arg === '--version') args.version = true
    else throw usage(`unknown argument ${JSON.stringify(arg)}`)
  }

  if (args.hook === 'prepare-serial-request' && (args.config !== undefined || args.root !== undefined || args.dryRun)) {
    throw usage('prepare-serial-request takes only --json: it reads the key prepare-device made and the request-id snapd set')
  }

  return args
}

function usage(message: string): UserError {
  return new UserError('E_USAGE', message, {hint: 'see prepare-device --help', kind: 'usage'})
}

/** The error as one line: snapd shows the hook's output in `snap change`, and logs keep lines. */
function errorLine(error: unknown, hook = 'prepare-device'): string {
  let text: string
  if (error instanceof UserError) text = `${error.located}${error.hint ? ` (fix: ${error.hint})` : ''}`
  else if (error instanceof InternalError) text = `internal error: ${error.message}`
  else text = `internal error: ${error instanceof Error ? error.message : String(error)}`
  return `${hook}: ${text.replace(/\s*[\n\r\u2028\u2029]+\s*/g, '; ')}`
}

/** Runs the runtime; returns the exit code. */
export async function main(argv: readonly string[], io: RuntimeIo): Promise<number> {
  let json = argv.includes('--json')
  const hook = argv[0] === 'prepare-serial-request' ? argv[0] : 'prepare-device'
  const redactor = new SecretRedactor()
  // Hardware text (a cpuinfo line, an EEPROM) reaches these: snapd keeps them in its task log, and
  // `snap tasks` shows them on a terminal, so nothing a terminal acts on goes out raw.
  const stdout = (text: string) => io.stdout.write(terminalSafe(redactor.redact(text)))
  const stderr = (text: string) => io.stderr.write(terminalSafe(redactor.redact(text)))
  const stdoutJson = (value: unknown) => io.stdout.write(`${redactor.redact(inertJson(value, 2))}\n`)
  try {
    const args = parseRuntimeArgs(argv)
    json = args.json
    if (args.help) {
      stdout(USAGE)
      return ExitCode.Ok
    }

    if (args.version) {
      stdout(`${typeof SNAP_GADGET_VERSION === 'string' ? SNAP_GADGET_VERSION : 'development'}\n`)
      return ExitCode.Ok
    }

    if (args.hook === 'prepare-serial-request') {
      const signed = await prepareSerialRequest({env: io.env, snapctl: io.snapctl})
      if (json) stdoutJson(signed)
      else stdout(`prepare-serial-request: ${describeSerialRequest(signed)}\n`)
      return ExitCode.Ok
    }

    const result = await prepareDevice({boards: builtinBoards, config: args.config, dryRun: args.dryRun, env: io.env, redactor, root: args.root, snapctl: io.snapctl})
    if (json) stdoutJson(result)
    else if (args.dryRun) {
      stdout([...result.calls.map((call) => call.toString()), ...describeHardwareExport(result)].map((line) => `${line}\n`).join(''))
      stderr(
        dryRunNotes(result)
          .map((note) => `prepare-device: note: ${note}\n`)
          .join(''),
      )
    } else stdout(`prepare-device: ${describePreparation(result)}\n`)
    return ExitCode.Ok
  } catch (error) {
    stderr(`${errorLine(error, hook)}\n`)
    if (json) {
      const detail = error instanceof UserError ? error.toJSON() : {code: 'INTERNAL', message: error instanceof Error ? error.message : String(error)}
      stdoutJson({error: detail})
    }

    return exitCodeFor(error)
  }
}

/** The bundle's start: arguments, environment and output from the host it runs on. */
export function start(): void {
  const runtimeHost = host()
  const write = (fd: 1 | 2) => ({write: (text: string) => runtimeHost.write(fd, text)})
  void main(runtimeHost.args(), {env: runtimeHost.env(), stderr: write(2), stdout: write(1)}).then(
    (code) => runtimeHost.exit(code),
    (error: unknown) => {
      runtimeHost.write(2, `${errorLine(error)}\n`)
      runtimeHost.exit(ExitCode.Internal)
    },
  )
}
