/**
 * The CLI's launcher: bin/run.js runs it from a CommonJS bundle (dist/fast/launch.cjs).
 *
 * Loading @oclif/core costs about as much as starting node itself, and `validate` is run on every
 * CI push and by editors on every save. So a command may declare `static fastEntry = '<name>'`: a
 * single-file bundle, dist/fast/<name>.cjs, that runs the command without oclif. The launcher reads
 * the command's flags from oclif.manifest.json's entry (the same data oclif uses; the build copies
 * the fast commands' entries to dist/fast/commands.json), parses argv itself (parseFlags), and
 * takes it only when every token is one it fully understands; help, unknown flags, bad values and
 * anything unusual fall through to oclif, so every error and help text still comes from oclif.
 *
 * Fast entries are CommonJS bundles compiled with V8's code cache (dist/fast/<name>.cache, made
 * at build time by running the entry once), so the second start on a machine skips parsing and
 * compiling the bundle. A cache V8 does not accept (another Node) is ignored.
 *
 * This module must stay free of dependencies: it is on the start-up path of every command.
 */
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {Script} from 'node:vm'

import type {OutputSink} from '../../support/descriptor-sink.js'

/** The subset of a manifest flag the fast parser needs. */
interface ManifestFlag {
  allowNo?: boolean
  char?: string
  default?: unknown
  multiple?: boolean
  name: string
  options?: string[]
  required?: boolean
  type: 'boolean' | 'option'
}

interface ManifestCommand {
  args: Record<string, {name: string}>
  fastEntry?: string
  flags: Record<string, ManifestFlag>
  strict?: boolean
}

/** What a fast entry receives: the same shape oclif's parser returns. */
export interface FastInput {
  /** Positional arguments, in order. */
  argv: string[]
  flags: Record<string, unknown>
}

/** Where a fast entry writes; the build's warm-up run writes nowhere. */
export interface FastIo {
  stdout: OutputSink
  stderr: OutputSink
}

type FastMain = (input: FastInput, io?: FastIo) => Promise<number>

/** A fast entry's own judgement of values the manifest cannot describe (an integer's bounds): false leaves the run to oclif. */
export type FastAccepts = (input: FastInput) => boolean

/** Runs the CLI for the package in `root`: through a fast entry when one takes argv, else oclif. */
export async function launch(argv: string[], root: string): Promise<void> {
  const fast = planFastRun(argv, root)
  if (fast) {
    const entry = loadFastEntry(root, fast.entry)
    if (!entry.accepts || entry.accepts(fast.input)) {
      const code = await entry.main(fast.input)
      // A fast entry's output is written synchronously, and it leaves nothing running: exit now
      // rather than after Node has torn the heap down piece by piece (6–10 ms of a 130 ms layout).
      process.exit(code)
    }
  }

  const {execute} = await import('@oclif/core')
  // The package root, not bin/run.js: oclif would take bin/package.json for the package's own.
  await execute({dir: root})
}

/** A fast entry's file is one function of CommonJS's module parameters, which the launcher calls. */
export const FAST_ENTRY_PARAMETERS = ['exports', 'require', 'module', '__filename', '__dirname'] as const

/** Loads dist/fast/<name>.cjs through V8's code cache. */
export function loadFastEntry(root: string, name: string): {accepts?: FastAccepts; main: FastMain; script: Script} {
  const file = join(root, 'dist', 'fast', `${name}.cjs`)
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(join(root, 'dist', 'fast', `${name}.cache`))
  } catch {}

  // The build stores the bundle wrapped in its function (scripts/build.mjs): compiled as read.
  const script = new Script(readFileSync(file, 'utf8'), {cachedData, filename: file})
  const module = {exports: {} as {accepts?: FastAccepts; main: FastMain}}
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file))
  return {accepts: module.exports.accepts, main: module.exports.main, script}
}

/**
 * Build step: runs a fast entry once on `input` (output discarded) so the functions it needs are
 * compiled, then saves V8's code cache next to it.
 */
export async function warmFastEntry(root: string, name: string, inputs: FastInput[]): Promise<void> {
  const {main, script} = loadFastEntry(root, name)
  const sink = {write: () => true} as unknown as NodeJS.WritableStream
  for (const input of inputs) await main(input, {stderr: sink, stdout: sink})
  writeFileSync(join(root, 'dist', 'fast', `${name}.cache`), script.createCachedData())
}

/**
 * Decides whether argv can run through a fast entry, and parses it if so. Returns undefined
 * whenever oclif should handle the invocation.
 */
export function planFastRun(argv: string[], root: string): undefined | {entry: string; input: FastInput} {
  const [id, ...rest] = argv
  if (!id || id.startsWith('-') || process.env.SNAP_GADGET_CONTENT_TYPE) return undefined
  let command: ManifestCommand | undefined
  try {
    // The build's extract of oclif.manifest.json: the commands with a fast entry (scripts/build.mjs).
    const manifest = JSON.parse(readFileSync(join(root, 'dist', 'fast', 'commands.json'), 'utf8')) as {
      commands: Record<string, ManifestCommand>
    }
    command = manifest.commands[id]
  } catch {
    return undefined
  }

  if (!command?.fastEntry || !existsSync(join(root, 'dist', 'fast', `${command.fastEntry}.cjs`))) return undefined
  const input = parseFlags(rest, command)
  return input && {entry: command.fastEntry, input}
}

/**
 * argv parsed against the command's manifest entry (the flags oclif itself parses). Only the forms
 * oclif documents are taken: `--name value`, `--name=value`, `-c value`, `--flag`, `--no-flag`, `--`
 * and a lone `-` as a path. undefined means "let oclif parse": help, unknown flags, bad or repeated
 * values, a short flag with its value attached, and anything else oclif words an error or help
 * text for. Not node:util's parseArgs: loading it cost every fast start 1.6–2 ms.
 */
export function parseFlags(tokens: string[], command: ManifestCommand): FastInput | undefined {
  const flagsByName = new Map<string, ManifestFlag>()
  const flagsByChar = new Map<string, ManifestFlag>()
  for (const flag of Object.values(command.flags)) {
    flagsByName.set(flag.name, flag)
    if (flag.char) flagsByChar.set(flag.char, flag)
  }

  if (flagsByName.has('help') || flagsByName.has('version')) return undefined
  const flags: Record<string, unknown> = {}
  const positionals: string[] = []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (token === '--') {
      positionals.push(...tokens.slice(i + 1))
      break
    }

    if (token === '-' || !token.startsWith('-')) {
      positionals.push(token)
      continue
    }

    const long = token.startsWith('--')
    // A short flag is exactly "-c": "-fjson" and grouped short flags are oclif's.
    if (!long && token.length !== 2) return undefined
    const equals = long ? token.indexOf('=') : -1
    const name = equals === -1 ? token.slice(long ? 2 : 1) : token.slice(2, equals)
    // --no-<name> of a boolean that allows it; a flag may itself be named no-… (init's --no-api-key).
    let flag = long ? flagsByName.get(name) : flagsByChar.get(name)
    let negated = false
    if (!flag && long && name.startsWith('no-')) {
      const negatable = flagsByName.get(name.slice(3))
      if (negatable?.type === 'boolean' && negatable.allowNo) [flag, negated] = [negatable, true]
    }

    if (!flag || (flag.name in flags && !flag.multiple)) return undefined
    if (flag.type === 'boolean') {
      if (equals !== -1) return undefined
      flags[flag.name] = !negated
      continue
    }

    let value: string
    if (equals === -1) {
      // A value in the next token that looks like a flag (or is "-"), or none, is oclif's to judge.
      if (i + 1 >= tokens.length || tokens[i + 1].startsWith('-')) return undefined
      value = tokens[++i]
    } else {
      value = token.slice(equals + 1)
    }

    if (flag.options && !flag.options.includes(value)) return undefined
    flags[flag.name] = flag.multiple ? [...((flags[flag.name] as string[] | undefined) ?? []), value] : value
  }

  for (const flag of flagsByName.values()) {
    if (flag.name in flags) continue
    if (flag.required) return undefined
    if (flag.default !== undefined) flags[flag.name] = flag.default
  }

  const declared = Object.keys(command.args).length
  if (command.strict !== false && positionals.length > declared) return undefined
  return {argv: positionals, flags}
}
