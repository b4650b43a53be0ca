/**
 * Lint: what snapd accepts but is almost certainly a mistake (reference sections P3, P4, N).
 * Every finding here is a warning; --strict makes them errors.
 */
import {isMap, isScalar, isSeq, type Node, visit} from 'yaml'

import type {Locator, ParsedGadget} from '../parse.js'
import type {FileReport} from '../report.js'
import type {SnapdTarget} from '../snapd-version.js'
import type {ContentTree} from './content-tree.js'
import type {SnapdChecks} from './snapd.js'

export interface LintContext {
  parsed: ParsedGadget
  loc: Locator
  report: FileReport
  target: SnapdTarget
  checks: SnapdChecks
  tree: ContentTree
  /** Other files of a gadget project or snap, for checks that look beyond gadget.yaml. */
  project?: {files: Array<{content: string; file: string}>}
}

export function lintGadget(ctx: LintContext): void {
  duplicateKeys(ctx)
}

/** P4: go-yaml keeps the last of duplicate keys without a word. */
function duplicateKeys(ctx: LintContext): void {
  const root = ctx.parsed.yaml.doc?.contents as Node | null | undefined
  if (!root) return
  visit(root, {
    Map(_, map) {
      const seen = new Map<string, Node>()
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue
        const key = String(pair.key.value)
        const first = seen.get(key)
        if (first) {
          ctx.report.add({
            hint: `remove one of the two "${key}" keys; snapd uses only this last one (line ${ctx.loc.position(first.range?.[0] ?? 0).line} is ignored)`,
            message: `duplicate key "${key}": snapd keeps this one and silently drops the earlier one`,
            node: pair.key as Node,
            rule: 'P4',
          })
        }

        seen.set(key, pair.key as Node)
      }
    },
  })
  void isMap
  void isSeq
}
