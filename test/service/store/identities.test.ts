/**
 * Hardware identities in both stores, the same rules: an import is all or none, idempotent, and
 * refuses a key under two hardware ids or a hardware id with two keys; an identity registers one
 * device key and a device key one identity, also when two instances on one PostgreSQL race for
 * it; the signing log records the hardware id; and serve in hardware-identity onboarding on
 * PostgreSQL walks the factory timeline with the station importing through another instance.
 */
import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {freshDir} from '../../helpers/scratch.js'
import {parseAssertions} from '../../../src/assertions/index.js'
import {loadServiceConfig, migrateDatabase, openStore, type ServiceStore, startDeviceService} from '../../../src/service/index.js'
import {MIGRATIONS} from '../../../src/service/store/migrations.js'
import {openSqliteStore} from '../../../src/service/store/sqlite.js'
import type {NewHardwareIdentity, SerialClaim} from '../../../src/service/store/types.js'
import {hardwareKeyFrom, newHardwareKey} from '../../helpers/hardware.js'
import {type PostgresServer, postgresUnavailable, startPostgres} from '../../helpers/postgres.js'
import {hardwareStream, makeHardwareLab} from '../hardware-lab.js'
import {API_KEY, TestDevice} from '../helpers.js'
import {invariantViolations} from '../invariants.js'

const t0 = new Date('2026-12-01T10:00:00Z')
const identity = (n: number, over: Partial<NewHardwareIdentity> = {}): NewHardwareIdentity => ({
  assertion: `type: hardware-identity\n...${n}`,
  digest: `${'D'.repeat(60)}${String(n).padStart(4, '0')}`,
  hardwareId: `HW-${n}`,
  hardwareIdKey: `KEY${n}`,
  hardwareName: 'gw',
  issuerId: 'acme',
  keyType: 'ecdsa-p256',
  manufacturer: 'Acme',
  ...over,
})
const claim = (n: number, deviceKeyId: string, over: Partial<SerialClaim> = {}): SerialClaim => ({
  brand: 'acme',
  deviceKeyId,
  hardware: {digest: identity(n).digest, hardwareId: `HW-${n}`, issuerId: 'acme'},
  model: 'acme-pc',
  now: t0,
  serial: `HW-${n}`,
  ...over,
})
const sign = async (revision: number) => `serial r${revision}`

const pgReason = postgresUnavailable()
if (pgReason !== undefined && process.env.CI === 'true') throw new Error(`these tests need PostgreSQL in CI: ${pgReason}`)
let server: PostgresServer | undefined
let databases = 0
// Removed when the process ends: after the stores in it are closed.
const dir = freshDir('serve-identities-')
const opened: ServiceStore[] = []

before(async () => {
  if (pgReason === undefined) server = await startPostgres()
})

after(async () => {
  for (const store of opened) await store.close().catch(() => {})
  await server?.stop()
})

interface Kind {
  name: string
  skip?: string
  /** `count` stores on one fresh database, and a query on it. */
  fresh(count: number): Promise<{stores: ServiceStore[]; query: (sql: string) => Promise<Array<{n: number | string}>>; url?: string}>
}

const pgLocation = (url: string) => ({kind: 'postgres' as const, shown: url.replace(server!.password, '***'), url})
const kinds: Kind[] = [
  {
    async fresh(count) {
      const path = join(dir, `s-${++databases}.db`)
      const stores = Array.from({length: count}, () => openSqliteStore(path))
      opened.push(...stores)
      const Database = (await import('better-sqlite3')).default
      return {
        query: async (sql) => {
          const db = new Database(path, {readonly: true})
          try {
            return db.prepare(sql).all() as Array<{n: number}>
          } finally {
            db.close()
          }
        },
        stores,
      }
    },
    name: 'SQLite',
  },
  {
    async fresh(count) {
      const name = `ids_${++databases}`
      const url = await server!.createDatabase(name)
      await migrateDatabase(pgLocation(url))
      const stores = await Promise.all(Array.from({length: count}, () => openStore(pgLocation(url))))
      opened.push(...stores)
      return {query: (sql) => server!.query(name, sql), stores, url}
    },
    name: 'PostgreSQL',
    skip: pgReason,
  },
]

for (const kind of kinds) {
  describe(`${kind.name}: hardware identities`, {skip: kind.skip}, () => {
    test('an import is all or none and idempotent; a key under two ids or an id with two keys is a conflict', async () => {
      const {
        stores: [store],
      } = await kind.fresh(1)
      assert.deepEqual(await store.importIdentities([identity(1), identity(2)], t0), {imported: 2, kind: 'imported', unchanged: 0})
      assert.deepEqual(await store.importIdentities([identity(1), identity(3)], t0), {imported: 1, kind: 'imported', unchanged: 1})
      const outcome = await store.importIdentities([identity(4), identity(1, {hardwareId: 'HW-1-again'}), identity(9, {hardwareId: 'HW-2'})], t0)
      assert.equal(outcome.kind, 'conflicts')
      assert.deepEqual(outcome.kind === 'conflicts' ? outcome.conflicts.map((c) => [c.why, c.held.hardwareId]) : [], [
        ['key-has-other-id', 'HW-1'],
        ['id-has-other-key', 'HW-2'],
      ])
      assert.equal(await store.identityCount(), 3, 'HW-4 was not imported: none of that import was')
      assert.deepEqual(
        (await store.findIdentities(identity(1).digest)).map((i) => [i.issuerId, i.hardwareId, i.deviceKeyId]),
        [['acme', 'HW-1', undefined]],
      )
      assert.equal((await store.importIdentities([identity(1, {issuerId: 'acme-odm'})], t0)).kind, 'imported', 'another issuer may certify the same key')
      assert.deepEqual(
        (await store.findIdentities(identity(1).digest)).map((i) => i.issuerId),
        ['acme', 'acme-odm'],
      )
    })

    test('an identity registers one device key, a device key one identity; asking again is the next revision; the log has the hardware id', async () => {
      const {
        query,
        stores: [store],
      } = await kind.fresh(1)
      await store.importIdentities([identity(1), identity(2)], t0)
      const first = await store.issueSerial(claim(1, 'key-A'), sign)
      assert.equal(first.kind, 'issued')
      assert.deepEqual(await store.issueSerial(claim(1, 'key-B'), sign), {deviceKeyId: 'key-A', kind: 'identity-taken'})
      assert.deepEqual(await store.issueSerial(claim(2, 'key-A', {serial: 'HW-2'}), sign), {hardwareId: 'HW-1', issuerId: 'acme', kind: 'device-has-identity'})
      const again = await store.issueSerial(claim(1, 'key-A'), sign)
      assert.equal(again.kind === 'issued' && again.entry.revision, 1)
      assert.deepEqual(await store.issueSerial(claim(7, 'key-C'), sign), {kind: 'identity-unknown'})
      assert.equal((await store.findIdentities(identity(1).digest))[0].deviceKeyId, 'key-A')
      const log = await store.signingLog({})
      assert.deepEqual(
        log.map((e) => [e.serial, e.revision, e.hardwareId, e.hardwareIssuer]),
        [
          ['HW-1', 1, 'HW-1', 'acme'],
          ['HW-1', 0, 'HW-1', 'acme'],
        ],
      )
      assert.deepEqual(await invariantViolations(query), [])
    })

    test('device keys racing for one identity through several instances: exactly one registers', async () => {
      const {query, stores} = await kind.fresh(3)
      await stores[0].importIdentities([identity(1)], t0)
      const outcomes = await Promise.all(Array.from({length: 9}, (_, i) => stores[i % stores.length].issueSerial(claim(1, `key-${i}`), sign)))
      assert.equal(outcomes.filter((o) => o.kind === 'issued').length, 1, JSON.stringify(outcomes))
      assert.equal(outcomes.filter((o) => o.kind === 'identity-taken').length, 8)
      assert.deepEqual(await invariantViolations(query), [])
    })

    test('one device key racing for two identities under two models: one registers, the other is refused as the identity the key holds', async () => {
      const {query, stores} = await kind.fresh(2)
      await stores[0].importIdentities([identity(1), identity(2)], t0)
      // In SQLite both decide before either commits (each signs first, here together), so the second
      // is refused in its transaction; in PostgreSQL the second waits for the first's binding.
      const barrier = kind.name === 'SQLite'
      let signing = 0
      let release!: () => void
      const together = new Promise<void>((resolve) => (release = resolve))
      const signBoth = async (revision: number) => {
        if (++signing === 2) release()
        if (barrier) await together
        return sign(revision)
      }
      const outcomes = await Promise.all([stores[0].issueSerial(claim(1, 'key-A'), signBoth), stores[1].issueSerial(claim(2, 'key-A', {model: 'acme-other', serial: 'HW-2'}), signBoth)])
      const kinds = outcomes.map((o) => o.kind).sort()
      assert.deepEqual(kinds, ['device-has-identity', 'issued'], JSON.stringify(outcomes))
      assert.deepEqual(await invariantViolations(query), [])
    })

    test("an identity's assertion is kept apart from the row a registration reads, and an import that conflicts keeps none", async () => {
      const {
        query,
        stores: [store],
      } = await kind.fresh(1)
      await store.importIdentities([identity(1), identity(2)], t0)
      assert.equal((await store.importIdentities([identity(3), identity(1, {hardwareId: 'HW-9'})], t0)).kind, 'conflicts')
      assert.deepEqual(await query('SELECT key_sha3_384 AS n, assertion FROM hardware_identity_assertion ORDER BY key_sha3_384'), [
        {assertion: identity(1).assertion, n: identity(1).digest},
        {assertion: identity(2).assertion, n: identity(2).digest},
      ])
      const columns =
        kind.name === 'SQLite'
          ? "SELECT name AS n FROM pragma_table_info('hardware_identity') ORDER BY cid"
          : "SELECT column_name AS n FROM information_schema.columns WHERE table_name = 'hardware_identity' ORDER BY ordinal_position"
      assert.ok(!(await query(columns)).some((c) => c.n === 'assertion'), 'hardware_identity has no assertion column')
    })
  })
}

describe('a database whose identities were imported before their assertions had a table of their own', () => {
  const steps = MIGRATIONS.findIndex((m) => m.summary.startsWith("each hardware identity's assertion"))
  const old = [identity(1), identity(2)]
  const insert = 'INSERT INTO hardware_identity (issuer_id, key_sha3_384, hardware_id, hardware_name, manufacturer, key_type, hardware_id_key, assertion, imported) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)'
  const values = (i: NewHardwareIdentity) => [i.issuerId, i.digest, i.hardwareId, i.hardwareName, i.manufacturer, i.keyType, i.hardwareIdKey, i.assertion, t0.toISOString()]
  const moved = old.map((i) => ({assertion: i.assertion, key_sha3_384: i.digest}))
  const registers = async (store: ServiceStore) => {
    assert.equal((await store.findIdentities(identity(2).digest))[0].hardwareId, 'HW-2')
    assert.equal((await store.issueSerial(claim(2, 'key-A', {serial: 'HW-2'}), sign)).kind, 'issued')
  }

  test('SQLite: opening it moves every assertion, and its identities still register', async () => {
    const path = join(dir, 'identities-before.db')
    const Database = (await import('better-sqlite3')).default
    const db = new Database(path)
    for (const step of MIGRATIONS.slice(0, steps)) db.exec(step.sqlite)
    db.pragma(`user_version = ${steps}`)
    for (const i of old) db.prepare(insert.replaceAll(/\$\d/g, '?')).run(...values(i))
    db.close()
    const store = openSqliteStore(path)
    opened.push(store)
    await registers(store)
    const after = new Database(path, {readonly: true})
    assert.deepEqual(after.prepare('SELECT key_sha3_384, assertion FROM hardware_identity_assertion ORDER BY key_sha3_384').all(), moved)
    after.close()
  })

  test('PostgreSQL: migrate moves every assertion, and its identities still register', {skip: pgReason}, async () => {
    const name = `ids_${++databases}`
    const url = await server!.createDatabase(name)
    for (const step of MIGRATIONS.slice(0, steps)) await server!.query(name, step.postgres)
    await server!.query(name, 'CREATE TABLE snap_gadget_schema (version INTEGER NOT NULL)')
    await server!.query(name, 'INSERT INTO snap_gadget_schema (version) VALUES ($1)', [steps])
    for (const i of old) await server!.query(name, insert, values(i))
    assert.deepEqual((await migrateDatabase(pgLocation(url))).from, steps)
    const store = await openStore(pgLocation(url))
    opened.push(store)
    await registers(store)
    assert.deepEqual(await server!.query(name, 'SELECT key_sha3_384, assertion FROM hardware_identity_assertion ORDER BY key_sha3_384'), moved)
  })
})

describe('serve on PostgreSQL in hardware-identity onboarding', {skip: pgReason}, () => {
  test('refused before the station imports through another instance, registered after', async () => {
    const name = `serve_${++databases}`
    const url = await server!.createDatabase(name)
    const lab = makeHardwareLab({database: url})
    const env = {GATE_API_KEY: 'gate-api-key-0123456789', LAB_API_KEY: API_KEY}
    const config = loadServiceConfig(lab.config, {env})
    await migrateDatabase(config.database)
    const service = await startDeviceService(config, {version: 'test'})
    const station = await openStore(config.database)
    try {
      const key = hardwareKeyFrom(newHardwareKey('ecdsa-p256'))
      const device = new TestDevice()
      const register = async () => {
        const requestId = ((await (await fetch(`${service.url}request-id`, {method: 'POST'})).json()) as {'request-id': string})['request-id']
        return fetch(`${service.url}serial`, {body: hardwareStream(device, key, requestId), method: 'POST'})
      }

      const early = await register()
      assert.equal(early.status, 403)
      assert.match(((await early.json()) as {message: string}).message, /^hardware identity not imported yet/)
      const imported = await lab.import([lab.identities([{hardwareId: 'PG-1', key}])], station)
      assert.equal(imported.imported, 1)
      const later = await register()
      assert.equal(later.status, 200)
      assert.equal(parseAssertions(await later.text())[0].headers.serial, 'PG-1')
      assert.deepEqual(await invariantViolations((sql) => server!.query(name, sql)), [])
    } finally {
      await station.close()
      await service.close()
      rmSync(lab.dir, {force: true, recursive: true})
    }
  })
})
