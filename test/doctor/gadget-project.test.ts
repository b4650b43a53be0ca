/**
 * `--gadget`: what a gadget project would make its device set (a project `init` made, from
 * examples/), compared with what a device has; a prepare-serial-request hook that the device's
 * snapd would never run; and doctor's refusal to run with nothing to read.
 */
import assert from 'node:assert/strict'
import {cpSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {readGadgetProject} from '../../src/doctor/gadget-project.js'
import {runDoctor} from '../../src/doctor/index.js'
import {UserError} from '../../src/errors.js'
import {fixtures, projectRoot} from '../helpers/paths.js'
import {FIXTURE_API_KEY} from './snapd/make-fixtures.js'
import {scratchDir} from '../helpers/scratch.js'

const example = join(projectRoot, 'examples', 'pc-amd64-core24')
const work = scratchDir('snap-gadget-doctor-gadget-')

describe('the gadget project', () => {
  it('reads what the hook would set: the service URL, the headers, the hooks', () => {
    const view = readGadgetProject(example, {SERIAL_VAULT_API_KEY: 'from-the-build'})
    assert.equal(view.name, 'acme-pc-amd64')
    assert.equal(view.serviceUrl, 'https://serial-vault-partners.canonical.com/v1/')
    assert.match(view.serviceUrlFrom ?? '', /preset serial-vault/)
    assert.deepEqual(view.headers, [{env: 'SERIAL_VAULT_API_KEY', name: 'api-key', value: 'from-the-build'}])
    assert.deepEqual(view.hooks, ['configure', 'prepare-device'])
    assert.deepEqual(view.assumes, ['snapd2.63'])
    assert.deepEqual(view.problems, [])
  })

  it("compared with a device: another service URL, and whether the device's api-key is the project's, never showing either", async () => {
    const same = await runDoctor({env: {SERIAL_VAULT_API_KEY: FIXTURE_API_KEY}, gadget: example, state: fixtures('doctor', 'model-not-served', 'snapd-2.77.1', 'state.json')})
    const notes = same.notes.join('\n')
    assert.match(notes, /the device's device-service\.url is http:\/\/127\.0\.0\.1:\d+\/v1\/; the gadget project sets https:\/\/serial-vault-partners\.canonical\.com\/v1\//)
    assert.match(notes, /the device's api-key is the one the gadget project gives it \(\$SERIAL_VAULT_API_KEY\)/)
    assert.ok(!JSON.stringify(same).includes(FIXTURE_API_KEY))
    const other = await runDoctor({env: {SERIAL_VAULT_API_KEY: 'a-newer-key-from-ci'}, gadget: example, state: fixtures('doctor', 'wrong-api-key', 'snapd-2.57.6', 'state.json')})
    assert.equal(other.cause?.code, 'api-key-invalid')
    assert.match(other.notes.join('\n'), /the device's api-key is not the value the gadget project gives it \(\$SERIAL_VAULT_API_KEY\)/)
    assert.match(other.cause!.fix, /the gadget project takes it from \$SERIAL_VAULT_API_KEY/)
    assert.ok(!JSON.stringify(other).includes('a-newer-key-from-ci'))
  })

  it('a prepare-serial-request hook and a snapd older than 2.74: the hook never runs', async () => {
    const dir = join(work, 'hooked')
    cpSync(example, dir, {recursive: true})
    writeFileSync(join(dir, 'snap', 'hooks', 'prepare-serial-request'), '#!/bin/sh\n')
    const report = await runDoctor({gadget: dir, snapd: '2.57.6'})
    assert.equal(report.cause?.code, 'serial-hook-ignored')
    assert.equal(report.cause?.step, 'prepare-serial-request')
    assert.match(report.cause!.fix, /assumes: \[snapd2\.74\]/)
    const newer = await runDoctor({gadget: dir, snapd: '2.75'})
    assert.equal(newer.cause, undefined)
  })

  it('not a directory; nothing at all to read', async () => {
    assert.throws(
      () => readGadgetProject(join(work, 'none')),
      (e: unknown) => e instanceof UserError && e.code === 'E_DOCTOR_GADGET',
    )
    await assert.rejects(runDoctor({}), (e: unknown) => e instanceof UserError && e.code === 'E_DOCTOR_INPUT' && e.exitCode === 2)
  })
})
