/** The service's table of refusals: one row per code, each raised somewhere, and the README's list is the table. */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {REFUSALS, ServiceRefusal} from '../../src/service/refusals.js'
import {projectRoot} from '../helpers/paths.js'

test("the README's table of refusals is the service's, row for row", () => {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
  const block = /<!-- refusals:start -->\n([\s\S]*?)<!-- refusals:end -->/.exec(readme)?.[1]
  assert.ok(block, 'the README has the refusals block')
  const rows = block
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split(' | ').map((cell) => cell.replace(/^\| `?|`? ?\|?$/g, '').replace(/`$/, '')))
  assert.deepEqual(
    rows,
    Object.entries(REFUSALS).map(([code, spec]) => [code, String(spec.status), spec.means, spec.fix]),
  )
})

test('every code of the table is raised by the service, and a refusal says what went wrong then the fix', () => {
  const dir = join(projectRoot, 'src', 'service')
  const text = readdirSync(dir, {recursive: true})
    .filter((name) => String(name).endsWith('.ts') && !String(name).endsWith('refusals.ts'))
    .map((name) => readFileSync(join(dir, String(name)), 'utf8'))
    .join('\n')
  for (const code of Object.keys(REFUSALS)) assert.ok(text.includes(`'${code}'`), `${code} is raised somewhere`)
  const refusal = new ServiceRefusal('serial-taken', 'serial X of acme/pc was issued to another device key')
  assert.equal(refusal.status, 400)
  assert.equal(refusal.message, `serial X of acme/pc was issued to another device key: ${REFUSALS['serial-taken'].fix}`)
  for (const [code, spec] of Object.entries(REFUSALS)) {
    assert.ok(spec.status >= 400 && spec.status < 600, code)
    // snapd retries above 500 after a minute, and treats the rest as final for the attempt.
    if (/busy|unavailable/.test(code)) assert.equal(spec.status, 503, code)
  }
})
