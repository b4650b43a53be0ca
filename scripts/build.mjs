#!/usr/bin/env node
// Builds snap-gadget: the schema validator (ajv standalone code), TypeScript, the single-file
// bundles (fast CLI entries and the on-device runtime), and with --manifest the oclif manifest.
//
//   node scripts/build.mjs             everything but the manifest
//   node scripts/build.mjs --manifest  regenerate oclif.manifest.json (commit it)
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
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

// While dist/ is being replaced, bin/run.js in this checkout says so instead of failing on a
// half-written tree; the marker holds this process id, so a build that died is told apart.
const buildingMarker = join(root, 'node_modules', '.snap-gadget-building')
if (existsSync(join(root, 'node_modules'))) {
  writeFileSync(buildingMarker, `${process.pid}\n`)
  process.on('exit', (code) => {
    if (code === 0) rmSync(buildingMarker, {force: true})
  })
}

// 1. Generated sources (schema validators) must exist before tsc.
const generators = join(root, 'scripts', 'build-validators.mjs')
if (existsSync(generators)) run(process.execPath, [generators])

// 2. TypeScript.
rmSync(join(root, 'dist'), {force: true, recursive: true})
run(bin('tsc'), ['-p', 'tsconfig.json'])
// Data files that live beside the code (board profiles, …) go where the compiled code expects them.
cpSync(join(root, 'src'), join(root, 'dist'), {filter: (src) => !/\.[cm]?ts$/.test(src), recursive: true})

// 3. Single-file bundles: fast CLI entries (see src/cli/fast/launch.ts) and the on-device runtime.
const {build} = await import('esbuild')
const {version} = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const bundles = [
  // The launcher bin/run.js starts (see there): CommonJS, free of dependencies; oclif stays outside.
  {entry: 'src/cli/fast/launch.ts', launcher: true, out: 'dist/fast/launch.cjs'},
  // Fast CLI entries: CommonJS, so the launcher can load them with V8's code cache.
  {entry: 'src/cli/fast/validate.ts', fast: 'validate', out: 'dist/fast/validate.cjs'},
  // The device runtime: CommonJS (.cjs) so any Node from 18 on runs it, in or out of an ESM package.
  {entry: 'src/runtime/prepare-device.ts', out: 'dist/runtime/prepare-device.cjs', runtime: true},
]
for (const b of bundles) {
  if (!existsSync(join(root, b.entry))) continue
  mkdirSync(dirname(join(root, b.out)), {recursive: true})
  const result = await build({
    // yaml's ESM build: smaller once tree-shaken than its CommonJS one.
    alias: {yaml: join(root, 'node_modules', 'yaml', 'browser', 'index.js')},
    // ESM bundles of CommonJS dependencies need a require for node builtins.
    // CommonJS output keeps the modules' import.meta.url working (createRequire).
    banner: b.launcher ? undefined : {js: "var __importMetaUrl=require('node:url').pathToFileURL(__filename).href;"},
    bundle: true,
    define: {'import.meta.url': '__importMetaUrl', SNAP_GADGET_VERSION: JSON.stringify(version)},
    entryPoints: [join(root, b.entry)],
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'warning',
    minify: true,
    outfile: join(root, b.out),
    // The launcher loads @oclif/core from node_modules, and only when no fast entry takes the command.
    packages: b.launcher ? 'external' : undefined,
    platform: 'node',
    // The runtime runs on the device's Node (Debian/Ubuntu ship 18); the CLI needs 20.
    target: b.runtime ? 'node18' : 'node20',
    // The runtime is wrapped in its code-cache loader below before it is written.
    write: !b.runtime,
  })
  if (b.runtime) {
    const source = result.outputFiles[0].text
    // The digest first: once the source is in, a slot's text could also occur inside it.
    const slots = {
      "'/* replaced by the build: a digest of RUNTIME_SOURCE */'": JSON.stringify(createHash('sha256').update(source).digest('hex').slice(0, 32)),
      // Wrapped as Node wraps a CommonJS module, here rather than at run time: no 100 KB copy on the device.
      "'/* replaced by the build */'": JSON.stringify(`(function (exports, require, module, __filename, __dirname) {${source}\n})`),
    }
    let loader = readFileSync(join(root, 'src', 'runtime', 'loader.cjs'), 'utf8')
    for (const [slot, value] of Object.entries(slots)) {
      if (!loader.includes(slot)) throw new Error(`src/runtime/loader.cjs lost its ${slot}`)
      // A function replacement: the source holds `$` sequences that a replacement string would expand.
      loader = loader.replace(slot, () => value)
    }

    writeFileSync(join(root, b.out), loader)
    // The code cache of this machine's Node: for the tests and benchmarks here. A gadget build
    // makes its own with the Node it ships (templates/gadget/parts/registration-runtime.sh.hbs).
    run(process.execPath, [join(root, b.out), '--write-code-cache'])
  }
}

// Templates for init: linted, precompiled, and init's own fast entry.
run(process.execPath, [join(root, 'scripts', 'build-templates.mjs')])

// 4. V8 code caches for the fast entries, from a warm-up run on a sample gadget.
execFileSync(process.execPath, [join(root, 'scripts', 'warm-fast-entries.mjs')], {cwd: root, stdio: 'inherit'})
