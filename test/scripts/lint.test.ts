/**
 * The lint's structural checks on small trees: imports that go up or sideways in the folder
 * layers, a folder the layers do not name, import circles through type imports, and snapd's
 * check files importing each other.
 */
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {test} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {projectRoot} from '../helpers/paths.js'

interface LintModule {
  FOLDER_LAYERS: string[][]
  folderOrderViolations(dir: string): string[]
  importCircles(dir: string): string[][]
  snapdCheckViolations(dir: string): string[]
}

const lint = (await import(join(projectRoot, 'scripts', 'lint.mjs'))) as LintModule

function tree(files: Record<string, string>): string {
  const dir = join(freshDir('lint-'), 'src')
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), {recursive: true})
    writeFileSync(join(dir, path), text)
  }

  return dir
}

test('an import up the layers is named with the fix, type imports included', () => {
  const dir = tree({
    'cli/output.ts': 'export const painter = 1\n',
    'report/text.ts': "import type {painter} from '../cli/output.js'\nexport type P = typeof painter\n",
    'support/paint.ts': 'export const paint = 1\n',
  })
  const problems = lint.folderOrderViolations(dir)
  assert.equal(problems.length, 1)
  assert.match(problems[0], /^src\/report\/text\.ts imports src\/cli\/output\.ts: cli is above it; move what both need down/)
})

test('products do not import each other, and a folder outside the layers is reported', () => {
  const dir = tree({
    'mystery/thing.ts': "import {x} from '../support/x.js'\nexport const y = x\n",
    'scaffold/plan.ts': "import {serve} from '../service/serve.js'\nexport const plan = serve\n",
    'service/serve.ts': "import {x} from '../support/x.js'\nexport const serve = x\n",
    'support/x.ts': 'export const x = 1\n',
  })
  const problems = lint.folderOrderViolations(dir)
  assert.deepEqual(
    problems.map((p) => p.replace(/[: ].*/, '')),
    ['src/mystery/thing.ts', 'src/scaffold/plan.ts'],
  )
  assert.match(problems[0], /src\/mystery is in no layer of FOLDER_LAYERS/)
  assert.match(problems[1], /service is beside it/)
})

test('downward imports pass, and the project itself keeps the order', () => {
  const dir = tree({
    'cli/run.ts': "import {serve} from '../service/serve.js'\nexport const run = serve\n",
    'errors.ts': 'export class UserError extends Error {}\n',
    'service/serve.ts': "import {UserError} from '../errors.js'\nexport const serve = UserError\n",
  })
  assert.deepEqual(lint.folderOrderViolations(dir), [])

  assert.deepEqual(lint.folderOrderViolations(join(projectRoot, 'src')), [])
  assert.deepEqual(lint.importCircles(join(projectRoot, 'src')), [])
})

test('a circle through a type import is found', () => {
  const dir = tree({
    'support/a.ts': "import type {B} from './b.js'\nexport type A = B\n",
    'support/b.ts': "import {a} from './c.js'\nexport type B = typeof a\n",
    'support/c.ts': "import type {A} from './a.js'\nexport const a: A | undefined = undefined\n",
  })
  const circles = lint.importCircles(dir)
  assert.equal(circles.length, 1)
  assert.equal(circles[0].length, 3)
})

test('a snapd check file imports no other check file but context.ts, and the geometry no check', () => {
  const dir = tree({
    'gadget/checks/snapd/context.ts': 'export const cx = 1\n',
    'gadget/checks/snapd/index.ts': "import {a} from './a.js'\nimport {b} from './b.js'\nexport const run = [a, b]\n",
    'gadget/checks/snapd/a.ts': "import {cx} from './context.js'\nimport {layout} from '../../geometry/volumes.js'\nexport const a = [cx, layout]\n",
    'gadget/checks/snapd/b.ts': "import type {a} from './a.js'\nexport const b: typeof a | undefined = undefined\n",
    'gadget/geometry/volumes.ts': "import type {cx} from '../checks/snapd/context.js'\nexport const layout: typeof cx = 1\n",
  })
  const problems = lint.snapdCheckViolations(dir).sort()
  assert.deepEqual(
    problems.map((p) => p.replace(/: .*/, '')),
    ['src/gadget/checks/snapd/b.ts imports src/gadget/checks/snapd/a.ts', 'src/gadget/geometry/volumes.ts imports src/gadget/checks/snapd/context.ts'],
  )
  assert.match(problems[0], /a check file calls no other check file\. Call both from src\/gadget\/checks\/snapd\/index\.ts, in snapd's order/)
  assert.match(problems[1], /the geometry imports no check/)
  assert.deepEqual(lint.snapdCheckViolations(join(projectRoot, 'src')), [])
})
