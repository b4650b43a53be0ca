/**
 * The proof: for the same answers of a device service, the simulator's verdict is snapd's.
 *
 * For each crafted answer (helpers.ts AGREEMENT_CASES: an accepted serial, with its chain or alone;
 * a wrong device key, brand or model; a signer the model does not allow, and one it does; a broken
 * chain; two serials; a 4xx whose message snapd shows and one it does not; 500; 503; 202), a
 * loopback service answers both the simulator (`registerDevice`, the hook of a gadget made by
 * `init` run on Node over the captured UP board) and snapd 2.57.6's own DeviceManager (its
 * devicestate tests built from Debian's source with test/service/snapd/registration_test.go: the
 * hook's snapctl calls replayed through snapd's snapctl, the same trusted root, the same seed).
 * Both verdicts (accepted, refused, retry, poll) and snapd's words must agree; both are written
 * into the test output.
 *
 * And the typing of snapctl values: after the same snapctl calls, the simulator reads the
 * registration options as snapd's own ctlcmd and config transaction do, errors included.
 */
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {type HookRun, prepareSimulatedDevice, readModel, registerDevice} from '../../src/simulate/index.js'
import {answerSnapctl, readSerialRequestConfig, replayConfig, type SnapctlRecord} from '../../src/simulate/snapctl-shim.js'
import {buildDevicestateTests, devicestateUnavailable, runProgram} from '../service/snapd-harness.js'
import {AGREEMENT_CASES, API_KEY, chain, craftedService, labDeviceOptions, makeSimulationLab, type SimulationLab, signLabModel} from './helpers.js'
import {freshDir, scratchDir} from '../helpers/scratch.js'

const unavailable = devicestateUnavailable()
const work = scratchDir('snap-gadget-agreement-')

interface SnapdVerdict {
  verdict: string
  message: string
  log: null | string[]
  serial: string
  change: string
}

/** Key ids differ between the two devices (each makes its own key): the rest of a message must not. */
const sameWords = (message: string): string => message.replace(/[\w-]{64}/g, '<key-id>')

describe("the simulator's verdict is snapd's", {skip: unavailable}, () => {
  let lab: SimulationLab
  let binary: string
  let hook: HookRun
  let calls: string[][]

  before(async () => {
    const building = buildDevicestateTests()
    lab = await makeSimulationLab()
    // The gadget's hook, run once by the simulator; snapd replays its snapctl calls.
    const prepared = await prepareSimulatedDevice(labDeviceOptions(lab))
    hook = {config: prepared.config, report: prepared.hook}
    calls = prepared.hook.calls.map((call) => call.argv.map((arg) => arg.replaceAll('<api-key>', API_KEY)))
    binary = await building
  })

  after(() => lab?.cleanup())

  /** snapd's DeviceManager registering once against `url`. */
  async function snapdVerdict(url: string, seed: string, name: string): Promise<SnapdVerdict> {
    const dir = freshDir('snap-gadget-agreement-verdict-')
    const input = join(dir, 'input.json')
    const output = join(dir, 'verdict.json')
    const trusted = `${chain.trusted[0].text}\n${chain.trusted[1].text}`
    writeFileSync(input, JSON.stringify({'key-bits': 2048, output, seed, snapctl: calls, trusted, url}))
    const run = await runProgram(binary, ['-test.run', '^TestDeviceManager$', '-check.f', '^snapdVerdictSuite\\.TestReportVerdict$', '-check.v'], {
      cwd: dir,
      env: {...process.env, SNAP_GADGET_VERDICT_INPUT: input, TMPDIR: dir},
      timeout: 240_000,
    })
    assert.equal(run.code, 0, `${name}: snapd's run failed:\n${run.output}`)
    return JSON.parse(readFileSync(output, 'utf8')) as SnapdVerdict
  }

  for (const crafted of AGREEMENT_CASES) {
    test(crafted.name, async (t) => {
      const service = await craftedService(crafted.serial)
      try {
        const seed = crafted.partnerAllowed ? [signLabModel(lab.gadgetName, {'serial-authority': ['acme-partner']}).text, chain.account.text, chain.accountKey.text].join('\n') : readFileSync(lab.modelFile, 'utf8')
        const modelFile = join(work, `${crafted.name.replaceAll(/\W+/g, '-')}.assert`)
        writeFileSync(modelFile, seed)
        const simulated = await registerDevice(labDeviceOptions(lab, {hook, model: readModel(modelFile), url: service.url}))
        const snapd = await snapdVerdict(service.url, seed, crafted.name)
        t.diagnostic(`simulator: ${simulated.verdict}${simulated.message ? `: ${simulated.message}` : ''}`)
        t.diagnostic(`snapd:     ${snapd.verdict}${snapd.message ? `: ${snapd.message}` : ''}`)
        assert.equal(simulated.verdict, snapd.verdict, `simulator: ${simulated.message}\nsnapd log:\n${(snapd.log ?? []).join('\n')}`)
        assert.equal(sameWords(simulated.message ?? ''), sameWords(snapd.message))
        if (snapd.verdict === 'accepted') assert.equal(simulated.serial?.serial, snapd.serial)
        // Each met the service.
        assert.equal(service.requests.length, 2)
      } finally {
        await service.close()
      }
    })
  }

  test("snapctl values are typed and read as snapd's own snapctl and configuration read them", async (t) => {
    const typing: string[][][] = [
      [['set', 'device-service.url="http://a/v1/"', 'device-service.headers={"api-key":"k","x-id":"1"}', 'registration.proposed-serial="0012"', 'registration.body="mac: x"']],
      [['set', 'registration.proposed-serial=12345678']],
      [['set', 'registration.proposed-serial=1000000012345678']],
      [['set', 'registration.proposed-serial=12345e67']],
      [['set', 'registration.proposed-serial=10000000afbf721a']],
      [['set', 'registration.proposed-serial=0000000012345678']],
      [['set', 'registration.proposed-serial=true']],
      [['set', 'registration.proposed-serial="abc"}']],
      [['set', 'registration.proposed-serial=123 ]']],
      [['set', 'registration.body={"mac":"x"}']],
      [['set', 'registration.body=mac: "00:11"']],
      [['set', '-s', 'device-service.headers={"api-key":"k"}']],
      [['set', '-s', 'registration.proposed-serial="X"']],
      [['set', '-t', 'registration.body=mac: x']],
      [['set', 'device-service.headers={"n":1}']],
      [['set', 'device-service.headers={"a":null,"b":"2"}']],
      [['set', 'device-service={"url":"http://whole/","headers":{"h":"v"}}']],
      [['set', 'device-service="s"', 'device-service.url="http://a/"']],
      [['set', 'Registration.body="x"', 'registration.body="kept"']],
      [
        ['set', 'registration.body="b"'],
        ['set', 'registration.body!'],
      ],
      [
        ['set', 'registration.body="b"'],
        ['unset', 'registration.body'],
      ],
      [['set', 'device-service.url="http://z/"', 'device-service.url=null']],
      [['set', 'registration.proposed-serial="<&>\\u2028"']],
      [['set', 'registration.proposed-serial=[1,"a"]']],
      [['set', 'registration.proposed-serial=']],
      [['set', 'registration.proposed-serial']],
      [['set']],
    ]
    const dir = freshDir('snap-gadget-agreement-typing-')
    const input = join(dir, 'input.json')
    const output = join(dir, 'readings.json')
    writeFileSync(input, JSON.stringify({output, typing}))
    const run = await runProgram(binary, ['-test.run', '^TestDeviceManager$', '-check.f', '^snapdVerdictSuite\\.TestReportSnapctlTyping$', '-check.v'], {
      cwd: dir,
      env: {...process.env, SNAP_GADGET_VERDICT_INPUT: input, TMPDIR: dir},
      timeout: 240_000,
    })
    assert.equal(run.code, 0, run.output)
    const snapd = JSON.parse(readFileSync(output, 'utf8')) as {calls: string[]; url: string; headers: null | Record<string, string>; 'proposed-serial': string; body: string; error: string}[]
    assert.equal(snapd.length, typing.length)
    for (const [i, list] of typing.entries()) {
      const state = {disconnected: [], gadget: 'acme-pc', initial: {}, log: ''}
      const records: SnapctlRecord[] = []
      for (const argv of list) {
        const answer = answerSnapctl(state, replayConfig(state, records), argv)
        records.push({argv, ...answer})
      }

      const ours = readSerialRequestConfig(replayConfig(state, records))
      const theirs = snapd[i]
      t.diagnostic(`${JSON.stringify(list)} → snapd: ${theirs.error || JSON.stringify({body: theirs.body, headers: theirs.headers, serial: theirs['proposed-serial'], url: theirs.url})}`)
      assert.deepEqual(
        records.map((r) => r.status === 0),
        theirs.calls.map((c) => c === 'ok'),
        `${JSON.stringify(list)}: which calls snapd accepted (${theirs.calls.join('; ')})`,
      )
      if (theirs.error) {
        assert.equal(ours.error, theirs.error, JSON.stringify(list))
        continue
      }

      assert.equal(ours.error, undefined, JSON.stringify(list))
      assert.deepEqual(ours.config, {body: theirs.body, headers: theirs.headers ?? {}, proposedSerial: theirs['proposed-serial'], url: theirs.url}, JSON.stringify(list))
    }
  })
})
