/**
 * The policy tables and the refusal log in both stores, the same rules: an allowlist import is one
 * transaction (all or none) and idempotent; admission reads the allowlist and the blocks in one go,
 * a model's own block and an every-model block alike; a target has one active block, unblocking
 * keeps it in the record; the refusal log filters by code, model and time and is pruned by count
 * and age; the signing log filters by time. On PostgreSQL, several instances blocking one device
 * at once make one block, and serve on an allowlist sees what a station imports and blocks.
 */
import assert from 'node:assert/strict'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {freshDir} from '../../helpers/scratch.js'
import {blockDevice, importAllowedSerials, loadImportConfig, loadServiceConfig, migrateDatabase, openStore, readRefusalLog, type ServiceStore, startDeviceService} from '../../../src/service/index.js'
import {openSqliteStore} from '../../../src/service/store/sqlite.js'
import type {BlockTarget, NewRefusal} from '../../../src/service/store/types.js'
import {type PostgresServer, postgresUnavailable, startPostgres} from '../../helpers/postgres.js'
import {API_KEY, makeLab, modelAssertion, TestDevice} from '../helpers.js'

const t0 = new Date('2026-12-01T10:00:00Z')
const later = (ms: number): Date => new Date(t0.getTime() + ms)
const KEY_A = 'A'.repeat(64)
const KEY_B = 'B'.repeat(64)
const serialTarget = (value: string, scope: {brand: string; model: string} = {brand: '', model: ''}): BlockTarget => ({kind: 'serial', value, ...scope})
const refusal = (n: number, over: Partial<NewRefusal> = {}): NewRefusal => ({
  at: later(n * 1000),
  brand: 'acme',
  code: 'serial-not-allowed',
  message: `refusal ${n}`,
  model: 'acme-pc',
  serial: `S-${n}`,
  status: 403,
  verified: true,
  ...over,
})

const pgReason = postgresUnavailable()
let server: PostgresServer | undefined
let databases = 0
// Removed when the process ends: after the stores in it are closed.
const dir = freshDir('serve-policy-store-')
const opened: ServiceStore[] = []

before(async () => {
  // Both stores are this file's subject: without PostgreSQL it fails rather than test half.
  if (pgReason !== undefined) throw new Error(`these tests need PostgreSQL: ${pgReason}`)
  server = await startPostgres()
})

after(async () => {
  for (const store of opened) await store.close().catch(() => {})
  await server?.stop()
})

const kinds: {name: string; fresh: (count: number) => Promise<ServiceStore[]>}[] = [
  {
    async fresh(count) {
      const path = join(dir, `p-${++databases}.db`)
      const stores = Array.from({length: count}, () => openSqliteStore(path))
      opened.push(...stores)
      return stores
    },
    name: 'SQLite',
  },
  {
    async fresh(count) {
      const url = await server!.createDatabase(`policy_${++databases}`)
      const location = {kind: 'postgres' as const, shown: url.replace(server!.password, '***'), url}
      await migrateDatabase(location)
      const stores = await Promise.all(Array.from({length: count}, () => openStore(location)))
      opened.push(...stores)
      return stores
    },
    name: 'PostgreSQL',
  },
]

for (const kind of kinds) {
  describe(`${kind.name}: serial policy and the refusal log`, () => {
    test('an allowlist import is idempotent, per model, and all or none', async () => {
      const [store] = await kind.fresh(1)
      const rows = [1, 2, 3].map((n) => ({brand: 'acme', model: 'acme-pc', serial: `S-${n}`}))
      assert.deepEqual(await store.importAllowedSerials(rows, t0), {imported: 3, unchanged: 0})
      assert.deepEqual(await store.importAllowedSerials([...rows, {brand: 'acme', model: 'acme-pi', serial: 'S-1'}], t0), {imported: 1, unchanged: 3})
      assert.equal(await store.allowedSerialCount('acme', 'acme-pc'), 3)
      assert.equal(await store.allowedSerialCount('acme', 'acme-pi'), 1)
      // A row the database refuses (no serial) after good ones: nothing of that import is kept.
      await assert.rejects(
        store.importAllowedSerials(
          [
            {brand: 'acme', model: 'acme-pc', serial: 'S-9'},
            {brand: 'acme', model: 'acme-pc', serial: null as unknown as string},
          ],
          t0,
        ),
      )
      assert.equal(await store.allowedSerialCount(), 4)
      assert.deepEqual(await store.admission('acme', 'acme-pc', 'S-9', KEY_A), {listed: false})
      assert.deepEqual(await store.admission('acme', 'acme-pc', 'S-1', KEY_A), {listed: true})
      assert.deepEqual(await store.admission('acme', 'acme-pi', 'S-2', KEY_A), {listed: false}, 'a list is per model')
    })

    test('blocks: by serial in one model or all, by device key; one active block per target; unblock keeps the record', async () => {
      const [store] = await kind.fresh(1)
      const pc = {brand: 'acme', model: 'acme-pc'}
      const first = await store.block(serialTarget('S-1', pc), 'returned: RMA 1', t0)
      assert.equal(first.kind, 'blocked')
      assert.deepEqual({...first.block, id: 0}, {blocked: t0.toISOString(), brand: 'acme', id: 0, kind: 'serial', model: 'acme-pc', reason: 'returned: RMA 1', value: 'S-1'})
      const again = await store.block(serialTarget('S-1', pc), 'another reason', later(1))
      assert.equal(again.kind, 'held')
      assert.equal(again.block.reason, 'returned: RMA 1')
      assert.equal((await store.admission('acme', 'acme-pc', 'S-1', KEY_A)).block?.reason, 'returned: RMA 1')
      assert.equal((await store.admission('acme', 'acme-pi', 'S-1', KEY_A)).block, undefined, "a model's block is that model's")

      await store.block(serialTarget('S-2'), 'stolen', t0)
      assert.equal((await store.admission('acme', 'acme-pi', 'S-2', KEY_A)).block?.reason, 'stolen', 'an every-model block')
      await store.block({brand: '', kind: 'device-key', model: '', value: KEY_B}, 'key leaked', t0)
      assert.equal((await store.admission('acme', 'acme-pc', 'ANY', KEY_B)).block?.kind, 'device-key')
      assert.equal((await store.admission('acme', 'acme-pc', 'ANY', KEY_A)).block, undefined)

      assert.equal(await store.unblock(serialTarget('S-1'), 'wrong scope', later(2)), undefined, 'the every-model target is not the model one')
      const ended = await store.unblock(serialTarget('S-1', pc), 'repaired', later(2))
      assert.equal(ended?.unblocked, later(2).toISOString())
      assert.equal(ended?.unblockReason, 'repaired')
      assert.deepEqual(await store.admission('acme', 'acme-pc', 'S-1', KEY_A), {listed: false})
      assert.deepEqual(
        (await store.blocks()).map((b) => b.value),
        [KEY_B, 'S-2'],
      )
      assert.deepEqual(
        (await store.blocks(true)).map((b) => [b.value, b.unblocked !== undefined]),
        [
          [KEY_B, false],
          ['S-2', false],
          ['S-1', true],
        ],
      )
      // Blocked again after an unblock: a new block, the old one still in the record.
      assert.equal((await store.block(serialTarget('S-1', pc), 'back again', later(3))).kind, 'blocked')
      assert.equal((await store.blocks(true)).length, 4)
    })

    test('the refusal log filters by code, model and time, pages, and is pruned by count and age', async () => {
      const [store] = await kind.fresh(1)
      for (let n = 0; n < 10; n++) await store.logRefusal(refusal(n, n % 2 === 0 ? {} : {brand: 'acme', code: 'api-key-invalid', model: 'acme-pi', status: 401, verified: false}))
      const all = await store.refusalLog()
      assert.deepEqual(
        all.map((r) => r.message),
        Array.from({length: 10}, (_, i) => `refusal ${9 - i}`),
      )
      assert.deepEqual({...all[0], id: 0}, {at: later(9000).toISOString(), brand: 'acme', code: 'api-key-invalid', id: 0, message: 'refusal 9', model: 'acme-pi', serial: 'S-9', status: 401, verified: false})
      assert.deepEqual(
        (await store.refusalLog({code: 'serial-not-allowed'})).map((r) => r.serial),
        ['S-8', 'S-6', 'S-4', 'S-2', 'S-0'],
      )
      assert.deepEqual(
        (await store.refusalLog({model: 'acme-pi', since: later(3000), until: later(7000)})).map((r) => r.serial),
        ['S-5', 'S-3'],
      )
      assert.deepEqual(
        (await store.refusalLog({before: all[2].id, limit: 2})).map((r) => r.serial),
        ['S-6', 'S-5'],
      )
      // Age: older than 5.5 s at 10 s (refusals 0–4) go; count: the newest 3 stay.
      assert.equal(await store.pruneRefusals({maxAgeMs: 5500}, later(10_000)), 5)
      assert.equal(await store.pruneRefusals({entries: 3}, later(10_000)), 2)
      assert.deepEqual(
        (await store.refusalLog()).map((r) => r.serial),
        ['S-9', 'S-8', 'S-7'],
      )
      assert.equal(await store.pruneRefusals({entries: 3, maxAgeMs: 60_000}, later(10_000)), 0)
    })

    test('the signing log filters by time; nonces are counted', async () => {
      const [store] = await kind.fresh(1)
      for (let n = 0; n < 4; n++) {
        await store.issueSerial({brand: 'acme', deviceKeyId: `key-${n}`, model: 'acme-pc', now: later(n * 60_000), serial: `S-${n}`}, async () => 'assertion')
      }

      assert.deepEqual(
        (await store.signingLog({since: later(60_000), until: later(180_000)})).map((e) => e.serial),
        ['S-2', 'S-1'],
      )
      await store.addNonce('n1', 's', t0)
      await store.addNonce('n2', 's', t0)
      assert.equal(await store.nonceCount(), 2)
    })
  })
}

describe('PostgreSQL: several instances', () => {
  test('blocking one device through three instances at once makes one block', async () => {
    const stores = await kinds[1].fresh(3)
    const outcomes = await Promise.all(Array.from({length: 9}, (_, i) => stores[i % 3].block(serialTarget('S-1'), `reason ${i}`, t0)))
    assert.equal(outcomes.filter((o) => o.kind === 'blocked').length, 1, JSON.stringify(outcomes))
    assert.equal(new Set(outcomes.map((o) => o.block.id)).size, 1)
    assert.equal((await stores[0].blocks()).length, 1)
  })
})

describe('serve on PostgreSQL with an allowlist', () => {
  test('refused, imported by a station through its own connection, registered; then blocked, and the refusals logged', async () => {
    const url = await server!.createDatabase(`serve_policy_${++databases}`)
    const lab = makeLab()
    try {
      writeFileSync(lab.config, readFileSync(lab.config, 'utf8').replace('database: sqlite:serve.db', `database: ${url}`).replace('    chain:', '    serials: allowlist\n    chain:'))
      const config = loadServiceConfig(lab.config, {env: {LAB_API_KEY: API_KEY}})
      await migrateDatabase(config.database)
      const service = await startDeviceService(config, {version: 'test'})
      try {
        const device = new TestDevice()
        const register = async (): Promise<number> => {
          const nonce = ((await (await fetch(`${service.url}request-id`, {headers: {'api-key': API_KEY}, method: 'POST'})).json()) as {'request-id': string})['request-id']
          const answer = await fetch(`${service.url}serial`, {body: `${device.serialRequest(nonce, {serial: 'PG-1'})}\n${modelAssertion()}`, headers: {'api-key': API_KEY}, method: 'POST'})
          await answer.arrayBuffer()
          return answer.status
        }

        assert.equal(await register(), 403)
        writeFileSync(join(lab.dir, 'list.jsonl'), '{"serial": "PG-1", "model": "acme/acme-pc"}\n')
        const station = loadImportConfig(lab.config)
        assert.equal((await importAllowedSerials(station, [join(lab.dir, 'list.jsonl')])).imported, 1)
        assert.equal(await register(), 200)
        await blockDevice(station, {deviceKey: device.keyId}, 'returned')
        assert.equal(await register(), 403)
        await new Promise((resolve) => setTimeout(resolve, 100))
        assert.deepEqual(
          (await readRefusalLog(config)).map((r) => [r.code, r.serial, r.deviceKeyId === device.keyId]),
          [
            ['device-blocked', 'PG-1', true],
            ['serial-not-allowed', 'PG-1', true],
          ],
        )
      } finally {
        await service.close()
      }
    } finally {
      rmSync(lab.dir, {force: true, recursive: true})
    }
  })
})
