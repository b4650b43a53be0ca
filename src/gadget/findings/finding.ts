/**
 * Findings are data: a stable rule id, a severity, a place, snapd's own message where snapd has
 * one, and a concrete fix. Renderers (text, JSON, SARIF, JUnit, GitHub) only format them.
 */
import type {RuleId} from './rules.js'

export type Severity = 'error' | 'info' | 'warning'

export interface Position {
  /** 1-based. */
  line: number
  /** 1-based, in UTF-16 code units (as editors, LSP and SARIF count). */
  column: number
}

export interface Finding {
  /** Stable rule id from the rule catalog, e.g. "S1" (snapd rules) or "N3" (lint). */
  rule: RuleId
  severity: Severity
  /** What is wrong, in one sentence. */
  message: string
  /** The error snapd itself prints for this problem, when snapd rejects it. */
  snapdMessage?: string
  /** How to fix it. */
  hint?: string
  /** The file, as given or as found (gadget.yaml, snap/snapcraft.yaml, meta/hooks/…). */
  file: string
  start?: Position
  end?: Position
  /** The YAML path of the offending value, e.g. ["volumes", "pc", "structure", 2, "size"]. */
  path?: Array<number | string>
  /** The place holds a secret (an api-key): renderers must not quote its line. */
  secret?: true
}

/**
 * Sort key: file, then position, then rule (S2 before S10). Text compares by UTF-16 code units,
 * not localeCompare: the same order on every machine, and the first localeCompare loads ICU's
 * collator, 6–9 ms of a validate run that takes about 35 ms.
 */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    compareText(a.file, b.file) || (a.start?.line ?? 0) - (b.start?.line ?? 0) || (a.start?.column ?? 0) - (b.start?.column ?? 0) || compareText(a.rule[0], b.rule[0]) || Number(a.rule.slice(1)) - Number(b.rule.slice(1))
  )
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
