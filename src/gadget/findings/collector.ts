/** Collects the findings of one file and remembers which error snapd itself would print. */
import type {YamlNode as Node} from '../../go-yaml/read/ast.js'

import type {Finding, Severity} from './finding.js'
import {type RuleId, ruleInfo} from './rules.js'
import type {Locator} from '../decode-gadget.js'

interface FindingInput {
  rule: RuleId
  /** Where: a node, else the document start. */
  node?: Node
  /** Our message; defaults to snapdMessage. */
  message?: string
  /** snapd's exact error text, for rules snapd enforces. */
  snapdMessage?: string
  hint?: string
  severity?: Severity
  path?: Array<number | string>
  /** A position computed elsewhere (byte-level errors). */
  start?: {column: number; line: number}
}

export class FileReport {
  readonly findings: Finding[] = []
  /** The first error snapd would report, in snapd's order of checks. */
  snapdError?: string

  constructor(
    readonly file: string,
    private readonly locator?: Locator,
  ) {}

  add(input: FindingInput): void {
    const info = ruleInfo(input.rule)
    const severity = input.severity ?? (info.source === 'snapd' ? 'error' : 'warning')
    const message = input.message ?? input.snapdMessage ?? info.summary
    const range = input.start ? {start: input.start} : (this.locator?.range(input.node) ?? {})
    const finding: Finding = {
      file: this.file,
      message,
      rule: input.rule,
      severity,
      ...(input.snapdMessage ? {snapdMessage: input.snapdMessage} : {}),
      ...(input.hint ? {hint: input.hint} : {}),
      ...(range.start ? {start: range.start} : {start: {column: 1, line: 1}}),
      ...(range.end ? {end: range.end} : {}),
      ...(input.path ? {path: input.path} : {}),
    }
    if (input.snapdMessage && severity === 'error' && this.snapdError === undefined) this.snapdError = input.snapdMessage
    this.findings.push(finding)
  }
}
