/**
 * node:path's POSIX functions that the shared code uses, in plain JavaScript: the runtime bundle
 * maps node:path here (scripts/build.mjs), so the same code runs on QuickJS. `resolve` starts from
 * the host's working directory.
 */
import {host} from '../../support/host.js'

export const sep = '/'

export function normalize(path: string): string {
  const absolute = path.startsWith('/')
  const parts: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (parts.length > 0 && parts.at(-1) !== '..') parts.pop()
      else if (!absolute) parts.push('..')
      continue
    }

    parts.push(part)
  }

  const joined = parts.join('/')
  const trailing = path.endsWith('/')
  if (absolute) return `/${joined}${trailing && joined !== '' ? '/' : ''}`
  return `${joined === '' ? '.' : joined}${trailing ? '/' : ''}`
}

export function isAbsolute(path: string): boolean {
  return path.startsWith('/')
}

export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== '').join('/')
  return joined === '' ? '.' : normalize(joined)
}

export function resolve(...parts: string[]): string {
  let path = ''
  for (let i = parts.length - 1; i >= 0 && !path.startsWith('/'); i--) if (parts[i] !== '') path = path === '' ? parts[i] : `${parts[i]}/${path}`
  if (!path.startsWith('/')) path = `${host().cwd()}/${path}`
  const normal = normalize(path)
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal
}

export function dirname(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path
  if (trimmed === '' && path.startsWith('/')) return '/'
  const at = trimmed.lastIndexOf('/')
  if (at === -1) return '.'
  return at === 0 ? '/' : trimmed.slice(0, at)
}

export function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, '')
  return trimmed.slice(trimmed.lastIndexOf('/') + 1)
}

export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean)
  const b = resolve(to).split('/').filter(Boolean)
  let common = 0
  while (common < a.length && common < b.length && a[common] === b[common]) common++
  return [...a.slice(common).map(() => '..'), ...b.slice(common)].join('/')
}

export const posix = {basename, dirname, isAbsolute, join, normalize, relative, resolve, sep}
export default posix
