/**
 * The on-device prepare-device runtime, run by the gadget's hook. esbuild bundles this entry into
 * one CommonJS file (dist/runtime/prepare-device.cjs) for Node 18 and later, with no oclif, no YAML
 * library and no native code, so it starts fast on the device's own Node; the .cjs name makes any
 * Node read it as CommonJS, inside or outside an ESM package.
 *
 *     node prepare-device.cjs [--config FILE] [--root DIR] [--dry-run] [--json]
 *
 * The bundle is this module wrapped in a small loader (loader.cjs) that compiles it with V8's code
 * cache when the gadget ships one made by its own Node (prepare-device.code-cache, written at
 * gadget build time by `--write-code-cache`), and calls start() with what it knows of the cache.
 *
 * Exit 0: snapd has the registration options. Anything else: one line on stderr saying why; snapd
 * discards the options of the failed run and runs the hook again with back-off.
 */
import {ExitCode, exitCodeFor, InternalError, UserError} from '../errors.js'
import {describePreparation, prepareDevice} from '../device/prepare.js'
import type {SnapctlRunner} from '../device/snapctl.js'
import {descriptorSink} from '../util/descriptor-sink.js'
import {builtinBoards} from './boards.js'
import {warmUp} from './warm-up.js'

declare const SNAP_GADGET_VERSION: string | undefined

const USAGE = `usage: prepare-device [--config FILE] [--root DIR] [--dry-run] [--json]
       prepare-device --write-code-cache [--config FILE]
       prepare-device --code-cache-status

Derives the device serial, builds the registration body and hands both to snapd with snapctl.
  --config FILE         registration config (default: $SNAP/registration.json)
  --root DIR            read the hardware under DIR instead of / (a captured tree)
  --dry-run             print the snapctl calls instead of making them
  --json                print the result (or the error) as JSON
  --write-code-cache    at gadget build time, with the Node the gadget ships: run the runtime on
                        sample hardware (and on --config, if given) in a scratch directory, then
                        save V8's code cache beside this file, so the hook starts without
                        compiling it
  --code-cache-status   print whether this Node accepted the code cache (accepted, rejected, absent)
`

interface RuntimeArgs {
  codeCacheStatus: boolean
  config?: string
  dryRun: boolean
  help: boolean
  json: boolean
  root?: string
  version: boolean
  writeCodeCache: boolean
}

export interface RuntimeIo {
  stdout: {write(text: string): unknown}
  stderr: {write(text: string): unknown}
  env: NodeJS.ProcessEnv
  /** How snapctl is run (default: spawned from PATH); the warm-up answers it itself. */
  snapctl?: SnapctlRunner
}

/** What the bundle's loader (loader.cjs) tells the runtime about V8's code cache. */
export interface RuntimeHost {
  /** Whether V8 took the cache beside the bundle: made by another Node, it is rejected. */
  codeCache: 'absent' | 'accepted' | 'rejected'
  /** Saves V8's code cache of the bundle, with every function compiled so far; returns the file. */
  saveCodeCache(): string
}

function parseArgs(argv: readonly string[]): RuntimeArgs {
  const args: RuntimeArgs = {codeCacheStatus: false, dryRun: false, help: false, json: false, version: false, writeCodeCache: false}
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
    else if (arg === '--write-code-cache') args.writeCodeCache = true
    else if (arg === '--code-cache-status') args.codeCacheStatus = true
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
export async function main(argv: readonly string[], io: RuntimeIo, host?: RuntimeHost): Promise<number> {
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

    if (args.codeCacheStatus) {
      io.stdout.write(`${host?.codeCache ?? 'absent'}\n`)
      return ExitCode.Ok
    }

    if (args.writeCodeCache) return await writeCodeCache(args, io, host)

    const result = await prepareDevice({boards: builtinBoards, config: args.config, dryRun: args.dryRun, env: io.env, root: args.root, snapctl: io.snapctl})
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

async function writeCodeCache(args: RuntimeArgs, io: RuntimeIo, host: RuntimeHost | undefined): Promise<number> {
  if (!host) throw new InternalError('--write-code-cache needs the bundle (dist/runtime/prepare-device.cjs), which compiles the runtime itself')
  if (args.dryRun || args.json || args.root !== undefined) throw usage('--write-code-cache takes only --config')
  const warm = await warmUp((argv, env, snapctl) => main(argv, {env, snapctl, stderr: sink, stdout: sink}), args.config)
  const file = host.saveCodeCache()
  io.stdout.write(`prepare-device: wrote ${file} after ${warm.runs} warm-up runs${warm.configFailure ? `; the runs of --config failed (${warm.configFailure}), so fewer of its paths are compiled` : ''}\n`)
  return ExitCode.Ok
}

const sink = {write: () => true}

/** Called by the bundle's loader. */
export function start(host: RuntimeHost): void {
  void main(process.argv.slice(2), {env: process.env, stderr: descriptorSink(2), stdout: descriptorSink(1)}, host).then((code) => {
    process.exitCode = code
  })
}
