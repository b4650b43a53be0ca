/**
 * Content (validate.go's gadget.ValidateContent): layouts of 2.57, images and sources against the
 * gadget's tree.
 */
import {layoutVolume} from '../../geometry/pack-layout.js'
import {formatQuantity, goQuote} from '../../quantity.js'
import type {ContentTree} from '../content-tree.js'
import {cleanPath} from '../clean-path.js'
import {type StructureRef, type VolumeRef} from '../../geometry/volumes.js'
import {fmtIndexAndName, type SnapdContext} from './context.js'

const validAssetName = /^[a-zA-Z0-9][a-zA-Z0-9-]*$/

function byStart(a: StructureRef, b: StructureRef): number {
  const x = a.s.offset ?? 0n
  const y = b.s.offset ?? 0n
  return x < y ? -1 : x > y ? 1 : a.index - b.index
}

/** splitKernelRef's checks. */
function kernelRefProblem(ref: string): string | undefined {
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

export function contentChecks(cx: SnapdContext, volumes: readonly VolumeRef[]): void {
  const tree = cx.input.content
  for (const vol of volumes) {
    if (!vol.v) continue
    if (cx.target.has('noContentLayoutAtPack')) contentImagesNewest(cx, vol, tree)
    else layoutLegacy(cx, vol, tree)
    contentPresence(cx, vol, tree)
  }
}

/** 2.57: LayoutVolume at snap pack time: the 1 MiB push, then raw content layout. */
function layoutLegacy(cx: SnapdContext, vol: VolumeRef, tree: ContentTree): void {
  // Structures already reported as overlapping (X1) would only be reported again.
  if (cx.input.report.findings.some((f) => f.rule === 'X1' && f.path?.[1] === vol.name)) return
  // In a project, parts may still build a raw image: a missing one is lint (N13), laid out as empty.
  const result = layoutVolume(vol.structures, {imageSize: (image) => tree.imageSize(image) ?? (tree.kind === 'project' ? 0n : undefined)})
  for (const problem of result.problems) {
    const st = problem.structure
    const node = problem.content === undefined ? cx.loc.valueNode(st.s, st.s.offset === undefined ? undefined : 'offset') : cx.loc.item(st.s.content, problem.content)
    const hint =
      problem.kind === 'overlap'
        ? `without an offset this structure is placed at ${formatQuantity(problem.start!)} (after the previous one, and never below 1M); give it an explicit offset or make room`
        : problem.kind === 'missing-image'
          ? (tree.missingHint?.(problem.image!) ?? `add ${problem.image} to the gadget snap, or fix the path`)
          : problem.hint
    cx.error(problem.kind === 'overlap' ? 'X2' : problem.kind === 'missing-image' ? 'C4' : 'C5', `invalid layout of volume ${goQuote(vol.name)}: ${problem.message}`, node, hint, st.path)
    if (problem.kind === 'overlap') break
  }
}

/** Newest: only the declared content sizes are checked at snap pack time. */
function contentImagesNewest(cx: SnapdContext, vol: VolumeRef, tree: ContentTree): void {
  for (const st of [...vol.structures].sort((a, b) => a.yamlIndex - b.yamlIndex)) {
    if (st.hasFilesystem) continue
    st.s.content?.forEach((c, i) => {
      const size = tree.imageSize(c.image) ?? (tree.kind === 'project' ? 0n : undefined)
      if (size === undefined) {
        const message = `structure #${st.yamlIndex} (${goQuote(st.s.name)}): content ${goQuote(c.image)}: stat ${c.image}: no such file or directory`
        cx.error('C4', message, cx.loc.item(st.s.content, i), tree.missingHint?.(c.image) ?? `add ${c.image} to the gadget snap, or fix the path`, [...st.path, 'content', i])
      } else if ((c.size ?? 0n) !== 0n && c.size! < size) {
        cx.error(
          'C5',
          `structure #${st.yamlIndex} (${goQuote(st.s.name)}): content ${goQuote(c.image)} size ${size} is larger than declared ${c.size}`,
          cx.loc.item(st.s.content, i),
          `the image is ${size} bytes: raise the content size to at least ${size}, or drop it`,
          [...st.path, 'content', i],
        )
      }
    })
  }
}

/** validateVolumeContentsPresence: filesystem content sources exist; $kernel: refs are well formed. */
function contentPresence(cx: SnapdContext, vol: VolumeRef, tree: ContentTree): void {
  const ordered = cx.newest ? [...vol.structures] : [...vol.structures].sort(byStart)
  for (const st of ordered) {
    if (!st.hasFilesystem) continue
    const name = () => (cx.newest ? `#${st.yamlIndex} (${goQuote(st.s.name)})` : fmtIndexAndName(st.index, st.s.name))
    for (const [i, c] of (st.s.content ?? []).entries()) {
      const node = cx.loc.valueNode(c, 'source')
      const path = [...st.path, 'content', i, 'source']
      if (c.source.startsWith('$kernel:')) {
        const problem = kernelRefProblem(c.source)
        if (problem)
          cx.error(
            'C3',
            `invalid volume ${goQuote(vol.name)}: cannot use kernel reference ${goQuote(c.source)}: ${problem}`,
            node,
            "write $kernel:<asset>/<path>, where <asset> is listed in the kernel's kernel.yaml",
            path,
          )
        continue
      }

      const kind = tree.sourceKind(c.source)
      if (kind === undefined) {
        if (tree.kind === 'project') continue
        cx.error(
          'C4',
          `invalid volume ${goQuote(vol.name)}: structure ${name()}, content source:${c.source}: source path does not exist`,
          node,
          tree.missingHint?.(c.source) ?? `add ${c.source} to the gadget snap (a part or the gadget tree), or fix the path`,
          path,
        )
        continue
      }

      if (c.source.endsWith('/') && kind !== 'dir') {
        cx.error(
          'C4',
          `invalid volume ${goQuote(vol.name)}: structure ${name()}, content source:${c.source}: cannot specify trailing / for a source which is not a directory`,
          node,
          `${c.source.slice(0, -1)} is a file: drop the trailing "/"`,
          path,
        )
      }
    }
  }
}
