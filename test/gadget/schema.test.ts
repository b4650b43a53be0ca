/**
 * schemas/gadget.schema.json: it compiles with ajv in strict mode; it is never stricter than
 * snapd except for the unknown keys it exists to flag (P3); the standalone validator generated at
 * build time agrees with one compiled at run time; the P3 findings it drives say what to write
 * instead; and the snippets it offers editors are valid gadgets.
 *
 * The schema sees gadget.yaml as JSON the way the structural layer does: every scalar as its
 * source text (snapd decodes string fields from it, P5), a YAML null as null (snapd: "not set"),
 * the last of duplicate keys, merge keys applied and aliases expanded.
 */
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'

import {Ajv2020} from 'ajv/dist/2020.js'
import type {ErrorObject, ValidateFunction} from 'ajv'
import {type Document, isAlias, isMap, isScalar, isSeq, type Node, parseDocument, stringify} from 'yaml'

import {freshDir} from '../helpers/scratch.js'
import {ruleInfo} from '../../src/gadget/findings/rules.js'
import {validate as generatedValidate} from '../../src/gadget/checks/schema.generated.js'
import {validateGadget} from '../../src/gadget/validate.js'
import {oracleAvailable, oracleRequired, type OracleVerdict, runOracle} from '../helpers/oracle.js'
import {projectRoot, shared} from '../helpers/paths.js'

const schemaText = readFileSync(join(projectRoot, 'schemas', 'gadget.schema.json'), 'utf8')
const corpus = shared('corpus', 'gadget-yaml')
const stored = readFileSync(join(corpus, 'verdicts-snapd-2.57.6.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as OracleVerdict)

/**
 * Unknown keys the schema reports in corpus files snapd accepts, by file: the one kind of error
 * the schema may add to snapd's verdict (P3 warnings). None today.
 */
const expectedUnknownKeys: Record<string, string[]> = {}

interface BuildValidators {
  annotationKeywords: string[]
  compileGadgetSchema: () => {validate: ValidateFunction}
}

let build: BuildValidators
/** The whole schema (with everything editors read), compiled now. */
let runtime: ValidateFunction
/** The generated standalone code, as the CLI runs it. */
const generated = generatedValidate as unknown as ValidateFunction

before(async () => {
  build = (await import(pathToFileURL(join(projectRoot, 'scripts', 'build-validators.mjs')).href)) as BuildValidators
  runtime = strictAjv().compile(JSON.parse(schemaText) as object)
})

function strictAjv(): Ajv2020 {
  const ajv = new Ajv2020({allErrors: true, allowUnionTypes: true, strict: true})
  ajv.addVocabulary(build.annotationKeywords)
  return ajv
}

const YAML_11_NULL = new Set(['', '~', 'null', 'Null', 'NULL'])
const MAX_ALIAS_DEPTH = 50

/** gadget.yaml as JSON for the schema (see the module comment). */
function jsonView(content: Buffer | string): unknown {
  const doc = parseDocument(content.toString(), {merge: false, schema: 'failsafe', strict: false, uniqueKeys: false, version: '1.1'})
  return value(doc, doc.contents as Node | null, 0)
}

function value(doc: Document, node: Node | null | undefined, aliasDepth: number): unknown {
  if (!node) return null
  if (isAlias(node)) return aliasDepth > MAX_ALIAS_DEPTH ? null : value(doc, node.resolve(doc) as Node | undefined, aliasDepth + 1)
  if (isScalar(node)) {
    const text = String(node.value ?? '')
    return node.type === 'PLAIN' && !node.tag && YAML_11_NULL.has(text) ? null : text
  }

  if (isSeq(node)) return node.items.map((item) => value(doc, item as Node, aliasDepth))
  if (!isMap(node)) return null
  const own: Record<string, unknown> = {}
  const merged: Record<string, unknown> = {}
  for (const pair of node.items) {
    if (!isScalar(pair.key)) continue
    const key = String(pair.key.value ?? '')
    if (key === '<<' && pair.key.type === 'PLAIN') {
      const sources = isSeq(pair.value) ? (pair.value.items as Node[]) : [pair.value as Node]
      for (const source of sources) {
        const m = value(doc, source, aliasDepth)
        if (m && typeof m === 'object' && !Array.isArray(m)) for (const [k, v] of Object.entries(m)) if (!(k in merged)) merged[k] = v
      }

      continue
    }

    own[key] = value(doc, pair.value as Node | null, aliasDepth)
  }

  return {...merged, ...own}
}

/** The errors of a validator on `data`, in a comparable form. */
function errorsOf(validate: ValidateFunction, data: unknown): Array<Pick<ErrorObject, 'instancePath' | 'keyword' | 'params' | 'schemaPath'>> {
  validate(data)
  return (validate.errors ?? []).map(({instancePath, keyword, params, schemaPath}) => ({instancePath, keyword, params, schemaPath}))
}

const describeErrors = (errors: Array<Pick<ErrorObject, 'instancePath' | 'keyword' | 'params'>>): string[] => errors.map((e) => `${e.keyword} at "${e.instancePath}" ${JSON.stringify(e.params)}`)

/** gadget.yaml texts snapd 2.57.6 accepts (checked with `snap pack --check-skeleton`). */
const structure = (lines: string[]): string => `      - name: a\n${lines.map((l) => `        ${l}\n`).join('')}`
const pc = (extra: string, volume = ''): string => `volumes:\n  pc:\n${volume}    bootloader: grub\n    structure:\n      - name: mbr\n        type: mbr\n        size: 440\n${extra}`
const snapdAccepts: Record<string, string> = {
  'connection-without-slot': pc('') + 'connections:\n  - plug: 99T7MUlRhtI3U0QFgl5mXXESAiSwt776:log-observe\n',
  'connections-null': pc('') + 'connections:\n',
  'content-null': pc(structure(['type: bare', 'size: 1M', 'content:'])),
  'defaults-null': pc('') + 'defaults:\n',
  'defaults-yaml11-bool': pc('') + 'defaults:\n  system:\n    service:\n      rsyslog:\n        disable: yes\n',
  'duplicate-key-last-wins': pc(structure(['type: zz', 'type: bare', 'size: 1M'])),
  'edition-leading-zero': pc(structure(['type: bare', 'size: 1M', 'update:', '  edition: 010'])),
  'filesystem-label-yes': pc(structure(['type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'filesystem: ext4', 'filesystem-label: yes', 'size: 1M'])),
  'filesystem-null': pc(structure(['type: bare', 'size: 1M', 'filesystem:'])),
  'name-number': pc(structure(['type: bare', 'size: 1M']).replace('name: a', 'name: 123')),
  'name-tilde': pc(structure(['type: bare', 'size: 1M']).replace('name: a', 'name: ~')),
  'offset-null': pc(structure(['type: bare', 'size: 1M', 'offset:'])),
  'preserve-null': pc(structure(['type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'filesystem: ext4', 'size: 1M', 'update:', '  edition: 1', '  preserve:'])),
  'role-null': pc(structure(['type: bare', 'size: 1M', 'role:'])),
  'schema-null': pc('', '    schema:\n'),
  'structure-null': 'volumes:\n  pc:\n    bootloader: grub\n    structure:\n',
  'type-mbr-leading-zero': pc(structure(['type: 07', 'size: 1M']), '    schema: mbr\n'),
  'unpack-true': pc(structure(['type: bare', 'size: 1M', 'content:', '  - image: a.img', '    unpack: true'])),
  'unpack-yes': pc(structure(['type: bare', 'size: 1M', 'content:', '  - image: a.img', '    unpack: yes'])),
  'update-null': pc(structure(['type: bare', 'size: 1M', 'update:'])),
  'volume-id-null': pc('', '    id:\n'),
  'volumes-null': 'volumes:\n',
}

/** Keys snapd silently drops, in valid gadgets. */
const misspelled = {
  filesytem: ['volumes:', '  pc:', '    bootloader: grub', '    structure:', '      - name: data', '        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4', '        filesytem: ext4', '        size: 1G', ''].join('\n'),
  Volumes: ['Volumes:', '  pc:', '    bootloader: grub', ''].join('\n'),
  structures: ['volumes:', '  pc:', '    bootloader: grub', '    structures:', '      - name: data', '        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4', '        size: 1G', ''].join('\n'),
  unpak: [
    'volumes:',
    '  pc:',
    '    bootloader: grub',
    '    structure:',
    '      - name: data',
    '        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4',
    '        filesystem: ext4',
    '        size: 1G',
    '        content:',
    '          - {source: boot/, target: /, unpak: true}',
    '',
  ].join('\n'),
  twice: ['volumes:', '  pc:', '    bootlaoder: grub', '    bootloader: grub', '    bootlaoder: u-boot', ''].join('\n'),
}

describe('schemas/gadget.schema.json', () => {
  it('is a valid draft 2020-12 schema that compiles in strict mode with the annotation keywords of the build', () => {
    const schema = JSON.parse(schemaText) as {$schema: string}
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema')
    const ajv = strictAjv()
    assert.equal(ajv.validateSchema(schema), true, JSON.stringify(ajv.errors))
    assert.doesNotThrow(() => ajv.compile(schema))
    // Every keyword it uses is known: without the annotation vocabulary, strict mode refuses it.
    assert.throws(() => new Ajv2020({allowUnionTypes: true, strict: true}).compile(schema), /unknown keyword/)
  })

  it('the build compiles the same schema without the editor-only annotations', () => {
    assert.doesNotThrow(() => build.compileGadgetSchema())
  })

  it(`has the ${stored.length} corpus files, ${stored.filter((v) => v.valid).length} of them accepted by snapd`, () => {
    assert.equal(stored.length, 107)
    assert.equal(stored.filter((v) => v.valid).length, 97)
  })

  it('finds nothing but the expected unknown keys in every corpus file snapd accepts', () => {
    const unexpected: string[] = []
    const unknownKeys: Record<string, string[]> = {}
    for (const v of stored.filter((s) => s.valid)) {
      const errors = errorsOf(runtime, jsonView(readFileSync(join(corpus, v.file))))
      const unknown = errors.filter((e) => e.keyword === 'additionalProperties')
      if (unknown.length > 0) unknownKeys[v.file] = unknown.map((e) => `${e.instancePath}/${String(e.params.additionalProperty)}`)
      const other = errors.filter((e) => e.keyword !== 'additionalProperties')
      if (other.length > 0) unexpected.push(`${v.file}: ${describeErrors(other).join('; ')}`)
    }

    assert.deepEqual(unexpected, [], 'the schema rejects what snapd accepts')
    assert.deepEqual(unknownKeys, expectedUnknownKeys)
  })

  it('is not stricter than snapd on values snapd accepts: YAML nulls, YAML 1.1 booleans, source text', async () => {
    const disagreements: string[] = []
    for (const [name, text] of Object.entries(snapdAccepts)) {
      for (const snapd of ['2.57', 'latest']) {
        const result = validateGadget({content: text, file: `${name}.yaml`}, {snapd})
        assert.equal(result.verdict.valid, true, `${name} (${snapd}): ${result.verdict.error}`)
      }

      const errors = errorsOf(runtime, jsonView(text))
      if (errors.length > 0) disagreements.push(`${name}: ${describeErrors(errors).join('; ')}`)
    }

    assert.deepEqual(disagreements, [], 'snapd 2.57.6 accepts every one of these')
  })

  it('snapd still accepts those values', {skip: !oracleAvailable() && !oracleRequired() && 'snapd is not installed'}, () => {
    assert.ok(oracleAvailable(), 'snapd (snap) and python3-yaml are required for this test in CI')
    const dir = freshDir('snap-gadget-schema-accepts-')
    const files = Object.entries(snapdAccepts).map(([name, text]) => {
      writeFileSync(join(dir, `${name}.yaml`), text)
      return `${name}.yaml`
    })
    assert.deepEqual(
      runOracle(files, {cwd: dir}).map((v) => [v.file, v.valid, v.error]),
      files.map((f) => [f, true, null]),
    )
  })
})

describe('the generated standalone validator', () => {
  it('gives the same errors as the schema compiled at run time, on all 107 corpus files', () => {
    const buildCompiled = build.compileGadgetSchema().validate
    for (const v of stored) {
      const data = jsonView(readFileSync(join(corpus, v.file)))
      const expected = errorsOf(runtime, data)
      assert.deepEqual(errorsOf(generated, data), expected, v.file)
      assert.deepEqual(errorsOf(buildCompiled, data), expected, v.file)
    }
  })

  it('gives the same errors on documents full of unknown and wrong keys', () => {
    const documents = [...Object.values(misspelled), ...Object.values(snapdAccepts), 'volumes: [1, 2]\n', 'defaults:\n  not-a-snap-id:\n    k: ~\n', 'connections:\n  - slot: a\n    plug: b\n    extra: c\n']
    for (const text of documents) {
      const data = jsonView(text)
      assert.deepEqual(errorsOf(generated, data), errorsOf(runtime, data), text)
    }
  })
})

describe('P3: unknown keys, from the schema', () => {
  const p3 = (text: string) => {
    const result = validateGadget(text)
    assert.equal(result.verdict.valid, true, 'snapd accepts all of these')
    assert.equal(ruleInfo('P3').source, 'lint')
    return result.findings.filter((f) => f.rule === 'P3')
  }

  it('filesytem: a did-you-mean, at the key', () => {
    const [f, ...rest] = p3(misspelled.filesytem)
    assert.deepEqual(rest, [])
    assert.equal(f.severity, 'warning')
    assert.equal(f.message, 'unknown key "filesytem": snapd ignores it')
    assert.equal(f.hint, 'did you mean "filesystem"?')
    assert.equal(f.hint, 'did you mean "filesystem"?')
    assert.deepEqual(f.start, {column: 9, line: 7})
    assert.deepEqual(f.end, {column: 18, line: 7})
    assert.deepEqual(f.path, ['volumes', 'pc', 'structure', 0, 'filesytem'])
  })

  it('Volumes: says that the gadget has no volumes at all for snapd', () => {
    const [f, ...rest] = p3(misspelled.Volumes)
    assert.deepEqual(rest, [])
    assert.equal(f.message, 'snapd reads only "volumes" (lower case): with "Volumes:" this gadget has no volumes at all, and snapd checks none of it')
    assert.equal(f.hint, 'did you mean "volumes"?')
    assert.deepEqual(f.start, {column: 1, line: 1})
    assert.deepEqual(f.path, ['Volumes'])
    // And the gadget indeed has no volumes (T1).
    assert.ok(validateGadget(misspelled.Volumes).findings.some((g) => g.rule === 'T1'))
  })

  it('structures: says that none of its structures is checked', () => {
    const [f, ...rest] = p3(misspelled.structures)
    assert.deepEqual(rest, [])
    assert.equal(f.message, 'snapd reads "structure" (singular): none of the structures listed under "structures:" is checked or created')
    assert.equal(f.hint, 'did you mean "structure"?')
    assert.deepEqual(f.start, {column: 5, line: 4})
    assert.deepEqual(f.end, {column: 15, line: 4})
    assert.deepEqual(f.path, ['volumes', 'pc', 'structures'])
  })

  it('a key in a flow mapping inside content: its own position', () => {
    const [f, ...rest] = p3(misspelled.unpak)
    assert.deepEqual(rest, [])
    assert.equal(f.hint, 'did you mean "unpack"?')
    assert.deepEqual(f.start, {column: misspelled.unpak.split('\n')[9].indexOf('unpak') + 1, line: 10})
    assert.deepEqual(f.path, ['volumes', 'pc', 'structure', 0, 'content', 0, 'unpak'])
  })

  it('a misspelled key written twice: reported at the occurrence that counts (the last)', () => {
    const found = p3(misspelled.twice)
    assert.deepEqual(
      found.map((f) => [f.rule, f.start?.line, f.start?.column, f.hint]),
      [['P3', 5, 5, 'did you mean "bootloader"?']],
    )
  })

  it('an unknown key with nothing close: the keys snapd reads there', () => {
    const [f] = p3(misspelled.filesytem.replace('filesytem: ext4', 'colour: blue'))
    assert.equal(f.message, 'unknown key "colour": snapd ignores it')
    assert.match(f.hint ?? '', /^the keys snapd reads here are: .*\bfilesystem\b.*\bsize\b/)
  })
})

describe('the schema pass on values of the wrong shape', () => {
  // Found by the fuzzer: the schema's uniqueItems compares list items with ajv's deep equality,
  // which needs objects with Object's prototype.
  it('judges a partial: list of mappings (with an unknown key to run the schema) without crashing', () => {
    for (const snapd of ['2.57', 'latest'] as const) {
      const result = validateGadget(['volumes:', '  pc:', '    bootloader: grub', '    colour: blue', '    partial:', '      - {name: a}', '      - {name: a}', '    structure: []', ''].join('\n'), {snapd})
      assert.ok(
        result.findings.some((f) => f.rule === 'P3'),
        snapd,
      )
      // 2.57 has no partial: and ignores it; newer snapd cannot decode mappings into its strings.
      assert.equal(result.verdict.valid, snapd === '2.57', snapd)
    }
  })
})

describe('the snippets the schema offers editors', () => {
  /** Every defaultSnippets array in the schema, with the JSON pointer of its owner. */
  function snippets(node: unknown, pointer = ''): Array<{body: unknown; label: string; pointer: string}> {
    if (!node || typeof node !== 'object') return []
    if (Array.isArray(node)) return node.flatMap((item, i) => snippets(item, `${pointer}/${i}`))
    const found: Array<{body: unknown; label: string; pointer: string}> = []
    for (const [key, child] of Object.entries(node)) {
      if (key === 'defaultSnippets') for (const s of child as Array<{body: unknown; label: string}>) found.push({...s, pointer})
      else found.push(...snippets(child, `${pointer}/${key}`))
    }

    return found
  }

  const all = snippets(JSON.parse(schemaText))

  it('there are snippets, all for volumes', () => {
    assert.ok(all.length >= 2)
    assert.deepEqual([...new Set(all.map((s) => s.pointer))], ['/properties/volumes'], 'a snippet elsewhere needs a way to be judged here')
  })

  for (const snippet of all) {
    it(`"${snippet.label}" is a valid gadget for snapd 2.57 and latest, and for the schema`, () => {
      const text = stringify({volumes: snippet.body})
      for (const snapd of ['2.57', 'latest']) {
        const result = validateGadget({content: text, file: 'snippet.yaml'}, {snapd})
        assert.equal(result.verdict.valid, true, `${snapd}: ${result.verdict.error}`)
        assert.deepEqual(
          result.findings.filter((f) => f.severity === 'error' || ruleInfo(f.rule).source === 'snapd'),
          [],
          snapd,
        )
      }

      assert.deepEqual(describeErrors(errorsOf(runtime, jsonView(text))), [])
    })
  }
})
