/**
 * The templates and their helpers: every `{{ }}` of a shell or YAML template prints through a
 * quoting helper (a lint over every shipped template), the helpers round-trip what they quote
 * (through sh itself and the yaml library), and a vendor's template that prints raw is refused.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, it} from 'node:test'

import {parse} from 'yaml'

import {UserError} from '../../src/errors.js'
import {code, lintTemplate, md, OUTPUT_HELPERS, renderTemplate, sh, templateKind, yamlBlock, yamlScalar} from '../../src/scaffold/render.js'
import {projectRoot} from '../helpers/paths.js'
import {HOSTILE} from './helpers.js'

const templatesDir = join(projectRoot, 'templates')
const walk = (dir: string): string[] => readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
const templates = walk(templatesDir).filter((f) => f.endsWith('.hbs'))
/** The path a template renders to, which decides its kind. */
const outputPath = (file: string) =>
  relative(templatesDir, file)
    .replace(/\.hbs$/, '')
    .replace(/^(gadget|shared\/[^/]+|boards\/[^/]+\/files)\//, '')

describe('the shipped templates', () => {
  it('there are shell and YAML templates to check', () => {
    const kinds = templates.map((f) => templateKind(outputPath(f)))
    assert.ok(kinds.filter((k) => k === 'shell').length >= 5, 'hooks, part scripts, boot.cmd')
    assert.ok(kinds.filter((k) => k === 'yaml').length >= 2, 'snapcraft.yaml, gadget.yaml')
  })

  for (const file of templates) {
    const shown = relative(projectRoot, file)
    it(`${shown}: every value is printed through a ${templateKind(outputPath(file))} helper`, () => {
      assert.deepEqual(lintTemplate(readFileSync(file, 'utf8'), templateKind(outputPath(file))), [])
    })
  }

  it('an independent scan agrees: no bare {{ }} in shell or YAML templates', () => {
    for (const file of templates) {
      const kind = templateKind(outputPath(file))
      if (kind !== 'shell' && kind !== 'yaml') continue
      for (const [, inner] of readFileSync(file, 'utf8').matchAll(/\{\{\{?([^}]*)\}?\}\}/g)) {
        const text = inner.trim()
        if (/^[#/]|^else$|^!/.test(text)) continue
        const helper = text.split(/\s+/)[0]
        assert.ok(OUTPUT_HELPERS[kind].includes(helper) && text.split(/\s+/).length > 1, `${relative(projectRoot, file)}: {{${text}}}`)
      }
    }
  })
})

describe('the lint', () => {
  it('refuses bare values, unknown helpers, helpers of another kind, partials and other blocks', () => {
    assert.equal(lintTemplate('name: {{name}}\n', 'yaml').length, 1)
    assert.equal(lintTemplate('name: {{{name}}}\n', 'yaml').length, 1)
    assert.equal(lintTemplate('x={{sh name}}\n', 'yaml').length, 1)
    assert.equal(lintTemplate('x={{yaml name}}\n', 'shell').length, 1)
    assert.equal(lintTemplate('{{> partial}}\n', 'shell').length, 1)
    assert.equal(lintTemplate('{{#lookup x}}{{/lookup}}\n', 'shell').length, 1)
    assert.deepEqual(lintTemplate('{{#if a}}x={{sh name}}{{else}}y{{/if}}\n', 'shell'), [])
  })

  it('a template (a vendor board) is linted before it is compiled', () => {
    assert.throws(
      () => renderTemplate('echo {{name}}\n', {name: '$(reboot)'}, 'vendor/parts/x.sh.hbs', 'parts/x.sh'),
      (error: unknown) => error instanceof UserError && error.code === 'E_INIT_TEMPLATE',
    )
    assert.equal(renderTemplate('echo {{sh name}}\n', {name: '$(reboot)'}, 'vendor/parts/x.sh.hbs', 'parts/x.sh'), "echo '$(reboot)'\n")
  })

  it('strict: a missing variable is an error, not an empty string', () => {
    assert.throws(() => renderTemplate('x={{sh missing}}\n', {}, 'x.sh.hbs', 'x.sh'), /missing variable/)
  })
})

describe('the quoting helpers', () => {
  const printable = HOSTILE.filter((v) => !v.includes('\u0000'))

  it('sh: the shell reads back exactly the value', () => {
    for (const value of printable) {
      const result = spawnSync('sh', ['-c', `printf '%s' ${sh(value)}`], {encoding: 'utf8'})
      assert.equal(result.stdout, value)
    }

    assert.throws(() => sh('a\u0000b'), UserError)
  })

  it('yaml: the yaml library reads back exactly the value, strings stay strings', () => {
    for (const value of [...printable, '1.0', '0x10', 'true', 'null', '~', '2026-01-01', '-', '@x', '!tag', '*alias', '&anchor', '%x']) {
      assert.deepEqual(parse(`key: ${yamlScalar(value)}\n`), {key: value}, JSON.stringify(value))
      assert.ok(!yamlScalar(value).includes('\n'), 'one line')
    }

    assert.deepEqual(parse(`plugs: ${yamlScalar(['hardware-observe', 'i2c'])}\n`), {plugs: ['hardware-observe', 'i2c']})
  })

  it('yamlBlock: structures, indented, with # comments', () => {
    const text = yamlBlock({'#': 'a note', '#b': 'about b', a: [{'#': 'first', name: 'x y: z'}], b: 'it\'s "q"'}, 2)
    assert.equal(text, '  # a note\n  a:\n    # first\n    - name: "x y: z"\n  # about b\n  b: it\'s "q"')
    assert.deepEqual(parse(text), {a: [{name: 'x y: z'}], b: 'it\'s "q"'})
  })

  it('md and code: one line, markup characters neutralised', () => {
    assert.equal(md('a *b* [c](d) <e> `f`'), 'a \\*b\\* \\[c\\](d) \\<e\\> \\`f\\`')
    assert.equal(code('a `b` c'), '``a `b` c``')
    assert.equal(code('`x'), '`` `x ``')
    assert.throws(() => md('a\nb'), UserError)
  })
})
