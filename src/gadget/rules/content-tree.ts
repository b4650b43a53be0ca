/**
 * What the content checks may know about the files of a gadget.
 *
 * - 'snap': a built snap tree (meta/gadget.yaml): files are checked exactly as `snap pack` does.
 * - 'project': a gadget source tree (gadget.yaml + snap/snapcraft.yaml): parts may still add
 *   files at build time, so missing content is a warning, not snapd's error.
 * - 'file': gadget.yaml alone: every content path counts as present (an empty file, or a
 *   directory for a trailing "/"), the way snap-gadget's conformance oracle stubs them; a path
 *   that leaves the gadget tree, or names a missing file under meta/, still does not exist.
 */
import {statSync} from 'node:fs'
import {join} from 'node:path'

import type {GadgetInfo} from '../model.js'
import {cleanPath} from './snapd.js'

export interface ContentTree {
  kind: 'file' | 'project' | 'snap'
  /** Root directory for 'snap' and 'project'. */
  root?: string
  /** Size of an image, or undefined when it does not exist. */
  imageSize(path: string): bigint | undefined
  sourceKind(path: string): 'dir' | 'file' | undefined
}

/** A real directory tree. */
export function directoryTree(root: string, kind: 'project' | 'snap'): ContentTree {
  const stat = (path: string) => {
    try {
      return statSync(join(root, path))
    } catch {
      return undefined
    }
  }

  return {
    imageSize(path) {
      const s = stat(path)
      return s ? BigInt(s.size) : undefined
    },
    kind,
    root,
    sourceKind(path) {
      const s = stat(path)
      return s ? (s.isDirectory() ? 'dir' : 'file') : undefined
    },
  }
}

const DIR_SIZE = 4096n

/** gadget.yaml alone: content exists as empty placeholders (see the module comment). */
export function placeholderTree(info: GadgetInfo | undefined): ContentTree {
  const files = new Set<string>()
  const dirs = new Set<string>(['', 'meta'])
  files.add('meta/gadget.yaml')
  files.add('meta/snap.yaml')
  const paths: Array<{dir: boolean; path: string}> = []
  for (const v of info?.volumes?.values() ?? []) {
    for (const s of v?.structure ?? []) {
      for (const c of s.content ?? []) {
        if (c.source && !c.source.startsWith('$kernel:')) paths.push({dir: c.source.endsWith('/'), path: c.source})
        if (c.image && !c.image.startsWith('$kernel:')) paths.push({dir: false, path: c.image})
      }
    }
  }

  // Directories first, so that "dir/" and "dir/file" can both exist.
  paths.sort((a, b) => Number(!a.dir) - Number(!b.dir) || a.path.localeCompare(b.path))
  for (const {dir, path} of paths) {
    const p = normalize(path)
    if (p === undefined || p === 'meta' || p.startsWith('meta/')) continue
    if (files.has(p) || dirs.has(p)) continue
    const parts = p.split('/')
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'))
    if (dir) dirs.add(p)
    else files.add(p)
  }

  const kindOf = (path: string): 'dir' | 'file' | undefined => {
    const p = normalize(path)
    if (p === undefined) return undefined
    if (dirs.has(p)) return 'dir'
    return files.has(p) ? 'file' : undefined
  }

  return {
    imageSize(path) {
      const k = kindOf(path)
      return k === undefined ? undefined : k === 'dir' ? DIR_SIZE : 0n
    },
    kind: 'file',
    sourceKind: kindOf,
  }
}

/** The path relative to the gadget root, or undefined when it leaves the tree. */
function normalize(path: string): string | undefined {
  const p = cleanPath(path.replace(/^\/+/, ''))
  if (p === '..' || p.startsWith('../')) return undefined
  return p === '.' ? '' : p
}
