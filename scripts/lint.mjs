#!/usr/bin/env node
// The checks `npm test` runs before the tests, each failing the run:
//   1. eslint (eslint.config.js): typescript-eslint's rules and import-x/no-cycle;
//   2. import circles through `import type` too, which import-x/no-cycle does not follow: a type
//      import still ties two modules' designs together, and it becomes a value import by one edit;
//   3. folder order: a folder of src/ imports only folders below it in FOLDER_LAYERS (the picture
//      of ../design's architecture: cli → products → stages → support), type imports included;
//   4. snapd's checks: a check file imports no other check file, and the geometry no check
//      (SNAPD_CHECKS);
//   5. prettier --check (.prettierrc.json) on all of our code (FORMATTED).
import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {basename, dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)

/**
 * The layers of src/, top to bottom: a file may import its own folder and any folder of a later
 * layer, never one of its own layer or an earlier one. A top-level file (index.ts, errors.ts)
 * counts as a folder of its own name.
 */
export const FOLDER_LAYERS = [
  ['cli'],
  // The curated public API: what an SDK user imports.
  ['index'],
  // Products: what a command runs or renders. The ones that drive others come first: the lab
  // makes a gadget as init does; doctor may play the device's side to probe a service.
  ['doctor'],
  ['simulate'],
  ['layout', 'report', 'runtime', 'scaffold', 'service'],
  // Stages the products are built from.
  ['device', 'gadget'],
  ['identity', 'serial'],
  // Brand keys: read in every form a brand holds them, below what verifies with them.
  ['keys'],
  ['assertions', 'go-yaml'],
  ['support'],
  ['errors'],
]

/**
 * snapd's checks, under src/: `order` runs them in snapd's order, and a check file calls no other,
 * so that the order is read in one place. What they share is data: the geometry computes it once
 * and imports no check (a drawing of the disk can use it alone), and the `shared` modules of the
 * folder are not checks.
 */
export const SNAPD_CHECKS = {dir: 'gadget/checks/snapd', geometry: 'gadget/geometry', order: 'index.ts', shared: ['context.ts']}

/** What prettier checks: all of our code (.prettierignore leaves out generated files and fixtures). */
export const FORMATTED = ['eslint.config.js', '{bench,bin,scripts,src,test}/**/*.{cjs,js,mjs,ts}']

if (process.argv[1] === fileURLToPath(import.meta.url)) lint()

function lint() {
  let failed = false
  const step = (name, fn) => {
    try {
      fn()
    } catch (error) {
      failed = true
      if (error.message) console.error(`${name}: ${error.message}`)
    }
  }

  step('eslint', () => execFileSync(bin('eslint'), ['--max-warnings', '0', '.'], {cwd: root, stdio: 'inherit'}))
  step('import circles', () => {
    const circles = importCircles(join(root, 'src'))
    if (circles.length > 0) throw new Error(`import circles (type imports included):\n${circles.map((c) => `  ${c.join(' ↔ ')}`).join('\n')}`)
  })
  step('folder order', () => {
    const wrong = folderOrderViolations(join(root, 'src'))
    if (wrong.length > 0) throw new Error(`imports against the folder order (scripts/lint.mjs FOLDER_LAYERS):\n${wrong.map((w) => `  ${w}`).join('\n')}`)
  })
  step('check files', () => {
    const wrong = snapdCheckViolations(join(root, 'src'))
    if (wrong.length > 0) throw new Error(`imports that snapd's checks keep out (scripts/lint.mjs SNAPD_CHECKS):\n${wrong.map((w) => `  ${w}`).join('\n')}`)
  })
  step('prettier', () => execFileSync(bin('prettier'), ['--check', '--log-level', 'warn', ...FORMATTED], {cwd: root, stdio: 'inherit'}))
  process.exit(failed ? 1 : 0)
}

/**
 * Relative imports (value and type) that point up or sideways in FOLDER_LAYERS, each said with
 * what to do; a folder missing from the table is one too.
 */
export function folderOrderViolations(dir) {
  const rank = new Map(FOLDER_LAYERS.flatMap((layer, n) => layer.map((folder) => [folder, n])))
  const folderOf = (file) => relative(dir, file).split(/[\\/]/)[0].replace(/\.ts$/, '')
  const problems = []
  for (const [file, targets] of relativeImports(dir)) {
    const from = folderOf(file)
    if (!rank.has(from)) {
      problems.push(`${relative(dirname(dir), file)}: src/${from} is in no layer of FOLDER_LAYERS; add it where it belongs`)
      continue
    }

    for (const target of targets) {
      const to = folderOf(target)
      if (to === from || rank.get(to) > rank.get(from)) continue
      const where = rank.has(to) ? (rank.get(to) === rank.get(from) ? 'beside it' : 'above it') : 'in no layer'
      problems.push(`${relative(dirname(dir), file)} imports ${relative(dirname(dir), target)}: ${to} is ${where}; move what both need down to a lower folder (support/ for small shared pieces)`)
    }
  }

  return problems
}

/**
 * Relative imports (value and type) that SNAPD_CHECKS forbids under the src/ folder `dir`: a file
 * of the checks folder but `order` importing another file of it but the `shared` ones, the
 * geometry importing from the checks; each said with what to do.
 */
export function snapdCheckViolations(dir) {
  const {dir: checksDir, geometry, order, shared} = SNAPD_CHECKS
  const checks = join(dir, checksDir)
  const allChecks = dirname(checks)
  const shown = (file) => relative(dirname(dir), file)
  const problems = []
  for (const [file, targets] of relativeImports(dir)) {
    if (dirname(file) === checks && basename(file) !== order) {
      for (const target of targets) {
        if (dirname(target) !== checks || shared.includes(basename(target))) continue
        problems.push(
          `${shown(file)} imports ${shown(target)}: a check file calls no other check file. Call both from ${shown(join(checks, order))}, in snapd's order, ` +
            `and hand them what they share as data, computed once in ${shown(join(dir, geometry))}/ (or, if it judges nothing, in a module of SNAPD_CHECKS.shared: ${shared.join(', ')})`,
        )
      }
    } else if (file.startsWith(`${join(dir, geometry)}/`)) {
      for (const target of targets) {
        if (!target.startsWith(`${allChecks}/`)) continue
        problems.push(`${shown(file)} imports ${shown(target)}: the geometry imports no check. Move what it needs into ${shown(join(dir, geometry))}/, and let the check read it from there`)
      }
    }
  }

  return problems
}

/** The relative imports (value and type) of every .ts file under `dir`, resolved to .ts files. */
function relativeImports(dir) {
  const ts = loadTypeScript()
  const edges = new Map()
  for (const file of walk(dir).filter((f) => f.endsWith('.ts'))) {
    const {importedFiles} = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts'))
      .filter((target) => existsSync(target))
    edges.set(file, [...new Set(targets)])
  }

  return edges
}

/** Every circle among the relative imports (value and type) of the .ts files under `dir`, as paths from the repository root. */
export function importCircles(dir) {
  const edges = relativeImports(dir)
  const files = [...edges.keys()]

  // Tarjan's strongly connected components: every component of more than one file holds a circle.
  const index = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const components = []
  let next = 0
  const visit = (v) => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v), low.get(w)))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)))
    }

    if (low.get(v) === index.get(v)) {
      const component = []
      let w
      do {
        w = stack.pop()
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) components.push(component)
    }
  }

  for (const file of files) if (!index.has(file)) visit(file)
  return components.map((c) => c.map((f) => relative(root, f)).sort())
}

function loadTypeScript() {
  return createRequire(import.meta.url)('typescript')
}

function walk(d) {
  return readdirSync(d, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]))
}
