/**
 * Shell-style wildcards (`*`, `?`, `[…]`) for the few places configuration names things by
 * pattern: sysfs paths (`/sys/bus/i2c/devices/*-0050/eeprom`), interface names (`enp*s0`),
 * device-tree compatibles (`fsl,imx8mp*`). Node 20 has no fs.glob.
 */
import type {SerialFs} from './sources/source.js'

const cache = new Map<string, RegExp>()

function hasWildcard(text: string): boolean {
  return /[*?[]/.test(text)
}

/** The regular expression for one glob (it never crosses a `/`). */
function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob)
  if (re) return re
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*') source += '[^/]*'
    else if (c === '?') source += '[^/]'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end === -1) source += '\\['
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')
        source += `[${body}]`
        i = end
      }
    } else source += c.replace(/[$()*+.?[\\\]^{|}]/g, '\\$&')
  }

  re = new RegExp(`^${source}$`)
  cache.set(glob, re)
  return re
}

export function matchGlob(text: string, glob: string): boolean {
  return hasWildcard(glob) ? globToRegExp(glob).test(text) : text === glob
}

/** Every existing path matching `pattern` (absolute, inside the root), sorted. */
export async function expandGlob(fs: SerialFs, pattern: string): Promise<string[]> {
  if (!hasWildcard(pattern)) return [pattern]
  let paths = ['']
  for (const segment of pattern.split('/').slice(1)) {
    if (!hasWildcard(segment)) {
      paths = paths.map((p) => `${p}/${segment}`)
      continue
    }

    const next: string[] = []
    for (const parent of paths) {
      let names: string[]
      try {
        names = await fs.readdir(parent || '/')
      } catch {
        continue
      }

      for (const name of names) if (globToRegExp(segment).test(name)) next.push(`${parent}/${name}`)
    }

    paths = next
  }

  return paths.sort()
}

/** Expands every pattern, keeping the given order between patterns and dropping duplicates. */
export async function expandAll(fs: SerialFs, patterns: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const pattern of patterns) {
    // Not `for (… of await …)`: QuickJS cannot compile its lowered form (build.mjs lowers async functions).
    const paths = await expandGlob(fs, pattern)
    for (const path of paths) if (!out.includes(path)) out.push(path)
  }
  return out
}
