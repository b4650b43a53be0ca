/**
 * Checks on the gadget's other files: a serial vault / model service api-key must never be
 * written into the project (snapcraft.yaml, hooks); it belongs in a CI secret or `snap set`.
 */

import type {Finding} from '../findings.js'
import type {YamlNode} from '../yaml/ast.js'
import {parseYaml, position} from '../yaml/parse.js'

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
  const {lineStarts, root} = parseYaml(text)
  const found: Finding[] = []
  const stack: YamlNode[] = root ? [root] : []
  while (stack.length > 0) {
    const node = stack.pop()!
    if (node.kind === 'seq') stack.push(...node.items)
    if (node.kind !== 'map') continue
    for (const {key, value} of node.pairs) {
      stack.push(value)
      if (key.kind !== 'scalar' || !keyName.test(key.value)) continue
      if (value.kind === 'scalar' && looksLikeKey(value.value)) {
        const at = position(lineStarts, value.start)
        found.push(finding(file, at.line, at.column, `"${key.value}"`))
      }
    }
  }

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
  const {root} = parseYaml(snapcraftText)
  const parts = root?.kind === 'map' ? root.pairs.find((p) => p.key.kind === 'scalar' && p.key.value === 'parts')?.value : undefined
  if (parts?.kind !== 'map') return []
  const out: string[] = []
  for (const {value: part} of parts.pairs) {
    if (part.kind !== 'map') continue
    for (const {key, value} of part.pairs) {
      if (key.kind !== 'scalar') continue
      if ((key.value === 'prime' || key.value === 'stage') && value.kind === 'seq') {
        for (const entry of value.items) if (entry.kind === 'scalar' && !entry.value.startsWith('-')) out.push(entry.value)
      } else if (key.value === 'organize' && value.kind === 'map') {
        for (const {value: target} of value.pairs) if (target.kind === 'scalar') out.push(target.value)
      }
    }
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
