/**
 * A configuration file read as YAML (JSON is YAML too) with the positions of its keys and values,
 * so a later check can point at `file:line:col` of what it is about. Read within the limits of
 * untrusted YAML: a config may come from anyone (a file handed to a factory), and an alias bomb
 * or a thousand nested brackets must be a clear error, not a crash.
 */
import {type ErrorCode, UserError} from '../errors.js'
import {type DocumentPath, type PlainValue, readUntrustedYamlDocument} from './untrusted.js'

export type {DocumentPath} from './untrusted.js'

export interface Position {
  column: number
  line: number
}

interface YamlDocument {
  /** The document as plain data (YAML 1.2's core schema). */
  data: PlainValue | undefined
  /** Line and column of the value (or the key) at `path`; the closest existing node otherwise. */
  locate(path: DocumentPath, at?: 'key' | 'value'): Position | undefined
}

/** Config files are a few KB; nesting deeper than this is no config. */
const CONFIG_LIMITS = {maxDepth: 64, maxNodes: 200_000}

/** Parses `text`; a syntax error, a key given twice or a limit crossed is a UserError with `code` at its place. */
export function readYamlDocument(text: string, file: string, code: ErrorCode): YamlDocument {
  const read = readUntrustedYamlDocument(text, {...CONFIG_LIMITS, maxBytes: Buffer.byteLength(text, 'utf8')})
  if (!read.ok) {
    const reason = read.kind === 'syntax' ? `not valid YAML: ${read.message}` : read.kind === 'limit' ? `refused: ${read.message}` : `not a config: ${read.message}`
    const hint =
      read.kind === 'syntax'
        ? 'fix the syntax (JSON is valid YAML too)'
        : read.kind === 'limit'
          ? 'a config is a few plain keys and lists; write it out without anchors and aliases'
          : 'write keys as plain names, each once'
    throw new UserError(code, reason, {column: read.column, file, hint, kind: 'usage', line: read.line})
  }

  return {data: read.document.value, locate: read.document.locate}
}
