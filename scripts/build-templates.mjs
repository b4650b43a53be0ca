#!/usr/bin/env node
// Build step for `init`, run after TypeScript (it imports dist/): lints and precompiles every
// handlebars template under templates/ (dist/scaffold/templates.precompiled.json, so a normal run
// needs only handlebars' runtime), bundles init's fast entry (dist/fast/init.cjs, started by
// bin/run.js without oclif) and saves its V8 code cache.
import {mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const {COMPILE_OPTIONS, lintTemplate, templateKey, templateKind} = await import('../dist/scaffold/render.js')

// 1. Lint and precompile.
const Handlebars = require('handlebars')
const walk = (dir) => readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
const precompiled = {}
const problems = []
for (const file of walk(join(root, 'templates')).filter((f) => f.endsWith('.hbs')).sort()) {
  const source = readFileSync(file, 'utf8')
  const shown = relative(root, file)
  for (const problem of lintTemplate(source, templateKind(shown.replace(/\.hbs$/, '').replace(/^templates\/(gadget|shared\/[^/]+|boards\/[^/]+\/files)\//, '')))) problems.push(`${shown}: ${problem}`)
  precompiled[templateKey(source)] = Handlebars.precompile(source, COMPILE_OPTIONS)
}

if (problems.length > 0) {
  console.error(`templates print values without a quoting helper:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}

writeFileSync(join(root, 'dist', 'scaffold', 'templates.precompiled.json'), JSON.stringify(precompiled))

// 2. The fast entry: one CommonJS file, loaded by the launcher with V8's code cache.
const {build} = await import('esbuild')
const {version} = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
mkdirSync(join(root, 'dist', 'fast'), {recursive: true})
await build({
  alias: {yaml: join(root, 'node_modules', 'yaml', 'browser', 'index.js')},
  // The bundled modules find their data (templates/, dist/serial/boards/, the precompiled
  // templates) relative to their own URL; they all sit two levels below the package root, as
  // dist/serial/boards.js does, so that URL stands for every one of them.
  banner: {js: 'var __moduleUrl = require("node:url").pathToFileURL(require("node:path").join(__dirname, "..", "serial", "boards.js")).href;'},
  bundle: true,
  define: {'import.meta.url': '__moduleUrl', SNAP_GADGET_VERSION: JSON.stringify(version)},
  entryPoints: [join(root, 'src', 'scaffold', 'fast-init.ts')],
  // Loaded only when needed: prompts on a terminal, the compiler for templates not precompiled.
  external: ['@inquirer/prompts'],
  format: 'cjs',
  legalComments: 'none',
  logLevel: 'warning',
  minify: true,
  outfile: join(root, 'dist', 'fast', 'init.cjs'),
  platform: 'node',
  target: 'node20',
})

// 3. Its code cache, from runs that plan and write a gadget like a user's.
const {warmFastEntry} = await import('../dist/cli/launch.js')
const work = mkdtempSync(join(tmpdir(), 'snap-gadget-warm-init-'))
try {
  const flags = {board: 'pc-amd64', brand: 'acme', identity: true, timestamp: '2026-01-01T00:00:00Z', yes: true}
  await warmFastEntry(root, 'init', [
    {argv: [join(work, 'a')], flags: {...flags, 'dry-run': true}},
    {argv: [join(work, 'b')], flags},
    {argv: [join(work, 'c')], flags: {...flags, board: 'raspberry-pi', json: true}},
  ])
} finally {
  rmSync(work, {force: true, recursive: true})
}
