/**
 * The CLI's launcher: bin/run.js runs it from a CommonJS bundle (dist/fast/launch.cjs).
 *
 * Loading @oclif/core costs about as much as starting node itself, and `validate` is run on every
 * CI push and by editors on every save. So a command may declare `static fastEntry = '<name>'`: a
 * single-file bundle, dist/fast/<name>.cjs, that runs the command without oclif. The launcher reads
 * the command's flags from oclif.manifest.json's entry (the same data oclif uses; the build copies
 * the fast commands' entries to dist/fast/commands.json), parses argv with
 * node:util's parseArgs, and takes it only when every token is one it fully understands; help,
 * unknown flags, bad values and anything unusual fall through to oclif, so every error and help
 * text still comes from oclif.
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
import {parseArgs, type ParseArgsConfig} from 'node:util'
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
 * argv parsed with node:util's parseArgs, its options derived from the command's manifest entry
 * (the flags oclif itself parses). Only the forms oclif documents are taken; undefined means
 * "let oclif parse": help, unknown flags, bad or repeated values, a short flag with its value
 * attached, and anything else oclif words an error or help text for.
 */
export function parseFlags(tokens: string[], command: ManifestCommand): FastInput | undefined {
  const flagsByName = new Map(Object.values(command.flags).map((flag) => [flag.name, flag]))
  if (flagsByName.has('help') || flagsByName.has('version')) return undefined
  const options: NonNullable<ParseArgsConfig['options']> = {}
  // --no-<name> of a boolean that allows it, as an option of its own: a command may also have a
  // flag whose name starts with "no-" (init's --no-api-key), which parseArgs' allowNegative would misread.
  const negations = new Map<string, ManifestFlag>()
  for (const flag of flagsByName.values()) {
    options[flag.name] = {multiple: Boolean(flag.multiple), type: flag.type === 'boolean' ? 'boolean' : 'string', ...(flag.char ? {short: flag.char} : {})}
    if (flag.type === 'boolean' && flag.allowNo && !flagsByName.has(`no-${flag.name}`)) {
      options[`no-${flag.name}`] = {type: 'boolean'}
      negations.set(`no-${flag.name}`, flag)
    }
  }

  const config = {allowPositionals: true, args: tokens, options, strict: true, tokens: true} as const
  let parsed: ReturnType<typeof parseArgs<typeof config>>
  try {
    parsed = parseArgs(config)
  } catch {
    return undefined
  }

  const flags: Record<string, unknown> = {}
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue
    const negated = negations.get(token.name)
    const flag = negated ?? flagsByName.get(token.name)!
    // parseArgs also takes "-fjson" and grouped short flags.
    if (token.rawName.length === 2 && tokens[token.index].length !== 2) return undefined
    if (flag.name in flags && !flag.multiple) return undefined
    if (token.value === undefined) {
      flags[flag.name] = !negated
      continue
    }

    // A value in the next token that looks like a flag (or is "-") is oclif's to judge.
    if (token.inlineValue === false && token.value.startsWith('-')) return undefined
    if (flag.options && !flag.options.includes(token.value)) return undefined
    flags[flag.name] = flag.multiple ? [...((flags[flag.name] as string[] | undefined) ?? []), token.value] : token.value
  }

  for (const flag of flagsByName.values()) {
    if (flag.name in flags) continue
    if (flag.required) return undefined
    if (flag.default !== undefined) flags[flag.name] = flag.default
  }

  const declared = Object.keys(command.args).length
  if (command.strict !== false && parsed.positionals.length > declared) return undefined
  return {argv: parsed.positionals, flags}
}
