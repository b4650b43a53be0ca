/**
 * The on-device prepare-device runtime, run by the gadget's hook. esbuild bundles this entry into
 * one CommonJS file (dist/runtime/prepare-device.cjs) for Node 18 and later, with no oclif, no YAML
 * library and no native code, so it starts fast on the device's own Node; the .cjs name makes any
 * Node read it as CommonJS, inside or outside an ESM package.
 *
 *     node prepare-device.cjs [--config FILE] [--root DIR] [--dry-run] [--json]
 *
 * Exit 0: snapd has the registration options. Anything else: one line on stderr saying why; snapd
 * discards the options of the failed run and runs the hook again with back-off.
 */
import {ExitCode, exitCodeFor, InternalError, UserError} from '../errors.js'
import {describePreparation, prepareDevice} from '../registration/prepare.js'
import {builtinBoards} from './boards.js'

declare const SNAP_GADGET_VERSION: string | undefined

const USAGE = `usage: prepare-device [--config FILE] [--root DIR] [--dry-run] [--json]

Derives the device serial, builds the registration body and hands both to snapd with snapctl.
  --config FILE  registration config (default: $SNAP/registration.json)
  --root DIR     read the hardware under DIR instead of / (a captured tree)
  --dry-run      print the snapctl calls instead of making them
  --json         print the result (or the error) as JSON
`

interface RuntimeArgs {
  config?: string
  dryRun: boolean
  help: boolean
  json: boolean
  root?: string
  version: boolean
}

export interface RuntimeIo {
  stdout: {write(text: string): unknown}
  stderr: {write(text: string): unknown}
  env: NodeJS.ProcessEnv
}

function parseArgs(argv: readonly string[]): RuntimeArgs {
  const args: RuntimeArgs = {dryRun: false, help: false, json: false, version: false}
  for (let i = 0; i < argv.length; i++) {
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

  return args
}

function usage(message: string): UserError {
  return new UserError('E_USAGE', message, {hint: 'see prepare-device --help', kind: 'usage'})
}

/** The error as one line: snapd shows the hook's output in `snap change`, and logs keep lines. */
export function oneLine(error: unknown): string {
  let text: string
  if (error instanceof UserError) text = `${error.located}${error.hint ? ` (fix: ${error.hint})` : ''}`
  else if (error instanceof InternalError) text = `internal error: ${error.message}`
  else text = `internal error: ${error instanceof Error ? error.message : String(error)}`
  return `prepare-device: ${text.replace(/\s*[\n\r\u2028\u2029]+\s*/g, '; ')}`
}

/** Runs the runtime; returns the exit code. */
export async function main(argv: readonly string[], io: RuntimeIo): Promise<number> {
  let json = argv.includes('--json')
  try {
    const args = parseArgs(argv)
    json = args.json
    if (args.help) {
      io.stdout.write(USAGE)
      return ExitCode.Ok
    }

    if (args.version) {
      io.stdout.write(`${typeof SNAP_GADGET_VERSION === 'string' ? SNAP_GADGET_VERSION : 'development'}\n`)
      return ExitCode.Ok
    }

    const result = await prepareDevice({boards: builtinBoards, config: args.config, dryRun: args.dryRun, env: io.env, root: args.root})
    if (json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    else if (args.dryRun) io.stdout.write(result.calls.map((call) => `${call.toString()}\n`).join(''))
    else io.stdout.write(`prepare-device: ${describePreparation(result)}\n`)
    return ExitCode.Ok
  } catch (error) {
    io.stderr.write(`${oneLine(error)}\n`)
    if (json) {
      const detail = error instanceof UserError ? error.toJSON() : {code: 'INTERNAL', message: error instanceof Error ? error.message : String(error)}
      io.stdout.write(`${JSON.stringify({error: detail}, null, 2)}\n`)
    }

    return exitCodeFor(error)
  }
}

// No top-level await: the bundle is CommonJS.
void main(process.argv.slice(2), {env: process.env, stderr: process.stderr, stdout: process.stdout}).then((code) => {
  process.exitCode = code
})
