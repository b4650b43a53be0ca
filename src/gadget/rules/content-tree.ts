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
 * gadget.yaml alone: content exists as empty placeholders (see the module comment). The
 * conformance oracle reads content paths with PyYAML, so a plain `image: 0x10` becomes the
 * placeholder "16" and `image: true` none at all; `stubName` says what it creates for a value.
 */
export function placeholderTree(info: GadgetInfo | undefined, stubName: (owner: object, key: 'image' | 'source') => string | undefined = (o, k) => (o as Record<string, string>)[k]): ContentTree {
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
  // Most paths are already clean: skip the general cleaning for them.
  if (!/(^|\/)\.\.?(\/|$)|\/\/|^\/|\/$/.test(path)) return path
  const p = cleanPath(path.replace(/^\/+/, ''))
  if (p === '..' || p.startsWith('../')) return undefined
  return p === '.' ? '' : p
}

/** What PyYAML makes of a plain scalar, as the oracle writes it with str(): undefined for non-paths. */
export function pyyamlPlainText(text: string): string | undefined {
  if (/^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/.test(text)) return undefined
  if (/^(~|null|Null|NULL|)$/.test(text)) return undefined
  if (/^\d{4}-\d\d?-\d\d?([Tt]|[ \t]+)?/.test(text) && /^\d{4}-\d\d-\d\d$|^\d{4}-\d\d?-\d\d?([Tt]|[ \t]+)\d\d?:\d\d:\d\d(\.\d*)?(([ \t]*)(Z|[-+]\d\d?(:\d\d)?))?$/.test(text)) return undefined
  const sign = text.startsWith('-') ? -1n : 1n
  const body = text.replace(/^[-+]/, '').replaceAll('_', '')
  if (/^[-+]?0b[01_]+$/.test(text)) return String(sign * BigInt(`0b${body.slice(2)}`))
  if (/^[-+]?0x[0-9a-fA-F_]+$/.test(text)) return String(sign * BigInt(`0x${body.slice(2)}`))
  if (/^[-+]?0[0-7_]+$/.test(text)) return String(sign * BigInt(`0o${body.slice(1)}`))
  if (/^[-+]?(0|[1-9][0-9_]*)$/.test(text)) return String(sign * BigInt(body))
  if (/^[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+$/.test(text)) return String(sign * body.split(':').reduce((acc, part) => acc * 60n + BigInt(part), 0n))
  if (/^[-+]?([0-9][0-9_]*)\.[0-9_]*([eE][-+][0-9]+)?$/.test(text) || /^\.[0-9_]+([eE][-+][0-9]+)?$/.test(text)) return pythonFloat(Number(sign < 0n ? `-${body}` : body))
  if (/^[-+]?\.(inf|Inf|INF)$/.test(text)) return sign < 0n ? '-inf' : 'inf'
  if (/^\.(nan|NaN|NAN)$/.test(text)) return 'nan'
  return text
}

/** Python's repr of a float. */
function pythonFloat(f: number): string {
  if (!Number.isFinite(f)) return Number.isNaN(f) ? 'nan' : f > 0 ? 'inf' : '-inf'
  const abs = Math.abs(f)
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    return f.toExponential().replace(/e([+-])(\d)$/, 'e$10$2')
  }

  const s = String(f)
  return s.includes('.') || s.includes('e') ? s : `${s}.0`
}
