/**
 * Template rendering for generated gadgets: handlebars with `noEscape` (HTML escaping corrupts
 * YAML and shell) and `strict` (a missing variable is an error, not an empty string), and only
 * our own helpers may produce output, so no user string reaches YAML or sh unquoted. Which
 * helpers a template may use for output depends on what it renders (see {@link OUTPUT_HELPERS});
 * {@link lintTemplate} checks it, for the shipped templates in the tests and for a vendor's
 * board templates before they are compiled.
 *
 * Every template, shipped or a vendor's, is linted and compiled when first rendered: init runs
 * once per project, and compiling all the shipped templates costs it a few milliseconds.
 */
import {createRequire} from 'node:module'

import type HandlebarsNamespace from 'handlebars'
import {Document, isMap, isSeq, type Node, Scalar, YAMLMap, YAMLSeq} from 'yaml'

import {InternalError, UserError} from '../errors.js'
import {shellQuote} from '../support/shell-quote.js'

type Handlebars = typeof HandlebarsNamespace
type TemplateDelegate = HandlebarsNamespace.TemplateDelegate

/** What a template renders, which decides the helpers it may print through. */
export type TemplateKind = 'markdown' | 'shell' | 'text' | 'yaml'

/** The helpers that may produce output in each kind of template. */
export const OUTPUT_HELPERS: Readonly<Record<TemplateKind, readonly string[]>> = {
  markdown: ['code', 'md', 'word'],
  shell: ['sh', 'shComment', 'word'],
  text: ['word'],
  yaml: ['yaml', 'yamlBlock', 'yamlComment'],
}

/** Helpers used only inside sub-expressions and block conditions. */
const LOGIC_HELPERS = ['eq', 'ne', 'includes']
const BLOCK_HELPERS = ['if', 'unless', 'each', 'with']

const COMPILE_OPTIONS = {
  knownHelpers: Object.fromEntries([...new Set([...Object.values(OUTPUT_HELPERS).flat(), ...LOGIC_HELPERS])].map((h) => [h, true])),
  knownHelpersOnly: true,
  noEscape: true,
  strict: true,
} as const

/** The kind of a template, from the path it renders to. */
export function templateKind(outputPath: string): TemplateKind {
  if (/\.ya?ml$/.test(outputPath)) return 'yaml'
  if (/\.md$/.test(outputPath)) return 'markdown'
  // Hooks, part scripts and U-Boot scripts: all parsed by a shell-like language.
  if (outputPath.startsWith('snap/hooks/') || /\.(sh|cmd)$/.test(outputPath)) return 'shell'
  return 'text'
}

/** A YAML scalar or flow collection, as the `yaml` library writes it (quoted when it must be). */
export function yamlScalar(value: unknown): string {
  if (value === undefined) throw new InternalError('yaml helper: undefined value')
  const doc = new Document(value)
  const node = doc.contents
  if (node instanceof Scalar && typeof value === 'string' && (/[\n\r\t]/.test(value) || value !== value.trim())) node.type = 'QUOTE_DOUBLE'
  if (isMap(node) || isSeq(node)) node.flow = true
  return doc.toString({flowCollectionPadding: false, lineWidth: 0}).replace(/\n$/, '')
}

/**
 * A YAML block for a structure, indented by `indent` spaces. Keys `"#"` (a comment on the map)
 * and `"#key"` (a comment before `key`) in the data become YAML comments.
 */
export function yamlBlock(value: unknown, indent = 0): string {
  const doc = new Document()
  doc.contents = toNode(doc, value) as typeof doc.contents
  const text = doc.toString({indentSeq: true, lineWidth: 0}).replace(/\n$/, '')
  const pad = ' '.repeat(indent)
  return text
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n')
}

function toNode(doc: Document, value: unknown): Node {
  if (Array.isArray(value)) {
    const seq = new YAMLSeq()
    for (const item of value) seq.items.push(toNode(doc, item))
    return seq
  }

  if (value !== null && typeof value === 'object') {
    const map = new YAMLMap()
    const record = value as Record<string, unknown>
    const comment = record['#']
    for (const [key, item] of Object.entries(record)) {
      if (key.startsWith('#')) continue
      const node = toNode(doc, item)
      const before = record[`#${key}`]
      const keyNode = new Scalar(key)
      if (typeof before === 'string') keyNode.commentBefore = commentText(before)
      map.items.push(doc.createPair(keyNode, node))
    }

    if (typeof comment === 'string') map.commentBefore = commentText(comment)
    return map
  }

  return doc.createNode(value) as Node
}

/** yaml writes `#` before each comment line; lines start with a space. */
function commentText(text: string): string {
  return wrap(singleLine(text, 'a YAML comment'), 94)
    .map((line) => ` ${line}`)
    .join('\n')
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }

  if (line !== '') lines.push(line)
  return lines
}

function singleLine(value: unknown, what: string): string {
  const text = String(value)
  if (/[\u0000-\u001F\u007F]/.test(text)) throw new UserError('E_INIT_TEXT', `${JSON.stringify(text)} cannot go into ${what}: it has a line break or a control character`, {hint: 'give it on one line', kind: 'usage'})
  return text
}

/** A word safe in any shell-like language and configuration file unquoted. */
export function word(value: unknown): string {
  const text = String(value)
  if (!/^[A-Za-z0-9._,:/=+@%-]+$/.test(text)) throw new InternalError(`template value ${JSON.stringify(text)} is not a plain word`)
  return text
}

/** POSIX shell quoting; a NUL byte cannot be part of a shell word at all. */
export function sh(value: unknown): string {
  const text = String(value)
  if (text.includes('\u0000')) throw new UserError('E_INIT_TEXT', `${JSON.stringify(text)} has a NUL byte, which no shell string can hold`, {hint: 'remove it', kind: 'usage'})
  return shellQuote(text)
}

/** Markdown text with the characters that start markup escaped. */
export function md(value: unknown): string {
  return singleLine(value, 'README.md').replace(/[\\`*_[\]<>|~]/g, '\\$&')
}

/** A Markdown code span that holds any single-line text. */
export function code(value: unknown): string {
  const text = singleLine(value, 'README.md')
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length))
  const fence = '`'.repeat(longest + 1)
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${text}${pad}${fence}`
}

function registerHelpers(hb: Handlebars): void {
  // Handlebars passes an options object last; only the real arguments are used. Strict mode
  // does not cover helper arguments, so a missing variable is refused here, not printed.
  const args = (list: unknown[]) => {
    const real = list.slice(0, -1)
    if (real.includes(undefined)) throw new InternalError(`a template helper got a missing variable (${(list.at(-1) as {name?: string}).name ?? 'helper'})`)
    return real
  }
  hb.registerHelper('yaml', (...a: unknown[]) => yamlScalar(args(a)[0]))
  hb.registerHelper('yamlBlock', (...a: unknown[]) => {
    const [value, indent] = args(a)
    return yamlBlock(value, typeof indent === 'number' ? indent : 0)
  })
  hb.registerHelper('yamlComment', (...a: unknown[]) => singleLine(args(a)[0], 'a YAML comment'))
  hb.registerHelper('sh', (...a: unknown[]) => sh(args(a)[0]))
  hb.registerHelper('shComment', (...a: unknown[]) => singleLine(args(a)[0], 'a shell comment'))
  hb.registerHelper('word', (...a: unknown[]) => word(args(a)[0]))
  hb.registerHelper('md', (...a: unknown[]) => md(args(a)[0]))
  hb.registerHelper('code', (...a: unknown[]) => code(args(a)[0]))
  hb.registerHelper('eq', (...a: unknown[]) => args(a)[0] === args(a)[1])
  hb.registerHelper('ne', (...a: unknown[]) => args(a)[0] !== args(a)[1])
  hb.registerHelper('includes', (...a: unknown[]) => {
    const [list, item] = args(a)
    return Array.isArray(list) && list.includes(item)
  })
}

const require = createRequire(import.meta.url)
let compiler: Handlebars | undefined

/** The library with our helpers, loaded on first use: only init renders templates. */
function handlebarsCompiler(): Handlebars {
  if (!compiler) {
    compiler = (require('handlebars') as Handlebars).create()
    registerHelpers(compiler)
  }

  return compiler
}

/** Compiled templates by their text. */
const compiled = new Map<string, TemplateDelegate>()

/**
 * Renders a template. `name` is for messages; `outputPath` decides its kind, and a template that
 * prints anything except through that kind's helpers is refused before it is compiled.
 */
export function renderTemplate(source: string, context: object, name: string, outputPath: string): string {
  let template = compiled.get(source)
  if (!template) {
    const problems = lintTemplate(source, templateKind(outputPath))
    if (problems.length > 0) {
      throw new UserError('E_INIT_TEMPLATE', `template ${name} prints values without quoting them: ${problems.join('; ')}`, {
        file: name,
        hint: `print every value through one of the helpers ${OUTPUT_HELPERS[templateKind(outputPath)].join(', ')}`,
        kind: 'usage',
      })
    }

    template = handlebarsCompiler().compile(source, COMPILE_OPTIONS)
    compiled.set(source, template)
  }

  try {
    return template(context)
  } catch (error) {
    if (error instanceof UserError) throw error
    throw new InternalError(`template ${name}: ${(error as Error).message}`, {cause: error})
  }
}

/**
 * Every output statement of a template (`{{x}}`, `{{{x}}}`) must call one of the helpers allowed
 * for its kind, with an argument; returns what breaks that rule, with line numbers.
 */
export function lintTemplate(source: string, kind: TemplateKind): string[] {
  const allowed = OUTPUT_HELPERS[kind]
  const problems: string[] = []
  const ast = handlebarsCompiler().parse(source)
  const visit = (node: hbs.AST.Node | undefined): void => {
    if (!node) return
    const any = node as unknown as Record<string, unknown>
    if (node.type === 'MustacheStatement') {
      const m = node as hbs.AST.MustacheStatement
      const helper = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression).original : String(m.path.type)
      if (!allowed.includes(helper) || m.params.length === 0) problems.push(`line ${m.loc.start.line}: {{${helper}${m.params.length > 0 ? ' …' : ''}}} is not printed through ${allowed.join(', ')}`)
    } else if (node.type === 'BlockStatement') {
      const b = node as hbs.AST.BlockStatement
      const helper = (b.path as hbs.AST.PathExpression).original
      if (!BLOCK_HELPERS.includes(helper)) problems.push(`line ${b.loc.start.line}: block {{#${helper}}} is not one of ${BLOCK_HELPERS.join(', ')}`)
    } else if (node.type === 'PartialStatement' || node.type === 'PartialBlockStatement' || node.type === 'DecoratorBlock' || node.type === 'Decorator') {
      problems.push(`line ${node.loc.start.line}: partials and decorators are not used in gadget templates`)
    }

    for (const child of ['body', 'program', 'inverse'] as const) {
      const value = any[child]
      if (Array.isArray(value)) value.forEach((n) => visit(n as hbs.AST.Node))
      else if (value && typeof value === 'object') visit(value as hbs.AST.Node)
    }
  }

  visit(ast)
  return problems
}
