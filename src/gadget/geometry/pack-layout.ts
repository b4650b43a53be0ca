/**
 * Volume layout as snapd 2.57 computes it at `snap pack` time (gadget.LayoutVolume): structures
 * without an offset follow the previous one in YAML order, non-mbr structures never start below
 * 1 MiB, structures are sorted by offset and must not overlap; raw images are placed inside
 * their structure (after the previous image unless they have an offset), must fit it and must
 * not overlap. All arithmetic wraps as Go's uint64 does.
 */
import type {GadgetStructure} from '../gadget-types.js'
import {goQuote, MiB, u64} from '../quantity.js'

interface LayoutStructureInput {
  s: GadgetStructure
  /** Index in snapd's structure list (the "#i" of its messages). */
  index: number
}

export interface LaidOutStructure<T extends LayoutStructureInput = LayoutStructureInput> {
  ref: T
  start: bigint
  end: bigint
  /** Raw images, in placement order. */
  content: Array<{end: bigint; image: string; index: number; start: bigint}>
}

interface LayoutProblem<T extends LayoutStructureInput = LayoutStructureInput> {
  kind: 'content' | 'missing-image' | 'overlap'
  message: string
  hint?: string
  structure: T
  /** Content index, for content problems. */
  content?: number
  image?: string
  /** Where the structure was placed (overlap problems). */
  start?: bigint
}

export interface LayoutOptions {
  /** The size of a raw image in the gadget tree, or undefined when it is missing. */
  imageSize(path: string): bigint | undefined
}

function fmt(index: number, name: string): string {
  return name ? `#${index} (${goQuote(name)})` : `#${index}`
}

export function layoutVolume<T extends LayoutStructureInput>(structures: readonly T[], options: LayoutOptions): {problems: Array<LayoutProblem<T>>; structures: Array<LaidOutStructure<T>>} {
  const problems: Array<LayoutProblem<T>> = []
  let previousEnd = 0n
  const laid: Array<LaidOutStructure<T>> = structures.map((ref) => {
    const {s} = ref
    let start: bigint
    const mbr = s.role === 'mbr' || (s.role === '' && s.type === 'mbr')
    if (s.offset === undefined) start = !mbr && previousEnd < MiB ? MiB : previousEnd
    else start = s.offset
    const end = u64(start + (s.size ?? 0n))
    previousEnd = end
    return {content: [], end, ref, start}
  })
  laid.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
  previousEnd = 0n
  for (const [i, ls] of laid.entries()) {
    if (ls.start < previousEnd) {
      const prev = laid[i - 1].ref
      problems.push({
        kind: 'overlap',
        message: `cannot lay out volume, structure ${fmt(ls.ref.index, ls.ref.s.name)} overlaps with preceding structure ${fmt(prev.index, prev.s.name)}`,
        start: ls.start,
        structure: ls.ref,
      })
      return {problems, structures: laid}
    }

    previousEnd = u64(ls.start + (ls.ref.s.size ?? 0n))
  }

  for (const ls of laid) {
    const problem = layOutContent(ls, options)
    if (problem) {
      problems.push(problem)
      break
    }
  }

  return {problems, structures: laid}
}

function layOutContent<T extends LayoutStructureInput>(ls: LaidOutStructure<T>, options: LayoutOptions): LayoutProblem<T> | undefined {
  const {s} = ls.ref
  if ((s.filesystem !== '' && s.filesystem !== 'none') || !s.content || s.content.length === 0) return undefined
  const where = `cannot lay out structure ${fmt(ls.ref.index, s.name)}`
  const size = s.size ?? 0n
  let previousEnd = 0n
  for (const [index, c] of s.content.entries()) {
    const imageSize = options.imageSize(c.image)
    if (imageSize === undefined) {
      return {content: index, image: c.image, kind: 'missing-image', message: `${where}: content ${goQuote(c.image)}: stat ${c.image}: no such file or directory`, structure: ls.ref}
    }

    const start = c.offset ?? previousEnd
    let actual = imageSize
    if ((c.size ?? 0n) !== 0n) {
      if (c.size! < imageSize) {
        return {
          content: index,
          hint: `the image is ${imageSize} bytes: raise the content size to at least ${imageSize}, or drop it`,
          image: c.image,
          kind: 'content',
          message: `${where}: content ${goQuote(c.image)} size ${imageSize} is larger than declared ${c.size}`,
          structure: ls.ref,
        }
      }

      actual = c.size!
    }

    ls.content.push({end: u64(ls.start + start + actual), image: c.image, index, start: u64(ls.start + start)})
    previousEnd = u64(start + actual)
    if (previousEnd > size) {
      return {
        content: index,
        hint: `the image ends at byte ${previousEnd} of a ${size}-byte structure: enlarge the structure or move the image`,
        image: c.image,
        kind: 'content',
        message: `${where}: content ${goQuote(c.image)} does not fit in the structure`,
        structure: ls.ref,
      }
    }
  }

  const sorted = [...ls.content].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
  let prevEnd = ls.start
  for (const [i, c] of sorted.entries()) {
    if (c.start < prevEnd) {
      return {
        content: c.index,
        hint: `"${sorted[i - 1].image}" ends at byte ${prevEnd - ls.start} of the structure; give this image a later offset`,
        image: c.image,
        kind: 'content',
        message: `${where}: content ${goQuote(c.image)} overlaps with preceding image ${goQuote(sorted[i - 1].image)}`,
        structure: ls.ref,
      }
    }

    prevEnd = c.end
  }

  return undefined
}
