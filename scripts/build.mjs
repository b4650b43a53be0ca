#!/usr/bin/env node
// Builds snap-gadget: the schema validator (ajv standalone code), TypeScript, the single-file
// bundles (fast CLI entries and the on-device runtime), and with --manifest the oclif manifest.
//
//   node scripts/build.mjs             everything but the manifest
//   node scripts/build.mjs --manifest  regenerate oclif.manifest.json (commit it)
import {execFileSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const run = (cmd, args) => execFileSync(cmd, args, {cwd: root, stdio: 'inherit'})

/**
 * dist/fast/commands.json: the manifest entries of the commands with a fast entry, which the
 * launcher reads on every run (src/cli/fast/launch.ts) instead of the whole oclif.manifest.json
 * (102 KB, 3 ms to read and parse on every start of `validate` and `layout`).
 */
function writeFastCommands() {
  const {commands} = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))
  const fast = Object.fromEntries(Object.entries(commands).filter(([, command]) => command.fastEntry))
  mkdirSync(join(root, 'dist', 'fast'), {recursive: true})
  writeFileSync(join(root, 'dist', 'fast', 'commands.json'), `${JSON.stringify({commands: fast})}\n`)
}

/**
 * oclif lists the commands in the order their modules finished loading, which differs from one
 * run to the next: sorted by id, the committed manifest changes only when a command does.
 */
function sortManifest() {
  const file = join(root, 'oclif.manifest.json')
  const manifest = JSON.parse(readFileSync(file, 'utf8'))
  manifest.commands = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  writeFileSync(file, JSON.stringify(manifest, null, 2))
}

if (process.argv.includes('--manifest')) {
  run(process.execPath, [join(root, 'scripts', 'build.mjs')])
  run(bin('oclif'), ['manifest'])
  sortManifest()
  writeFastCommands()
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
const {minify} = await import('terser')
const {FAST_ENTRY_PARAMETERS} = await import('../dist/cli/fast/launch.js')
const {version} = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const bundles = [
  // The launcher bin/run.js starts (see there): CommonJS, free of dependencies; oclif stays outside.
  {entry: 'src/cli/fast/launch.ts', launcher: true, out: 'dist/fast/launch.cjs'},
  // Fast CLI entries: CommonJS, so the launcher can load them with V8's code cache.
  {entry: 'src/cli/fast/validate.ts', fast: 'validate', out: 'dist/fast/validate.cjs'},
  {entry: 'src/cli/fast/layout.ts', fast: 'layout', out: 'dist/fast/layout.cjs'},
]
for (const b of bundles) {
  if (!existsSync(join(root, b.entry))) continue
  mkdirSync(dirname(join(root, b.out)), {recursive: true})
  await build({
    // yaml's ESM build: smaller once tree-shaken than its CommonJS one.
    alias: {yaml: join(root, 'node_modules', 'yaml', 'browser', 'index.js')},
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
    target: 'node20',
  })
  // CommonJS output keeps the modules' import.meta.url working (createRequire): computed at load,
  // and so only in a bundle that uses it (node:url and pathToFileURL cost a fast entry's start 0.6 ms).
  const out = join(root, b.out)
  let code = readFileSync(out, 'utf8')
  if (code.includes('__importMetaUrl')) code = `var __importMetaUrl=require('node:url').pathToFileURL(__filename).href;\n${code}`
  // A fast entry is stored as the function the launcher calls (src/cli/fast/launch.ts, FAST_ENTRY_PARAMETERS):
  // V8 compiles the file's text as it was read, where wrapping it at load made a flattened copy of
  // the 200 KB source in every run.
  if (b.fast) code = `(function (${FAST_ENTRY_PARAMETERS.join(', ')}) {${code}\n})`
  writeFileSync(out, code)
}

// The device runtime: one file for QuickJS and Node (src/runtime/bundle.ts → main.ts). A script, not an ES
// module, so `qjs --std` hands it the std and os globals; .cjs, so any Node reads it as CommonJS.
// The language level is ES2020, which the QuickJS of Ubuntu 24.04 (2021.03.27) runs. node:path
// becomes a portable copy; every other node: module is required only when the Node host calls it.
// Two of them, one per onboarding mode, each with only the QuickJS cryptography its mode uses
// (src/runtime/hosts/quickjs-crypto.ts): init ships the one the gadget's mode needs.
const RUNTIMES = {
  'api-key': join(root, 'dist', 'runtime', 'prepare-device.cjs'),
  'hardware-identity': join(root, 'dist', 'runtime', 'prepare-device-hardware-identity.cjs'),
}
// With both libraries the runtime was 210 KB; each mode's is now under 190 KB, the figure aimed at.
const RUNTIME_MAX_BYTES = 190 * 1000
for (const [mode, runtimeOut] of Object.entries(RUNTIMES)) {
  const bundled = await build({
    // tweetnacl's compact build rather than nacl-fast: 14 KB less,
    // for Ed25519 on QuickJS at 163 instead of 50 ms per signature (amd64), once per device.
    alias: {tweetnacl: join(root, 'node_modules', 'tweetnacl', 'nacl.js')},
    bundle: true,
    // The file-based board catalog is never used in the bundle (runtime/boards.ts has them built in).
    define: {'import.meta.url': '""', SNAP_GADGET_VERSION: JSON.stringify(version)},
    entryPoints: [join(root, 'src', 'runtime', 'bundle.ts')],
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'warning',
    minify: true,
    outfile: runtimeOut,
    write: false,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    plugins: [nodeBuiltinsOnDemand(), quickjsCryptoOf(mode)],
    // tweetnacl looks for node's crypto only when asked for random bytes, which the hosts supply.
    external: ['crypto'],
    // A vendor serial source is loaded with import() on both engines. Async functions become
    // generators driven by the global Promise, which the QuickJS host replaces with one that rejects
    // only once the caller's handler is attached (hosts/quickjs.ts): QuickJS 2025 ends the script at
    // a rejection without a handler, and a native async function that throws before its first
    // await is exactly that.
    supported: {'async-await': false, 'async-generator': false, 'dynamic-import': true, 'for-await': false},
    target: 'es2020',
  })
  // terser's second pass (its compressor inlines and drops what esbuild's minifier keeps): 2.5–2.8 KB
  // less per runtime, for about 2 s of build each.
  const {code} = await minify(bundled.outputFiles[0].text, {compress: {passes: 2}, ecma: 2020, format: {comments: false}, mangle: {toplevel: true}, toplevel: true})
  // The first line says which mode the runtime is for: validate's N20 reads it in a gadget project.
  writeFileSync(runtimeOut, `/* snap-gadget runtime: ${mode} onboarding */\n${code}`)
  // QuickJS (2021 and 2025) cannot compile `for (x of yield e)`, the lowered `for (x of await e)`.
  if (/\bof\s*yield\b/.test(readFileSync(runtimeOut, 'utf8'))) throw new Error(`${runtimeOut} has \`for (… of await …)\`, which QuickJS cannot compile once lowered: await into a variable first`)
  const runtimeBytes = statSync(runtimeOut).size
  if (runtimeBytes > RUNTIME_MAX_BYTES) throw new Error(`${runtimeOut} is ${runtimeBytes} bytes; the device runtime must stay under ${RUNTIME_MAX_BYTES}`)
}

/** The QuickJS cryptography of one onboarding mode in place of both (see src/runtime/hosts/quickjs-crypto.ts). */
function quickjsCryptoOf(mode) {
  return {
    name: 'quickjs-crypto-of-mode',
    setup(plugin) {
      plugin.onResolve({filter: /^\.\/quickjs-crypto\.js$/}, () => ({path: join(root, 'src', 'runtime', 'hosts', `quickjs-crypto-${mode}.ts`)}))
    },
  }
}

/** node:path → the portable copy; other node: modules → `require` at first use, on Node only. */
function nodeBuiltinsOnDemand() {
  return {
    name: 'node-builtins-on-demand',
    setup(plugin) {
      plugin.onResolve({filter: /^node:path$/}, () => ({path: join(root, 'src', 'runtime', 'hosts', 'posix-path.ts')}))
      plugin.onResolve({filter: /^node:/}, (args) => (args.namespace === 'node-on-demand' ? {external: true, path: args.path} : {namespace: 'node-on-demand', path: args.path}))
      plugin.onLoad({filter: /.*/, namespace: 'node-on-demand'}, (args) => ({
        contents: `module.exports = typeof require === 'function' ? require(${JSON.stringify(args.path)}) : {}`,
        loader: 'js',
      }))
    },
  }
}

writeFastCommands()

// 4. V8 code caches for the fast entries, from a warm-up run on a sample gadget.
execFileSync(process.execPath, [join(root, 'scripts', 'warm-fast-entries.mjs')], {cwd: root, stdio: 'inherit'})
