/**
 * SARIF 2.1.0 (`--format sarif`), for GitHub code scanning and other SARIF viewers.
 *
 * - One run; `tool.driver.rules` holds the catalog entries of the rules that produced findings,
 *   and each result points at its rule by `ruleId` and `ruleIndex`.
 * - `artifactLocation.uri` is relative to `cwd` (the repository root when run in CI), with forward
 *   slashes and percent-encoded segments, against `uriBaseId` "%SRCROOT%"; a file outside `cwd`
 *   keeps an absolute file: URI. Every gadget checked is listed in `artifacts` as an analysis
 *   target, so a clean file still shows as analysed.
 * - Columns count UTF-16 code units (`columnKind`), which is how positions are computed; endColumn
 *   is exclusive, as SARIF defines it.
 * - `partialFingerprints.primaryLocationLineHash` is computed when the file's text is given, with
 *   the algorithm of github/codeql-action (src/fingerprints.ts) so that an upload through the
 *   REST API and one through upload-sarif agree: a polynomial hash (base 37, modulo 2^64) of the
 *   first 100 characters from the start of the finding's line on, across line ends, with spaces
 *   and tabs skipped, CR and CRLF read as LF, and the end of the file marked by U+FFFF and padded
 *   with NULs; written in hex, then ":" and how many lines so far had that hash (1 for the first).
 *   Without the text it is left out, and upload-sarif computes the same value itself.
 */
import {isAbsolute, relative} from 'node:path'
import {pathToFileURL} from 'node:url'

import type {Finding, Severity} from '../gadget/findings/finding.js'
import {type RuleId, type RuleInfo, rules} from '../gadget/findings/rules.js'
import type {SourceTexts, ValidationReport} from './types.js'

export interface SarifOptions {
  /** The snap-gadget version, for tool.driver.version. */
  toolVersion: string
  /** Absolute file names are made relative to this directory (the repository root). */
  cwd?: string
  /** File texts keyed by Finding.file; with them results carry line-hash fingerprints. */
  sources?: SourceTexts
}

// The parts of SARIF 2.1.0 this report uses (https://docs.oasis-open.org/sarif/sarif/v2.1.0/).
type SarifLevel = 'error' | 'note' | 'warning'

export interface SarifLog {
  $schema: string
  version: '2.1.0'
  runs: SarifRun[]
}

interface SarifRun {
  tool: {driver: SarifDriver}
  columnKind: 'unicodeCodePoints' | 'utf16CodeUnits'
  artifacts: SarifArtifact[]
  results: SarifResult[]
  invocations?: SarifInvocation[]
  properties?: Record<string, unknown>
}

/** How the run went: a path that could not be read makes it unsuccessful, with a notification per path. */
interface SarifInvocation {
  executionSuccessful: boolean
  toolExecutionNotifications?: Array<{level: SarifLevel; message: SarifMessage; descriptor?: {id: string}; locations?: Array<{physicalLocation: {artifactLocation: SarifArtifactLocation}}>}>
}

interface SarifDriver {
  name: string
  version: string
  semanticVersion?: string
  informationUri?: string
  rules: SarifRule[]
}

interface SarifRule {
  id: RuleId
  name: string
  shortDescription: SarifMessage
  fullDescription: SarifMessage
  defaultConfiguration: {level: SarifLevel}
  properties: {source: RuleInfo['source']; since?: string; tags: string[]}
}

interface SarifMessage {
  text: string
}

interface SarifArtifactLocation {
  uri: string
  uriBaseId?: string
  index?: number
}

interface SarifArtifact {
  location: SarifArtifactLocation
  roles?: Array<'analysisTarget'>
}

interface SarifRegion {
  startLine: number
  startColumn: number
  endLine?: number
  endColumn?: number
}

interface SarifResult {
  ruleId: RuleId
  ruleIndex: number
  level: SarifLevel
  message: SarifMessage
  locations: Array<{physicalLocation: {artifactLocation: SarifArtifactLocation; region?: SarifRegion}}>
  partialFingerprints?: {primaryLocationLineHash: string}
  properties?: {snapdMessage?: string; path?: Array<number | string>}
}

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json'
const SOURCE_ROOT = '%SRCROOT%'

const levels: Record<Severity, SarifLevel> = {error: 'error', info: 'note', warning: 'warning'}

export function formatSarif(report: ValidationReport, options: SarifOptions): string {
  return JSON.stringify(sarifLog(report, options), null, 2) + '\n'
}

/** The SARIF document as an object (formatSarif serialises it). */
function sarifLog(report: ValidationReport, options: SarifOptions): SarifLog {
  // The whole catalog: code scanning describes a tool's rules from it, whether a run found any.
  const ruleInfos = rules
  const ruleIndex = new Map(ruleInfos.map((r, i) => [r.id, i]))

  const artifacts: SarifArtifact[] = []
  const artifactIndex = new Map<string, number>()
  const locate = (file: string, target = false): SarifArtifactLocation => {
    const location = artifactLocation(file, options.cwd)
    let index = artifactIndex.get(location.uri)
    if (index === undefined) {
      index = artifacts.length
      artifactIndex.set(location.uri, index)
      artifacts.push({location: {...location}})
    }

    if (target) artifacts[index].roles = ['analysisTarget']
    return {...location, index}
  }

  for (const gadget of report.gadgets) locate(gadget.file, true)

  const hashes = new LineHashes(options.sources)
  const results: SarifResult[] = []
  for (const gadget of report.gadgets) {
    for (const finding of gadget.findings) {
      const result: SarifResult = {
        ruleId: finding.rule,
        ruleIndex: ruleIndex.get(finding.rule) ?? -1,
        level: levels[finding.severity],
        message: {text: messageText(finding)},
        locations: [{physicalLocation: {artifactLocation: locate(finding.file), ...(finding.start ? {region: region(finding)} : {})}}],
      }
      const hash = hashes.get(finding.file, finding.start?.line ?? 1)
      if (hash) result.partialFingerprints = {primaryLocationLineHash: hash}
      if (finding.snapdMessage || finding.path) {
        result.properties = {...(finding.snapdMessage ? {snapdMessage: finding.snapdMessage} : {}), ...(finding.path ? {path: finding.path} : {})}
      }

      results.push(result)
    }
  }

  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'snap-gadget',
            version: options.toolVersion,
            ...(/^\d+\.\d+\.\d+/.test(options.toolVersion) ? {semanticVersion: options.toolVersion} : {}),
            rules: ruleInfos.map((r) => sarifRule(r, report.strict)),
          },
        },
        columnKind: 'utf16CodeUnits',
        artifacts,
        results,
        invocations: [invocation(report, options.cwd)],
        properties: {snapd: report.snapd, strict: report.strict},
      },
    ],
  }
}

function invocation(report: ValidationReport, cwd: string | undefined): SarifInvocation {
  const unreadable = report.unreadable ?? []
  const notes = report.gadgets.flatMap((g) =>
    (g.notes ?? []).map((note) => ({
      descriptor: {id: 'note'},
      level: 'note' as const,
      locations: [{physicalLocation: {artifactLocation: artifactLocation(g.file, cwd)}}],
      message: {text: note},
    })),
  )
  if (unreadable.length === 0) return {executionSuccessful: true, ...(notes.length > 0 ? {toolExecutionNotifications: notes} : {})}
  return {
    executionSuccessful: false,
    toolExecutionNotifications: [
      ...notes,
      ...unreadable.map((input) => ({
        descriptor: {id: input.code},
        level: 'error' as const,
        locations: [{physicalLocation: {artifactLocation: artifactLocation(input.file, cwd)}}],
        message: {text: input.hint ? `${input.message}\nhint: ${input.hint}` : input.message},
      })),
    ],
  }
}

function sarifRule(rule: RuleInfo, strict: boolean): SarifRule {
  const enforced =
    rule.source === 'snapd'
      ? `snapd rejects a gadget that breaks this rule${rule.since ? ` (from snapd ${rule.since})` : ''}.`
      : `snapd accepts such a gadget, but it is likely wrong; reported as a warning${strict ? ', raised to an error by --strict' : ' (an error with --strict)'}.`
  return {
    id: rule.id,
    name: rule.name,
    shortDescription: {text: rule.summary},
    fullDescription: {text: `${capitalise(rule.summary)}. ${capitalise(enforced)}`},
    defaultConfiguration: {level: rule.source === 'snapd' || strict ? 'error' : 'warning'},
    properties: {source: rule.source, ...(rule.since ? {since: rule.since} : {}), tags: [rule.source === 'snapd' ? 'snapd' : 'lint', 'gadget.yaml']},
  }
}

/** The first letter upper-case, except in "snapd", which is always written lower-case. */
function capitalise(text: string): string {
  return text.startsWith('snapd') ? text : text.charAt(0).toUpperCase() + text.slice(1)
}

/** The message, snapd's own words when they differ, and the fix. */
function messageText(finding: Finding): string {
  let text = finding.message
  if (finding.snapdMessage && finding.snapdMessage !== finding.message) text += `\nsnapd: ${finding.snapdMessage}`
  if (finding.hint) text += `\nhint: ${finding.hint}`
  return text
}

function region(finding: Finding): SarifRegion {
  const start = finding.start ?? {column: 1, line: 1}
  const r: SarifRegion = {startLine: start.line, startColumn: start.column}
  const end = finding.end
  if (end && (end.line > start.line || (end.line === start.line && end.column >= start.column))) {
    r.endLine = end.line
    r.endColumn = end.column
  }

  return r
}

/**
 * Where a file is, as SARIF wants it: relative to the source root with forward slashes and
 * percent-encoded segments, or an absolute file: URI for a file outside it.
 */
export function artifactLocation(file: string, cwd?: string): {uri: string; uriBaseId?: string} {
  let path = file
  if (isAbsolute(file)) {
    const rel = cwd ? relative(cwd, file) : ''
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) return {uri: pathToFileURL(file).href}
    path = rel
  }

  const segments = path.split(/[\\/]/).filter((s) => s !== '' && s !== '.')
  return {uri: segments.map((s) => encodeURIComponent(s)).join('/'), uriBaseId: SOURCE_ROOT}
}

/** primaryLocationLineHash values per file and line, computed on first use. */
class LineHashes {
  private readonly cache = new Map<string, Map<number, string>>()

  constructor(private readonly sources: SourceTexts | undefined) {}

  get(file: string, line: number): string | undefined {
    const text = this.sources?.get(file)
    if (text === undefined) return undefined
    let hashes = this.cache.get(file)
    if (!hashes) {
      hashes = lineHashes(text)
      this.cache.set(file, hashes)
    }

    return hashes.get(line)
  }
}

const BLOCK_SIZE = 100
const MODULUS_BITS = 64
const BASE = 37n
/** BASE^BLOCK_SIZE: what the character leaving the window contributed. */
const LEAVING_FACTOR = BigInt.asUintN(MODULUS_BITS, BASE ** BigInt(BLOCK_SIZE))
const END_OF_FILE = 0xffff

/**
 * The codeql-action line hash of every line of `text`: line number → "<hex>:<occurrence>".
 * See the module comment for what is hashed.
 */
export function lineHashes(text: string): Map<number, string> {
  const out = new Map<number, string>()
  const window = Array.from<number>({length: BLOCK_SIZE}).fill(0)
  // The line that starts at each window slot, or -1.
  const lineAt = Array.from<number>({length: BLOCK_SIZE}).fill(-1)
  const seen = new Map<string, number>()
  let hash = 0n
  let index = 0
  let line = 0
  let atLineStart = true
  let afterCR = false

  const emit = (): void => {
    const hex = hash.toString(16)
    const count = (seen.get(hex) ?? 0) + 1
    seen.set(hex, count)
    out.set(lineAt[index], `${hex}:${count}`)
    lineAt[index] = -1
  }

  const push = (code: number): void => {
    const leaving = window[index]
    window[index] = code
    hash = BigInt.asUintN(MODULUS_BITS, BASE * hash + BigInt(code) - LEAVING_FACTOR * BigInt(leaving))
    index = (index + 1) % BLOCK_SIZE
  }

  const consume = (input: number): void => {
    let code = input
    if (code === 0x20 || code === 0x09 || (afterCR && code === 0x0a)) {
      afterCR = false
      return
    }

    afterCR = code === 0x0d
    if (afterCR) code = 0x0a
    if (lineAt[index] !== -1) emit()
    if (atLineStart) {
      atLineStart = false
      line++
      lineAt[index] = line
    }

    if (code === 0x0a) atLineStart = true
    push(code)
  }

  for (let i = 0; i < text.length; i++) consume(text.charCodeAt(i))
  consume(END_OF_FILE)
  for (let i = 0; i < BLOCK_SIZE; i++) {
    if (lineAt[index] !== -1) emit()
    push(0)
  }

  return out
}
