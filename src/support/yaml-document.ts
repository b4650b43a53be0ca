/**
 * A configuration file read as YAML (JSON is YAML too) with the positions of its values, so a
 * later check can point at `file:line:col` of the key or value it is about.
 */
import {isMap, isPair, isScalar, LineCounter, parseDocument} from 'yaml'

import {UserError} from '../errors.js'

/** A path inside a document: `['models', 1, 'api-key']`. */
export type DocumentPath = readonly (number | string)[]

export interface Position {
  column: number
  line: number
}

export interface YamlDocument {
  /** The document as plain data. */
  data: unknown
  /** Line and column of the value (or the key) at `path`; the closest existing node otherwise. */
  locate(path: DocumentPath, at?: 'key' | 'value'): Position | undefined
}

/** Parses `text`; a syntax error or a duplicate key is a UserError with `code` at its place. */
export function readYamlDocument(text: string, file: string, code: string): YamlDocument {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true})
  const first = doc.errors[0]
  if (first) {
    const at = lineCounter.linePos(first.pos[0])
    throw new UserError(code, `not valid YAML: ${first.message.split('\n')[0]}`, {column: at?.col, file, hint: 'fix the syntax (JSON is valid YAML too)', kind: 'usage', line: at?.line})
  }

  const toPosition = (offset: number): Position => {
    const pos = lineCounter.linePos(offset)
    return {column: pos.col, line: pos.line}
  }

  const locate = (path: DocumentPath, at: 'key' | 'value' = 'value'): Position | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as undefined | {range?: [number, number, number]}
      const parent = n > 0 ? doc.getIn(path.slice(0, n - 1), true) : undefined
      const pair = n > 0 && isMap(parent) ? parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === path[n - 1]) : undefined
      const keyRange = isPair(pair) && isScalar(pair.key) ? pair.key.range : undefined
      const range = at === 'key' && n === path.length ? (keyRange ?? node?.range) : (node?.range ?? keyRange)
      if (range) return toPosition(range[0])
      if (n === 0 && doc.contents?.range) return toPosition(doc.contents.range[0])
    }

    return undefined
  }

  return {data: doc.toJS(), locate}
}
