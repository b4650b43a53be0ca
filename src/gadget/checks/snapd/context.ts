/**
 * The state snapd's checks share while they run over one gadget: the input, where decoding
 * already failed, and how to report an error in snapd's words. It judges nothing; what a
 * structure is (roles, mbr, filesystem, where it starts) is in ../../geometry/volumes.ts.
 */
import type {YamlNode as Node} from '../../../go-yaml/read/ast.js'
import type {Locator, ParsedGadget} from '../../decode-gadget.js'
import {goQuote} from '../../quantity.js'
import {didYouMean} from '../../../support/suggest.js'
import type {FileReport} from '../../findings/collector.js'
import type {RuleId} from '../../findings/rules.js'
import {type SnapdTarget} from '../../snapd-version.js'
import type {ContentTree} from '../content-tree.js'
import {SYSTEM_BOOT, SYSTEM_BOOT_STATE, SYSTEM_DATA, SYSTEM_SAVE, SYSTEM_SEED, SYSTEM_SEED_NULL, type StructureRef, type VolumeRef} from '../../geometry/volumes.js'

/** What snapd knows of the model assertion (none for `snap pack`). */
export interface ModelFacts {
  classic: boolean
  /** UC20+ models have a grade; UC16/18 models do not. */
  grade?: string
}

export interface CheckInput {
  parsed: ParsedGadget
  loc: Locator
  report: FileReport
  target: SnapdTarget
  model?: ModelFacts
  /** The gadget's files, for content checks (placeholders when gadget.yaml is judged alone). */
  content: ContentTree
}

/** The roles a structure may have before snapd knew system-seed-null and system-boot-state. */
const STRUCTURE_ROLES = [SYSTEM_DATA, SYSTEM_SEED, SYSTEM_SAVE, SYSTEM_BOOT, 'system-boot-image', 'system-boot-select', 'system-seed-select', 'system-seed-image', 'bootimg', 'bootselect', '']

export function fmtIndexAndName(idx: number, name: string): string {
  return name ? `#${idx} (${goQuote(name)})` : `#${idx}`
}

/** A hint for a name that is none of `names`: the nearest one, or the list. */
export function nameHint(name: string, names: string[]): string | undefined {
  const guess = didYouMean(name, names)
  return guess ? `did you mean "${guess}"?` : names.length > 0 ? `name one of: ${names.map((n) => `"${n}"`).join(', ')}` : 'give the referred structure a name'
}

/** What the checks of one gadget share. */
export class SnapdContext {
  private readonly failedPaths: Set<string>

  /** The roles the target snapd accepts on a structure. */
  readonly structureRoles: readonly string[]

  constructor(readonly input: CheckInput) {
    const {target} = input
    this.structureRoles = [...STRUCTURE_ROLES, ...(target.has('systemSeedNull') ? [SYSTEM_SEED_NULL] : []), ...(target.has('systemBootState') ? [SYSTEM_BOOT_STATE] : [])]
    this.failedPaths = new Set(input.parsed.decodeIssues.map((i) => i.path.join('\u0000')))
  }

  get loc(): Locator {
    return this.input.loc
  }

  get target(): SnapdTarget {
    return this.input.target
  }

  get newest(): boolean {
    return this.target.has('sortedStructures')
  }

  /** Did decoding fail at or below this path? Checks on such values would only repeat the decode error. */
  failed(path: Array<number | string>): boolean {
    const key = path.join('\u0000')
    for (const p of this.failedPaths) if (p === key || p.startsWith(`${key}\u0000`)) return true
    return false
  }

  error(rule: RuleId, snapdMessage: string, node: Node | undefined, hint?: string, path?: Array<number | string>): void {
    this.input.report.add({hint, node, path, rule, snapdMessage})
  }

  prefix(vol: VolumeRef, st?: StructureRef, index = st?.index): string {
    return `invalid volume ${goQuote(vol.name)}: ${st ? `invalid structure ${fmtIndexAndName(index!, st.s.name)}: ` : ''}`
  }
}
