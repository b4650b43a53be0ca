/**
 * Mutated gadget.yaml documents for property and differential tests: real corpus files with
 * line-level and value-level edits that hit the edges snapd cares about (quantities, types, roles,
 * labels, indentation, duplicate keys, YAML oddities), plus raw byte damage.
 */
import fc from 'fast-check'
import {readdirSync, readFileSync} from 'node:fs'

import {shared} from './paths.js'

export function corpusTexts(): string[] {
  const dir = shared('corpus', 'gadget-yaml', 'real')
  return readdirSync(dir)
    .sort()
    .map((f) => readFileSync(`${dir}/${f}`, 'utf8'))
}

/** Values that sit on rule boundaries. */
export const interestingValues = [
  '0',
  '1',
  '440',
  '446',
  '447',
  '512',
  '1M',
  '1G',
  '4G',
  '4294967295',
  '4294967296',
  '32K',
  '1MiB',
  '0x100000',
  '1.5G',
  '1_000',
  '-1',
  '99999999999G',
  '9223372036854775807',
  '18446744073709551615',
  'null',
  '~',
  'Null',
  '""',
  "''",
  'yes',
  'no',
  '"yes"',
  'true',
  'on',
  'y',
  '07',
  '0C',
  '0c',
  '83',
  'EF',
  'bare',
  'mbr',
  'gpt',
  'GPT',
  'emmc',
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  'EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  'EF, C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  'system-seed',
  'system-seed-null',
  'system-boot',
  'system-data',
  'system-save',
  'system-boot-state',
  'system-boot-image',
  'bootimg',
  'ubuntu-seed',
  'ubuntu-data',
  'UBUNTU-DATA',
  'writable',
  'ubuntu-boot',
  'vfat',
  'vfat-16',
  'ext4',
  'ext3',
  'none',
  'grub',
  'u-boot',
  'uboot',
  'piboot',
  'lk',
  'mbr+92',
  '+92',
  'mbr+',
  'nope+1',
  'a:b',
  'system:serial-port',
  'x',
  '$kernel:dtbs/dtbs/',
  '$kernel:/x',
  '$kernel:a/../b',
  'boot-assets/',
  '../escape',
  '[]',
  '{}',
  '[a, b]',
  '{a: 1}',
  '&a x',
  '*a',
  '!!str 5',
  '!!int x',
  '|',
  '"\\t"',
  'a: b',
  '- x',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
]

const keys = [
  'volumes',
  'Volumes',
  'schema',
  'bootloader',
  'structure',
  'structures',
  'name',
  'filesystem',
  'filesytem',
  'filesystem-label',
  'offset',
  'offset-write',
  'size',
  'min-size',
  'type',
  'role',
  'id',
  'content',
  'source',
  'target',
  'image',
  'unpack',
  'update',
  'edition',
  'preserve',
  'defaults',
  'connections',
  'plug',
  'slot',
  'partial',
  'kernel-cmdline',
  '<<',
  '__proto__',
  'constructor',
]

export type Mutation =
  | {kind: 'delete-line'; at: number}
  | {kind: 'duplicate-line'; at: number}
  | {kind: 'swap-lines'; at: number}
  | {kind: 'set-value'; at: number; value: string}
  | {kind: 'set-key'; at: number; key: string}
  | {kind: 'indent'; at: number; by: number}
  | {kind: 'insert'; at: number; text: string}
  | {kind: 'bytes'; at: number; bytes: number[]}

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({at: fc.nat(), kind: fc.constant('delete-line' as const)}),
  fc.record({at: fc.nat(), kind: fc.constant('duplicate-line' as const)}),
  fc.record({at: fc.nat(), kind: fc.constant('swap-lines' as const)}),
  {arbitrary: fc.record({at: fc.nat(), kind: fc.constant('set-value' as const), value: fc.constantFrom(...interestingValues)}), weight: 5},
  fc.record({at: fc.nat(), key: fc.constantFrom(...keys), kind: fc.constant('set-key' as const)}),
  fc.record({at: fc.nat(), by: fc.integer({max: 4, min: -4}), kind: fc.constant('indent' as const)}),
  fc.record({
    at: fc.nat(),
    kind: fc.constant('insert' as const),
    text: fc.oneof(fc.constantFrom(...keys.map((k) => `${k}: x`), '\t', '- ', '---', '...', '%YAML 1.1', '  - name: extra', '&a', '*a'), fc.string({maxLength: 20})),
  }),
  {arbitrary: fc.record({at: fc.nat(), bytes: fc.array(fc.integer({max: 255, min: 0}), {maxLength: 4, minLength: 1}), kind: fc.constant('bytes' as const)}), weight: 1},
)

export function applyMutations(text: string, mutations: Mutation[]): Uint8Array {
  const lines = text.split('\n')
  let bytes: Array<{at: number; bytes: number[]}> = []
  for (const m of mutations) {
    const i = lines.length === 0 ? 0 : m.at % lines.length
    switch (m.kind) {
      case 'delete-line': {
        lines.splice(i, 1)
        break
      }

      case 'duplicate-line': {
        lines.splice(i, 0, lines[i] ?? '')
        break
      }

      case 'swap-lines': {
        if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1], lines[i]]
        break
      }

      case 'set-value': {
        const line = lines[i] ?? ''
        const colon = line.indexOf(': ')
        lines[i] = colon === -1 ? `${line.replace(/\S.*$/, '')}${m.value}` : `${line.slice(0, colon + 2)}${m.value}`
        break
      }

      case 'set-key': {
        lines[i] = (lines[i] ?? '').replace(/^(\s*-?\s*)[^:\s]+:/, `$1${m.key}:`)
        break
      }

      case 'indent': {
        const line = lines[i] ?? ''
        lines[i] = m.by >= 0 ? ' '.repeat(m.by) + line : line.replace(new RegExp(`^ {0,${-m.by}}`), '')
        break
      }

      case 'insert': {
        lines.splice(i, 0, m.text)
        break
      }

      case 'bytes': {
        bytes = [...bytes, {at: m.at, bytes: m.bytes}]
        break
      }
    }
  }

  let out: Uint8Array = Buffer.from(lines.join('\n'), 'utf8')
  for (const b of bytes) {
    const at = out.length === 0 ? 0 : b.at % out.length
    out = Buffer.concat([out.subarray(0, at), Buffer.from(b.bytes), out.subarray(at)])
  }

  return out
}

/** A mutated corpus document: a base file and 1–6 mutations. */
export function mutatedGadgetArb(texts: string[]): fc.Arbitrary<Uint8Array> {
  return fc.record({base: fc.constantFrom(...texts), mutations: fc.array(mutationArb, {maxLength: 6, minLength: 1})}).map(({base, mutations}) => applyMutations(base, mutations))
}
