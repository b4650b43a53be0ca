#!/usr/bin/env node
// The whole test suite: installs the system tools the tests compare against (when it can),
// builds and type-checks, lints (scripts/lint.mjs), then runs every test/**/*.test.ts with node's
// test runner.
//
//   npm test                       everything
//   npm test -- test/gadget        only files under a path (or several paths), without the lint
//   SNAP_GADGET_SKIP_BUILD=1       reuse dist/ as it is
import {execFileSync, spawnSync} from 'node:child_process'
import {readdirSync, statSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

// 1. System tools: snapd's own validator and signer (the oracle), qemu for the ARM runs, Go for
//    snapd's typing checkers. Installed only where we may (root with apt-get, as in CI).
execFileSync('bash', [join(root, 'scripts', 'system-deps.sh')], {stdio: 'inherit'})

// 2. Build (which type-checks src/), and type-check the tests: tsx runs them without checking.
if (!process.env.SNAP_GADGET_SKIP_BUILD) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {cwd: root, stdio: 'inherit'})
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'test', 'tsconfig.json')], {cwd: root, stdio: 'inherit'})
}

// 3. Lint, when the whole suite runs: eslint, import circles, formatting (`npm run lint` alone).
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'))
if (wanted.length === 0) execFileSync(process.execPath, [join(root, 'scripts', 'lint.mjs')], {cwd: root, stdio: 'inherit'})

// 4. Tests.
const roots = wanted.length > 0 ? wanted.map((w) => join(root, w)) : [join(root, 'test')]
const files = roots
  .flatMap((r) => (statSync(r).isDirectory() ? walk(r) : [r]))
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}

const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files.map((f) => relative(root, f))], {
  cwd: root,
  env: {...process.env, NODE_NO_WARNINGS: '1'},
  stdio: 'inherit',
})
process.exit(result.status ?? 1)

function walk(dir) {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return e.name === 'fixtures' || e.name === 'node_modules' ? [] : walk(p)
    return [p]
  })
}
