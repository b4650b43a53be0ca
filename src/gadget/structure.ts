/**
 * The structural layer: gadget.yaml's shape checked against schemas/gadget.schema.json, through
 * ajv code generated at build time. snapd ignores keys it does not know, so this is where a
 * misspelled key (`filesytem`, `Volumes`, `structures`) is caught.
 */
import {isAlias, isMap, isScalar, isSeq, type Node, type YAMLMap} from 'yaml'

import type {Locator, ParsedGadget} from './parse.js'
import type {FileReport} from './report.js'
import {didYouMean} from '../util/suggest.js'
import {knownKeys} from './model.js'
import {validate} from './schema/structure.generated.js'

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
  const root = parsed.yaml.doc?.contents as Node | null | undefined
  if (!root || parsed.yaml.problem || parsed.aborted) return
  const view = new JsonView(parsed)
  const data = view.build(root)
  if (data === undefined) return
  validate(data)
  const errors = ((validate as unknown as {errors?: SchemaError[]}).errors ?? []) as SchemaError[]
  for (const error of errors) {
    if (error.keyword !== 'additionalProperties' || !error.params.additionalProperty) continue
    const owner = view.nodeAt(error.instancePath)
    if (!isMap(owner)) continue
    const key = error.params.additionalProperty
    const pair = owner.items.findLast((p) => isScalar(p.key) && String(p.key.value) === key)
    const path = pointerToPath(error.instancePath)
    const allowed = allowedAt(path)
    const guess = didYouMean(key, allowed)
    const stray = knownStrays[key]
    report.add({
      hint: guess ? `did you mean "${guess}"?` : `the keys snapd reads here are: ${allowed.join(', ')}`,
      message: stray ?? `unknown key "${key}": snapd ignores it${guess ? ` (did you mean "${guess}"?)` : ''}`,
      node: (pair?.key as Node | undefined) ?? owner,
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

function pointerToPath(pointer: string): Array<number | string> {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p))
}

/**
 * The document as JSON for the schema: scalars as their source text, the last of duplicate keys,
 * merge keys applied and aliases expanded (bounded), with the way back from every object to its
 * syntax node.
 */
class JsonView {
  private readonly nodes = new Map<string, Node>()
  private count = 0

  constructor(private readonly parsed: ParsedGadget) {}

  build(root: Node): unknown {
    try {
      return this.value(root, '', 0)
    } catch (error) {
      if (error instanceof RangeError) return undefined
      throw error
    }
  }

  nodeAt(pointer: string): Node | undefined {
    return this.nodes.get(pointer)
  }

  private value(node: Node, pointer: string, aliasDepth: number): unknown {
    if (++this.count > MAX_VIEW_NODES) throw new RangeError('document too large once aliases are expanded')
    if (isAlias(node)) {
      const target = this.parsed.yaml.aliasTargets.get(node)
      if (!target || aliasDepth > 50) return null
      return this.value(target, pointer, aliasDepth + 1)
    }

    if (!this.nodes.has(pointer)) this.nodes.set(pointer, node)
    if (isScalar(node)) return String(node.value ?? '')
    if (isSeq(node)) return node.items.map((item, i) => this.value(item as Node, `${pointer}/${i}`, aliasDepth))
    if (isMap(node)) return this.map(node, pointer, aliasDepth)
    return null
  }

  private map(node: YAMLMap, pointer: string, aliasDepth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value ?? '') : undefined
      if (key === undefined) continue
      const value = (pair.value ?? null) as Node | null
      if (key === '<<' && value) {
        this.merge(value, out, pointer, aliasDepth)
        continue
      }

      out[key] = value ? this.value(value, `${pointer}/${escape(key)}`, aliasDepth) : null
    }

    return out
  }

  private merge(node: Node, out: Record<string, unknown>, pointer: string, aliasDepth: number): void {
    const sources = isSeq(node) ? (node.items as Node[]) : [node]
    for (const source of sources) {
      const merged = this.value(source, pointer, aliasDepth)
      if (merged && typeof merged === 'object' && !Array.isArray(merged)) {
        for (const [k, v] of Object.entries(merged)) if (!(k in out)) out[k] = v
      }
    }
  }
}

function escape(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}
