/**
 * gadget.yaml text → the syntax tree snapd's go-yaml v2 reads (readYaml: libyaml's acceptance,
 * messages and lines), plus what findings need to place themselves: line starts.
 */
import type {YamlNode} from './ast.js'
import {readYaml} from './reader.js'

export interface YamlProblem {
  /** libyaml's message, as go-yaml prints it after "yaml: ". */
  message: string
  /** Offset of the problem, for the finding's position. */
  offset: number
  /** The line go-yaml prints ("yaml: line N: …"); 0 when it prints none. */
  goLine: number
}

export interface ParsedYaml {
  text: string
  /** The first document's root node; undefined for an empty document or on a problem. */
  root?: YamlNode
  /** A syntax or encoding error: snapd's "cannot parse gadget metadata: yaml: …". */
  problem?: YamlProblem
  /**
   * True when the whole stream is one clean document (nothing unread after it). Tools that read
   * the whole file, like PyYAML's yaml.load, fail on anything else.
   */
  singleDocument: boolean
  /** Offsets where lines start (line breaks: LF, CRLF and a lone CR, as libyaml and editors count). */
  lineStarts: number[]
}

export function parseYaml(input: string | Uint8Array): ParsedYaml {
  const result = readYaml(input)
  const {text} = result
  let starts: number[] | undefined
  return {
    // Computed on first use: files without findings never need positions.
    get lineStarts() {
      starts ??= lineStarts(text)
      return starts
    },
    problem: result.error,
    root: result.error ? undefined : result.root,
    singleDocument: result.singleDocument,
    text,
  }
}

/** 1-based line and column (UTF-16 code units) of `offset`. */
export function position(starts: readonly number[], offset: number): {column: number; line: number} {
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid] <= offset) lo = mid
    else hi = mid - 1
  }

  return {column: offset - starts[lo] + 1, line: lo + 1}
}

function lineStarts(text: string): number[] {
  const starts = [0]
  // Without CRs (the usual file), native searches for LF find the lines faster than a character loop.
  if (!text.includes('\r')) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
    return starts
  }

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) starts.push(i + 1)
  }

  return starts
}
