/**
 * The syntax tree of a YAML document as libyaml (go-yaml v2, which snapd uses) reads it: node
 * kinds, scalar styles and source offsets; no values resolved (the decoder resolves scalars per
 * Go type). Offsets are UTF-16 code-unit offsets into the source string, end-exclusive.
 */

export type YamlNode = YamlAlias | YamlMap | YamlScalar | YamlSeq

interface NodeBase {
  /** Offset of the node's first character (its anchor or tag when it has one). */
  start: number
  /** Offset just after the node's content. */
  end: number
  /** Anchor name (without `&`), when the node has one. */
  anchor?: string
  /**
   * The node's explicit tag, resolved to its full form: `tag:yaml.org,2002:str` for `!!str`, the
   * verbatim text for local tags (`!foo`), `!` for the non-specific tag. Absent when untagged.
   */
  tag?: string
}

export type ScalarStyle = 'double' | 'folded' | 'literal' | 'plain' | 'single'

export interface YamlScalar extends NodeBase {
  kind: 'scalar'
  style: ScalarStyle
  /**
   * The scalar's value as libyaml delivers it: plain scalars with line folding applied, quoted
   * scalars unescaped, block scalars with indentation and chomping applied. An absent value
   * (`key:` with nothing after it) is an empty plain scalar.
   */
  value: string
}

interface YamlPair {
  key: YamlNode
  value: YamlNode
}

export interface YamlMap extends NodeBase {
  kind: 'map'
  flow: boolean
  pairs: YamlPair[]
}

export interface YamlSeq extends NodeBase {
  kind: 'seq'
  flow: boolean
  items: YamlNode[]
}

export interface YamlAlias extends NodeBase {
  kind: 'alias'
  /** The anchor it names. */
  name: string
  /** The node that anchor named at this point of the document (libyaml resolves aliases as it reads). */
  target: YamlNode
}

/** A libyaml error, as go-yaml reports it: "yaml: line N: <message>" (the line is omitted when N is 0). */
interface YamlSyntaxError {
  message: string
  /** Offset of the problem (for positions in findings). */
  offset: number
  /** The line go-yaml prints (libyaml's problem/context mark conventions), 0 when it prints none. */
  goLine: number
}

export interface YamlReadResult {
  /** The first document's root node; undefined for an empty stream or document. */
  root?: YamlNode
  /** Set when go-yaml would fail to read the document. */
  error?: YamlSyntaxError
  /**
   * True when the whole stream is one clean document with nothing after it, so a reader of the
   * whole stream (go-yaml reads only the first document) would accept it too.
   */
  singleDocument: boolean
  /** The characters read (a byte input decoded, its byte-order mark removed): offsets point into it. */
  text: string
}
