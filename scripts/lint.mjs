#!/usr/bin/env node
// The checks `npm test` runs before the tests, each failing the run:
//   1. eslint (eslint.config.js): typescript-eslint's rules and import-x/no-cycle;
//   2. import circles through `import type` too, which import-x/no-cycle does not follow: a type
//      import still ties two modules' designs together, and it becomes a value import by one edit;
//   3. snapd's check files import no other check file (SNAPD_CHECKS), and the geometry no check;
//   4. prettier --check (.prettierrc.json) on all of our code (FORMATTED).
import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {basename, dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)

/** What prettier checks: all of our code (.prettierignore leaves out generated files and fixtures). */
export const FORMATTED = ['eslint.config.js', '{bench,bin,scripts,src,test}/**/*.{cjs,js,mjs,ts}']

/**
 * snapd's checks: `order` runs them in snapd's order, and a check file calls no other, so that the
 * order is read in one place. What they share is data: the geometry computes it once and imports
 * no check (a drawing of the disk can use it alone), and the `shared` modules are not checks.
 */
const SNAPD_CHECKS = {dir: 'src/gadget/checks/snapd', geometry: 'src/gadget/geometry', order: 'index.ts', shared: ['context.ts']}

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
step('check files', () => {
  const imports = checkFileImports()
  if (imports.length > 0) throw new Error(`imports that snapd's checks keep out (SNAPD_CHECKS):\n${imports.map((i) => `  ${i}`).join('\n')}`)
})
step('prettier', () => execFileSync(bin('prettier'), ['--check', '--log-level', 'warn', ...FORMATTED], {cwd: root, stdio: 'inherit'}))
process.exit(failed ? 1 : 0)

/** Every circle among the relative imports (value and type) of the .ts files under `dir`, as paths from the repository root. */
function importCircles(dir) {
  const files = walk(dir).filter((f) => f.endsWith('.ts'))
  const edges = new Map(files.map((file) => [file, relativeImports(file)]))

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

/** The .ts files a .ts file imports by relative path (value and type imports). */
function relativeImports(file) {
  const {importedFiles} = loadTypeScript().preProcessFile(readFileSync(file, 'utf8'), true, true)
  const targets = importedFiles
    .map((i) => i.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts'))
    .filter((target) => existsSync(target))
  return [...new Set(targets)]
}

/** The imports SNAPD_CHECKS forbids, each with what to do instead. */
function checkFileImports() {
  const {dir, geometry, order, shared} = SNAPD_CHECKS
  const checks = join(root, dir)
  const found = []
  for (const file of walk(checks).filter((f) => f.endsWith('.ts') && dirname(f) === checks && basename(f) !== order)) {
    for (const target of relativeImports(file)) {
      if (dirname(target) !== checks || shared.includes(basename(target))) continue
      found.push(
        `${relative(root, file)} imports ${basename(target)}: a check file calls no other check file. Call both from ${dir}/${order}, in snapd's order, ` +
          `and hand them what they share as data, computed once in ${geometry}/ (or, if it is no check, in a module named in SNAPD_CHECKS.shared: ${shared.join(', ')})`,
      )
    }
  }

  for (const file of walk(join(root, geometry)).filter((f) => f.endsWith('.ts'))) {
    for (const target of relativeImports(file)) {
      if (!target.startsWith(`${dirname(checks)}/`)) continue
      found.push(`${relative(root, file)} imports ${relative(root, target)}: the geometry imports no check. Move what it needs into ${geometry}/, and let the check read it from there`)
    }
  }

  return found
}

function loadTypeScript() {
  return createRequire(import.meta.url)('typescript')
}

function walk(d) {
  return readdirSync(d, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]))
}
