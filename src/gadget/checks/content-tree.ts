/**
 * What the content checks may know about the files of a gadget.
 *
 * - 'snap': a built snap tree (meta/gadget.yaml): files are checked exactly as `snap pack` does.
 * - 'project': a gadget source tree (gadget.yaml + snap/snapcraft.yaml): parts may still add
 *   files at build time, so missing content is a warning, not snapd's error.
 * - 'file': gadget.yaml alone: every content path counts as present (an empty file, or a
 *   directory for a trailing "/"); a path that leaves the gadget tree, or names a missing file
 *   under meta/, still does not exist.
 */
import {statSync} from 'node:fs'
import {join} from 'node:path'

import type {GadgetInfo} from '../gadget-types.js'
import {cleanPath} from './clean-path.js'

export interface ContentTree {
  kind: 'file' | 'project' | 'snap'
  /** Root directory for 'snap' and 'project'. */
  root?: string
  /** Size of an image, or undefined when it does not exist. */
  imageSize(path: string): bigint | undefined
  sourceKind(path: string): 'dir' | 'file' | undefined
  /** For a path reported missing: how to fix it (a tree may know better than "add it"). */
  missingHint?(path: string): string | undefined
}

/** A real directory tree. */
export function directoryTree(root: string, kind: 'project' | 'snap'): ContentTree {
  const stat = (path: string) => {
    try {
      // Go's filepath.Join cleans the path: a trailing "/" does not make stat require a directory.
      return statSync(join(root, path).replace(/(.)\/+$/, '$1'))
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

/**
 * gadget.yaml alone: content exists as empty placeholders (see the module comment).
 * `stubName` says which placeholder a content value makes (by default the path snapd decoded).
 * `source` gives the gadget whose content is stubbed, or why none can be: then nothing is, and
 * `unreadable` opens the hint a missing path gets. It is asked only when a content question is.
 */
export function placeholderTree(
  source: () => {info?: GadgetInfo; unreadable?: string},
  stubName: (owner: object, key: 'image' | 'source') => string | undefined = (o, k) => (o as Record<string, string>)[k],
): ContentTree {
  // Built on first use: most gadgets are judged without a content question being asked.
  let built: undefined | {dirs: Set<string>; files: Set<string>; unreadable?: string}
  const build = () => {
    const {info, unreadable} = source()
    const files = new Set<string>()
    const dirs = new Set<string>(['', 'meta'])
    files.add('meta/gadget.yaml')
    files.add('meta/snap.yaml')
    const paths: Array<{dir: boolean; path: string}> = []
    for (const v of info?.volumes?.values() ?? []) {
      for (const s of v?.structure ?? []) {
        for (const c of s.content ?? []) {
          const source = c.source ? stubName(c, 'source') : undefined
          const image = c.image ? stubName(c, 'image') : undefined
          if (source && !source.startsWith('$kernel:')) paths.push({dir: source.endsWith('/'), path: source})
          if (image && !image.startsWith('$kernel:')) paths.push({dir: false, path: image})
        }
      }
    }

    // Directories first, so that "dir/" and "dir/file" can both exist.
    paths.sort((a, b) => Number(!a.dir) - Number(!b.dir) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    for (const {dir, path} of paths) {
      const p = normalize(path)
      if (p === undefined || p === 'meta' || p.startsWith('meta/')) continue
      if (files.has(p) || dirs.has(p)) continue
      for (let slash = p.indexOf('/'); slash !== -1; slash = p.indexOf('/', slash + 1)) dirs.add(p.slice(0, slash))
      if (dir) dirs.add(p)
      else files.add(p)
    }

    return {dirs, files, unreadable}
  }

  const kindOf = (path: string): 'dir' | 'file' | undefined => {
    const p = normalize(path)
    if (p === undefined) return undefined
    const {dirs, files} = (built ??= build())
    if (dirs.has(p)) return 'dir'
    return files.has(p) ? 'file' : undefined
  }

  return {
    imageSize(path) {
      const k = kindOf(path)
      return k === undefined ? undefined : k === 'dir' ? DIR_SIZE : 0n
    },
    kind: 'file',
    missingHint(path) {
      const {unreadable} = (built ??= build())
      return unreadable ? `${unreadable}; fix that value, or validate the gadget project or built snap to judge ${path} on the real files` : undefined
    },
    sourceKind: kindOf,
  }
}

/** The path relative to the gadget root, or undefined when it leaves the tree. */
function normalize(path: string): string | undefined {
  // Most paths are already clean: skip the general cleaning for them.
  if (!/(^|\/)\.\.?(\/|$)|\/\/|^\/|\/$/.test(path)) return path
  const p = cleanPath(path.replace(/^\/+/, ''))
  if (p === '..' || p.startsWith('../')) return undefined
  return p === '.' ? '' : p
}
