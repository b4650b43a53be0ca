/**
 * Shared by the reader's tests and scripts/reader-diff.ts: how snapd's verdict reads as a YAML
 * syntax verdict, go-yaml's message for a readYaml error, and documents mutated at the
 * character level (YAML indicators, quotes, breaks, tabs, BOMs, bad bytes, 512-byte block
 * boundaries) on top of the line-level mutations of test/helpers/mutate.ts.
 */
import fc from 'fast-check'

import type {YamlReadResult} from '../../../src/go-yaml/read/ast.js'

const PREFIX = 'cannot parse gadget metadata: '
/** go-yaml's decoding errors: the YAML was read, the Go value could not be made. */
const DECODING = /unmarshal errors|cannot decode|map merge|excessive aliasing|anchor '[^']*' value contains itself|invalid map key|!!binary/

/** The `yaml: …` part of snapd's error when it is a YAML syntax error, else undefined. */
export function snapdSyntaxError(error: null | string | undefined): string | undefined {
  if (!error?.startsWith(PREFIX + 'yaml: ')) return undefined
  if (DECODING.test(error)) return undefined
  return error.slice(PREFIX.length)
}

/** readYaml's error as go-yaml words it: `yaml: line N: message`, the line left out when 0. */
export function goMessage(result: YamlReadResult): string | undefined {
  const {error} = result
  if (!error) return undefined
  return `yaml: ${error.goLine === 0 ? '' : `line ${error.goLine}: `}${error.message}`
}

/** Snippets that exercise the scanner: indicators, properties, quotes, breaks, odd characters. */
const SNIPPETS = [
  ' ',
  '  ',
  '\n',
  '\n  ',
  '\t',
  '\r',
  '\r\n',
  '\u0085',
  '\u2028',
  '- ',
  ': ',
  ':',
  '-',
  '? ',
  '?',
  '[',
  ']',
  '{',
  '}',
  ', ',
  ',',
  '#',
  ' # c',
  '&a ',
  '*a',
  '&b',
  '!',
  '!!str ',
  '!e!x ',
  '!<tag:x> ',
  '|',
  '>',
  '|-',
  '>+',
  '|2',
  "'",
  '"',
  '\\',
  '\\x41',
  '\\u263a',
  '\\q',
  '%YAML 1.1\n',
  '%YAML 1.2\n',
  '%TAG !e! tag:e,\n',
  '%X\n',
  '---',
  '--- ',
  '...',
  '...\n',
  '\ufeff',
  'é',
  '😀',
  '\u0007',
  '\u007f',
  '@',
  '`',
  'a',
  'key: v\n',
  '  - x\n',
  '[a: b]',
  '{a: b, c}',
  '"q\\"q"',
  "'it''s'",
]

/**
 * A corpus document with 1–4 snippets inserted at random characters, sometimes padded past
 * 512-byte boundaries, sometimes with raw bytes inserted (bad UTF-8, control characters).
 */
export function syntaxMutatedArb(texts: string[]): fc.Arbitrary<Uint8Array> {
  const edit = fc.record({at: fc.nat(), snippet: fc.constantFrom(...SNIPPETS)})
  const bytes = fc.record({at: fc.nat(), bytes: fc.array(fc.oneof(fc.integer({max: 255, min: 0}), fc.constantFrom(0x00, 0x09, 0x80, 0xc3, 0xe2, 0xef, 0xff)), {maxLength: 3, minLength: 1})})
  return fc
    .record({
      base: fc.constantFrom(...texts),
      bytes: fc.oneof({arbitrary: fc.constant(null), weight: 3}, {arbitrary: bytes, weight: 1}),
      edits: fc.array(edit, {maxLength: 4, minLength: 1}),
      pad: fc.oneof({arbitrary: fc.constant(null), weight: 2}, {arbitrary: fc.nat({max: 1600}), weight: 1}),
    })
    .map(({base, bytes: raw, edits, pad}) => {
      let text = base
      if (pad !== null) text += `\n# ${'x'.repeat(pad)}\n`
      for (const {at, snippet} of edits) {
        const i = at % (text.length + 1)
        text = text.slice(0, i) + snippet + text.slice(i)
      }

      let out: Uint8Array = Buffer.from(text, 'utf8')
      if (raw) {
        const i = raw.at % (out.length + 1)
        out = Buffer.concat([out.subarray(0, i), Buffer.from(raw.bytes), out.subarray(i)])
      }

      return out
    })
}
