/**
 * `serve` at factory scale, on loopback: 1,000 devices with their own keys registering 50 at a
 * time through two instances on one PostgreSQL, and through one instance on SQLite; then the same
 * with an instance killed (SIGKILL) and restarted, and PostgreSQL crashing and recovering
 * (`pg_ctl restart -m immediate`) in the middle of the load.
 *
 * Afterwards, whatever happened: every device has exactly one serial and every serial one device
 * key, each answer a device got is a serial for its key signed by the brand and logged, the
 * signing log holds revisions 0 … n of each device and nothing else (nothing half-written), and
 * snapd's own asserts package accepts a sample of 100 serials against the brand's chain. No device
 * ever got an answer snapd would not retry at once (a 4xx or a 500): failures are no answer or 503.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import Database from 'better-sqlite3'

import {parseAssertions, verifyAssertionSignature} from '../../src/assertions/index.js'
import {SNAPD_PACKAGES, snapdCheck} from '../helpers/assertions.js'
import {binRun, fixtures} from '../helpers/paths.js'
import {type PostgresServer, postgresUnavailable, startPostgres} from '../helpers/postgres.js'
import {buildGoTool, goUnavailable} from '../runtime/helpers.js'
import {deviceKeys} from './device-keys.js'
import {type Device, type FleetResult, type Instance, makeFleetLab, registerFleet, startInstance} from './fleet.js'
import {brandKey, type Lab, labTrusted} from './helpers.js'
import {invariantViolations} from './invariants.js'

const DEVICES = 1000
const CONCURRENCY = 50
const SNAPD_SAMPLE = 100
/** Per scenario; a run takes about 15 s on two busy cores. */
const SCENARIO_DEADLINE_MS = 180_000

let devices: Device[]
let server: PostgresServer
let checker: string
const labs: Lab[] = []
const instances: Instance[] = []

before(async () => {
  for (const reason of [postgresUnavailable(), goUnavailable(SNAPD_PACKAGES)]) if (reason !== undefined) throw new Error(`the load tests need PostgreSQL and Go: ${reason}`)
  const [keys, started, built] = await Promise.all([deviceKeys(DEVICES), startPostgres(), buildGoTool(fixtures('assertions', 'snapd-check.go'), 'snapd-check')])
  devices = keys.map((key, i) => ({key, serial: `LINE1-${String(i).padStart(6, '0')}`}))
  server = started
  checker = built
})

after(async () => {
  await Promise.all(instances.map((i) => i.stop()))
  await server?.stop()
  for (const lab of labs) rmSync(lab.dir, {force: true, recursive: true})
})

async function launch(config: string, args: string[] = []): Promise<Instance> {
  const instance = await startInstance(config, args)
  instances.push(instance)
  return instance
}

type Query = (sql: string) => Promise<Array<Record<string, unknown>>>

/** Everything that must hold after a run, whatever happened during it. */
async function checkFleet(result: FleetResult, query: Query, lab: Lab): Promise<void> {
  assert.deepEqual(result.final, [], 'no device got a 4xx or a 500')
  assert.deepEqual(
    [...result.failures.keys()].filter((status) => status !== 0 && status !== 503),
    [],
    'failures are no answer or 503',
  )
  assert.equal(result.registered.length, DEVICES)

  // What the devices got: their serial, for their key, signed by the brand.
  const received = new Map<string, number[]>()
  const sample: string[] = []
  for (const [index, {answer, device}] of result.registered.entries()) {
    const [serial, ...chain] = parseAssertions(answer)
    assert.equal(serial.type, 'serial')
    assert.equal(serial.headers.serial, device.serial)
    assert.equal(serial.headers['device-key-sha3-384'], device.key.keyId)
    assert.deepEqual(
      chain.map((a) => a.type),
      ['account', 'account-key'],
    )
    assert.ok(verifyAssertionSignature(serial, brandKey.encodedPublicKey).valid, device.serial)
    received.set(device.serial, [...(received.get(device.serial) ?? []), Number(serial.headers.revision ?? 0)])
    if (index % (DEVICES / SNAPD_SAMPLE) === 0) sample.push(answer.slice(0, answer.indexOf('\ntype: account\n')))
  }

  assert.equal(received.size, DEVICES, 'every device got its own serial')

  // What the database holds: one row per device, with the device's key; each answer logged.
  const rows = (await query('SELECT serial, device_key_sha3_384 AS key FROM device')) as Array<{serial: string; key: string}>
  const keyOf = new Map(rows.map((r) => [r.serial, r.key]))
  assert.equal(rows.length, DEVICES)
  for (const device of devices) assert.equal(keyOf.get(device.serial), device.key.keyId, device.serial)
  const logged = new Set(((await query('SELECT serial, revision FROM signing_log')) as Array<{serial: string; revision: number}>).map((r) => `${r.serial}@${r.revision}`))
  for (const [serial, revisions] of received) for (const revision of revisions) assert.ok(logged.has(`${serial}@${revision}`), `${serial} revision ${revision} was answered and is logged`)
  assert.deepEqual(await invariantViolations(query as Parameters<typeof invariantViolations>[0]), [])

  // snapd's asserts package, as a device would: the brand's chain, then the serials.
  const verdicts = await snapdCheck(checker, labTrusted, [...lab.chain, ...sample])
  assert.equal(sample.length, SNAPD_SAMPLE)
  assert.deepEqual(
    verdicts.map((v, i) => (v.check === 'ok' ? 'ok' : `${i}: ${v.check}`)),
    verdicts.map(() => 'ok'),
  )
}

const pgQuery =
  (database: string): Query =>
  (sql) =>
    server.query(database, sql)

describe('1,000 devices, 50 at a time', () => {
  test('two instances on one PostgreSQL (schema made by serve migrate): one serial each, one log entry per answer', async () => {
    const lab = makeFleetLab(await server.createDatabase('fleet_two'))
    labs.push(lab)
    execFileSync(process.execPath, [binRun, 'serve', 'migrate', '--config', lab.config], {timeout: 60_000})
    const [a, b] = await Promise.all([launch(lab.config), launch(lab.config)])
    const result = await registerFleet(devices, {concurrency: CONCURRENCY, deadline: Date.now() + SCENARIO_DEADLINE_MS, urls: () => [a.url, b.url]})
    await Promise.all([a.stop(), b.stop()])
    assert.deepEqual(result.failures, new Map(), 'nothing failed')
    await checkFleet(result, pgQuery('fleet_two'), lab)
    assert.deepEqual(await server.query('fleet_two', 'SELECT count(*)::int AS n, max(revision) AS top FROM signing_log'), [{n: DEVICES, top: 0}], 'exactly one entry per issued assertion')
  })

  test('one instance on SQLite', async () => {
    const lab = makeFleetLab('sqlite:serve.db')
    labs.push(lab)
    const instance = await launch(lab.config)
    const result = await registerFleet(devices, {concurrency: CONCURRENCY, deadline: Date.now() + SCENARIO_DEADLINE_MS, urls: () => [instance.url]})
    await instance.stop()
    assert.deepEqual(result.failures, new Map(), 'nothing failed')
    const db = new Database(join(lab.dir, 'serve.db'), {readonly: true})
    try {
      const query: Query = async (sql) => db.prepare(sql).all() as Array<Record<string, unknown>>
      await checkFleet(result, query, lab)
      assert.deepEqual(await query('SELECT count(*) AS n, max(revision) AS top FROM signing_log'), [{n: DEVICES, top: 0}], 'exactly one entry per issued assertion')
    } finally {
      db.close()
    }
  })
})

describe('crashes under load', () => {
  test('an instance killed with SIGKILL and restarted, then PostgreSQL crashing: devices retry (no answer or 503, never a 4xx) and nothing is lost or half-written', async () => {
    const lab = makeFleetLab(await server.createDatabase('fleet_crash'))
    labs.push(lab)
    // Both start with --migrate at once: the schema lock makes them take turns.
    const [a, b] = await Promise.all([launch(lab.config, ['--migrate']), launch(lab.config, ['--migrate'])])
    const urls = [a.url, b.url]
    let databaseRestart: Promise<void> | undefined
    let aIsBack = false
    const events: string[] = []
    const result = await registerFleet(devices, {
      concurrency: CONCURRENCY,
      deadline: Date.now() + SCENARIO_DEADLINE_MS,
      async onRegistered(done) {
        if (done === 250) {
          // The load balancer keeps sending to it for a while: those attempts get no answer.
          a.child.kill('SIGKILL')
          events.push(`killed a at ${done}`)
        } else if (done === 450) {
          const restarted = await launch(lab.config)
          urls[0] = restarted.url
          aIsBack = true
          events.push('restarted a at 450+')
        } else if (done >= 650 && aIsBack && databaseRestart === undefined) {
          // The other instance goes on registering while a starts again, on a slow machine past 650:
          // the database crashes only once a is back, so the three events never overlap.
          databaseRestart = server.restart()
          events.push('database restart at 650+')
        }
      },
      urls: () => urls,
    })
    await databaseRestart
    assert.deepEqual(events, ['killed a at 250', 'restarted a at 450+', 'database restart at 650+'])
    await Promise.all(instances.map((i) => i.stop()))
    assert.ok(result.failures.get(0), 'the killed instance left attempts without an answer')
    assert.ok(result.failures.get(503), 'the database restart was answered with 503')
    await checkFleet(result, pgQuery('fleet_crash'), lab)
  })
})
