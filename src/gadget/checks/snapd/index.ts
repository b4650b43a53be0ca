/**
 * The checks snapd applies to gadget.yaml, ported from snapd's gadget package (gadget.go,
 * validate.go, layout.go) for 2.57 and for the newest release, with the changes in between
 * keyed on {@link SnapdTarget}. Where snapd stops at its first error, these checks go on and
 * report every problem they can judge soundly; the first error in snapd's order is recorded as
 * the message snapd would print.
 */
import type {YamlNode as Node} from '../../../go-yaml/read/ast.js'

import {type LaidOutStructure, layoutVolume} from './layout.js'
import type {GadgetContent, GadgetInfo, GadgetStructure, GadgetVolume} from '../../model.js'
import type {Locator, ParsedGadget} from '../../decode-gadget.js'
import {formatQuantity, goQuote, iecString, MiB, suggestQuantity, u64} from '../../quantity.js'
import type {FileReport} from '../../findings/collector.js'
import {snapdFeatures, type SnapdTarget} from '../../snapd-version.js'
import type {IfaceValue} from '../../../go-yaml/decode/decode.js'
import type {ContentTree} from '../content-tree.js'
import {didYouMean} from '../../../util/suggest.js'
import {cleanPath} from '../clean-path.js'

/** What snapd knows of the model assertion (none for `snap pack`). */
export interface GadgetModel {
  classic: boolean
  /** UC20+ models have a grade; UC16/18 models do not. */
  grade?: string
}

export interface CheckInput {
  parsed: ParsedGadget
  loc: Locator
  report: FileReport
  target: SnapdTarget
  model?: GadgetModel
  /** The gadget tree, for content checks; undefined checks gadget.yaml alone (like the oracle). */
  content: ContentTree
}

const SYSTEM_SEED = 'system-seed'
const SYSTEM_SEED_NULL = 'system-seed-null'
const SYSTEM_BOOT = 'system-boot'
const SYSTEM_DATA = 'system-data'
const SYSTEM_SAVE = 'system-save'
const SYSTEM_BOOT_STATE = 'system-boot-state'
const SYSTEM_BOOT_STATE_GUID = '3DE21764-95BD-54BD-A5C3-4ABE786F38A8'
/** The roles a structure may have before snapd knew system-seed-null and system-boot-state. */
const STRUCTURE_ROLES = [SYSTEM_DATA, SYSTEM_SEED, SYSTEM_SAVE, SYSTEM_BOOT, 'system-boot-image', 'system-boot-select', 'system-seed-select', 'system-seed-image', 'bootimg', 'bootselect', '']
const FILESYSTEMS = ['ext4', 'vfat', 'none']
const FILESYSTEMS_VFAT_SIZES = ['ext4', 'vfat', 'vfat-16', 'vfat-32', 'none']
const SIZE_MBR = 446n
const NON_MBR_START = MiB

const validVolumeName = /^[a-zA-Z0-9][a-zA-Z0-9-]+$/
const validTypeId = /^[0-9A-F]{2}$/
const validGuid = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i
const validSnapId = /^[a-z0-9A-Z]{32}$/
const validAssetName = /^[a-zA-Z0-9][a-zA-Z0-9-]*$/
const bootloaders = ['grub', 'u-boot', 'android-boot', 'lk', 'piboot']
/** The labels UC20+ models imply for role structures without one. */
const impliedLabels = new Map([
  [SYSTEM_BOOT, 'ubuntu-boot'],
  [SYSTEM_DATA, 'ubuntu-data'],
  [SYSTEM_SAVE, 'ubuntu-save'],
  [SYSTEM_SEED, 'ubuntu-seed'],
  [SYSTEM_SEED_NULL, 'ubuntu-seed'],
])

/** A structure with the facts the checks need about where it is. */
export interface StructureRef {
  s: GadgetStructure
  /** Index in snapd's decoded list (the "#i" of snapd's 2.57 messages). */
  index: number
  /** Index among the YAML items, for paths. */
  yamlIndex: number
  path: Array<number | string>
  volume: VolumeRef
  /** Implicit offset as computed by the newest snapd at parse time (undefined: a range). */
  offset?: bigint
  minSize: bigint
}

export interface VolumeRef {
  name: string
  v: GadgetVolume
  path: Array<number | string>
  structures: StructureRef[]
  /** The schema after defaults ("gpt" when absent, unless partial). */
  schema: string
}

export function fmtIndexAndName(idx: number, name: string): string {
  return name ? `#${idx} (${goQuote(name)})` : `#${idx}`
}

export class SnapdChecks {
  private readonly failedPaths: Set<string>
  readonly volumes: VolumeRef[] = []

  /** The roles the target snapd accepts on a structure. */
  private readonly structureRoles: readonly string[]

  constructor(private readonly input: CheckInput) {
    const {target} = input
    this.structureRoles = [...STRUCTURE_ROLES, ...(target.has('systemSeedNull') ? [SYSTEM_SEED_NULL] : []), ...(target.has('systemBootState') ? [SYSTEM_BOOT_STATE] : [])]
    this.failedPaths = new Set(input.parsed.decodeIssues.map((i) => i.path.join('\u0000')))
  }

  private get loc(): Locator {
    return this.input.loc
  }

  private get target(): SnapdTarget {
    return this.input.target
  }

  private get newest(): boolean {
    return this.target.has('sortedStructures')
  }

  /** Did decoding fail at or below this path? Checks on such values would only repeat the decode error. */
  private failed(path: Array<number | string>): boolean {
    const key = path.join('\u0000')
    for (const p of this.failedPaths) if (p === key || p.startsWith(`${key}\u0000`)) return true
    return false
  }

  private error(rule: string, snapdMessage: string, node: Node | undefined, hint?: string, path?: Array<number | string>): void {
    this.input.report.add({hint, node, path, rule, snapdMessage})
  }

  run(): void {
    const {info} = this.input.parsed
    this.decodeFindings()
    if (!info) return
    this.defaults(info)
    this.connections(info)
    if (this.target.has('kernelCmdline')) this.kernelCmdline(info)
    const volumes = info.volumes
    if (!volumes || volumes.size === 0) {
      if (this.input.model && !this.input.model.classic) {
        this.error('M2', 'bootloader not declared in any volume', this.loc.keyNode(info, 'volumes'), 'a Core model needs a volumes: section with a bootloader')
      }

      return
    }

    this.collectVolumes(info)
    if (this.newest) this.volumesNewest(info)
    else this.volumesLegacy(info)
    this.roles()
    this.contentChecks()
  }

  // -- decoding --------------------------------------------------------------------------------

  private decodeFindings(): void {
    const {parsed, report} = this.input
    const problem = parsed.yaml.problem
    if (problem) {
      const start = this.loc.position(problem.offset)
      report.add({
        hint: yamlHint(problem.message),
        rule: 'P1',
        snapdMessage: `cannot parse gadget metadata: yaml: ${problem.goLine ? `line ${problem.goLine}: ` : ''}${problem.message}`,
        start,
      })
      return
    }

    const fatal = parsed.decodeIssues.find((i) => i.severity === 'fatal')
    const typeIssues = parsed.decodeIssues.filter((i) => i.severity === 'type')
    const aggregated =
      typeIssues.length > 0 ? `cannot parse gadget metadata: yaml: unmarshal errors:\n  ${typeIssues.map((i) => i.message).join('\n  ')}` : undefined
    // go-yaml aborts at its first fatal error; type errors are reported together at the end.
    const snapdMessage = fatal ? `cannot parse gadget metadata: ${fatal.goYaml ? 'yaml: ' : ''}${fatal.message}` : aggregated
    for (const issue of parsed.decodeIssues) {
      const {hint, rule} = decodeIssueRule(issue.path, issue.message)
      report.add({
        hint,
        message: issue.severity === 'type' ? issue.message.replace(/^line \d+: /, '') : issue.message,
        node: issue.node,
        path: issue.path,
        rule,
        snapdMessage: issue === fatal || (!fatal && issue === typeIssues[0]) ? snapdMessage : undefined,
      })
    }
  }

  // -- defaults and connections ---------------------------------------------------------------

  private defaults(info: GadgetInfo): void {
    if (!info.defaults) return
    for (const [key, value] of info.defaults) {
      const field = this.loc.field(info.defaults, key)
      if (key !== 'system' && !validSnapId.test(key)) {
        this.error(
          'T2',
          `default stanza not keyed by "system" or snap-id: ${key}`,
          field?.key,
          /^[a-z0-9-]+$/.test(key)
            ? `defaults are keyed by snap id, not by snap name: replace "${key}" with the 32-character id of the ${key} snap (snap info ${key} shows it), or use "system" for system options`
            : 'use "system" or a 32-character snap id',
          ['defaults', key],
        )
      }

      const bad = value === undefined ? undefined : normalizeProblem(value)
      if (bad) this.error('T3', `default value map[...] of ${goQuote(key)}: ${bad.message}`, field?.value, bad.hint, ['defaults', key])
    }
  }

  private connections(info: GadgetInfo): void {
    info.connections?.forEach((c, i) => {
      const node = this.loc.item(info.connections, i)
      const path = ['connections', i]
      if (this.failed(path)) return
      if (!c.plug || (c.plug.snapId === '' && c.plug.name === '')) {
        this.error('T4', 'gadget connection plug cannot be empty', node, 'give the plug as "<snap-id>:<plug>", e.g. "system:serial-port" is a slot; plugs name the consuming snap', path)
      }
    })
  }

  private kernelCmdline(info: GadgetInfo): void {
    const kc = info['kernel-cmdline']
    if (!kc?.append) return
    kc.append.forEach((arg, i) => {
      const allowed =
        !(arg.param === 'root' || arg.param === 'nfsroot' || arg.param === 'init') &&
        (!arg.param.startsWith('snapd') || arg.param === 'snapd.debug' || arg.param === 'snapd_system_disk')
      if (!allowed) {
        // Runtime rule: snapd refuses it on the device, not at snap pack time.
        this.input.report.add({
          hint: 'root, nfsroot, init and snapd* parameters are set by snapd itself; remove it from append',
          message: `kernel parameter '${arg.param}${arg.value ? `=${arg.value}` : ''}' is not allowed (snapd refuses it on the device)`,
          node: this.loc.item(kc.append, i),
          rule: 'T6',
          severity: 'warning',
        })
      }
    })
  }

  // -- volumes ---------------------------------------------------------------------------------

  private collectVolumes(info: GadgetInfo): void {
    for (const [name, v] of info.volumes!) {
      const path = ['volumes', name]
      if (!v) {
        this.volumes.push({name, path, schema: '', structures: [], v: undefined as unknown as GadgetVolume})
        continue
      }

      const seq = this.loc.origin(v.structure)
      const seqNode = this.loc.field(v, 'structure')?.value as {items?: Node[]} | undefined
      const structures: StructureRef[] = (v.structure ?? []).map((s, index) => {
        const node = seq?.items[index]
        const raw = seqNode?.items?.indexOf(node as Node) ?? -1
        const yamlIndex = raw === -1 ? index : raw
        const minSize = this.target.has('minSize') && s['min-size'] ? s['min-size'] : s.size ?? 0n
        return {index, minSize, path: [...path, 'structure', yamlIndex], s, volume: undefined as unknown as VolumeRef, yamlIndex}
      })
      const ref: VolumeRef = {name, path, schema: v.schema || 'gpt', structures, v}
      for (const st of structures) st.volume = ref
      this.volumes.push(ref)
    }
  }

  private volumesLegacy(info: GadgetInfo): void {
    let bootloadersFound = 0
    for (const vol of this.volumes) {
      const {name, v} = vol
      if (!v) {
        this.volumeStanzaEmpty(info, name)
        continue
      }

      this.validateVolumeLegacy(vol)
      bootloadersFound += this.bootloader(vol)
    }

    this.bootloaderCount(info, bootloadersFound)
    this.impliedLabels()
  }

  private volumesNewest(info: GadgetInfo): void {
    let bootloadersFound = 0
    for (const vol of this.volumes) {
      const {name, v} = vol
      if (!v) {
        this.volumeStanzaEmpty(info, name)
        continue
      }

      if (!this.validatePartial(vol)) continue
      this.setImplicitNewest(vol)
      this.orderByOffset(vol)
      this.validateVolumeNewest(vol)
      bootloadersFound += this.bootloader(vol)
    }

    this.bootloaderCount(info, bootloadersFound)
    if (this.target.has('volumeAssignments')) this.volumeAssignments(info)
  }

  private volumeStanzaEmpty(info: GadgetInfo, name: string): void {
    const field = this.loc.field(info.volumes!, name)
    const suspicious = ['defaults', 'connections', 'kernel-cmdline', 'volume-assignments'].includes(name)
    this.error(
      'V1',
      `volume ${goQuote(name)} stanza is empty`,
      field?.key,
      suspicious
        ? `"${name}:" is indented under volumes:, so snapd reads it as an empty volume; move it to the top level (no indentation)`
        : `give the volume its bootloader, schema and structure, or remove "${name}:"`,
      ['volumes', name],
    )
  }

  private bootloader(vol: VolumeRef): number {
    const {v} = vol
    const value = v.bootloader
    if (value === '') return 0
    if (!bootloaders.includes(value)) {
      const guess = didYouMean(value, bootloaders)
      this.error(
        'V4',
        'bootloader must be one of grub, u-boot, android-boot, piboot or lk',
        this.loc.valueNode(v, 'bootloader'),
        guess ? `did you mean "${guess}"?` : 'use grub (x86, arm64 UEFI), u-boot, piboot (Raspberry Pi, UC20+), lk or android-boot',
        [...vol.path, 'bootloader'],
      )
      // Counted anyway: snapd stops here, and "no bootloader" would only repeat this.
      return 1
    }

    if (value === 'piboot' && this.input.model && !this.input.model.grade) {
      this.error('V6', 'piboot bootloader valid only for UC20 onwards', this.loc.valueNode(v, 'bootloader'), 'use u-boot for a UC16/18 model, or a UC20+ model (with a grade)', [
        ...vol.path,
        'bootloader',
      ])
    }

    return 1
  }

  private bootloaderCount(info: GadgetInfo, found: number): void {
    const declared = this.volumes.filter((v) => v.v && v.v.bootloader !== '')
    if (found === 0) {
      const topLevel = this.loc.origin(info)?.unknown.find((u) => String((u.key as {value?: unknown}).value) === 'bootloader')
      this.error(
        'V5',
        'bootloader not declared in any volume',
        topLevel?.key ?? this.loc.keyNode(info, 'volumes'),
        topLevel
          ? 'move "bootloader:" from the top level into the volume that boots (snapd only reads volumes.<name>.bootloader)'
          : 'add "bootloader: <grub|u-boot|piboot|lk|android-boot>" to the volume the device boots from',
        ['volumes'],
      )
    } else if (found > 1) {
      const second = declared[1]
      this.error(
        'V5',
        `too many (${found}) bootloaders declared`,
        second ? this.loc.valueNode(second.v, 'bootloader') : this.loc.keyNode(info, 'volumes'),
        `declare the bootloader only in the volume the device boots from (${declared.map((v) => `"${v.name}"`).join(' and ')} both do)`,
        second ? [...second.path, 'bootloader'] : ['volumes'],
      )
    }
  }

  private prefix(vol: VolumeRef, st?: StructureRef, index = st?.index): string {
    return `invalid volume ${goQuote(vol.name)}: ${st ? `invalid structure ${fmtIndexAndName(index!, st.s.name)}: ` : ''}`
  }

  private volumeName(vol: VolumeRef): void {
    if (!validVolumeName.test(vol.name)) {
      this.error(
        'V2',
        `${this.prefix(vol)}invalid name`,
        this.loc.field(this.input.parsed.info!.volumes!, vol.name)?.key,
        'volume names are two or more letters, digits or "-", not starting with "-" (no "_" or ".")',
        vol.path,
      )
    }
  }

  private validateVolumeLegacy(vol: VolumeRef): void {
    const {v} = vol
    this.volumeName(vol)
    if (v.schema !== '' && v.schema !== 'gpt' && v.schema !== 'mbr') this.invalidSchema(vol)
    const names = new Map<string, StructureRef>()
    const labels = new Set<string>()
    let previousEnd = 0n
    const laid: Array<{start: bigint; st: StructureRef}> = []
    for (const st of vol.structures) {
      this.validateStructure(vol, st)
      const start = st.s.offset ?? previousEnd
      laid.push({st, start})
      if (st.s.name !== '') {
        if (names.has(st.s.name)) this.nameNotUnique(vol, st)
        else names.set(st.s.name, st)
      }

      const label = st.s['filesystem-label']
      if (label !== '') {
        if (labels.has(label)) this.labelNotUnique(vol, st)
        labels.add(label)
      }

      previousEnd = u64(start + (st.s.size ?? 0n))
    }

    // cross structure validation, sorted by start offset (stable, as Go's sort.Sort is not,
    // but equal offsets only matter for overlapping structures)
    laid.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
    previousEnd = 0n
    laid.forEach(({st, start}, i) => {
      const {s} = st
      const where = () => `structure ${fmtIndexAndName(st.index, s.name)}`
      if (isMbr(s) && start !== 0n) {
        this.error('X3', `${this.prefix(vol)}${where()} has "mbr" role and must start at offset 0`, this.loc.valueNode(s), 'put the mbr structure first in the list, or give it "offset: 0"', st.path)
      }

      const ow = s['offset-write']
      if (ow && ow.relativeTo !== '' && !names.has(ow.relativeTo)) {
        this.error(
          'X4',
          `${this.prefix(vol)}${where()} refers to an unknown structure ${goQuote(ow.relativeTo)}`,
          this.loc.valueNode(s, 'offset-write'),
          hintName(ow.relativeTo, [...names.keys()]),
          [...st.path, 'offset-write'],
        )
      }

      if (start < previousEnd && !this.failed(st.path)) {
        const prev = laid[i - 1].st
        this.error(
          'X1',
          `${this.prefix(vol)}${where()} overlaps with the preceding structure ${fmtIndexAndName(prev.index, prev.s.name)}`,
          this.loc.valueNode(s, s.offset === undefined ? undefined : 'offset'),
          `${describeStructure(prev)} ends at ${formatQuantity(previousEnd)}; start this one at ${formatQuantity(previousEnd)} or later`,
          st.path,
        )
      }

      previousEnd = u64(start + (s.size ?? 0n))
      if (hasFilesystem(s, vol.v, this.target)) return
      s.content?.forEach((c, ci) => {
        const cow = c['offset-write']
        if (cow && cow.relativeTo !== '' && !names.has(cow.relativeTo)) {
          this.error(
            'X5',
            `${this.prefix(vol)}${where()}, content ${fmtIndexAndName(ci, c.image)} refers to an unknown structure ${goQuote(cow.relativeTo)}`,
            this.loc.valueNode(c, 'offset-write'),
            hintName(cow.relativeTo, [...names.keys()]),
            [...st.path, 'content', ci, 'offset-write'],
          )
        }
      })
    })
  }

  private invalidSchema(vol: VolumeRef): void {
    const allowed = this.target.has('emmc') ? ['gpt', 'mbr', 'emmc'] : ['gpt', 'mbr']
    const guess = didYouMean(vol.v.schema, allowed)
    const tooNew = vol.v.schema === 'emmc' ? ` (emmc needs snapd ${snapdFeatures.emmc} or later)` : ''
    this.error('V3', `${this.prefix(vol)}invalid schema ${goQuote(vol.v.schema)}`, this.loc.valueNode(vol.v, 'schema'), `use ${allowed.join(' or ')}${guess ? `: did you mean "${guess}"?` : ''}${tooNew}`, [
      ...vol.path,
      'schema',
    ])
  }

  private nameNotUnique(vol: VolumeRef, st: StructureRef): void {
    this.error('S11', `${this.prefix(vol)}structure name ${goQuote(st.s.name)} is not unique`, this.loc.valueNode(st.s, 'name'), 'give each structure of a volume its own name', [...st.path, 'name'])
  }

  private labelNotUnique(vol: VolumeRef, st: StructureRef): void {
    const label = st.s['filesystem-label']
    this.error(
      'X6',
      `${this.prefix(vol)}filesystem label ${goQuote(label)} is not unique`,
      this.loc.valueNode(st.s, 'filesystem-label'),
      this.newest ? 'labels must differ within a volume; on vfat, case is ignored ("BOOT" and "boot" clash)' : 'give each filesystem of a volume its own label',
      [...st.path, 'filesystem-label'],
    )
  }

  /** validateVolumeStructure (both versions; emmc handled by the caller). */
  private validateStructure(vol: VolumeRef, st: StructureRef, index = st.index): void {
    const {s} = st
    // Messages are built only when there is something to report.
    const pre = () => this.prefix(vol, st, index)
    const partialSize = this.hasPartial(vol, 'size') && (s.size ?? 0n) === 0n
    if (!partialSize) {
      if ((s.size ?? 0n) === 0n && !this.failed([...st.path, 'size'])) {
        this.error('S2', `${pre()}missing size`, this.loc.valueNode(s, this.loc.field(s, 'size') ? 'size' : undefined), 'give the structure a size, e.g. "size: 1200M"', [...st.path, 'size'])
      }

      if (this.target.has('minSize') && s['min-size'] !== undefined && s['min-size'] > (s.size ?? 0n) && (s.size ?? 0n) !== 0n) {
        this.error('S3', `${pre()}min-size (${s['min-size']}) is bigger than size (${s.size ?? 0n})`, this.loc.valueNode(s, 'min-size'), 'min-size is the smallest the structure may be; make it no bigger than size', [
          ...st.path,
          'min-size',
        ])
      }
    }

    this.structureType(vol, st, pre)
    this.role(vol, st, pre)
    const filesystems = this.target.has('vfat16And32') ? FILESYSTEMS_VFAT_SIZES : FILESYSTEMS
    if (s.filesystem !== '' && !filesystems.includes(s.filesystem)) {
      const guess = didYouMean(s.filesystem, filesystems) ?? (/^fat/i.test(s.filesystem) || /^vfat/i.test(s.filesystem) ? 'vfat' : undefined)
      const newer = /^vfat-(16|32)$/.test(s.filesystem) ? ` (${s.filesystem} needs snapd ${snapdFeatures.vfat16And32} or later; "vfat" works everywhere)` : ''
      this.error('S10', `${pre()}invalid filesystem ${goQuote(s.filesystem)}`, this.loc.valueNode(s, 'filesystem'), `use ${filesystems.join(', ')}${guess ? `: did you mean "${guess}"?` : ''}${newer}`, [
        ...st.path,
        'filesystem',
      ])
    }

    const fs = hasFilesystem(s, vol.v, this.target)
    s.content?.forEach((c, i) => {
      const problem = fs ? filesystemContentProblem(c, this.target) : bareContentProblem(c)
      if (problem) {
        this.error(fs ? 'C2' : 'C1', `${pre()}invalid content #${i}: ${problem.message}`, this.loc.item(s.content, i), problem.hint, [...st.path, 'content', i])
      }
    })
    this.structureUpdate(vol, st, pre, fs)
  }

  private structureUpdate(vol: VolumeRef, st: StructureRef, pre: () => string, fs: boolean): void {
    const preserve = st.s.update?.preserve ?? []
    if (!fs && preserve.length > 0) {
      this.error(
        'U2',
        `${pre()}preserving files during update is not supported for non-filesystem structures`,
        this.loc.valueNode(st.s.update, 'preserve'),
        'preserve lists files of a filesystem; remove it from raw structures',
        [...st.path, 'update', 'preserve'],
      )
    }

    const seen = new Set<string>()
    preserve.forEach((p, i) => {
      if (seen.has(p)) {
        this.error('U3', `${pre()}duplicate "preserve" entry ${goQuote(p)}`, this.loc.item(preserve, i), 'list each preserved path once', [...st.path, 'update', 'preserve', i])
      }

      seen.add(p)
    })
  }

  private structureType(vol: VolumeRef, st: StructureRef, pre: () => string): void {
    const t = st.s.type
    const fail = (rule: string, detail: string, hint: string) =>
      this.error(rule, `${pre()}invalid type ${goQuote(t)}: ${detail}`, this.loc.valueNode(st.s, this.loc.field(st.s, 'type') ? 'type' : undefined), hint, [...st.path, 'type'])
    if (vol.v.schema === 'emmc' && this.target.has('emmc')) return
    if (t === '') {
      fail('S5', 'type is not specified', 'add a type: a GUID for gpt volumes (e.g. 0FC63DAF-8483-4772-8E79-3D69D8477DE4 for Linux data), two hex digits for mbr (e.g. 83), or "bare"')
      return
    }

    if (t === 'bare' || t === 'mbr') return
    let isGpt = false
    let isMbrType = false
    let isHybrid = false
    const comma = t.indexOf(',')
    if (comma === -1) {
      if (validTypeId.test(t)) isMbrType = true
      else if (validGuid.test(t)) isGpt = true
      else {
        const upper = t.toUpperCase()
        const hint = /^[0-9a-f]{2}$/i.test(t)
          ? `MBR type codes are upper case: use "${upper}"`
          : /^0x[0-9a-f]{2}$/i.test(t)
            ? `write the MBR type code without 0x: "${t.slice(2).toUpperCase()}"`
            : /^\d+$/.test(t) && t.length !== 2
              ? 'MBR types are exactly two hex digits (e.g. 0C, 83); quote them so YAML keeps the leading zero'
              : 'use "bare", "mbr", two upper-case hex digits (MBR), a GUID (GPT), or "XX,GUID" (hybrid)'
        fail('S5', 'invalid format', hint)
        return
      }
    } else {
      isHybrid = true
      const code = t.slice(0, comma)
      const guid = t.slice(comma + 1)
      if (code.length !== 2 || guid.length !== 36 || !validTypeId.test(code) || !validGuid.test(guid)) {
        fail('S5', 'invalid format of hybrid type', 'a hybrid type is two upper-case hex digits, a comma and a GUID, with no spaces, e.g. "EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B"')
        return
      }
    }

    if (this.target.has('partial') && this.hasPartial(vol, 'schema')) {
      if (!isHybrid) fail('S6', 'both MBR type and GUID structure type needs to be defined on partial schemas', 'with "partial: [schema]" use a hybrid type "XX,GUID"')
      return
    }

    const schema = vol.v.schema || 'gpt'
    // An invalid schema is reported once (V3), not again for every structure type.
    if (!['gpt', 'mbr'].includes(schema)) return
    const shown = this.newest ? vol.schema : vol.v.schema
    if (schema !== 'gpt' && isGpt) fail('S6', `GUID structure type with non-GPT schema ${goQuote(shown)}`, 'use a two-digit MBR type in an mbr volume, or a hybrid "XX,GUID"')
    if (schema !== 'mbr' && isMbrType) {
      fail('S6', `MBR structure type with non-MBR schema ${goQuote(shown)}`, `use a GUID in a gpt volume (the default schema), a hybrid "${t},<GUID>", or set "schema: mbr"`)
    }
  }

  private role(vol: VolumeRef, st: StructureRef, pre: () => string): void {
    const {s} = st
    const what = () => (s.role === '' ? `implicit role ${goQuote(s.type)}` : `role ${goQuote(s.role)}`)
    const field = s.role === '' ? 'type' : 'role'
    const fail = (rule: string, detail: string, hint: string, at = this.loc.valueNode(s, field)) => this.error(rule, `${pre()}invalid ${what()}: ${detail}`, at, hint, [...st.path, field])
    if (s.type === 'bare' && s.role !== '' && s.role !== 'mbr') {
      fail('S8', 'conflicting type: "bare"', `a bare structure is not a partition and cannot have role ${s.role}; give it a partition type or drop the role`)
      return
    }

    let role = s.role
    if (s.type === 'mbr') {
      if (role !== '' && role !== 'mbr') {
        fail('S8', 'conflicting legacy type: "mbr"', '"type: mbr" implies "role: mbr"; use "type: bare" with "role: mbr"')
        return
      }

      role = 'mbr'
    }

    const roles = this.structureRoles
    switch (role) {
      case 'mbr': {
        const size = s.size ?? 0n
        if (size > SIZE_MBR) fail('S9', 'mbr structures cannot be larger than 446 bytes', `the MBR boot code area is 446 bytes (pc gadgets use 440): set "size: 440"`, this.loc.valueNode(s, 'size'))
        if (s.offset !== undefined && s.offset !== 0n) fail('S9', 'mbr structure must start at offset 0', 'set "offset: 0" or remove the offset', this.loc.valueNode(s, 'offset'))
        if (s.id !== '') fail('S9', 'mbr structure must not specify partition ID', 'remove "id:" from the mbr structure', this.loc.valueNode(s, 'id'))
        if (s.filesystem !== '' && s.filesystem !== 'none') fail('S9', 'mbr structures must not specify a file system', 'remove "filesystem:" from the mbr structure', this.loc.valueNode(s, 'filesystem'))
        break
      }

      default: {
        if (role === SYSTEM_BOOT_STATE && this.target.has('systemBootState')) {
          this.systemBootState(st, fail)
        } else if (!roles.includes(role)) {
          const newer = role === SYSTEM_SEED_NULL ? snapdFeatures.systemSeedNull : role === SYSTEM_BOOT_STATE ? snapdFeatures.systemBootState : undefined
          const guess = didYouMean(role, roles.filter(Boolean))
          fail(
            'S7',
            'unsupported role',
            newer
              ? `the ${role} role needs snapd ${newer} or later (this check targets ${this.target.label})`
              : `use one of ${roles.filter(Boolean).join(', ')}${guess ? `: did you mean "${guess}"?` : ''}`,
          )
        }
      }
    }
  }

  private systemBootState(st: StructureRef, fail: (rule: string, detail: string, hint: string, at?: Node) => void): void {
    const {s} = st
    const size = s.size ?? 0n
    if (st.minSize !== size) fail('R7', 'system-boot-state role does not support min-size', 'remove min-size from the system-boot-state structure')
    else if (size < MiB) fail('R7', `system-boot-state partition must be at least 1 MiB, got ${iecString(size)}`, 'set "size: 1M" or more')
    else if (s.filesystem !== '' && s.filesystem !== 'none') fail('R7', 'system-boot-state role must have no filesystem', 'remove "filesystem:"')
    else if (s.type.toUpperCase() !== SYSTEM_BOOT_STATE_GUID) {
      fail('R7', `system-boot-state role requires type ${SYSTEM_BOOT_STATE_GUID}, got ${s.type}`, `set "type: ${SYSTEM_BOOT_STATE_GUID}"`)
    }
  }

  // -- newest-only parse steps -----------------------------------------------------------------

  private hasPartial(vol: VolumeRef, what: string): boolean {
    return this.target.has('partial') && (vol.v.partial ?? []).includes(what)
  }

  private validatePartial(vol: VolumeRef): boolean {
    if (!this.target.has('partial')) return true
    const seen = new Set<string>()
    const valid = ['size', 'filesystem', 'schema', 'structure']
    for (const [i, p] of (vol.v.partial ?? []).entries()) {
      const node = this.loc.item(vol.v.partial, i)
      if (!valid.includes(p)) {
        this.error('V8', `${goQuote(p)} is not a valid partial value`, node, `partial lists ${valid.join(', ')}`, [...vol.path, 'partial', i])
        return false
      }

      if (seen.has(p)) {
        this.error('V8', `partial value ${goQuote(p)} is repeated`, node, 'list each partial value once', [...vol.path, 'partial', i])
        return false
      }

      seen.add(p)
    }

    return true
  }

  /** setImplicitForVolume (newest): schema default, labels, implicit offsets with the 1 MiB push. */
  private setImplicitNewest(vol: VolumeRef): void {
    const {v} = vol
    if (this.hasPartial(vol, 'schema')) {
      if (v.schema !== '') {
        this.error('V3', `${this.prefix(vol)}partial schema is set but schema is still specified as ${goQuote(v.schema)}`, this.loc.valueNode(v, 'schema'), 'remove "schema:" or drop schema from partial', [
          ...vol.path,
          'schema',
        ])
      }

      vol.schema = ''
    }

    const known = new Set<string>()
    const knownVfat = new Set<string>()
    for (const st of vol.structures) {
      const label = st.s['filesystem-label']
      if (label !== '' && !setKnownLabel(label, linuxFilesystem(st.s.filesystem), known, knownVfat)) this.labelNotUnique(vol, st)
    }

    let previousEnd: bigint | undefined = 0n
    for (const st of vol.structures) {
      const {s} = st
      const implied = this.impliedLabel(st)
      if (implied && !setKnownLabel(implied, linuxFilesystem(s.filesystem), known, knownVfat)) {
        this.error('M4', `${this.prefix(vol)}filesystem label ${goQuote(implied)} is implied by ${s.role} role but was already set elsewhere`, this.loc.valueNode(s), `another structure uses "${implied}"; rename that label`, st.path)
      }

      if (this.target.has('systemBootState') && s.role === SYSTEM_BOOT_STATE && s.offset === undefined) {
        this.error(
          'R7',
          `${this.prefix(vol)}invalid structure #${st.index} (${goQuote(s.name)}): invalid role ${goQuote(s.role)}: system-boot-state role requires explicit offset`,
          this.loc.valueNode(s, 'role'),
          'give the system-boot-state structure an explicit offset',
          [...st.path, 'offset'],
        )
      }

      if (vol.v.schema === 'emmc' && this.target.has('emmc')) {
        st.offset = 0n
        continue
      }

      if (s.offset === undefined && previousEnd !== undefined) {
        st.offset = s.role !== 'mbr' && !(s.role === '' && s.type === 'mbr') && previousEnd < NON_MBR_START ? NON_MBR_START : previousEnd
      } else {
        st.offset = s.offset
      }

      const fixed = !(this.hasPartial(vol, 'size') && (s.size ?? 0n) === 0n) && (s.size ?? 0n) === st.minSize
      previousEnd = st.offset !== undefined && fixed ? u64(st.offset + (s.size ?? 0n)) : undefined
    }
  }

  private impliedLabel(st: StructureRef): string | undefined {
    const {model} = this.input
    const {s} = st
    if (!model || s['filesystem-label'] !== '') return undefined
    if (s.role === '' && s.type === 'mbr') return undefined
    if (!model.grade) return s.role === SYSTEM_DATA ? 'writable' : undefined
    return impliedLabels.get(s.role)
  }

  /** Legacy setImplicitForVolume with a model: implied labels may collide (M4). */
  private impliedLabels(): void {
    if (!this.input.model) return
    for (const vol of this.volumes) {
      if (!vol.v) continue
      const known = new Set(vol.structures.map((st) => st.s['filesystem-label']).filter(Boolean))
      for (const st of vol.structures) {
        const {s} = st
        if (!this.input.model.grade && s.role === '' && s['filesystem-label'] === SYSTEM_BOOT) continue
        const implied = this.impliedLabel(st)
        if (!implied) continue
        if (known.has(implied)) {
          this.error('M4', `${this.prefix(vol)}filesystem label ${goQuote(implied)} is implied by ${s.role} role but was already set elsewhere`, this.loc.valueNode(s), `another structure uses "${implied}"; rename that label`, st.path)
        }

        known.add(implied)
      }
    }
  }

  /** orderStructuresByOffset: blocks starting at a known offset, sorted by it. */
  private orderByOffset(vol: VolumeRef): void {
    const blocks: StructureRef[][] = []
    for (const st of vol.structures) {
      if (st.offset !== undefined || blocks.length === 0) blocks.push([st])
      else blocks.at(-1)!.push(st)
    }

    if (blocks.length < 2) return
    blocks.sort((a, b) => {
      const x = a[0].offset ?? 0n
      const y = b[0].offset ?? 0n
      return x < y ? -1 : x > y ? 1 : 0
    })
    // A loop, not Array.prototype.flat: flat is several times slower in V8 on this hot path.
    const ordered: StructureRef[] = []
    for (const block of blocks) for (const st of block) ordered.push(st)
    vol.structures = ordered
  }

  private validateVolumeNewest(vol: VolumeRef): void {
    const {v} = vol
    this.volumeName(vol)
    const emmc = this.target.has('emmc') && v.schema === 'emmc'
    if (!this.hasPartial(vol, 'schema') && !['mbr', 'gpt', ...(this.target.has('emmc') ? ['emmc'] : [])].includes(vol.schema)) this.invalidSchema(vol)
    const names = new Set<string>()
    vol.structures.forEach((st, idx) => {
      if (emmc) this.validateEmmcStructure(vol, st, idx)
      else this.validateStructure(vol, st, idx)
      if (vol.schema === 'gpt' && st.s.offset !== undefined) this.gptHeader(st)
      if (st.s.name !== '') {
        if (names.has(st.s.name)) this.nameNotUnique(vol, {...st, index: idx})
        names.add(st.s.name)
      }
    })
    if (emmc) return
    this.crossStructureNewest(vol)
  }

  private gptHeader(st: StructureRef): void {
    const start = st.s.offset!
    const end = u64(start + st.minSize)
    const overlaps = start < 512n * 34n && end > 4096n
    const might = !overlaps && start < 4096n * 6n && end > 512n
    if (overlaps || might) {
      this.input.report.add({
        hint: 'start partitions at 1M (or at least after 24576 bytes) so the GPT header and table stay intact',
        message: overlaps
          ? `structure ${goQuote(st.s.name)} overlaps the GPT header or partition table (bytes 4096 to 17408)`
          : `structure ${goQuote(st.s.name)} might overlap the GPT header or partition table (bytes 512 to 24576)`,
        node: this.loc.valueNode(st.s, 'offset'),
        path: [...st.path, 'offset'],
        rule: 'X8',
        severity: 'warning',
      })
    }
  }

  private crossStructureNewest(vol: VolumeRef): void {
    const first = vol.structures[0]
    const volMinSize = volumeSize(vol.structures, (st) => st.minSize)
    let previousEnd = 0n
    vol.structures.forEach((st, pidx) => {
      const {s} = st
      if (isMbr(s) && (st.offset === undefined || st.offset !== 0n)) {
        this.error('X3', `${this.prefix(vol)}invalid structure ${fmtIndexAndName(pidx, s.name)}: invalid role "mbr": mbr structure must start at offset 0`, this.loc.valueNode(s), 'put the mbr structure first, at offset 0', st.path)
      }

      this.offsetWriteNewest(vol, st, first, volMinSize)
      if (st.offset !== undefined) {
        if (st.offset < previousEnd && !this.failed(st.path)) {
          const prev = vol.structures[pidx - 1]
          this.error(
            'X1',
            `${this.prefix(vol)}structure ${goQuote(s.name)} overlaps with the preceding structure ${goQuote(prev.s.name)}`,
            this.loc.valueNode(s, s.offset === undefined ? undefined : 'offset'),
            `${describeStructure(prev)} ends at ${formatQuantity(previousEnd)}; start this one at ${formatQuantity(previousEnd)} or later`,
            st.path,
          )
        }

        previousEnd = u64(st.offset + (s.size ?? 0n))
      } else {
        previousEnd = u64(previousEnd + (s.size ?? 0n))
      }
    })
  }

  private offsetWriteNewest(vol: VolumeRef, st: StructureRef, first: StructureRef, volMinSize: bigint): void {
    const ow = st.s['offset-write']
    if (!ow) return
    const node = this.loc.valueNode(st.s, 'offset-write')
    const path = [...st.path, 'offset-write']
    const pre = () => this.prefix(vol)
    if (ow.relativeTo !== '') {
      if (ow.relativeTo !== first.s.name) {
        this.error('X4', `${pre()}structure ${goQuote(st.s.name)} refers to an unexpected structure ${goQuote(ow.relativeTo)}`, node, `from snapd ${snapdFeatures.strictOffsetWrite}, offset-write may only be relative to the first structure (${goQuote(first.s.name)}), usually the mbr`, path)
      } else if (first.offset !== 0n) {
        this.error('X4', `${pre()}structure ${goQuote(st.s.name)} refers to structure ${goQuote(ow.relativeTo)}, which does not have 0 offset`, node, 'the structure offset-write refers to must be at offset 0', path)
      } else if (ow.offset + 4n > first.minSize) {
        this.error('X4', `${pre()}structure ${goQuote(st.s.name)} wants to write offset of 4 bytes to ${ow.offset}, outside of referred structure ${goQuote(ow.relativeTo)}`, node, `the 4-byte pointer must fit inside ${goQuote(ow.relativeTo)} (${first.minSize} bytes)`, path)
      }
    } else if (ow.offset + 4n > volMinSize) {
      this.error('X4', `${pre()}structure ${goQuote(st.s.name)} wants to write offset of 4 bytes to ${ow.offset}, outside of volume of min size ${volMinSize}`, node, 'the 4-byte pointer must be written inside the volume', path)
    }
  }

  private validateEmmcStructure(vol: VolumeRef, st: StructureRef, idx: number): void {
    const {s} = st
    const pre = () => this.prefix(vol, st, idx)
    const checks: Array<[string, boolean]> = [
      ['size', this.target.has('emmcNoSize') && (s.size ?? 0n) !== 0n],
      ['min-size', this.target.has('emmcNoSize') && (s['min-size'] ?? 0n) !== 0n],
      ['filesystem-label', s['filesystem-label'] !== ''],
      ['offset', s.offset !== undefined && s.offset !== 0n],
      ['offset-write', s['offset-write'] !== undefined],
      ['filesystem', s.filesystem !== ''],
      ['type', s.type !== ''],
      ['id', s.id !== ''],
      ['role', s.role !== ''],
    ]
    if (!this.target.has('emmcNoSize') && (s.size ?? 0n) === 0n) {
      this.error('S2', `${pre()}missing size`, this.loc.valueNode(s), `snapd ${this.target.label} still requires a size for emmc structures`, st.path)
    }

    const bad = checks.find(([, isSet]) => isSet)
    if (bad) {
      this.error('E2', `${pre()}${goQuote(bad[0])} not allowed for emmc volume structures`, this.loc.keyNode(s, bad[0]), 'emmc structures take only name, content and update', [...st.path, bad[0]])
      return
    }

    s.content?.forEach((c, i) => {
      let problem: string | undefined
      if (c.offset !== undefined || (c.size ?? 0n) !== 0n) problem = 'cannot specify size or offset for content'
      else if (c.source !== '' || c.target !== '') problem = 'cannot use non-image content for hardware partitions'
      else if (c.image === '') problem = 'missing image file name'
      if (problem) this.error('E4', `${pre()}invalid content #${i}: ${problem}`, this.loc.item(s.content, i), 'emmc content is a list of images, without offset or size', [...st.path, 'content', i])
    })
    this.structureUpdate(vol, st, pre, hasFilesystem(s, vol.v, this.target))
  }

  private volumeAssignments(info: GadgetInfo): void {
    const list = info['volume-assignments']
    if (!list) return
    const seen: Array<{key: string; name: string}> = []
    list.forEach((va, i) => {
      const node = this.loc.item(list, i)
      const path = ['volume-assignments', i]
      if (!va) {
        this.error('T7', `volume-assignment variant #${i} is empty`, node, 'give the variant an assignment-name and an assignment', path)
        return
      }

      const name = va['assignment-name']
      const pre = () => `volume-assignment variant ${goQuote(name)}: `
      const assignments = va.assignment
      if (!assignments || assignments.size === 0) {
        this.error('T7', `${pre()}no assignments specified`, node, 'map at least one volume to a device under assignment:', path)
        return
      }

      for (const [vol, da] of assignments) {
        const aNode = this.loc.field(assignments, vol)?.key
        if (!info.volumes?.get(vol)) {
          this.error('T7', `${pre()}volume ${goQuote(vol)} is mentioned in assignment but has not been defined`, aNode, hintName(vol, [...(info.volumes?.keys() ?? [])]) ?? 'assign only volumes defined under volumes:', [...path, 'assignment', vol])
          return
        }

        const device = da?.device ?? ''
        if (!(device.startsWith('/dev/disk/by-path') || device.startsWith('/dev/disk/by-id'))) {
          this.error(
            'T7',
            `${pre()}${goQuote(vol)}: unsupported device path ${goQuote(device)}, for now only paths under /dev/disk/{by-path,by-id} are valid`,
            this.loc.valueNode(da, 'device') ?? aNode,
            'name the disk by a stable path: /dev/disk/by-path/… or /dev/disk/by-id/…',
            [...path, 'assignment', vol, 'device'],
          )
          return
        }
      }

      const key = [...assignments].map(([k, d]) => k + (d?.device ?? '')).sort().join(' ')
      const twin = seen.find((s) => s.key === key)
      if (twin) this.error('T7', `${pre()}identical to ${goQuote(twin.name)}`, node, 'remove one of the two identical variants', path)
      seen.push({key, name})
    })
  }

  // -- roles (gadget.Validate) -----------------------------------------------------------------

  private roles(): void {
    const vols = this.volumes.filter((v) => v.v)
    const tracked = [SYSTEM_SEED, SYSTEM_BOOT, SYSTEM_DATA, SYSTEM_SAVE]
    if (this.target.has('systemSeedNull')) tracked.push(SYSTEM_SEED_NULL)
    if (this.target.has('systemBootState')) tracked.push(SYSTEM_BOOT_STATE)
    const roles = new Map<string, StructureRef>()
    const xvols = this.volumes.length === 1 ? '' : ' across volumes'
    for (const vol of vols) {
      for (const st of vol.structures) {
        if (!tracked.includes(st.s.role)) continue
        if (roles.has(st.s.role)) {
          this.error('R1', `cannot have more than one partition with ${st.s.role} role${xvols}`, this.loc.valueNode(st.s, 'role'), `only one structure may have role ${st.s.role}`, [...st.path, 'role'])
          continue
        }

        roles.set(st.s.role, st)
      }
    }

    if (roles.has(SYSTEM_SEED) && roles.has(SYSTEM_SEED_NULL)) {
      const st = roles.get(SYSTEM_SEED_NULL)!
      this.error('R1', `cannot have more than one partition with system-seed/system-seed-null role${xvols}`, this.loc.valueNode(st.s, 'role'), 'use either system-seed (Core) or system-seed-null (classic), not both', [
        ...st.path,
        'role',
      ])
    }

    const {model} = this.input
    let hasModes: boolean
    let classicWithModes = false
    if (model) {
      hasModes = Boolean(model.grade)
      classicWithModes = model.classic && hasModes && this.target.has('systemSeedNull')
    } else {
      hasModes = roles.has(SYSTEM_SEED)
      if (roles.has(SYSTEM_SEED_NULL)) {
        hasModes = true
        classicWithModes = true
      }
    }

    for (const vol of vols) {
      if (this.target.has('emmc') && vol.v.schema === 'emmc') this.emmcVolume(vol)
      vol.structures.forEach((st, idx) => {
        this.reservedLabel(vol, st, hasModes, this.newest ? idx : st.index)
        if (this.target.has('emmc') && vol.v.schema === 'emmc' && !['boot0', 'boot1'].includes(st.s.name)) {
          this.error('E3', `${this.prefix(vol, st, idx)}cannot use ${goQuote(st.s.name)} as emmc name, only ["boot0" "boot1"] is allowed`, this.loc.valueNode(st.s, 'name'), 'name emmc structures boot0 and boot1', [
            ...st.path,
            'name',
          ])
        }
      })
    }

    if (classicWithModes) this.rolesClassicWithModes(roles)
    else this.rolesConsistency(roles, hasModes)
  }

  private emmcVolume(vol: VolumeRef): void {
    const {v} = vol
    const bad = v.bootloader !== '' ? 'bootloader' : v.id !== '' ? 'id' : (v.partial ?? []).length > 0 ? 'partial' : undefined
    if (!bad) return
    const message = bad === 'partial' ? 'cannot set "partial" content for eMMC schemas' : `cannot set ${goQuote(bad)} for eMMC schemas`
    this.error('E1', `${this.prefix(vol)}${message}`, this.loc.keyNode(v, bad), 'an emmc volume has only schema and structure; declare the bootloader in the disk volume', [...vol.path, bad])
  }

  private reservedLabel(vol: VolumeRef, st: StructureRef, hasModes: boolean, idx: number): void {
    const {s} = st
    const label = s['filesystem-label']
    if (s.role !== '' || label === '') return
    const reserved = hasModes ? ['ubuntu-boot', 'ubuntu-seed', 'ubuntu-data', 'ubuntu-save'] : ['ubuntu-seed', 'ubuntu-data']
    const vfat = linuxFilesystem(s.filesystem) === 'vfat' && this.target.has('vfatCaseInsensitiveLabels')
    const hit = reserved.find((r) => (vfat ? r.toLowerCase() === label.toLowerCase() : r === label))
    if (!hit) return
    const role = {'ubuntu-boot': SYSTEM_BOOT, 'ubuntu-data': SYSTEM_DATA, 'ubuntu-save': SYSTEM_SAVE, 'ubuntu-seed': SYSTEM_SEED}[hit]
    this.error('X7', `${this.prefix(vol, st, idx)}label ${goQuote(label)} is reserved`, this.loc.valueNode(s, 'filesystem-label'), `"${hit}" belongs to the ${role} role: add "role: ${role}" or choose another label`, [
      ...st.path,
      'filesystem-label',
    ])
  }

  private labelCheck(st: StructureRef | undefined, role: string, expected: string, rule = 'R3'): void {
    if (!st) return
    const label = st.s['filesystem-label']
    const vfat = linuxFilesystem(st.s.filesystem) === 'vfat' && this.target.has('vfatCaseInsensitiveLabels')
    if (label === '' || label === expected || (vfat && label.toLowerCase() === expected.toLowerCase())) return
    this.error(rule, `${role} structure must have an implicit label or ${goQuote(expected)}, not ${goQuote(label)}`, this.loc.valueNode(st.s, 'filesystem-label'), `set "filesystem-label: ${expected}" or remove the label`, [
      ...st.path,
      'filesystem-label',
    ])
  }

  private rolesConsistency(roles: Map<string, StructureRef>, seedExpected: boolean): void {
    const seed = roles.get(SYSTEM_SEED)
    const data = roles.get(SYSTEM_DATA)
    const save = roles.get(SYSTEM_SAVE)
    const at = (st?: StructureRef) => (st ? this.loc.valueNode(st.s, 'role') : undefined)
    if (!seed && !data) {
      if (seedExpected) {
        this.error(
          'M6',
          'model requires system-seed partition, but no system-seed or system-data partition found',
          this.loc.keyNode(this.input.parsed.info, 'volumes'),
          'a UC20+ model needs system-seed, system-boot, system-save and system-data structures',
        )
      }
    } else if (seed && !data) {
      this.error('R2', 'the system-seed role requires system-data to be defined', at(seed), 'add a structure with "role: system-data" (label ubuntu-data) to the same volume', seed.path)
    } else if (!seed && data) {
      if (seedExpected) this.error('M6', 'model requires system-seed structure, but none was found', at(data), 'a UC20+ model needs a system-seed structure (label ubuntu-seed)')
      else this.labelCheck(data, SYSTEM_DATA, 'writable')
    } else if (seed && data) {
      if (!seedExpected) {
        this.error('M5', 'model does not support the system-seed role', at(seed), 'a UC16/18 model has no recovery system: remove system-seed, or use a UC20+ model')
      } else {
        this.labelCheck(data, SYSTEM_DATA, 'ubuntu-data')
        this.labelCheck(seed, SYSTEM_SEED, 'ubuntu-seed')
      }
    }

    if (save) {
      if (seedExpected) {
        if (seed && data) this.labelCheck(save, SYSTEM_SAVE, 'ubuntu-save')
      } else {
        this.error(this.input.model ? 'M5' : 'R4', 'model does not support the system-save role', at(save), 'system-save exists only next to a system-seed (UC20+): add system-seed, or remove system-save', save.path)
      }
    }

    if (seedExpected && seed) {
      for (const other of [SYSTEM_BOOT, SYSTEM_DATA, SYSTEM_SAVE]) {
        const st = roles.get(other)
        if (st && st.volume !== seed.volume) {
          this.error('R5', 'system-boot, system-data, and system-save are expected to share the same volume as system-seed', at(st), `move the ${other} structure into volume "${seed.volume.name}"`, st.path)
          break
        }
      }
    }
  }

  private rolesClassicWithModes(roles: Map<string, StructureRef>): void {
    const boot = roles.get(SYSTEM_BOOT)
    const data = roles.get(SYSTEM_DATA)
    if (!boot || !data) {
      const st = roles.get(SYSTEM_SEED_NULL) ?? roles.get(SYSTEM_SEED)
      this.error('R6', 'system-boot and system-data roles are needed on classic', st ? this.loc.valueNode(st.s, 'role') : undefined, 'a classic-with-modes gadget needs system-boot (ubuntu-boot) and system-data (ubuntu-data) structures')
      return
    }

    this.labelCheck(boot, SYSTEM_BOOT, 'ubuntu-boot', 'R6')
    this.labelCheck(data, SYSTEM_DATA, 'ubuntu-data', 'R6')
    this.labelCheck(roles.get(SYSTEM_SEED), SYSTEM_SEED, 'ubuntu-seed', 'R6')
    this.labelCheck(roles.get(SYSTEM_SEED_NULL), SYSTEM_SEED_NULL, 'ubuntu-seed', 'R6')
    this.labelCheck(roles.get(SYSTEM_SAVE), SYSTEM_SAVE, 'ubuntu-save', 'R6')
    for (const role of [SYSTEM_SEED, SYSTEM_SEED_NULL, SYSTEM_SAVE]) {
      const st = roles.get(role)
      if (st && st.volume !== boot.volume) {
        this.error('R6', `system-boot and ${role} are expected to share the same volume`, this.loc.valueNode(st.s, 'role'), `move it into volume "${boot.volume.name}"`, st.path)
        break
      }
    }
  }

  // -- content (gadget.ValidateContent) --------------------------------------------------------

  private contentChecks(): void {
    const tree = this.input.content
    for (const vol of this.volumes) {
      if (!vol.v) continue
      if (this.target.has('noContentLayoutAtPack')) this.contentImagesNewest(vol, tree)
      else this.layoutLegacy(vol, tree)
      this.contentPresence(vol, tree)
    }
  }

  /** 2.57: LayoutVolume at snap pack time: the 1 MiB push, then raw content layout. */
  private layoutLegacy(vol: VolumeRef, tree: ContentTree): void {
    // Structures already reported as overlapping (X1) would only be reported again.
    if (this.input.report.findings.some((f) => f.rule === 'X1' && f.path?.[1] === vol.name)) return
    // In a project, parts may still build a raw image: a missing one is lint (N13), laid out as empty.
    const result = layoutVolume(vol.structures, {imageSize: (image) => tree.imageSize(image) ?? (tree.kind === 'project' ? 0n : undefined)})
    for (const problem of result.problems) {
      const st = problem.structure
      const node = problem.content === undefined ? this.loc.valueNode(st.s, st.s.offset === undefined ? undefined : 'offset') : this.loc.item(st.s.content, problem.content)
      const hint = problem.kind === 'overlap'
        ? `without an offset this structure is placed at ${formatQuantity(problem.start!)} (after the previous one, and never below 1M); give it an explicit offset or make room`
        : problem.kind === 'missing-image'
          ? (tree.missingHint?.(problem.image!) ?? `add ${problem.image} to the gadget snap, or fix the path`)
          : problem.hint
      this.error(problem.kind === 'overlap' ? 'X2' : problem.kind === 'missing-image' ? 'C4' : 'C5', `invalid layout of volume ${goQuote(vol.name)}: ${problem.message}`, node, hint, st.path)
      if (problem.kind === 'overlap') break
    }
  }

  /** Newest: only the declared content sizes are checked at snap pack time. */
  private contentImagesNewest(vol: VolumeRef, tree: ContentTree): void {
    for (const st of [...vol.structures].sort((a, b) => a.yamlIndex - b.yamlIndex)) {
      if (hasFilesystem(st.s, vol.v, this.target)) continue
      st.s.content?.forEach((c, i) => {
        const size = tree.imageSize(c.image) ?? (tree.kind === 'project' ? 0n : undefined)
        if (size === undefined) {
          const message = `structure #${st.yamlIndex} (${goQuote(st.s.name)}): content ${goQuote(c.image)}: stat ${c.image}: no such file or directory`
          this.error('C4', message, this.loc.item(st.s.content, i), tree.missingHint?.(c.image) ?? `add ${c.image} to the gadget snap, or fix the path`, [
            ...st.path,
            'content',
            i,
          ])
        } else if ((c.size ?? 0n) !== 0n && c.size! < size) {
          this.error('C5', `structure #${st.yamlIndex} (${goQuote(st.s.name)}): content ${goQuote(c.image)} size ${size} is larger than declared ${c.size}`, this.loc.item(st.s.content, i), `the image is ${size} bytes: raise the content size to at least ${size}, or drop it`, [
            ...st.path,
            'content',
            i,
          ])
        }
      })
    }
  }

  /** validateVolumeContentsPresence: filesystem content sources exist; $kernel: refs are well formed. */
  private contentPresence(vol: VolumeRef, tree: ContentTree): void {
    const ordered = this.newest ? [...vol.structures] : [...vol.structures].sort(byStart)
    for (const st of ordered) {
      if (!hasFilesystem(st.s, vol.v, this.target)) continue
      const name = () => (this.newest ? `#${st.yamlIndex} (${goQuote(st.s.name)})` : fmtIndexAndName(st.index, st.s.name))
      for (const [i, c] of (st.s.content ?? []).entries()) {
        const node = this.loc.valueNode(c, 'source')
        const path = [...st.path, 'content', i, 'source']
        if (c.source.startsWith('$kernel:')) {
          const problem = kernelRefProblem(c.source)
          if (problem) this.error('C3', `invalid volume ${goQuote(vol.name)}: cannot use kernel reference ${goQuote(c.source)}: ${problem}`, node, 'write $kernel:<asset>/<path>, where <asset> is listed in the kernel\'s kernel.yaml', path)
          continue
        }

        const kind = tree.sourceKind(c.source)
        if (kind === undefined) {
          if (tree.kind === 'project') continue
          this.error('C4', `invalid volume ${goQuote(vol.name)}: structure ${name()}, content source:${c.source}: source path does not exist`, node, tree.missingHint?.(c.source) ?? `add ${c.source} to the gadget snap (a part or the gadget tree), or fix the path`, path)
          continue
        }

        if (c.source.endsWith('/') && kind !== 'dir') {
          this.error('C4', `invalid volume ${goQuote(vol.name)}: structure ${name()}, content source:${c.source}: cannot specify trailing / for a source which is not a directory`, node, `${c.source.slice(0, -1)} is a file: drop the trailing "/"`, path)
        }
      }
    }
  }
}

function byStart(a: StructureRef, b: StructureRef): number {
  const x = a.s.offset ?? 0n
  const y = b.s.offset ?? 0n
  return x < y ? -1 : x > y ? 1 : a.index - b.index
}

export function isMbr(s: GadgetStructure): boolean {
  return s.role === 'mbr' || (s.role === '' && s.type === 'mbr')
}

export function linuxFilesystem(fs: string): string {
  return fs === 'vfat-16' || fs === 'vfat-32' ? 'vfat' : fs
}

export function hasFilesystem(s: GadgetStructure, v: GadgetVolume, target: SnapdTarget): boolean {
  if (s.filesystem !== 'none' && s.filesystem !== '') return true
  if (!target.has('partial')) return false
  if (s.type === 'bare' || s.type === 'mbr') return false
  return (v.partial ?? []).includes('filesystem')
}

function setKnownLabel(label: string, fs: string, known: Set<string>, knownVfat: Set<string>): boolean {
  const lower = label.toLowerCase()
  if (knownVfat.has(lower)) return false
  if (fs === 'vfat') {
    for (const k of known) if (k.toLowerCase() === lower) return false
    knownVfat.add(lower)
  } else {
    if (known.has(label)) return false
    known.add(label)
  }

  return true
}

function volumeSize(structures: StructureRef[], sizer: (st: StructureRef) => bigint): bigint {
  let end = 0n
  for (const st of structures) end = st.s.offset === undefined ? u64(end + sizer(st)) : u64(st.s.offset + sizer(st))
  return end
}

function describeStructure(st: StructureRef): string {
  return st.s.name ? `"${st.s.name}"` : `structure #${st.index}`
}

function bareContentProblem(c: GadgetContent): undefined | {hint: string; message: string} {
  if (c.source !== '' || c.target !== '') {
    return {hint: 'this structure has no filesystem, so its content is raw images ("image:"); add "filesystem: vfat" or "ext4" to copy files with source/target', message: 'cannot use non-image content for bare file system'}
  }

  if (c.image === '') return {hint: 'name the raw image to write with "image: <file>"', message: 'missing image file name'}
  return undefined
}

function filesystemContentProblem(c: GadgetContent, target: SnapdTarget): undefined | {hint: string; message: string} {
  const ow = !target.has('strictOffsetWrite') && c['offset-write'] !== undefined
  if (c.image !== '' || c.offset !== undefined || ow || (c.size ?? 0n) !== 0n) {
    return {hint: 'a structure with a filesystem takes files ("source:" and "target:"); raw images go in a structure without a filesystem', message: 'cannot use image content for non-bare file system'}
  }

  if (c.source === '') return {hint: 'add "source: <path in the gadget>"', message: 'missing source'}
  if (c.target === '') return {hint: 'add "target: <path in the filesystem>", e.g. "target: /"', message: 'missing target'}
  return undefined
}

/** splitKernelRef's checks. */
export function kernelRefProblem(ref: string): string | undefined {
  const rest = ref.slice('$kernel:'.length)
  const slash = rest.indexOf('/')
  if (slash === -1) return `invalid asset and content in kernel ref ${goQuote(ref)}`
  const asset = rest.slice(0, slash)
  const content = rest.slice(slash + 1)
  const nonDir = content.endsWith('/') ? content.slice(0, -1) : content
  if (asset.length === 0 || content.length === 0) return `missing asset name or content in kernel ref ${goQuote(ref)}`
  if (cleanPath(nonDir) !== nonDir || content.includes('..') || nonDir === '/') return `invalid content in kernel ref ${goQuote(ref)}`
  if (!validAssetName.test(asset)) return `invalid asset name in kernel ref ${goQuote(ref)}`
  return undefined
}

/** metautil.NormalizeValue, reporting the first value snapd refuses. */
function normalizeProblem(v: IfaceValue | Map<string, IfaceValue | undefined>): undefined | {hint: string; message: string} {
  if (v instanceof Map) {
    for (const [k, item] of v) {
      if (item === undefined) return {hint: `give "${k}" a value, or remove it (snapd refuses empty values in defaults)`, message: 'invalid scalar: <nil>'}
      const p = normalizeProblem(item)
      if (p) return p
    }

    return undefined
  }

  switch (v.kind) {
    case 'str':
    case 'bool':
    case 'int':
    case 'float':
    case 'other': {
      return undefined
    }

    case 'null': {
      return {hint: 'give it a value, or remove the key (snapd refuses empty values in defaults)', message: 'invalid scalar: <nil>'}
    }

    case 'uint64': {
      return {hint: 'integers above 9223372036854775807 are refused; quote it to make it a string', message: `invalid scalar: ${v.value}`}
    }

    case 'seq': {
      for (const item of v.items) {
        const p = normalizeProblem(item)
        if (p) return p
      }

      return undefined
    }

    case 'map': {
      for (const [k, item] of v.entries) {
        if (k.kind !== 'str' && k.kind !== 'timestamp' && k.kind !== 'other') {
          const shown = k.kind === 'null' ? '<nil>' : 'value' in k ? String(k.value) : k.kind
          return {hint: 'quote the key so YAML reads it as a string', message: `non-string key: ${shown}`}
        }

        const p = normalizeProblem(item)
        if (p) return p
      }

      return undefined
    }

    default: {
      return undefined
    }
  }
}

function decodeIssueRule(path: Array<number | string>, message: string): {hint?: string; rule: string} {
  const key = path.at(-1)
  // A value of the wrong kind: P1 for the document itself, P2 anywhere below it.
  if (/^(line \d+: )?cannot unmarshal/.test(message)) {
    const kindHint = /into \[\]/.test(message)
      ? 'this key takes a list: start each item with "- "'
      : /into (map|gadget\.)/.test(message)
        ? 'this key takes a mapping of "key: value" lines'
        : /into bool/.test(message)
          ? /`(yes|no|on|off|true|false)`/i.test(message) ? 'write the boolean without quotes: true or false' : 'use true or false'
          : 'this key takes a single value (a string or number), not a list or mapping'
    return {hint: path.length === 0 ? 'gadget.yaml is a mapping with volumes:, defaults: and connections: at the top level' : kindHint, rule: path.length === 0 ? 'P1' : 'P2'}
  }

  const quoted = /^cannot parse (?:size|offset) "(.*)": /.exec(message)
  if (quoted && (key === 'size' || key === 'offset' || key === 'min-size')) {
    const suggestion = suggestQuantity(quoted[1])
    return {
      hint: suggestion ? `use ${suggestion}` : 'write bytes (e.g. 1048576) or a number followed by M or G (e.g. 512M, 1G); K, MiB, hex and fractions are not accepted',
      rule: 'S1',
    }
  }

  if (key === 'offset-write') {
    const m = /cannot parse offset "(.*)": /.exec(message)
    const suggestion = m ? suggestQuantity(m[1]) : undefined
    return {hint: suggestion ? `use ${suggestion}` : 'write [<structure>+]<offset>, e.g. "mbr+92"; the offset is bytes, or a number followed by M or G', rule: 'S13'}
  }

  if (key === 'edition') return {hint: 'use a whole number from 0 to 4294967295, e.g. "edition: 2"', rule: 'U1'}
  if (key === 'plug' || key === 'slot') return {hint: `write the ${key} as "<snap-id>:<name>", or "system:<name>" for a system ${key}`, rule: 'T5'}
  if (path.includes('kernel-cmdline')) return {hint: 'write one kernel argument per list entry, e.g. "- quiet" and "- splash"', rule: 'T6'}
  if (/excessive aliasing|contains itself|unknown anchor/.test(message)) return {hint: 'expand the aliases; gadget.yaml rarely needs anchors', rule: 'P1'}
  return {hint: undefined, rule: 'P2'}
}

function yamlHint(message: string): string {
  if (message.includes('cannot start any token')) return 'indent with spaces only; YAML does not allow tabs for indentation'
  if (message.includes("could not find expected ':'")) return 'check the indentation and that every key ends with ": "'
  if (message.includes('control characters')) return 'remove the control character (it is not printable text)'
  if (message.includes('UTF-8')) return 'save the file as UTF-8'
  if (message.includes('max depth') || message.includes('nested')) return 'gadget.yaml needs only a few levels of nesting; check for runaway brackets'
  if (message.includes('unknown anchor')) return 'define the anchor (&name) before using the alias (*name)'
  return 'fix the YAML syntax at this place'
}

function hintName(name: string, names: string[]): string | undefined {
  const guess = didYouMean(name, names)
  return guess ? `did you mean "${guess}"?` : names.length > 0 ? `name one of: ${names.map((n) => `"${n}"`).join(', ')}` : 'give the referred structure a name'
}

export type {LaidOutStructure}
