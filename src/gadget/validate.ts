/**
 * validateGadget: judge one gadget.yaml as snapd would, plus lint. Returns data; never prints.
 */
import {compareFindings, type Finding} from './findings.js'
import {Locator, parseGadget} from './parse.js'
import {FileReport} from './report.js'
import {type ContentTree, placeholderTree} from './rules/content-tree.js'
import {lintGadget, type LintContext} from './rules/lint.js'
import {type GadgetModel, SnapdChecks} from './rules/snapd.js'
import {snapdTarget, type SnapdTarget} from './snapd-version.js'

export interface ValidateOptions {
  /** The snapd release to judge for: "2.57" … "latest" (default). */
  snapd?: string | SnapdTarget
  /** Make lint warnings errors. */
  strict?: boolean
  /** The model the gadget is for (grade, classic); enables the model rules. */
  model?: GadgetModel
  /** The gadget's files; by default content is assumed present (gadget.yaml judged alone). */
  tree?: ContentTree
  /** Extra lint context: the project's other files (snapcraft.yaml, hooks). */
  project?: LintContext['project']
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
  /** What snapd itself would say: valid, or its first error. */
  verdict: {error?: string; valid: boolean}
  findings: Finding[]
  /** Counts by severity, after --strict. */
  errors: number
  warnings: number
}

/** Validates one gadget.yaml. `source` is its text or bytes, or a named source. */
export function validateGadget(source: GadgetSource | string | Uint8Array, options: ValidateOptions = {}): GadgetValidation {
  const src: GadgetSource = typeof source === 'string' || source instanceof Uint8Array ? {content: source, file: 'gadget.yaml'} : source
  const target = typeof options.snapd === 'object' ? options.snapd : snapdTarget(options.snapd)
  const parsed = parseGadget(src.file, src.content, target)
  const loc = new Locator(parsed)
  const report = new FileReport(src.file, loc)
  const tree = options.tree ?? placeholderTree(parsed.info)
  const checks = new SnapdChecks({content: tree, loc, model: options.model, parsed, report, target})
  checks.run()
  lintGadget({checks, loc, parsed, project: options.project, report, target, tree})

  const findings = report.findings
    .map((f) => (options.strict && f.severity === 'warning' ? {...f, severity: 'error' as const} : f))
    .sort(compareFindings)
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    file: src.file,
    findings,
    snapd: target.label,
    verdict: report.snapdError === undefined ? {valid: true} : {error: report.snapdError, valid: false},
    warnings: findings.filter((f) => f.severity === 'warning').length,
  }
}
