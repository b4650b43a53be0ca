/**
 * `init --device-service local`: a gadget that registers with `snap-gadget serve` on its default
 * address, and the generated README's desk walk-through, which must match what serve really reads.
 */
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {scratchDir} from '../helpers/scratch.js'
import {checkRegistrationConfig} from '../../src/device/config.js'
import {planScaffold, type ScaffoldPlan} from '../../src/scaffold/plan.js'
import {DEFAULT_LISTEN} from '../../src/service/index.js'
import {TIMESTAMP} from '../scaffold/helpers.js'

const work = scratchDir('snap-gadget-lab-gadget-')

const file = (plan: ScaffoldPlan, path: string): string => {
  const found = plan.files.find((f) => f.path === path)
  assert.ok(found, path)
  return found.content.toString()
}

describe('a gadget for the desk', () => {
  test('--device-service local registers with serve at its default address', async () => {
    const plan = await planScaffold({board: 'pc-amd64', brand: 'acme', deviceService: 'local', directory: join(work, 'local'), timestamp: TIMESTAMP})
    const registration = JSON.parse(file(plan, 'runtime/registration.json')) as Record<string, unknown>
    assert.deepEqual(registration.deviceService, {preset: 'local'})
    const checked = checkRegistrationConfig(registration)
    assert.equal(checked.deviceService.url, `http://${DEFAULT_LISTEN}/v1/`)
    const readme = file(plan, 'README.md')
    assert.match(readme, /## Try the whole flow on your desk/)
    assert.match(readme, /this gadget already does\s+\(`local`, `http:\/\/127\.0\.0\.1:8642\/v1\/`\)/)
  })

  test("another gadget's README says how to point it at serve, with a serve.yaml for its own brand and model", async () => {
    const plan = await planScaffold({board: 'raspberry-pi', brand: 'acme', directory: join(work, 'vault'), timestamp: TIMESTAMP})
    const readme = file(plan, 'README.md')
    assert.match(readme, /set `"deviceService": \{"preset": "local"\}`/)
    assert.match(readme, /- brand: acme\n {11}model: [a-z0-9-]+\n/)
    assert.match(readme, /snap-gadget serve --config serve\.yaml/)
  })
})
