/**
 * Chains: ordered sources, the first usable value wins. Every value is normalised, checked against
 * the placeholder rules, transformed and checked as a serial; anything that fails moves the chain
 * on, and when nothing is left the error lists every source tried and why it was refused.
 */
import {UserError} from '../errors.js'
import type {CreateSetting} from './sources/definition.js'
import {matchGlob} from './glob.js'
import {checkOptions, closest, type ConfigPlace, configError, type DataPath} from './config/options.js'
import {refusalOf} from './placeholders.js'
import {BUILTIN_SOURCES, sourceDefinition} from './sources/registry.js'
import type {SerialSource, SnapInterface, SourceContext, SourceReading, UnavailableStatus, ValueFormat} from './sources/source.js'
import {unavailable} from './sources/source.js'
import {applyTransforms, DEFAULT_SERIAL_PATTERN, normalise, type NormaliseOptions, serialPattern, serialProblem, type TransformSpec} from './transforms.js'

/** Apply an entry only on some boards, by device-tree compatible globs. */
export interface WhenSpec {
  /** Only when one of the board's compatibles matches one of these. */
  compatible?: readonly string[]
  /** Not when one of the board's compatibles matches one of these. */
  notCompatible?: readonly string[]
}

/** One step of a chain, as written in a board profile or configuration file. */
export interface ChainEntrySpec {
  /** A built-in source id (`devicetree-serial`, `dmi`, …) or `module` for a plugin. */
  source?: string
  options?: Readonly<Record<string, unknown>>
  /** Several sources joined into one value; all must be usable. */
  join?: readonly ChainEntrySpec[]
  /** Between joined values (default "-"). */
  separator?: string
  /** Label in --explain and errors; default `id` or `id[primary option]`. */
  name?: string
  when?: WhenSpec
  /** How this entry's value is normalised before it is checked (default: the chain's). */
  normalise?: NormaliseOptions
  /** Applied to this entry's value, before the chain's transforms. */
  transforms?: readonly TransformSpec[]
}

/** A chain as data. */
export interface ChainSpec {
  chain: readonly ChainEntrySpec[]
  normalise?: NormaliseOptions
  /** Applied to whichever value wins. */
  transforms?: readonly TransformSpec[]
  /** Widen (or narrow) what a serial may look like; `/`, whitespace, quotes, controls stay forbidden. */
  output?: {pattern?: string}
  /**
   * A source that exists but cannot be read (EACCES/EPERM) is a missing interface or privilege:
   * `fail` (default) stops loudly instead of silently using a weaker source; `next` moves on.
   */
  onDenied?: 'fail' | 'next'
}

export interface ChainEntry {
  label: string
  /** The source with all its given options (`mac[interface=eth0,allowLocallyAdministered=true]`); absent for joins. */
  setting?: string
  /** The source id, or `join`. */
  sourceId: string
  source?: SerialSource
  parts?: readonly ChainEntry[]
  separator: string
  when?: WhenSpec
  normalise?: NormaliseOptions
  transforms: readonly TransformSpec[]
  plugs: readonly SnapInterface[]
}

/** A chain ready to run. */
export interface SerialChain {
  /** The board id, or a name for a custom chain. */
  name: string
  entries: readonly ChainEntry[]
  normalise: NormaliseOptions
  transforms: readonly TransformSpec[]
  pattern: RegExp
  onDenied: 'fail' | 'next'
  /** Every interface the hook needs so that any source of the chain can be read. */
  plugs: readonly SnapInterface[]
}

export type AttemptVerdict = 'refused' | 'skipped' | 'used' | UnavailableStatus

/** What happened to one entry of a chain. */
export interface SourceAttempt {
  entry: string
  source: string
  verdict: AttemptVerdict
  reason?: string
  /** The path or command read. */
  origin?: string
  /** What the source read, before normalisation. */
  read?: string
  /** The candidate serial (after transforms) when one was produced. */
  value?: string
  notes?: readonly string[]
  plugs: readonly SnapInterface[]
}

export interface ChainOutcome {
  chain: string
  serial?: string
  winner?: SourceAttempt
  attempts: SourceAttempt[]
  /** The denied source that stopped the chain (onDenied: fail). */
  stoppedBy?: SourceAttempt
}

export interface SerialDerivation {
  serial: string
  chain: string
  /** The entry that produced the serial, e.g. `dmi[board_serial]`. */
  entry: string
  source: string
  origin?: string
  /** Interfaces the prepare-device hook needs for this chain. */
  plugs: readonly SnapInterface[]
  attempts: SourceAttempt[]
}

export interface RunOptions {
  /** Give up on a source that has not answered after this long (default 5000 ms). */
  sourceTimeoutMs?: number
}

interface ResolveOptions {
  name: string
  place?: ConfigPlace
  /** Where `spec` sits in its document (for located errors). */
  path?: DataPath
}

/** Turns a chain spec into sources; option mistakes become located configuration errors. */
export async function resolveChain(spec: ChainSpec, options: ResolveOptions): Promise<SerialChain> {
  const place = options.place ?? {}
  const path = options.path ?? []
  if (spec.chain.length === 0) {
    throw configError(place, [...path, 'chain'], 'the chain is empty', 'list at least one source, e.g. chain: [{source: devicetree-serial}]')
  }

  const entries = await Promise.all(spec.chain.map((entry, i) => resolveEntry(entry, place, [...path, 'chain', i])))
  let pattern = DEFAULT_SERIAL_PATTERN
  if (spec.output?.pattern !== undefined) {
    try {
      pattern = serialPattern(spec.output.pattern)
    } catch (error) {
      throw configError(place, [...path, 'output', 'pattern'], `not a valid regular expression: ${(error as Error).message}`, 'write a JavaScript regular expression without the surrounding slashes')
    }
  }

  return {
    entries,
    name: options.name,
    normalise: spec.normalise ?? {},
    onDenied: spec.onDenied ?? 'fail',
    pattern,
    plugs: unique(entries.flatMap((e) => e.plugs)),
    transforms: spec.transforms ?? [],
  }
}

async function resolveEntry(spec: ChainEntrySpec, place: ConfigPlace, path: DataPath): Promise<ChainEntry> {
  const common = {normalise: spec.normalise, separator: spec.separator ?? '-', transforms: spec.transforms ?? [], when: spec.when}
  if (spec.join) {
    if (spec.join.length < 2) throw configError(place, [...path, 'join'], 'join needs at least two sources', 'list the sources to join, or use source: directly')
    const parts = await Promise.all(spec.join.map((part, i) => resolveEntry(part, place, [...path, 'join', i])))
    const label = spec.name ?? `join(${parts.map((p) => p.label).join('+')})`
    return {...common, label, parts, plugs: unique(parts.flatMap((p) => p.plugs)), sourceId: 'join'}
  }

  const id = spec.source ?? ''
  const definition = sourceDefinition(id)
  if (!definition) {
    const guess = closest(id, BUILTIN_SOURCES.keys())
    throw configError(
      place,
      [...path, 'source'],
      `unknown serial source "${id}"`,
      guess ? `did you mean "${guess}"?` : `built-in sources: ${[...BUILTIN_SOURCES.keys()].join(', ')}; a vendor's own source is a module (source: module)`,
    )
  }

  const options = checkOptions<Record<string, unknown>>(id, spec.options, definition.options, place, [...path, 'options'])
  const setting: CreateSetting = {path, place}
  const source = await definition.create(options, setting)
  const primary = definition.primary === undefined ? undefined : spec.options?.[definition.primary]
  const label = spec.name ?? (id === 'module' ? source.id : primary === undefined ? id : `${id}[${Array.isArray(primary) ? primary.join(',') : String(primary)}]`)
  return {...common, label, plugs: source.plugs, setting: entrySetting(id, definition.primary, spec.options), source, sourceId: id}
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)]
}

type Candidate = {attempt: SourceAttempt; format: ValueFormat; ok: true; value: string} | {attempt: SourceAttempt; ok: false}

/** Runs the chain; never throws for a source's sake (see {@link deriveFromChain} for that). */
export async function runChain(chain: SerialChain, context: SourceContext, options: RunOptions = {}): Promise<ChainOutcome> {
  const timeoutMs = options.sourceTimeoutMs ?? 5000
  const attempts: SourceAttempt[] = []
  for (const entry of chain.entries) {
    const candidate = await evaluate(entry, chain, context, timeoutMs)
    const {attempt} = candidate
    attempts.push(attempt)
    if (!candidate.ok) {
      if (attempt.verdict === 'denied' && chain.onDenied === 'fail') return {attempts, chain: chain.name, stoppedBy: attempt}
      continue
    }

    const transformed = applyTransforms(candidate.value, chain.transforms, {brand: context.brand, format: candidate.format})
    if (!transformed.ok) {
      Object.assign(attempt, {reason: `the serial would be ${transformed.reason}`, verdict: 'refused'})
      continue
    }

    attempt.value = transformed.value
    const problem = serialProblem(transformed.value, chain.pattern)
    if (problem) {
      Object.assign(attempt, {reason: `the serial ${JSON.stringify(transformed.value)} ${problem}`, verdict: 'refused'})
      continue
    }

    attempt.verdict = 'used'
    return {attempts, chain: chain.name, serial: transformed.value, winner: attempt}
  }

  return {attempts, chain: chain.name}
}

/**
 * An entry with every option it was given, in the --chain syntax: `id`, `id[value]` when only
 * the main option is set, else `id[key=value,...]`. Labels stay short; reports carry this too, so
 * that no setting is lost from them.
 */
function entrySetting(id: string, primary: string | undefined, options: Readonly<Record<string, unknown>> | undefined): string {
  const given = Object.entries(options ?? {}).filter(([, value]) => value !== undefined)
  if (given.length === 0) return id
  const text = (value: unknown) => (Array.isArray(value) ? value.join(',') : String(value))
  if (given.length === 1 && given[0][0] === primary) return `${id}[${text(given[0][1])}]`
  return `${id}[${given.map(([key, value]) => `${key}=${text(value)}`).join(',')}]`
}

/** One entry: read (or join), normalise, refuse placeholders, apply the entry's transforms. */
async function evaluate(entry: ChainEntry, chain: SerialChain, context: SourceContext, timeoutMs: number): Promise<Candidate> {
  const attempt: SourceAttempt = {entry: entry.label, plugs: entry.plugs, source: entry.sourceId, verdict: 'used'}
  const refuse = (verdict: AttemptVerdict, reason: string): Candidate => {
    Object.assign(attempt, {reason, verdict})
    return {attempt, ok: false}
  }

  if (entry.when) {
    const compatible = await context.compatible()
    const matches = (globs: readonly string[]) => compatible.some((c) => globs.some((g) => matchGlob(c, g)))
    const {compatible: only, notCompatible: not} = entry.when
    if ((only && !matches(only)) || (not && matches(not))) {
      const rule = [only && `only for ${only.join(', ')}`, not && `not for ${not.join(', ')}`].filter(Boolean).join(', ')
      return refuse('skipped', `${rule}; this board is ${compatible.length > 0 ? compatible.join(', ') : 'not described by a device tree'}`)
    }
  }

  let value: string
  let format: ValueFormat
  if (entry.parts) {
    const values: string[] = []
    for (const part of entry.parts) {
      const result = await evaluate(part, chain, context, timeoutMs)
      if (!result.ok) return refuse(result.attempt.verdict, `${part.label}: ${result.attempt.reason}`)
      values.push(result.value)
    }

    value = values.join(entry.separator)
    format = 'text'
    attempt.read = value
  } else {
    const reading = await readWithTimeout(entry.source!, context, timeoutMs)
    if (reading.origin !== undefined) attempt.origin = reading.origin
    if (!reading.ok) {
      if (reading.read !== undefined) attempt.read = reading.read
      return refuse(reading.status, reading.reason)
    }

    attempt.read = reading.value
    if (reading.notes) attempt.notes = reading.notes
    format = reading.format
    const options = entry.normalise ?? chain.normalise
    value = normalise(reading.value, format, options)
    for (const part of [value, ...(reading.parts ?? []).map((p) => normalise(p, format, options))]) {
      const refusal = refusalOf(part, format)
      if (refusal) return refuse('refused', refusal.reason)
    }
  }

  const transformed = applyTransforms(value, entry.transforms, {brand: context.brand, format})
  if (!transformed.ok) return refuse('refused', `the value would be ${transformed.reason}`)
  return {attempt, format, ok: true, value: transformed.value}
}

async function readWithTimeout(source: SerialSource, context: SourceContext, timeoutMs: number): Promise<SourceReading> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<SourceReading>((done) => {
    timer = setTimeout(() => done(unavailable('timeout', `${source.id} did not answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([
      // Through a promise so that a plugin whose read() throws synchronously is caught too.
      Promise.resolve()
        .then(() => source.read(context))
        .catch((error: unknown) => unavailable('error', `${source.id} failed: ${(error as Error)?.message ?? String(error)}`)),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** The serial, or a UserError listing every source tried and why it was refused. */
export async function deriveFromChain(chain: SerialChain, context: SourceContext, options: RunOptions = {}): Promise<SerialDerivation> {
  const outcome = await runChain(chain, context, options)
  if (outcome.serial !== undefined && outcome.winner) {
    const derivation: SerialDerivation = {
      attempts: outcome.attempts,
      chain: chain.name,
      entry: outcome.winner.entry,
      plugs: chain.plugs,
      serial: outcome.serial,
      source: outcome.winner.source,
    }
    if (outcome.winner.origin !== undefined) derivation.origin = outcome.winner.origin
    return derivation
  }

  throw chainFailure(outcome, chain)
}

/** The error for a chain that produced nothing. */
function chainFailure(outcome: ChainOutcome, chain: Pick<SerialChain, 'name' | 'plugs'>): UserError {
  const details = {attempts: outcome.attempts, chain: outcome.chain, plugs: chain.plugs}
  if (outcome.stoppedBy) {
    const denied = outcome.stoppedBy
    const plugs = denied.plugs.length > 0 ? denied.plugs.join(' and ') : 'the interface it needs'
    return new UserError('E_SERIAL_DENIED', `cannot read ${denied.entry} (${denied.origin ?? denied.source}): permission denied; not falling back to a weaker source\n${describeAttempts(outcome.attempts)}`, {
      details,
      hint: `connect ${plugs} to the gadget (gadget.yaml connections) and run the hook as root; onDenied: next in the configuration falls through instead`,
      kind: 'failed',
    })
  }

  return new UserError('E_SERIAL_NONE', `no usable serial: none of the ${outcome.attempts.length} source(s) of chain ${outcome.chain} gave one\n${describeAttempts(outcome.attempts)}`, {
    details,
    hint: 'run `snap-gadget probe` to see the identity sources this hardware has, then pick a chain with --board, --chain or --config',
    kind: 'failed',
  })
}

/** One line per attempt: `  dmi[board_serial]: absent: no DMI …` */
function describeAttempts(attempts: readonly SourceAttempt[]): string {
  return attempts.map((a) => `  ${a.entry}: ${a.verdict}${a.reason ? `: ${a.reason}` : ''}`).join('\n')
}
