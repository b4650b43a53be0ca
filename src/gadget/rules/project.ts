/**
 * Checks on the gadget's other files: a serial vault / model service api-key must never be
 * written into the project (snapcraft.yaml, hooks); it belongs in a CI secret or `snap set`.
 */
import {isPair, isScalar, type Node, parseDocument, visit} from 'yaml'

import type {Finding} from '../findings.js'
import {lineColumn} from '../yaml/text.js'

const keyName = /api[-_]?key/i
/** Values that look like a real key rather than a placeholder or a variable. */
const literal = /^[A-Za-z0-9+/=_.-]{16,}$/

function looksLikeKey(value: string): boolean {
  return literal.test(value) && !/^(x+|0+|\.+)$/i.test(value) && !value.includes('$')
}

function finding(file: string, line: number, column: number, what: string): Finding {
  return {
    file,
    hint: 'remove the key from the file (and revoke it: it is in the repository history); give it at build time from an environment variable or CI secret, or in the factory with "snap set <gadget> device-service.headers=…"',
    message: `${what} holds a literal serial-vault api-key`,
    rule: 'N14',
    secret: true,
    severity: 'warning',
    start: {column, line},
  }
}

/** Literal api-keys in snapcraft.yaml (any value under a key named like api-key / *_APIKEY). */
export function apiKeysInYaml(file: string, text: string): Finding[] {
  const doc = parseDocument(text, {prettyErrors: false, strict: false, uniqueKeys: false})
  const found: Finding[] = []
  visit(doc, {
    Pair(_, pair) {
      if (!isPair(pair) || !isScalar(pair.key) || !keyName.test(String(pair.key.value))) return
      const value = pair.value as Node | null
      if (isScalar(value) && looksLikeKey(String(value.value))) {
        const at = lineColumn(text, value.range?.[0] ?? 0)
        found.push(finding(file, at.line, at.column, `"${String(pair.key.value)}"`))
      }
    },
  })
  found.push(...apiKeysInText(file, text).filter((f) => !found.some((g) => g.start?.line === f.start?.line)))
  return found
}

/** Literal api-keys in shell hooks and other text: `"api-key": "…"`, `API_KEY=…`. */
export function apiKeysInText(file: string, text: string): Finding[] {
  const found: Finding[] = []
  const pattern = /(api[-_]?key)["']?\s*[:=]\s*\\?["']?([^"'\s\\,}]+)/gi
  const lines = text.split('\n')
  lines.forEach((line, i) => {
    for (const m of line.matchAll(pattern)) {
      if (looksLikeKey(m[2])) found.push(finding(file, i + 1, (m.index ?? 0) + 1, `"${m[1]}"`))
    }
  })
  return found
}

/**
 * Paths snapcraft.yaml's parts put into the snap: their `prime` and `stage` entries and their
 * `organize` targets (globs kept as written, exclusions left out). Content a part builds is not
 * missing from a project just because it is not there before the build.
 */
export function partOutputs(snapcraftText: string): string[] {
  let doc: unknown
  try {
    doc = parseDocument(snapcraftText, {prettyErrors: false, strict: false, uniqueKeys: false}).toJS({maxAliasCount: 100})
  } catch {
    return []
  }

  const parts = (doc as {parts?: unknown} | null)?.parts
  if (!parts || typeof parts !== 'object') return []
  const out: string[] = []
  for (const part of Object.values(parts as Record<string, unknown>)) {
    if (!part || typeof part !== 'object') continue
    const {organize, prime, stage} = part as {organize?: unknown; prime?: unknown; stage?: unknown}
    for (const list of [prime, stage]) if (Array.isArray(list)) for (const entry of list) if (typeof entry === 'string' && !entry.startsWith('-')) out.push(entry)
    if (organize && typeof organize === 'object') for (const target of Object.values(organize)) if (typeof target === 'string') out.push(target)
  }

  return out.map((p) => p.replace(/^\/+/, '').replace(/^\(\w+\)\//, ''))
}

/** Whether `path` (a gadget content path) is one of `outputs`, or inside one, by name or glob. */
export function producedByParts(path: string, outputs: readonly string[]): boolean {
  const clean = path.replace(/^\/+/, '').replace(/\/+$/, '')
  return outputs.some((output) => {
    const o = output.replace(/\/+$/, '')
    if (o === clean || clean.startsWith(`${o}/`)) return true
    if (!/[*?[]/.test(o)) return false
    const re = new RegExp(`^${o.replaceAll(/[.+^${}()|\\]/g, '\\$&').replaceAll('**', '\u0000').replaceAll('*', '[^/]*').replaceAll('\u0000', '.*').replaceAll('?', '[^/]')}(/.*)?$`)
    return re.test(clean)
  })
}
