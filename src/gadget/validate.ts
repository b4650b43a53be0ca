/**
 * validateGadget: judge one gadget.yaml as snapd would, plus lint. Returns data; never prints.
 */
import {basename, resolve} from 'node:path'

import {UserError} from '../errors.js'
import {readBoundedFile, readFileHead} from '../support/bounded-read.js'
import {compareFindings, type Finding} from './findings/finding.js'
import {Locator, type ParsedGadget, parseGadget} from './decode-gadget.js'
import {FileReport} from './findings/collector.js'
import {type ContentTree, directoryTree, placeholderTree} from './checks/content-tree.js'
import {lintGadget, type LintContext} from './checks/lint.js'
import {apiKeysInText, apiKeysInYaml, assumedSnapd, partOutputs, type ProjectText, registrationConfigFindings, runtimeModeFindings, serialRequestHookFindings} from './checks/project.js'
import {type ModelFacts, SnapdChecks} from './checks/snapd/index.js'
import type {VolumeRef} from './geometry/volumes.js'
import {atLeast, LATEST_SNAPD, OLDEST_SNAPD, snapdTarget, type SnapdTarget} from './snapd-version.js'
import {type GadgetLocation, locateGadget, MAX_GADGET_BYTES, readUserFile} from './inputs.js'

export interface ValidateOptions {
  /**
   * The snapd release to judge for: "2.57" … "latest". By default, for a project or a built snap,
   * the newest snapd its `assumes:` names (older ones refuse to install it), else the latest.
   */
  snapd?: string | SnapdTarget
  /** Make lint warnings errors. */
  strict?: boolean
  /** The model the gadget is for (grade, classic); enables the model rules. */
  model?: ModelFacts
  /** The gadget's files; by default content is assumed present (gadget.yaml judged alone). */
  tree?: ContentTree
  /** In a gadget project: the paths snapcraft.yaml's parts put into the snap (they need not exist yet). */
  partOutputs?: LintContext['partOutputs']
}

export interface GadgetSource {
  /** The name findings use for the file (a path, or "gadget.yaml"). */
  file: string
  /** The file's bytes or text. */
  content: string | Uint8Array
}

export interface GadgetValidation {
  file: string
  /** The snapd release judged for. */
  snapd: string
  /** What the user should know about how it was judged (a --snapd older than the snap's assumes). */
  notes?: string[]
  /** What snapd itself would say: valid, or its first error. */
  verdict: {error?: string; valid: boolean}
  findings: Finding[]
  /** Counts by severity, after --strict. */
  errors: number
  warnings: number
}

/** The result of validating one or more gadgets: what every output format renders. */
export interface ValidationReport {
  /** The snapd release judged for ("latest", "2.57", …). */
  snapd: string
  /** Whether lint warnings were raised to errors (--strict). */
  strict: boolean
  /** One entry per gadget checked. Findings may name other files of the gadget (snapcraft.yaml, hooks). */
  gadgets: GadgetValidation[]
  errors: number
  warnings: number
  /** Paths that could not be judged (missing, unreadable, not a regular file, too large): each is an error, and the run exits 2. */
  unreadable?: UnreadableInput[]
}

/** A path given to validate that could not be read; the others are still judged. */
export interface UnreadableInput {
  /** The path as given (or the file inside it that could not be read). */
  file: string
  /** The UserError code: E_IO_ENOENT, E_NOT_A_FILE, E_TOO_LARGE, E_NO_GADGET, … */
  code: string
  message: string
  hint?: string
}

/** Validates one gadget.yaml. `source` is its text or bytes, or a named source. */
export function validateGadget(source: GadgetSource | string | Uint8Array, options: ValidateOptions = {}): GadgetValidation {
  return judgeSource(typeof source === 'string' || source instanceof Uint8Array ? {content: source, file: 'gadget.yaml'} : source, options).validation
}

/** What judging one gadget.yaml made on the way: its parse and its volumes as snapd's parse step laid them out. */
interface Judged {
  validation: GadgetValidation
  parsed: ParsedGadget
  volumes: readonly VolumeRef[]
}

function judgeSource(src: GadgetSource, options: ValidateOptions): Judged {
  const target = typeof options.snapd === 'object' ? options.snapd : cachedTarget(options.snapd)
  const parsed = parseGadget(src.file, src.content, target)
  const loc = new Locator(parsed)
  const report = new FileReport(src.file, loc)
  // Judged alone, every content path counts as present.
  const tree = options.tree ?? placeholderTree(() => ({info: parsed.info}))
  const checks = new SnapdChecks({content: tree, loc, model: options.model, parsed, report, target})
  checks.run()
  lintGadget({checks, loc, parsed, partOutputs: options.partOutputs, report, target, tree})

  const findings = report.findings.map((f) => (options.strict && f.severity === 'warning' ? {...f, severity: 'error' as const} : f)).sort(compareFindings)
  const validation = {
    errors: findings.filter((f) => f.severity === 'error').length,
    file: src.file,
    findings,
    snapd: target.label,
    verdict: report.snapdError === undefined ? {valid: true} : {error: report.snapdError, valid: false},
    warnings: findings.filter((f) => f.severity === 'warning').length,
  }
  return {parsed, validation, volumes: checks.volumes}
}

const targets = new Map<string, SnapdTarget>()

function cachedTarget(label = 'latest'): SnapdTarget {
  let target = targets.get(label)
  if (!target) {
    target = snapdTarget(label)
    targets.set(label, target)
  }

  return target
}

export interface ValidatePathsOptions extends Omit<ValidateOptions, 'partOutputs' | 'tree'> {
  /** Where relative paths start, and what findings are shown relative to. */
  cwd?: string
  /** The bytes of standard input, for the path `-` (shown as <stdin>). */
  readStdin?: () => Uint8Array
}

export interface PathsValidation {
  report: ValidationReport
  /** The text of every file a finding points into, for code frames. */
  sources: Map<string, string>
}

/**
 * Validates gadget.yaml files, gadget project directories and built snap trees. A path that cannot
 * be read (missing, not a regular file, too large) does not stop the others: it is reported in
 * `report.unreadable` (the CLI exits 2). When no path at all can be read, the first such error is
 * thrown, since there is nothing to report.
 */
export function validatePaths(paths: string[], options: ValidatePathsOptions = {}): PathsValidation {
  // Each file's parse dies with its judging: kept for all files, the trees were copied by every
  // young-generation collection of a long run (a quarter of a 107-file run went to collecting).
  const {report, sources} = judgePaths(paths, options, false)
  return {report, sources}
}

/** A gadget validatePaths judged, with where it was found and what its judging parsed and laid out. */
export interface JudgedGadget extends Omit<Judged, 'validation'> {
  location: GadgetLocation
}

/**
 * validatePaths, also handing back each judged gadget's parse and volumes: `layout` draws what
 * validate judged without reading and decoding the file a second time.
 */
export function judgePaths(paths: string[], options: ValidatePathsOptions = {}, keepJudged = true): PathsValidation & {judged: JudgedGadget[]} {
  const target = typeof options.snapd === 'object' ? options.snapd : snapdTarget(options.snapd)
  const sources = new Map<string, string>()
  const gadgets: GadgetValidation[] = []
  const judged: JudgedGadget[] = []
  const unreadable: UnreadableInput[] = []
  const problems: UserError[] = []
  const readOrNote = <T>(read: () => T): T | undefined => {
    try {
      return read()
    } catch (error) {
      if (!(error instanceof UserError)) throw error
      problems.push(error)
      unreadable.push({code: error.code, file: error.file ?? '', message: error.message, ...(error.hint ? {hint: error.hint} : {})})
      return undefined
    }
  }

  for (const input of paths) {
    let gadgetTarget = target
    const notes: string[] = []
    const location = input === '-' ? stdinLocation(options) : readOrNote(() => locateGadget(input, options.cwd))
    const bytes = location && readOrNote(() => (input === '-' ? readStdinOrFail(options) : readUserFile(location.path, location.file)))
    if (!location || !bytes) continue
    sources.set(location.file, Buffer.from(bytes).toString('utf8'))
    const tree = location.root ? directoryTree(location.root, location.kind === 'snap' ? 'snap' : 'project') : undefined
    const extra: Finding[] = []
    const partOutputsFound: string[] = []
    const hookInputs = {hooks: new Map<string, ProjectText>(), registration: undefined as ProjectText | undefined, snapYaml: undefined as ProjectText | undefined}
    let runtime: ProjectText | undefined
    for (const file of location.extras) {
      if (file.runtime) {
        // Only its first line, which names the onboarding mode it was built for (N20); a runtime
        // that cannot be read is not validate's to report.
        const head = readFileHead(file.path, 200)?.toString('utf8') ?? ''
        runtime = {file: file.file, text: head.slice(0, Math.max(0, head.indexOf('\n')))}
        continue
      }

      const extraBytes = readOrNote(() => readBoundedFile(file.path, MAX_GADGET_BYTES, {shown: file.file, what: file.registration ? 'registration.json' : file.yaml ? 'snapcraft.yaml' : 'hook'}))
      if (!extraBytes) continue
      const text = extraBytes.toString('utf8')
      if (file.registration) hookInputs.registration = {file: file.file, text}
      else if (file.yaml) hookInputs.snapYaml = {file: file.file, text}
      else hookInputs.hooks.set(basename(file.path), {file: file.file, text})
      const found = file.registration ? registrationConfigFindings(file.file, text) : file.yaml ? apiKeysInYaml(file.file, text) : apiKeysInText(file.file, text)
      if (file.yaml && location.kind === 'project') partOutputsFound.push(...partOutputs(text))
      const assumed = file.yaml ? assumedSnapd(text) : undefined
      if (assumed) {
        const judged = targetForAssumes(assumed, options.snapd === undefined ? undefined : target, file.file)
        gadgetTarget = judged.target
        if (judged.note) notes.push(judged.note)
      }

      if (found.length > 0) sources.set(file.file, text)
      extra.push(...found.map((f) => (options.strict ? {...f, severity: 'error' as const} : f)))
    }

    const hookFindings = [...serialRequestHookFindings(hookInputs), ...runtimeModeFindings(hookInputs.registration, runtime)]
    const texts = [hookInputs.snapYaml, hookInputs.registration, runtime, ...hookInputs.hooks.values()]
    for (const f of hookFindings) sources.set(f.file, texts.find((t) => t?.file === f.file)?.text ?? '')
    extra.push(...hookFindings.map((f) => (options.strict ? {...f, severity: 'error' as const} : f)))
    const {parsed, validation: result, volumes} = judgeSource({content: bytes, file: location.file}, {...options, partOutputs: partOutputsFound, snapd: gadgetTarget, tree})
    if (keepJudged) judged.push({location, parsed, volumes})
    gadgets.push({...withFindings(result, [...result.findings, ...extra].sort(compareFindings)), ...(notes.length > 0 ? {notes} : {})})
  }

  if (gadgets.length === 0 && problems.length > 0) throw problems[0]
  const errors = gadgets.reduce((n, g) => n + g.errors, 0)
  const warnings = gadgets.reduce((n, g) => n + g.warnings, 0)
  const releases = [...new Set(gadgets.map((g) => g.snapd))]
  return {judged, report: {errors, gadgets, snapd: releases.length === 0 ? target.label : releases.join(', '), strict: Boolean(options.strict), unreadable, warnings}, sources}
}

/**
 * The release a snap that assumes snapd `assumed` is judged for: that one (no older snapd installs
 * it), or the one asked for when it is newer. Asking for an older one is the user's slip, said in
 * a note, not findings about devices that cannot install the gadget.
 */
function targetForAssumes(assumed: string, asked: SnapdTarget | undefined, file: string): {target: SnapdTarget; note?: string} {
  const release = assumed.split('.').slice(0, 2).join('.')
  const floor = atLeast(release, LATEST_SNAPD) ? LATEST_SNAPD : atLeast(release, OLDEST_SNAPD) ? release : OLDEST_SNAPD
  if (asked === undefined) return {target: snapdTarget(floor)}
  if (atLeast(asked.version, floor)) return {target: asked}
  return {
    note: `--snapd ${asked.label} is older than the snapd${assumed} that ${file} assumes: a device with an older snapd refuses to install this gadget, so it is judged as snapd ${floor}`,
    target: snapdTarget(floor),
  }
}

const STDIN = '<stdin>'

function stdinLocation(options: ValidatePathsOptions): GadgetLocation {
  return {extras: [], file: STDIN, kind: 'file', path: resolve(options.cwd ?? process.cwd(), STDIN)}
}

function readStdinOrFail(options: ValidatePathsOptions): Uint8Array {
  if (!options.readStdin) throw new UserError('E_NO_STDIN', 'standard input (-) cannot be read here', {file: STDIN, hint: 'give the path of a gadget.yaml', kind: 'io'})
  return options.readStdin()
}

function withFindings(result: GadgetValidation, findings: Finding[]): GadgetValidation {
  return {
    ...result,
    errors: findings.filter((f) => f.severity === 'error').length,
    findings,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  }
}
