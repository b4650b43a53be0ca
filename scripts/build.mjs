#!/usr/bin/env node
// Builds snap-gadget: the schema validator (ajv standalone code), TypeScript, the single-file
// bundles (fast CLI entries and the on-device runtime), and with --manifest the oclif manifest.
//
//   node scripts/build.mjs             everything but the manifest
//   node scripts/build.mjs --manifest  regenerate oclif.manifest.json (commit it)
import {execFileSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, readFileSync, rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const run = (cmd, args) => execFileSync(cmd, args, {cwd: root, stdio: 'inherit'})

if (process.argv.includes('--manifest')) {
  run(process.execPath, [join(root, 'scripts', 'build.mjs')])
  run(bin('oclif'), ['manifest'])
  process.exit(0)
}

// 1. Generated sources (schema validators) must exist before tsc.
const generators = join(root, 'scripts', 'build-validators.mjs')
if (existsSync(generators)) run(process.execPath, [generators])

// 2. TypeScript.
rmSync(join(root, 'dist'), {force: true, recursive: true})
run(bin('tsc'), ['-p', 'tsconfig.json'])
// Data files that live beside the code (board profiles, …) go where the compiled code expects them.
cpSync(join(root, 'src'), join(root, 'dist'), {filter: (src) => !/\.[cm]?ts$/.test(src), recursive: true})

// 3. Single-file bundles: fast CLI entries (see src/cli/launch.ts) and the on-device runtime.
const {build} = await import('esbuild')
const {version} = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const bundles = [
  // Fast CLI entries: CommonJS, so the launcher can load them with V8's code cache.
  {entry: 'src/cli/fast/validate.ts', fast: 'validate', out: 'dist/fast/validate.cjs'},
  // The device runtime: CommonJS (.cjs) so any Node from 18 on runs it, in or out of an ESM package.
  {entry: 'src/runtime/prepare-device.ts', out: 'dist/runtime/prepare-device.cjs', runtime: true},
]
for (const b of bundles) {
  if (!existsSync(join(root, b.entry))) continue
  mkdirSync(dirname(join(root, b.out)), {recursive: true})
  await build({
    // yaml's ESM build: smaller once tree-shaken than its CommonJS one.
    alias: {yaml: join(root, 'node_modules', 'yaml', 'browser', 'index.js')},
    // ESM bundles of CommonJS dependencies need a require for node builtins.
    // CommonJS output keeps the modules' import.meta.url working (createRequire).
    banner: {js: "var __importMetaUrl=require('node:url').pathToFileURL(__filename).href;"},
    bundle: true,
    define: {'import.meta.url': '__importMetaUrl', SNAP_GADGET_VERSION: JSON.stringify(version)},
    entryPoints: [join(root, b.entry)],
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'warning',
    minify: true,
    outfile: join(root, b.out),
    platform: 'node',
    // The runtime runs on the device's Node (Debian/Ubuntu ship 18); the CLI needs 20.
    target: b.runtime ? 'node18' : 'node20',
  })
}

// Templates for init: linted, precompiled, and init's own fast entry.
run(process.execPath, [join(root, 'scripts', 'build-templates.mjs')])

// 4. V8 code caches for the fast entries, from a warm-up run on a sample gadget.
execFileSync(process.execPath, [join(root, 'scripts', 'warm-fast-entries.mjs')], {cwd: root, stdio: 'inherit'})
