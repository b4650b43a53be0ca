/**
 * The CLI's launcher: bin/run.js runs it from a CommonJS bundle (dist/fast/launch.cjs).
 *
 * Loading @oclif/core costs about as much as starting node itself, and `validate` is run on every
 * CI push and by editors on every save. So a command may declare `static fastEntry = '<name>'`: a
 * single-file bundle, dist/fast/<name>.js, that runs the command without oclif. The launcher reads
 * the command's flags from oclif.manifest.json (the same data oclif uses) and parses argv itself
 * only when every token is one it fully understands; help, unknown flags, bad values and anything
 * unusual fall through to oclif, so every error and help text still comes from oclif.
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

import type {OutputSink} from '../../util/descriptor-sink.js'

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

export type FastMain = (input: FastInput, io?: FastIo) => Promise<number>

/** Runs the CLI for the package in `root`: through a fast entry when one takes argv, else oclif. */
export async function launch(argv: string[], root: string): Promise<void> {
  const fast = planFastRun(argv, root)
  if (fast) {
    process.exitCode = await loadFastEntry(root, fast.entry).main(fast.input)
    return
  }

  const {execute} = await import('@oclif/core')
  // The package root, not bin/run.js: oclif would take bin/package.json for the package's own.
  await execute({dir: root})
}

/** Loads dist/fast/<name>.cjs through V8's code cache. */
export function loadFastEntry(root: string, name: string): {main: FastMain; script: Script} {
  const file = join(root, 'dist', 'fast', `${name}.cjs`)
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(join(root, 'dist', 'fast', `${name}.cache`))
  } catch {}

  const source = readFileSync(file, 'utf8')
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {cachedData, filename: file})
  const module = {exports: {} as {main: FastMain}}
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file))
  return {main: module.exports.main, script}
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
    const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as {
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

/** A strict, small flag parser for the forms oclif documents; undefined means "let oclif parse". */
export function parseFlags(tokens: string[], command: ManifestCommand): FastInput | undefined {
  const byName = new Map<string, ManifestFlag>()
  const byChar = new Map<string, ManifestFlag>()
  for (const flag of Object.values(command.flags)) {
    byName.set(flag.name, flag)
    if (flag.char) byChar.set(flag.char, flag)
  }

  const flags: Record<string, unknown> = {}
  const positional: string[] = []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (token === '--') {
      positional.push(...tokens.slice(i + 1))
      break
    }

    if (!token.startsWith('-') || token === '-') {
      positional.push(token)
      continue
    }

    let flag: ManifestFlag | undefined
    let value: string | undefined
    let negated = false
    if (token.startsWith('--')) {
      const eq = token.indexOf('=')
      const name = eq === -1 ? token.slice(2) : token.slice(2, eq)
      if (eq !== -1) value = token.slice(eq + 1)
      flag = byName.get(name)
      if (!flag && name.startsWith('no-')) {
        flag = byName.get(name.slice(3))
        negated = Boolean(flag?.allowNo) && flag?.type === 'boolean'
        if (!negated) return undefined
      }
    } else {
      if (token.length !== 2) return undefined
      flag = byChar.get(token[1])
    }

    if (!flag || flag.name === 'help' || flag.name === 'version') return undefined
    if (flag.type === 'boolean') {
      if (value !== undefined || (flag.name in flags && !flag.multiple)) return undefined
      flags[flag.name] = !negated
      continue
    }

    if (value === undefined) {
      value = tokens[++i]
      if (value === undefined || value.startsWith('-')) return undefined
    }

    if (flag.options && !flag.options.includes(value)) return undefined
    if (flag.multiple) {
      const values = (flags[flag.name] as string[] | undefined) ?? []
      values.push(value)
      flags[flag.name] = values
    } else {
      if (flag.name in flags) return undefined
      flags[flag.name] = value
    }
  }

  for (const flag of byName.values()) {
    if (flag.name in flags) continue
    if (flag.required) return undefined
    if (flag.default !== undefined) flags[flag.name] = flag.default
  }

  const declared = Object.keys(command.args).length
  if (command.strict !== false && positional.length > declared) return undefined
  return {argv: positional, flags}
}
