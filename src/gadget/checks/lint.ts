/**
 * Lint: what snapd accepts but is almost certainly a mistake (reference sections P4, T8 and N).
 * Every finding here is a warning; --strict makes them errors.
 */

import type {GadgetInfo} from '../gadget-types.js'
import type {Locator, ParsedGadget} from '../decode-gadget.js'
import type {YamlNode as Node} from '../../go-yaml/read/ast.js'
import {formatQuantity, MiB, suggestQuantity} from '../quantity.js'
import type {FileReport} from '../findings/collector.js'
import type {RuleId} from '../findings/rules.js'
import {snapdFeatures, type SnapdFeature, type SnapdTarget} from '../snapd-version.js'
import {checkStructure} from './schema.js'
import type {ContentTree} from './content-tree.js'
import {producedByParts} from './project.js'
import {cleanPath} from './clean-path.js'
import {linuxFilesystem, type StructureRef, type VolumeRef} from '../geometry/volumes.js'
import type {SnapdChecks} from './snapd/index.js'

export interface LintContext {
  parsed: ParsedGadget
  loc: Locator
  report: FileReport
  target: SnapdTarget
  checks: SnapdChecks
  tree: ContentTree
  /** In a gadget project: the paths its snapcraft.yaml parts put into the snap. */
  partOutputs?: readonly string[]
}

const ESP_GUID = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'
const BIOS_BOOT_GUID = '21686148-6449-6E6F-744E-656564454649'
const validSnapId = /^[a-zA-Z0-9]{32}$/
const guid = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i

export function lintGadget(ctx: LintContext): void {
  checkStructure(ctx.parsed, ctx.loc, ctx.report)
  duplicateKeys(ctx)
  const {info} = ctx.parsed
  if (!info) return
  newerKeys(ctx)
  strayTopLevelKeys(ctx)
  if (!info.volumes || info.volumes.size === 0) {
    warn(
      ctx,
      'T1',
      'no volumes: snapd accepts this only for classic models (a Core model fails with "bootloader not declared in any volume")',
      ctx.loc.keyNode(info, 'volumes') ?? ctx.parsed.yaml.root,
      "declare the device's volumes with their structures and a bootloader (snap-gadget init scaffolds them), unless this gadget is for a classic model",
      ['volumes'],
    )
  }

  connectionIds(ctx, info)
  for (const vol of ctx.checks.volumes) {
    if (!vol.v) continue
    volumeLint(ctx, vol)
    for (const st of vol.structures) structureLint(ctx, vol, st)
  }
}

function warn(ctx: LintContext, rule: RuleId, message: string, node: Node | undefined, hint: string, path?: Array<number | string>): void {
  ctx.report.add({hint, message, node, path, rule, severity: 'warning'})
}

/** P4: go-yaml keeps the last of duplicate keys without a word. */
function duplicateKeys(ctx: LintContext): void {
  const {root} = ctx.parsed.yaml
  if (!root) return
  // Iterative: documents may nest deeply; aliases are not followed (their maps are checked where defined).
  const stack: Node[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()!
    if (node.kind === 'seq') {
      for (const item of node.items) stack.push(item)
      continue
    }

    if (node.kind !== 'map') continue
    const seen = new Map<string, Node>()
    for (const {key, value} of node.pairs) {
      stack.push(key, value)
      const name = keyText(key)
      if (name === undefined) continue
      const first = seen.get(name)
      seen.set(name, key)
      if (first) {
        const {line} = ctx.loc.position(first.start)
        warn(ctx, 'P4', `duplicate key "${name}": snapd uses this one and silently drops the one on line ${line}`, key, `remove one of the two "${name}" keys`)
      }
    }
  }
}

/** The text of a scalar key (through an alias), else undefined. */
function keyText(key: Node): string | undefined {
  const node = key.kind === 'alias' ? key.target : key
  return node.kind === 'scalar' ? node.value : undefined
}

/** Keys the target snapd does not know yet (it ignores them), with the release that reads them. */
const keySince: Record<string, SnapdFeature> = {
  'kernel-cmdline': 'kernelCmdline',
  'min-size': 'minSize',
  partial: 'partial',
  'volume-assignments': 'volumeAssignments',
}

/** N15 and N16: features newer than the target release are ignored by it. */
function newerKeys(ctx: LintContext): void {
  const {target} = ctx
  for (const u of ctx.parsed.unknownKeys) {
    const key = u.key.kind === 'scalar' ? u.key.value : ''
    const feature = Object.hasOwn(keySince, key) ? keySince[key] : undefined
    if (!feature || target.has(feature)) continue
    const since = snapdFeatures[feature]
    warn(
      ctx,
      'N15',
      `"${key}" needs snapd ${since} or later: snapd ${target.label} ignores it`,
      u.key,
      `devices running snapd older than ${since} behave as if "${key}" were absent; judge with --snapd ${since} or newer if your fleet is newer`,
      [...u.path, key],
    )
    if (key === 'min-size' && u.value.kind === 'scalar') {
      const text = u.value.value
      if (!/^\d+[MG]?$/.test(text)) {
        const s = suggestQuantity(text)
        warn(ctx, 'N16', `min-size "${text}" is not a quantity snapd accepts (bytes, or a number followed by M or G)`, u.value, s ? `use ${s}` : 'write bytes or a number followed by M or G', [...u.path, key])
      }
    }
  }
}

/** T8: top-level keys snapd never reads. */
function strayTopLevelKeys(ctx: LintContext): void {
  const origin = ctx.loc.origin(ctx.parsed.info)
  for (const u of origin?.unknown ?? []) {
    const key = u.key.kind === 'scalar' ? u.key.value : ''
    if (key === 'device-tree' || key === 'device-tree-origin') {
      warn(ctx, 'T8', `"${key}" is never read by snapd (only the retired Python ubuntu-image read it)`, u.key, 'ship the device tree in the kernel snap or as gadget content; remove this key')
    } else if (key === 'bootloader') {
      warn(ctx, 'T8', 'a top-level "bootloader" is never read by snapd', u.key, 'move it into the volume that boots: volumes.<name>.bootloader')
    } else if (key === 'format') {
      warn(ctx, 'T8', '"format" is never read by snapd', u.key, 'remove it')
    }
  }
}

/** N6: connection ends that name neither "system" nor a snap id. */
function connectionIds(ctx: LintContext, info: GadgetInfo): void {
  info.connections?.forEach((c, i) => {
    for (const end of ['plug', 'slot'] as const) {
      const id = c[end]?.snapId
      if (id === undefined || id === '' || id === 'system' || validSnapId.test(id)) continue
      warn(
        ctx,
        'N6',
        `connection ${end} "${id}:${c[end]!.name}" names "${id}", which is not a snap id: snapd accepts it but never makes the connection`,
        ctx.loc.valueNode(c, end),
        `use the 32-character snap id of ${id} (snap info ${id}), or "system" for a system slot`,
        ['connections', i, end],
      )
    }
  })
}

function volumeLint(ctx: LintContext, vol: VolumeRef): void {
  const {v} = vol
  if (v.id !== '' && !/^[0-9A-Fa-f]{2}$/.test(v.id) && !guid.test(v.id)) {
    warn(ctx, 'N12', `volume id "${v.id}" is neither a two-digit MBR disk id nor a GUID`, ctx.loc.valueNode(v, 'id'), 'use a GUID for gpt volumes or two hex digits for mbr', [...vol.path, 'id'])
  }

  if (v.schema === 'mbr') {
    const partitions = vol.structures.filter((st) => st.s.type !== 'bare' && st.s.type !== 'mbr' && st.s.role !== 'mbr')
    if (partitions.length > 4) {
      warn(ctx, 'N11', `mbr volume "${vol.name}" has ${partitions.length} partitions; an MBR holds four primary partitions`, ctx.loc.keyNode(v, 'structure'), 'use schema: gpt, or at most four partitions', vol.path)
    }
  }
}

function structureLint(ctx: LintContext, vol: VolumeRef, st: StructureRef): void {
  const {loc} = ctx
  const {s} = st
  const fs = linuxFilesystem(s.filesystem)
  const label = s['filesystem-label']
  const labelNode = loc.valueNode(s, 'filesystem-label')
  if (label && fs === 'vfat' && label.length > 11)
    warn(ctx, 'N1', `vfat label "${label}" is ${label.length} characters; vfat labels hold 11`, labelNode, 'shorten the label to 11 characters', [...st.path, 'filesystem-label'])
  if (label && fs === 'ext4' && label.length > 16)
    warn(ctx, 'N1', `ext4 label "${label}" is ${label.length} characters; ext4 labels hold 16`, labelNode, 'shorten the label to 16 characters', [...st.path, 'filesystem-label'])
  if (label && fs === 'vfat' && label !== label.toUpperCase() && !['ubuntu-seed', 'ubuntu-boot', 'system-boot'].includes(label)) {
    warn(ctx, 'N2', `vfat label "${label}" has lower-case letters; vfat stores labels upper-case`, labelNode, `write it as "${label.toUpperCase()}" so it matches what blkid shows`, [...st.path, 'filesystem-label'])
  }

  if (s.name.length > 36 && vol.schema !== 'mbr')
    warn(ctx, 'N3', `partition name "${s.name}" is ${s.name.length} characters; GPT partition names hold 36`, loc.valueNode(s, 'name'), 'shorten the name to 36 characters', [...st.path, 'name'])
  filesystemVsType(ctx, st)
  alignment(ctx, vol, st)
  if (s.role === 'system-boot' && label && label !== 'ubuntu-boot' && hasSeed(ctx)) {
    warn(ctx, 'N7', `system-boot is labelled "${label}"; UC20+ systems expect "ubuntu-boot"`, labelNode, 'set "filesystem-label: ubuntu-boot" or remove the label', [...st.path, 'filesystem-label'])
  }

  recommendedSizes(ctx, st)
  if (s.id !== '' && !guid.test(s.id)) warn(ctx, 'N12', `structure id "${s.id}" is not a GUID`, loc.valueNode(s, 'id'), 'a GPT partition id is a GUID such as 00000000-0000-0000-0000-0000deadbeef', [...st.path, 'id'])
  const withFs = st.hasFilesystem
  s.content?.forEach((c, i) => {
    const path = withFs ? c.source : c.image
    const node = loc.valueNode(c, withFs ? 'source' : 'image')
    if (path && !path.startsWith('$kernel:')) {
      const clean = path.includes('..') ? cleanPath(path.replace(/^\/+/, '')) : path
      if (clean === '..' || clean.startsWith('../'))
        warn(ctx, 'N8', `content "${path}" leaves the gadget snap`, node, 'content paths are relative to the gadget snap root; keep them inside it', [...st.path, 'content', i])
      if (ctx.tree.kind === 'project' && (withFs ? ctx.tree.sourceKind(path) : ctx.tree.imageSize(path)) === undefined && !producedByParts(path, ctx.partOutputs ?? [])) {
        warn(ctx, 'N13', `content "${path}" is not in the gadget project`, node, `make sure a part of snap/snapcraft.yaml installs ${path} into the snap, or add the file`, [...st.path, 'content', i])
      }
    }

    if (c.unpack && c.image && !/\.(tar(\.(gz|xz|bz2|zst))?|tgz|zip)$/i.test(c.image)) {
      warn(ctx, 'N9', `unpack is set on "${c.image}", which is not an archive`, loc.valueNode(c, 'unpack'), 'remove "unpack: true" unless the image is an archive', [...st.path, 'content', i, 'unpack'])
    }
  })
}

function filesystemVsType(ctx: LintContext, st: StructureRef): void {
  const {s} = st
  const fs = linuxFilesystem(s.filesystem)
  const type = s.type.toUpperCase()
  if (fs === '' || fs === 'none') return
  const node = ctx.loc.valueNode(s, 'filesystem')
  const path = [...st.path, 'filesystem']
  if (type === 'BARE') {
    warn(ctx, 'N4', `a bare structure is not a partition, so its ${s.filesystem} filesystem has no partition to live in`, node, 'give it a partition type, or remove the filesystem', path)
  } else if (type.endsWith(ESP_GUID) && fs !== 'vfat') {
    warn(ctx, 'N4', `an EFI System Partition (${ESP_GUID}) must be FAT, not ${s.filesystem}`, node, 'use "filesystem: vfat"', path)
  } else if (type.endsWith(BIOS_BOOT_GUID)) {
    warn(ctx, 'N4', `a BIOS boot partition holds raw grub code, not a ${s.filesystem} filesystem`, node, 'remove the filesystem', path)
  } else if ((type === '0C' || type === '0B' || type === 'EF' || type.startsWith('0C,')) && fs === 'ext4') {
    warn(ctx, 'N4', `MBR type ${s.type} is a FAT partition, but the filesystem is ext4`, node, 'use type 83 for ext4, or filesystem vfat', path)
  } else if ((type === '83' || type.startsWith('83,')) && fs === 'vfat') {
    warn(ctx, 'N4', `MBR type 83 is a Linux partition, but the filesystem is vfat`, node, 'use type 0C for vfat, or filesystem ext4', path)
  }
}

function alignment(ctx: LintContext, vol: VolumeRef, st: StructureRef): void {
  const {s} = st
  if (s.type === 'bare' || s.type === 'mbr' || s.role === 'mbr' || vol.v.schema === 'emmc') return
  if (s.offset !== undefined && s.offset % 512n !== 0n) {
    warn(
      ctx,
      'N5',
      `partition offset ${s.offset} is not a multiple of 512-byte sectors`,
      ctx.loc.valueNode(s, 'offset'),
      `use ${formatQuantity(((s.offset + 511n) / 512n) * 512n)} or another multiple of 512 (1M is usual)`,
      [...st.path, 'offset'],
    )
  }

  if (s.size !== undefined && s.size % 512n !== 0n) {
    warn(ctx, 'N5', `partition size ${s.size} is not a multiple of 512-byte sectors`, ctx.loc.valueNode(s, 'size'), `use ${formatQuantity(((s.size + 511n) / 512n) * 512n)} or another multiple of 512`, [
      ...st.path,
      'size',
    ])
  }
}

function hasSeed(ctx: LintContext): boolean {
  return ctx.checks.volumes.some((v) => v.structures.some((o) => o.s.role === 'system-seed'))
}

const recommended: Record<string, bigint> = {'system-boot': 750n * MiB, 'system-save': 16n * MiB, 'system-seed': 1200n * MiB}

function recommendedSizes(ctx: LintContext, st: StructureRef): void {
  const min = Object.hasOwn(recommended, st.s.role) ? recommended[st.s.role] : undefined
  const size = st.s.size ?? 0n
  if (!min || size === 0n || size >= min) return
  if (st.s.role === 'system-boot' && !hasSeed(ctx)) return
  warn(
    ctx,
    'N10',
    `${st.s.role} is ${formatQuantity(size)}; Ubuntu recommends at least ${formatQuantity(min)}`,
    ctx.loc.valueNode(st.s, 'size'),
    `use "size: ${formatQuantity(min)}" or more, so kernels and recovery systems fit`,
    [...st.path, 'size'],
  )
}
