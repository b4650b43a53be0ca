/**
 * doctor's table of causes: each is named somewhere in doctor's code (nothing in the table that
 * doctor cannot say), each at a step of snapd's order, and the README's table is the table, row
 * for row, with the fixtures that prove each cause.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {CAUSE_CODES, CAUSES} from '../../src/doctor/causes.js'
import {STEPS} from '../../src/doctor/steps.js'
import {projectRoot} from '../helpers/paths.js'
import {causesTable} from './causes-table.js'

test("every cause is one doctor can name, at a step of snapd's order, with a cause and a fix", () => {
  const dir = join(projectRoot, 'src', 'doctor')
  const code = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && f !== 'causes.ts')
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n')
  const steps = STEPS.map((s) => s.id as string)
  for (const cause of CAUSE_CODES) {
    assert.ok(code.includes(`'${cause}'`), `${cause} is in the table but doctor never names it`)
    const spec = CAUSES[cause]
    assert.ok(spec.steps.length > 0 && spec.steps.every((s) => steps.includes(s)), cause)
    assert.match(spec.cause, /^[^\s].*[^.]\.$/, `${cause}: the cause is one sentence`)
    assert.ok(spec.fix.length > 0 && spec.says.length > 0, cause)
  }
})

test("the README's table of causes is doctor's, row for row", () => {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
  const block = /<!-- causes:start -->\n([\s\S]*?)<!-- causes:end -->/.exec(readme)?.[1]
  assert.ok(block, 'the README has the causes block')
  assert.equal(block, causesTable(), 'node --import tsx test/doctor/causes-table.ts prints the table')
})
