/**
 * The plain-block shortcut (plain-block.ts) against the full libyaml reader: on every YAML file the
 * project has and on mutants made to sit on the shortcut's edges (indentation, entries, quotes,
 * comments, keys without values), readYaml's result equals readYamlFully's, tree, offsets and
 * errors alike; and the shortcut takes the corpus, or it would save nothing.
 */
import fc from 'fast-check'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {readYaml, readYamlFully} from '../../../src/go-yaml/read/parser.js'
import {readPlainBlock} from '../../../src/go-yaml/read/plain-block.js'
import {corpusTexts, mutatedGadgetArb} from '../../helpers/mutate.js'
import {fixtures, projectRoot, shared} from '../../helpers/paths.js'
import {syntaxMutatedArb} from './reader-oracle.js'

function yamlFiles(dir: string): string[] {
  return (readdirSync(dir, {recursive: true}) as string[])
    .filter((name) => /\.ya?ml$/.test(name) && !name.includes('node_modules'))
    .sort()
    .map((name) => join(dir, name))
}

/** Line edits that keep most documents plain block YAML, with the indentation and shapes libyaml is strict about. */
const LINE_EDITS = ['indent', 'dedent', 'swap', 'delete', 'duplicate', 'single', 'double', 'dash', 'undash', 'comment', 'blank', 'empty', 'key', 'colon', 'hash', 'trail'] as const

function lineEditedArb(texts: string[]): fc.Arbitrary<string> {
  const edit = fc.record({at: fc.nat(), kind: fc.constantFrom(...LINE_EDITS), n: fc.integer({max: 4, min: 1})})
  return fc.record({base: fc.constantFrom(...texts), edits: fc.array(edit, {maxLength: 3, minLength: 1})}).map(({base, edits}) => {
    const lines = base.split('\n')
    for (const {at, kind, n} of edits) {
      const i = at % lines.length
      const line = lines[i]
      const [, indent, dash = '', key = ''] = /^( *)(- +)?([^:]*:)? *(.*)$/.exec(line)!
      const value = line.slice(line.indexOf(key) + key.length).trim()
      switch (kind) {
        case 'blank': {
          lines.splice(i, 0, ' '.repeat(n))
          break
        }

        case 'colon': {
          lines[i] = line + (n % 2 ? ':' : ': x')
          break
        }

        case 'comment': {
          lines.splice(i, 0, `${' '.repeat(n * 2)}# note`)
          break
        }

        case 'dash': {
          lines[i] = `${indent}- ${line.slice(indent.length)}`
          break
        }

        case 'dedent': {
          lines[i] = line.replace(new RegExp(`^ {1,${n}}`), '')
          break
        }

        case 'delete': {
          lines.splice(i, 1)
          break
        }

        case 'double': {
          lines[i] = `${indent}${dash}${key} "${value}"`
          break
        }

        case 'duplicate': {
          lines.splice(i, 0, line)
          break
        }

        case 'empty': {
          lines[i] = `${indent}${dash}${key || 'k:'}`
          break
        }

        case 'hash': {
          lines[i] = line + (n % 2 ? ' #c' : '#c')
          break
        }

        case 'indent': {
          lines[i] = ' '.repeat(n) + line
          break
        }

        case 'key': {
          lines.splice(i, 0, `${indent}${' '.repeat(n - 1)}extra${n}:${n % 2 ? '' : ' v'}`)
          break
        }

        case 'single': {
          lines[i] = `${indent}${dash}${key} '${value}'`
          break
        }

        case 'swap': {
          if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1], line]
          break
        }

        case 'trail': {
          lines[i] = line + ' '.repeat(n)
          break
        }

        case 'undash': {
          lines[i] = line.replace(/^( *)- /, '$1  ')
          break
        }
      }
    }

    return lines.join('\n')
  })
}

/** Small documents of typical lines at random indentations: most are refused, by libyaml or by the shortcut. */
const LINE_SHAPES = [
  'a: 1',
  'b:',
  'c: x y',
  '- v',
  '- k: v',
  '- k:',
  '-   k: w',
  '# c',
  '',
  "q: 's'",
  'd: "t"',
  'e: v # c',
  'f: v#x',
  'g: a:b',
  "h: ''",
  'i: ""',
  '-  v',
  'j: [x]',
  'k: -1',
  'l: ~',
  '- - x',
  '-',
  'm:  # c',
]
const smallDocumentArb = fc
  .array(fc.record({indent: fc.nat({max: 6}), shape: fc.constantFrom(...LINE_SHAPES)}), {maxLength: 9, minLength: 1})
  .map((lines) => lines.map(({indent, shape}) => ' '.repeat(indent) + shape).join('\n'))

function assertSameReading(documents: Array<string | Uint8Array>): number {
  let shortcut = 0
  for (const document of documents) {
    const full = readYamlFully(document)
    assert.deepStrictEqual(readYaml(document), full, typeof document === 'string' ? document : Buffer.from(document).toString('utf8'))
    // readYaml gives the shortcut printable ASCII only (its reader checks the rest).
    if (typeof document === 'string' && /^[\n\x20-\x7E]*$/.test(document) && readPlainBlock(document) !== undefined) {
      shortcut++
      assert.equal(full.error, undefined, document)
    }
  }

  return shortcut
}

describe('readYaml: the plain-block shortcut reads as libyaml does', () => {
  it('on every YAML file of the corpus, the examples and the fixtures', () => {
    const files = [...yamlFiles(shared('corpus')), ...yamlFiles(join(projectRoot, 'examples')), ...yamlFiles(fixtures())]
    assert.ok(files.length > 400, `${files.length} files`)
    for (const file of files) assertSameReading([readFileSync(file), readFileSync(file, 'utf8')])
  })

  it('takes at least 100 of the 107 real gadget.yaml files (the figure it exists for)', () => {
    const texts = corpusTexts()
    const taken = texts.filter((text) => readPlainBlock(text) !== undefined).length
    assert.equal(texts.length, 107)
    assert.ok(taken >= 100, `${taken} of ${texts.length}`)
  })

  it('on 4,000 line-edited corpus documents', () => {
    const documents = fc.sample(lineEditedArb(corpusTexts()), {numRuns: 4000, seed: 20_261_207})
    const shortcut = assertSameReading(documents)
    // Both sides of the shortcut are exercised.
    assert.ok(shortcut > 1000 && shortcut < 3000, `${shortcut} of 4000 took the shortcut`)
  })

  it('on 4,000 small documents of typical lines at random indentations', () => {
    const documents = fc.sample(smallDocumentArb, {numRuns: 4000, seed: 20_261_207})
    const shortcut = assertSameReading(documents)
    assert.ok(shortcut > 200 && shortcut < 2000, `${shortcut} of 4000 took the shortcut`)
  })

  it('on 1,000 documents with syntax snippets and damaged bytes', () => {
    const texts = corpusTexts()
    assertSameReading([...fc.sample(mutatedGadgetArb(texts), {numRuns: 500, seed: 20_261_207}), ...fc.sample(syntaxMutatedArb(texts), {numRuns: 500, seed: 20_261_207})])
  })

  it('leaves to libyaml what it does not read line by line', () => {
    const refused = [
      'a:\n\tb: 1\n', // tab
      'a: 1\r\nb: 2\r\n', // CR
      '---\na: 1\n', // document marker
      '%YAML 1.1\n---\na: 1\n', // directive
      'a: "x\\ty"\n', // escape
      "a: 'it''s'\n", // quote in single quotes
      'a: b\n  c\n', // plain scalar continued
      'a: [1, 2]\n', // flow
      'a: &x 1\nb: *x\n', // anchor and alias
      'a: !!str 1\n', // tag
      'a: |\n  x\n', // block scalar
      '- - x\n', // nested entry on one line
      '-\n  a: 1\n', // entry content on the next line
      'a:\n    b: 1\n  c: 2\n', // dedent to no open column
      'a: b: c\n', // mapping value in a plain scalar
      'just a scalar\n',
      '# only a comment\n',
      `${'k'.repeat(1001)}: v\n`, // longer than a simple key may be
    ]
    for (const text of refused) assert.equal(readPlainBlock(text), undefined, text)
  })

  it('builds the tree with libyaml offsets: keys, empty values, indentless sequences', () => {
    const text = 'volumes:\n  pc:\n    structure:\n    - name: a\n      size: 1M # one\n    - name: b\n      role:\n    bootloader: grub\n'
    const root = readPlainBlock(text)
    assert.deepStrictEqual(root, readYamlFully(text).root)
    assert.equal(root?.kind, 'map')
    const pc = root.kind === 'map' && root.pairs[0].value.kind === 'map' ? root.pairs[0].value.pairs[0].value : undefined
    assert.equal(pc?.kind, 'map')
    const structure = pc.kind === 'map' ? pc.pairs[0].value : undefined
    assert.equal(structure?.kind, 'seq')
    assert.equal(structure.start, text.indexOf('- name: a'))
    // `role:` with nothing after it: an empty plain scalar just after its colon.
    const role = structure.kind === 'seq' && structure.items[1].kind === 'map' ? structure.items[1].pairs[1].value : undefined
    assert.deepStrictEqual(role, {end: text.indexOf('role:') + 5, kind: 'scalar', start: text.indexOf('role:') + 5, style: 'plain', value: ''})
  })
})
