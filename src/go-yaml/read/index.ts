/**
 * gadget.yaml text → the syntax tree snapd's go-yaml v2 reads (readYaml: libyaml's acceptance,
 * messages and lines), plus what findings need to place themselves: line starts.
 */
import {lineStarts} from '../../support/line-index.js'
import type {YamlNode} from './ast.js'
import {readYaml} from './parser.js'

interface YamlProblem {
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
   * the whole file fail on anything else.
   */
  singleDocument: boolean
  /** Offsets where lines start (support/line-index.ts: LF, CRLF and a lone CR, as libyaml and editors count). */
  lineStarts: number[]
}

export function parseYaml(input: string | Uint8Array): ParsedYaml {
  return new ParsedDocument(readYaml(input))
}

/** A class rather than an object literal with a getter: V8 makes those slowly, one per file. */
class ParsedDocument implements ParsedYaml {
  readonly problem?: YamlProblem
  readonly root?: YamlNode
  readonly singleDocument: boolean
  readonly text: string
  private starts?: number[]

  constructor(result: ReturnType<typeof readYaml>) {
    this.problem = result.error
    this.root = result.error ? undefined : result.root
    this.singleDocument = result.singleDocument
    this.text = result.text
  }

  /** Computed on first use: files without findings never need positions. */
  get lineStarts(): number[] {
    this.starts ??= lineStarts(this.text)
    return this.starts
  }
}
