/** Go's filepath.Clean, as snapd applies it to the paths a gadget names. A module of its own: snapd's checks, lint and the content tree all use it. */
export function cleanPath(p: string): string {
  if (p === '') return '.'
  const rooted = p.startsWith('/')
  const out: string[] = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length > 0 && out.at(-1) !== '..') out.pop()
      else if (!rooted) out.push('..')
      continue
    }

    out.push(part)
  }

  const joined = out.join('/')
  if (rooted) return `/${joined}`
  return joined === '' ? '.' : joined
}
