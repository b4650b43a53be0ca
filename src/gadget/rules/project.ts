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
