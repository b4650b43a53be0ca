/**
 * Compares readYaml's tree with eemeli/yaml's (an independent parser), node by node: kinds, flow, scalar styles and values, tags, anchors, alias names
 * and targets, key order and start offsets.
 *
 * eemeli/yaml differs in representational ways that are not disagreements:
 * - a node's range starts after its anchor and tag; libyaml's start mark is at them, and a block
 *   mapping starts where its first key does, properties included;
 * - an empty node is placed right after what precedes it, libyaml's at the next token (for
 *   example after `---` and the line break);
 * - a missing value of a `? key` entry is null, libyaml's an empty plain scalar;
 * - a block mapping used as a `? ` key has a range that starts at the end of its first key.
 */
import {type Alias, type Document, isAlias, isMap, isPair, isScalar, isSeq, type Node, type Pair, Scalar} from 'yaml'

import type {YamlNode} from '../../../src/go-yaml/read/ast.js'

const STYLE: Record<string, string> = {
  BLOCK_FOLDED: 'folded',
  BLOCK_LITERAL: 'literal',
  PLAIN: 'plain',
  QUOTE_DOUBLE: 'double',
  QUOTE_SINGLE: 'single',
}

/** The first difference between the two trees, described; undefined when they agree. */
export function treeDifference(parsed: {doc?: Document; text: string}, root: undefined | YamlNode): string | undefined {
  const theirs = (parsed.doc?.contents ?? null) as Node | null
  if (theirs === null || root === undefined) {
    return (theirs === null) === (root === undefined) ? undefined : `root: ${theirs === null ? 'none' : 'present'} vs ${root === undefined ? 'none' : 'present'}`
  }

  const seen = new Map<Node, YamlNode>()
  const {text} = parsed
  const compare = (a: Node | null, b: YamlNode, path: string): string | undefined => {
    if (a === null) {
      // eemeli's missing value; libyaml's empty plain scalar.
      return b.kind === 'scalar' && b.style === 'plain' && b.value === '' && !b.anchor && !b.tag ? undefined : `${path}: null vs ${b.kind}`
    }

    seen.set(a, b)
    const kind = isMap(a) ? 'map' : isSeq(a) ? 'seq' : isAlias(a) ? 'alias' : isScalar(a) ? 'scalar' : 'other'
    if (kind !== b.kind) return `${path}: kind ${kind} vs ${b.kind}`
    const start = a.range?.[0] ?? -1
    if (b.anchor !== (a as Scalar).anchor) return `${path}: anchor ${String((a as Scalar).anchor)} vs ${String(b.anchor)}`
    if (b.kind !== 'alias' && b.tag !== (a as Scalar).tag) return `${path}: tag ${String((a as Scalar).tag)} vs ${String(b.tag)}`
    if (start !== b.start && !sameStart(a, b, start)) return `${path}: start ${start} vs ${b.start}`

    if (b.kind === 'scalar') {
      const s = a as Scalar
      if (STYLE[s.type ?? ''] !== b.style) return `${path}: style ${String(s.type)} vs ${b.style}`
      if (String(s.value) !== b.value) return `${path}: value ${JSON.stringify(s.value)} vs ${JSON.stringify(b.value)}`
      return undefined
    }

    if (b.kind === 'alias') {
      const alias = a as Alias
      if (alias.source !== b.name) return `${path}: alias ${alias.source} vs ${b.name}`
      const target = parsed.doc ? (alias.resolve(parsed.doc) as Node | undefined) : undefined
      if (!target || seen.get(target) !== b.target) return `${path}: alias target differs`
      return undefined
    }

    if (b.kind === 'map') {
      if (!isMap(a)) return `${path}: not a map`
      if (Boolean(a.flow) !== b.flow) return `${path}: flow ${String(a.flow)} vs ${b.flow}`
      if (a.items.length !== b.pairs.length) return `${path}: ${a.items.length} pairs vs ${b.pairs.length}`
      for (const [i, pair] of (a.items as Pair[]).entries()) {
        if (!isPair(pair)) return `${path}[${i}]: not a pair`
        const k = compare(pair.key as Node | null, b.pairs[i].key, `${path}[${i}].key`)
        if (k) return k
        const v = compare(pair.value as Node | null, b.pairs[i].value, `${path}[${i}].value`)
        if (v) return v
      }

      return undefined
    }

    if (!isSeq(a) || b.kind !== 'seq') return `${path}: not a sequence`
    if (Boolean(a.flow) !== b.flow) return `${path}: flow ${String(a.flow)} vs ${b.flow}`
    if (a.items.length !== b.items.length) return `${path}: ${a.items.length} items vs ${b.items.length}`
    for (const [i, item] of a.items.entries()) {
      const d = compare(item as Node | null, b.items[i], `${path}[${i}]`)
      if (d) return d
    }

    return undefined
  }

  /** Starts that differ only by the conventions above. */
  const sameStart = (a: Node, b: YamlNode, start: number): boolean => {
    const between = (from: number, to: number, pattern: RegExp) => from <= to && pattern.test(text.slice(from, to))
    // Properties (and the space after them) between libyaml's start and eemeli's.
    if (between(b.start, start, /^(?:\s*(?:&\S+|!\S*))+\s*$/)) return true
    // Only blanks, line breaks and comments between eemeli's empty node and libyaml's.
    const blank = /^(?:\s|#[^\n]*)*$/
    if (b.kind === 'scalar' && b.value === '' && b.style === 'plain' && (between(start, b.start, blank) || between(b.start, start, blank))) return true
    // eemeli starts a block mapping that is a `? ` key at the end of its first key.
    if (b.kind === 'map' && isMap(a) && a.items.length > 0 && b.pairs.length > 0) {
      const firstKey = (a.items[0] as Pair).key as Node | null
      if (firstKey?.range && start === firstKey.range[1] && b.start === b.pairs[0].key.start) return true
    }

    return false
  }

  return compare(theirs, root, '$')
}
