/**
 * `doctor --state` on the state.json that snapd's own DeviceManager left behind (2.57.6 from
 * Debian 12's source, 2.77.1 from sid's) after registering against `serve` and failing on purpose:
 * test/doctor/snapd/make-fixtures.ts made them, cases.ts says what each did and which cause doctor
 * must name. Every case of the table has its fixture for every snapd line that makes it; no
 * fixture is left without a case; no output shows the api-key or the registration body.
 */
import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {CAUSES, type CauseCode, runDoctor} from '../../src/doctor/index.js'
import {STEPS} from '../../src/doctor/steps.js'
import {fixtures} from '../helpers/paths.js'
import {FIXTURE_CASES} from './snapd/cases.js'
import {FIXTURE_API_KEY, FIXTURE_SECRETS} from './snapd/make-fixtures.js'

const root = fixtures('doctor')
const LINES = {'2.57': 'snapd-2.57.6', '2.77': 'snapd-2.77.1'} as const

describe('doctor --state on the fixtures snapd made', () => {
  it('every case has its fixtures, and every fixture its case', () => {
    const expected = FIXTURE_CASES.flatMap((c) => Object.keys(c.cause).map((line) => join(c.name, LINES[line as keyof typeof LINES])))
    const present = readdirSync(root, {withFileTypes: true})
      .filter((e) => e.isDirectory())
      .flatMap((e) => readdirSync(join(root, e.name)).map((v) => join(e.name, v)))
    assert.deepEqual(present.sort(), expected.sort())
    for (const path of expected) assert.ok(existsSync(join(root, path, 'state.json')), path)
  })

  for (const fixture of FIXTURE_CASES) {
    for (const [line, expected] of Object.entries(fixture.cause) as [keyof typeof LINES, string][]) {
      it(`${fixture.name} (snapd ${line}): ${expected}`, async () => {
        const file = join(root, fixture.name, LINES[line], 'state.json')
        const report = await runDoctor({state: file})
        // A state that never saw a snapd refresh does not name the version; what it shows bounds it.
        const inferred = ['serial-hook-body-object', 'serial-hook-missing-field', 'registered-serial-hook'].includes(fixture.name) ? '2.74+' : fixture.name === 'device-service-offline' ? '2.61+' : undefined
        assert.equal(report.snapd?.version, inferred)
        if (expected === 'registered') {
          assert.equal(report.registered, true)
          assert.equal(report.cause, undefined)
          assert.ok(report.steps.every((s) => s.status === 'ok' || s.status === 'skipped'))
          assert.equal(report.steps.at(-1)?.status, 'ok')
        } else {
          assert.equal(report.registered, false)
          assert.equal(report.cause?.code, expected, JSON.stringify(report.cause, null, 2))
          const cause = report.cause!
          assert.ok((CAUSES[cause.code as CauseCode].steps as readonly string[]).includes(cause.step), `${cause.code} at ${cause.step}`)
          // The checklist: ok up to the failing step, which carries the cause.
          const at = STEPS.findIndex((s) => s.id === cause.step)
          assert.ok(['failed', 'retrying'].includes(report.steps[at].status), report.steps[at].status)
          for (const step of report.steps.slice(0, at)) assert.ok(step.status === 'ok' || step.status === 'skipped', `${step.id}: ${step.status}`)
          for (const step of report.steps.slice(at + 1)) assert.ok(step.status === 'not-reached' || step.status === 'skipped', `${step.id}: ${step.status}`)
          assert.ok(cause.evidence.length > 0)
          assert.ok(cause.fix.length > 0)
        }

        // Nothing secret in the report: the api-keys the hook set, the body.
        const state = readFileSync(file, 'utf8')
        const json = JSON.stringify(report)
        for (const secret of FIXTURE_SECRETS) assert.ok(!json.includes(secret), `${secret} is shown`)

        const held = fixture.name === 'wrong-api-key' ? 'an-old-factory-key' : FIXTURE_API_KEY
        assert.ok(state.includes(held) || fixture.name === 'prepare-device-hook-fails', 'the fixture holds the api-key that must be masked')
      })
    }
  }

  it("what each case shows: the evidence carries snapd's own words and what they mean", async () => {
    const read = (name: string, line: keyof typeof LINES, snapd?: string) => runDoctor({snapd, state: join(root, name, LINES[line], 'state.json')})
    const evidence = async (name: string, line: keyof typeof LINES) => (await read(name, line)).cause!.evidence.map((e) => e.text).join('\n')

    // The clock: snapd's times, and how far apart they are.
    assert.match(await evidence('clock-behind', '2.57'), /the device's clock said \S+; the certificate is valid from \S+, 36 h later/)
    assert.match(await evidence('clock-behind', '2.77'), /tls: failed to verify certificate: x509: certificate has expired or is not yet valid/)
    assert.match(await evidence('clock-behind-retrying', '2.77'), /Doing, no log line, pre-poll-tentatives 1 \(of 20\)/)
    const behind = await read('clock-behind', '2.77', '2.77.1')
    assert.match(behind.cause!.versionNote ?? '', /2\.58\.1\+\) retried silently for 37\.5 minutes/)
    assert.match((await read('clock-behind', '2.57', '2.57.6')).cause!.versionNote ?? '', /gives up at once/)
    assert.match((await read('clock-behind', '2.57')).cause!.versionNote ?? '', /before 2\.58\.1 gives up at once; 2\.58\.1\+ first retries silently/)

    // TLS: the fix follows the version (store-certs from 2.59), given by --snapd when the state does not say it.
    assert.match((await read('tls-unknown-authority', '2.57', '2.57.6')).cause!.fix, /snapd before 2\.59 reads no store-certs/)
    assert.match((await read('tls-unknown-authority', '2.77', '2.77.1')).cause!.fix, /^copy the service's CA certificate to \/var\/lib\/snapd\/ssl\/store-certs\/<name>\.pem/)
    const unknown = await read('tls-unknown-authority', '2.77')
    assert.match(unknown.cause!.fix, /^snapd 2\.59\+: copy the CA certificate/)
    assert.match(unknown.cause!.versionNote ?? '', /--snapd VERSION says which/)

    // The hook's own line, and the runtime's own fix.
    const hook = await read('prepare-device-hook-fails', '2.57')
    assert.match(hook.cause!.evidence[0].text, /run hook "prepare-device": prepare-device: no usable serial/)
    assert.match(hook.cause!.fix, /^run `snap-gadget probe` on this hardware/)
    assert.deepEqual(
      hook.steps.map((s) => s.status),
      ['ok', 'failed', 'not-reached', 'not-reached', 'not-reached', 'not-reached', 'not-reached', 'not-reached'],
    )

    // serve's refusals: its code, and its own fix.
    assert.match(await evidence('wrong-api-key', '2.77'), /serve's refusal api-key-invalid/)
    assert.match(await evidence('serial-taken', '2.57'), /serial GW100-000123 of acme\/gw-100 was issued to another device key/)
    assert.match(await evidence('model-not-served', '2.57'), /the api-key is not the one of model "acme\/gw-100"/)

    // The chain.
    assert.match(await evidence('serial-key-untrusted', '2.77'), /cannot resolve prerequisite assertion: account-key/)
    assert.match(await evidence('serial-key-unknown', '2.57'), /cannot fetch signing key for the serial: account-key \(\S+\) not found/)

    // 2.77's hook: the object the body was left as, shown by its keys only.
    const object = await read('serial-hook-body-object', '2.77')
    assert.match(object.cause!.evidence.map((e) => e.text).join('\n'), /before: .*unexpected status 503[\s\S]*keys hardware-id-key-sha384, request-id-signature/)
    assert.match(object.cause!.evidence[0].text, /json: <registration\.body>$/)
    assert.equal(object.options?.['registration.body'], 'a JSON object (hardware-id-key-sha384, request-id-signature)')
    assert.equal(object.steps.find((s) => s.id === 'prepare-serial-request')?.status, 'failed')
    const hooked = await read('registered-serial-hook', '2.77')
    assert.equal(hooked.steps.find((s) => s.id === 'prepare-serial-request')?.status, 'ok')
    assert.match((await read('registered', '2.57')).steps.find((s) => s.id === 'prepare-serial-request')?.note ?? '', /no sign of the hook \(registration\.request-id is unset\)/)
    assert.match((await read('registered', '2.57', '2.57.6')).steps.find((s) => s.id === 'prepare-serial-request')?.note ?? '', /snapd 2\.57\.6 has no such hook/)
  })
})
