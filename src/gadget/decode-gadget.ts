/**
 * gadget.yaml text → the model snapd decodes, with positions for every value.
 */

import type {Position} from './findings/finding.js'
import {gadgetInfoType, type GadgetInfo} from './gadget-types.js'
import type {SnapdTarget} from './snapd-version.js'
import type {YamlNode} from '../go-yaml/read/ast.js'
import {type DecodeIssue, decodeDocument, type FieldSource, type Origin} from '../go-yaml/decode/decode.js'
import {parseYaml, type ParsedYaml} from '../go-yaml/read/index.js'
import {position} from '../support/line-index.js'

type Node = YamlNode

export interface ParsedGadget {
  /** The file name used in findings. */
  file: string
  yaml: ParsedYaml
  /** Undefined when the YAML could not be read at all. */
  info?: GadgetInfo
  /** go-yaml decode errors (type mismatches, bad quantities, …), in document order. */
  decodeIssues: DecodeIssue[]
  /** True when decoding stopped early (excessive aliasing): `info` is incomplete. */
  aborted: boolean
  origins: Map<object, Origin>
  /** Keys snapd's Go types do not have (dropped when decoding), with where they were met. */
  unknownKeys: Array<FieldSource & {path: Array<number | string>}>
}

export function parseGadget(file: string, input: string | Uint8Array, target: SnapdTarget): ParsedGadget {
  const yaml = parseYaml(input)
  const origins = new Map<object, Origin>()
  if (yaml.problem || !yaml.root) return {aborted: false, decodeIssues: [], file, info: yaml.problem ? undefined : emptyInfo(), origins, unknownKeys: [], yaml}
  const lineOf = (offset: number) => position(yaml.lineStarts, offset).line
  const result = decodeDocument<GadgetInfo>(yaml.root, gadgetInfoType(target), lineOf)
  return {aborted: result.aborted, decodeIssues: result.issues, file, info: result.value ?? emptyInfo(), origins: result.origins, unknownKeys: result.unknown, yaml}
}

function emptyInfo(): GadgetInfo {
  return {'kernel-cmdline': {}}
}

/** Positions in one parsed file. */
export class Locator {
  constructor(private readonly parsed: ParsedGadget) {}

  position(offset: number): Position {
    return position(this.parsed.yaml.lineStarts, offset)
  }

  /** Start and end of a node. */
  range(node: Node | undefined): {end?: Position; start?: Position} {
    if (!node) return {}
    return {end: this.position(node.end), start: this.position(node.start)}
  }

  origin(value: object | undefined): Origin | undefined {
    return value ? this.parsed.origins.get(value) : undefined
  }

  /** Where a field of a decoded struct or map came from. */
  field(owner: object | undefined, key: string): FieldSource | undefined {
    return this.origin(owner)?.fields.get(key)
  }

  /** The node of a field's value, else of its owner. */
  valueNode(owner: object | undefined, key?: string): Node | undefined {
    if (key !== undefined) {
      const f = this.field(owner, key)
      if (f) return f.value
    }

    return this.origin(owner)?.node
  }

  keyNode(owner: object | undefined, key: string): Node | undefined {
    return this.field(owner, key)?.key ?? this.origin(owner)?.node
  }

  /** The node of the i-th decoded element of a slice. */
  item(list: unknown[] | undefined, index: number): Node | undefined {
    return list ? this.origin(list)?.items[index] : undefined
  }
}
