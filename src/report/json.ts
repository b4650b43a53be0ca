/**
 * The JSON report (`--format json`): a stable document for scripts, 2-space indented.
 *
 * ```jsonc
 * {
 *   "formatVersion": 1,           // bumped only when a field changes meaning or goes away
 *   "snapd": "2.57",              // the snapd release judged for
 *   "strict": false,              // whether lint warnings were raised to errors
 *   "valid": false,               // no finding at error level in any file, and every path read
 *   "summary": {"files": 2, "errors": 1, "warnings": 1, "info": 0},
 *   "gadgets": [{
 *     "file": "gadget.yaml",      // as given on the command line or found in the directory
 *     "snapd": "2.57",
 *     "notes": ["…"],               // how it was judged, when the user should know (a --snapd older than assumes)
 *     "verdict": {"valid": false, "error": "…"},  // what snapd itself says: valid, or its first error
 *     "errors": 1, "warnings": 1,
 *     "findings": [{
 *       "rule": "S1", "severity": "error",        // severity after --strict
 *       "file": "gadget.yaml",                    // the file the finding is in (may be snapcraft.yaml, a hook…)
 *       "start": {"line": 11, "column": 15},      // 1-based; column in UTF-16 code units
 *       "end": {"line": 11, "column": 18},        // exclusive; absent when unknown
 *       "message": "…", "snapdMessage": "…", "hint": "…",
 *       "path": ["volumes", "pc", "structure", 1, "size"]  // YAML path of the value, when known
 *     }]
 *   }],
 *   "unreadable": [{"file": "gone.yaml", "code": "E_IO_ENOENT", "message": "…", "hint": "…"}],  // only when a path could not be read
 *   "rules": [{"id": "S1", "name": "quantity-syntax", "summary": "…", "source": "snapd", "since": "2.60"}]
 * }
 * ```
 *
 * Optional fields are left out rather than set to null. Keys keep this order. `rules` holds the
 * catalog entries of the rules that produced findings, in catalog order.
 */
import type {Finding} from '../gadget/findings/finding.js'
import type {RuleInfo} from '../gadget/findings/rules.js'
import type {GadgetValidation} from '../gadget/validate.js'
import {rulesUsed, severityCounts} from './common.js'
import type {ValidationReport} from './types.js'

export const JSON_FORMAT_VERSION = 1

export function formatJson(report: ValidationReport): string {
  const counts = severityCounts(report)
  const unreadable = report.unreadable ?? []
  const document = {
    formatVersion: JSON_FORMAT_VERSION,
    snapd: report.snapd,
    strict: report.strict,
    valid: report.errors === 0 && unreadable.length === 0,
    summary: {files: report.gadgets.length, errors: report.errors, warnings: report.warnings, info: counts.info, ...(unreadable.length > 0 ? {unreadable: unreadable.length} : {})},
    gadgets: report.gadgets.map(gadgetJson),
    ...(unreadable.length > 0 ? {unreadable: unreadable.map((u) => ({file: u.file, code: u.code, message: u.message, ...(u.hint ? {hint: u.hint} : {})}))} : {}),
    rules: rulesUsed(report).map(ruleJson),
  }
  return JSON.stringify(document, null, 2) + '\n'
}

function gadgetJson(gadget: GadgetValidation) {
  return {
    file: gadget.file,
    snapd: gadget.snapd,
    ...(gadget.notes ? {notes: gadget.notes} : {}),
    verdict: gadget.verdict.valid ? {valid: true} : {valid: false, error: gadget.verdict.error},
    errors: gadget.errors,
    warnings: gadget.warnings,
    findings: gadget.findings.map(findingJson),
  }
}

function findingJson(f: Finding) {
  return {
    rule: f.rule,
    severity: f.severity,
    file: f.file,
    ...(f.start ? {start: {line: f.start.line, column: f.start.column}} : {}),
    ...(f.end ? {end: {line: f.end.line, column: f.end.column}} : {}),
    message: f.message,
    ...(f.snapdMessage === undefined ? {} : {snapdMessage: f.snapdMessage}),
    ...(f.hint === undefined ? {} : {hint: f.hint}),
    ...(f.path ? {path: f.path} : {}),
  }
}

function ruleJson(rule: RuleInfo) {
  return {
    id: rule.id,
    name: rule.name,
    summary: rule.summary,
    source: rule.source,
    ...(rule.since ? {since: rule.since} : {}),
  }
}
