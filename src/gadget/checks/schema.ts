/**
 * The structural layer: gadget.yaml's shape checked against schemas/gadget.schema.json, through
 * ajv code generated at build time. snapd ignores keys it does not know, so this is where a
 * misspelled key (`filesytem`, `Volumes`, `structures`) is caught.
 *
 * Why generated code (ajv's standalone output, scripts/build-validators.mjs, run by the build and
 * by `npm run typecheck`): loading ajv and compiling the schema at start takes 40–50 ms and
 * 80–130 ms on the development machine, loading the generated module 4–9 ms; validate's whole
 * cold start is about 35 ms.
 */
import type {Locator, ParsedGadget} from '../decode-gadget.js'
import type {FileReport} from '../findings/collector.js'
import {pointerToPath} from '../../support/json-pointer.js'
import {didYouMean} from '../../support/suggest.js'
import {knownKeys} from '../gadget-types.js'
import type {YamlMap, YamlNode as Node} from '../../go-yaml/read/ast.js'
import {validate} from './schema.generated.js'

interface SchemaError {
  instancePath: string
  keyword: string
  params: {additionalProperty?: string}
  schemaPath: string
}

/** Documents bigger than this once aliases are expanded are not walked (they fail decoding anyway). */
const MAX_VIEW_NODES = 200_000

/** Keys snapd once read or that other tools read, with what to say instead of "unknown". */
const knownStrays: Record<string, string> = {
  Volumes: 'snapd reads only "volumes" (lower case): with "Volumes:" this gadget has no volumes at all, and snapd checks none of it',
  structures: 'snapd reads "structure" (singular): none of the structures listed under "structures:" is checked or created',
}

export function checkStructure(parsed: ParsedGadget, loc: Locator, report: FileReport): void {
  const {root} = parsed.yaml
  // The schema's only findings are unknown keys; decoding already met every key snapd's types
  // lack, so a document without any needs no schema pass.
  if (!root || parsed.yaml.problem || parsed.aborted || parsed.unknownKeys.length === 0) return
  const view = new JsonView()
  const data = view.build(root)
  if (data === undefined) return
  validate(data)
  const errors = ((validate as unknown as {errors?: SchemaError[]}).errors ?? []) as SchemaError[]
  for (const error of errors) {
    if (error.keyword !== 'additionalProperties' || !error.params.additionalProperty) continue
    const owner = view.nodeAt(error.instancePath)
    if (owner?.kind !== 'map') continue
    const key = error.params.additionalProperty
    const pair = owner.pairs.findLast((p) => p.key.kind === 'scalar' && p.key.value === key)
    const path = pointerToPath(error.instancePath)
    const allowed = allowedAt(path)
    const guess = didYouMean(key, allowed)
    const stray = Object.hasOwn(knownStrays, key) ? knownStrays[key] : undefined
    report.add({
      hint: guess ? `did you mean "${guess}"?` : `the keys snapd reads here are: ${allowed.join(', ')}`,
      // The guess is the hint's: said once.
      message: stray ?? `unknown key "${key}": snapd ignores it`,
      node: pair?.key ?? owner,
      path: [...path, key],
      rule: 'P3',
    })
  }
}

/** The keys snapd reads in the mapping at `path` (an instance path of the document). */
function allowedAt(path: Array<number | string>): readonly string[] {
  const shape = path.map((p, i) => (typeof p === 'number' ? '#' : i > 0 && (path[i - 1] === 'volumes' || path[i - 1] === 'assignment') ? '*' : p)).join('/')
  switch (shape) {
    case '': {
      return knownKeys.info
    }

    case 'volumes/*': {
      return knownKeys.volume
    }

    case 'volumes/*/structure/#': {
      return knownKeys.structure
    }

    case 'volumes/*/structure/#/update': {
      return knownKeys.update
    }

    case 'volumes/*/structure/#/content/#': {
      return knownKeys.content
    }

    case 'connections/#': {
      return ['plug', 'slot']
    }

    case 'kernel-cmdline': {
      return knownKeys.kernelCmdline
    }

    case 'volume-assignments/#': {
      return knownKeys.assignment
    }

    default: {
      return ['device']
    }
  }
}

/**
 * The document as JSON for the schema: scalars as their source text, the last of duplicate keys,
 * merge keys applied and aliases expanded (bounded), with the way back from every object to its
 * syntax node.
 */
class JsonView {
  /** Each mapping object of the view and the syntax node it came from (the first, for merges). */
  private readonly maps = new Map<object, YamlMap>()
  private data: unknown
  private count = 0

  build(root: Node): unknown {
    try {
      this.data = this.value(root, 0)
      return this.data
    } catch (error) {
      if (error instanceof RangeError) return undefined
      throw error
    }
  }

  /** The mapping node at a JSON pointer of the view (only asked for the rare schema errors). */
  nodeAt(pointer: string): YamlMap | undefined {
    let at: unknown = this.data
    for (const segment of pointerToPath(pointer)) {
      if (!at || typeof at !== 'object') return undefined
      at = (at as Record<string, unknown>)[segment]
    }

    return at && typeof at === 'object' ? this.maps.get(at) : undefined
  }

  private value(node: Node, aliasDepth: number): unknown {
    if (++this.count > MAX_VIEW_NODES) throw new RangeError('document too large once aliases are expanded')
    switch (node.kind) {
      case 'alias': {
        return aliasDepth > 50 ? null : this.value(node.target, aliasDepth + 1)
      }

      case 'scalar': {
        return node.value
      }

      case 'seq': {
        return node.items.map((item) => this.value(item, aliasDepth))
      }

      default: {
        return this.map(node, aliasDepth)
      }
    }
  }

  private map(node: YamlMap, aliasDepth: number): Record<string, unknown> {
    // A plain object (ajv's deep equality, for uniqueItems and enum, calls its valueOf); keys go in
    // with setKey, so a "__proto__" key is data, not the prototype.
    const out: Record<string, unknown> = {}
    this.maps.set(out, node)
    for (const {key: keyNode, value} of node.pairs) {
      if (keyNode.kind !== 'scalar') continue
      const key = keyNode.value
      if (key === '<<' && keyNode.style === 'plain') {
        this.merge(value, out, aliasDepth)
        continue
      }

      setKey(out, key, this.value(value, aliasDepth))
    }

    return out
  }

  private merge(node: Node, out: Record<string, unknown>, aliasDepth: number): void {
    const sources = node.kind === 'seq' ? node.items : [node]
    for (const source of sources) {
      const merged = this.value(source, aliasDepth)
      if (merged && typeof merged === 'object' && !Array.isArray(merged)) {
        for (const [k, v] of Object.entries(merged)) if (!Object.hasOwn(out, k)) setKey(out, k, v)
      }
    }
  }
}

function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, {configurable: true, enumerable: true, value, writable: true})
  else out[key] = value
}
