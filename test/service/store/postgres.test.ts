/**
 * The PostgreSQL store on a throwaway server: the rules the SQLite store keeps, now held by the
 * database across instances (several stores on one database, as several `serve` processes are):
 * a nonce consumed once, one serial per device key and one key per serial, revisions without gaps
 * or duplicates when a device asks through several instances at once; the schema migrated only
 * when asked, under a lock; and a database that goes away reaching the caller as an error the
 * server answers with 503.
 */
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'

import {UserError} from '../../../src/errors.js'
import {migrateDatabase, openStore, SCHEMA_VERSION, type ServiceStore} from '../../../src/service/index.js'
import type {SerialClaim} from '../../../src/service/store/types.js'
import {invariantViolations} from '../invariants.js'
import {type PostgresServer, postgresUnavailable, startPostgres} from '../../helpers/postgres.js'

const t0 = new Date('2026-12-01T10:00:00Z')
const later = (ms: number): Date => new Date(t0.getTime() + ms)
const claim = (over: Partial<SerialClaim> = {}): SerialClaim => ({brand: 'acme', deviceKeyId: 'key-A', model: 'acme-pc', now: t0, serial: 'S-1', ...over})

let server: PostgresServer
let databases = 0
const stores: ServiceStore[] = []

before(async () => {
  const reason = postgresUnavailable()
  if (reason !== undefined) throw new Error(`these tests need PostgreSQL: ${reason}`)
  server = await startPostgres()
})

after(async () => {
  for (const store of stores) await store.close().catch(() => {})
  await server?.stop()
})

const location = (url: string) => ({kind: 'postgres' as const, shown: url.replace(server.password, '***'), url})

/** A fresh migrated database and `count` stores on it: instances that share nothing else. */
async function instances(count: number): Promise<{url: string; stores: ServiceStore[]}> {
  const url = await server.createDatabase(`store_${++databases}`)
  await migrateDatabase(location(url))
  const opened = await Promise.all(Array.from({length: count}, () => openStore(location(url))))
  stores.push(...opened)
  return {stores: opened, url}
}

describe('rules across instances', () => {
  test('a nonce is consumed once, whichever instances race for it', async () => {
    const {
      stores: [a, b, c],
    } = await instances(3)
    await a.addNonce('n1', 'acme/acme-pc', t0)
    const checks = await Promise.all([a, b, c, a, b, c].map((s) => s.consumeNonce('n1', 'acme/acme-pc', later(1000), 600_000)))
    assert.deepEqual(
      checks.filter((c) => c === 'ok'),
      ['ok'],
    )
    assert.equal(checks.filter((c) => c === 'unknown').length, 5)
    await a.addNonce('old', 'acme/acme-pc', t0)
    await a.addNonce('other', 'acme/acme-pi', t0)
    assert.equal(await b.consumeNonce('old', 'acme/acme-pc', later(600_001), 600_000), 'expired')
    assert.equal(await c.consumeNonce('other', 'acme/acme-pc', later(1), 600_000), 'wrong-model')
  })

  test('purging removes only nonces issued before the cut', async () => {
    const {
      stores: [a],
    } = await instances(1)
    await a.addNonce('a', 's', t0)
    await a.addNonce('b', 's', later(10_000))
    assert.equal(await a.purgeNonces(later(5000)), 1)
    assert.equal(await a.consumeNonce('a', 's', later(10_000), 600_000), 'unknown')
    assert.equal(await a.consumeNonce('b', 's', later(10_000), 600_000), 'ok')
  })

  test('a device asking 30 times at once through 3 instances gets revisions 0 to 29, each once, each logged', async () => {
    const {stores: three} = await instances(3)
    const outcomes = await Promise.all(Array.from({length: 30}, (_, i) => three[i % 3].issueSerial(claim({now: later(i)}), async (revision) => `assertion r${revision}`)))
    const revisions = outcomes.map((o) => (o.kind === 'issued' ? o.entry.revision : -1)).sort((x, y) => x - y)
    assert.deepEqual(
      revisions,
      Array.from({length: 30}, (_, i) => i),
    )
    for (const outcome of outcomes) if (outcome.kind === 'issued') assert.equal(outcome.assertion, `assertion r${outcome.entry.revision}`)
    const log = await three[0].signingLog()
    assert.deepEqual(
      log.map((e) => e.revision).sort((x, y) => x - y),
      revisions,
    )
  })

  test('20 device keys racing for one serial: one gets it, the others are refused, one log entry', async () => {
    const {stores: two} = await instances(2)
    const outcomes = await Promise.all(Array.from({length: 20}, (_, i) => two[i % 2].issueSerial(claim({deviceKeyId: `key-${i}`}), async () => 'a')))
    assert.equal(outcomes.filter((o) => o.kind === 'issued').length, 1)
    assert.equal(outcomes.filter((o) => o.kind === 'serial-taken').length, 19)
    assert.equal((await two[0].signingLog()).length, 1)
  })

  test('one device key racing for 20 serials: it gets one, the others are refused with the serial it has', async () => {
    const {stores: two} = await instances(2)
    const outcomes = await Promise.all(Array.from({length: 20}, (_, i) => two[i % 2].issueSerial(claim({serial: `S-${i}`}), async () => 'a')))
    const issued = outcomes.filter((o) => o.kind === 'issued')
    assert.equal(issued.length, 1)
    const serial = issued[0].kind === 'issued' ? issued[0].entry.serial : ''
    assert.deepEqual(
      outcomes.filter((o) => o.kind !== 'issued'),
      Array.from({length: 19}, () => ({kind: 'key-has-serial', serial})),
    )
    assert.equal((await two[0].signingLog()).length, 1)
  })

  test("a signer that throws leaves nothing behind, and the error is the signer's", async () => {
    const {
      stores: [a],
    } = await instances(1)
    await assert.rejects(
      a.issueSerial(claim(), async () => {
        throw new Error('the key is gone')
      }),
      /the key is gone/,
    )
    assert.deepEqual(await a.signingLog(), [])
    assert.equal((await a.issueSerial(claim({deviceKeyId: 'key-B'}), async () => 'b')).kind, 'issued', 'the serial was not reserved by the failed attempt')
  })

  test('the log filters by brand, model and serial, newest first, with a limit', async () => {
    const {
      stores: [a],
    } = await instances(1)
    await a.issueSerial(claim(), async () => 'a')
    await a.issueSerial(claim({deviceKeyId: 'key-B', serial: 'S-2'}), async () => 'b')
    await a.issueSerial(claim({deviceKeyId: 'key-C', model: 'acme-pi', serial: 'S-3'}), async () => 'c')
    assert.deepEqual(
      (await a.signingLog({model: 'acme-pc'})).map((e) => e.serial),
      ['S-2', 'S-1'],
    )
    assert.deepEqual(
      (await a.signingLog({limit: 1})).map((e) => e.serial),
      ['S-3'],
    )
    assert.deepEqual(
      (await a.signingLog({brand: 'acme', serial: 'S-1'})).map((e) => [e.deviceKeyId, e.revision, e.signed]),
      [['key-A', 0, t0.toISOString()]],
    )
    // The assertion is kept with its entry, and the log pages by id.
    const all = await a.signingLog({withAssertion: true})
    assert.ok(all.every((e) => typeof e.assertion === 'string' && e.assertion !== ''))
    assert.deepEqual(
      (await a.signingLog({before: all[0].id})).map((e) => e.id),
      all.slice(1).map((e) => e.id),
    )
    assert.equal(await a.signingLogSize(), all.length)
  })

  test('a re-registration keeps the serial the device held before in its log entry; a first registration has none', async () => {
    const {
      stores: [a, b],
    } = await instances(2)
    await a.issueSerial(claim(), async () => 'first')
    const remodelledFrom = {brand: 'acme', model: 'acme-pc', serial: 'S-1'}
    const outcome = await b.issueSerial(claim({model: 'acme-pc-v2', remodelledFrom}), async () => 'second')
    assert.equal(outcome.kind, 'issued')
    assert.deepEqual(outcome.kind === 'issued' ? outcome.entry.remodelledFrom : undefined, remodelledFrom)
    assert.deepEqual(
      (await a.signingLog({})).map((e) => [e.model, e.remodelledFrom]),
      [
        ['acme-pc-v2', remodelledFrom],
        ['acme-pc', undefined],
      ],
    )
  })
})

describe('the schema', () => {
  test('an instance refuses an unmigrated database with the fix; migrate creates it once, even when run 4 times at once', async () => {
    const url = await server.createDatabase('schema_fresh')
    await assert.rejects(openStore(location(url)), (error: UserError) => {
      assert.equal(error.code, 'E_SERVE_SCHEMA')
      assert.match(error.message, /schema version 0/)
      assert.match(error.hint ?? '', /serve migrate/)
      assert.doesNotMatch(`${error.message} ${error.hint}`, new RegExp(server.password))
      return true
    })
    const results = await Promise.all(Array.from({length: 4}, () => migrateDatabase(location(url))))
    assert.equal(results.filter((r) => r.applied.length > 0).length, 1, 'one run applied the steps, the others found them done')
    for (const result of results) assert.equal(result.to, SCHEMA_VERSION)
    const store = await openStore(location(url))
    stores.push(store)
    await store.probeWrite('health-probe')
    assert.deepEqual(await server.query('schema_fresh', 'SELECT version FROM snap_gadget_schema'), [{version: SCHEMA_VERSION}])
  })

  test('instances started together with --migrate take turns', async () => {
    const url = await server.createDatabase('schema_together')
    const opened = await Promise.all(Array.from({length: 3}, () => openStore(location(url), {migrate: true})))
    stores.push(...opened)
    assert.deepEqual(await server.query('schema_together', 'SELECT count(*)::int AS n FROM snap_gadget_schema'), [{n: 1}])
  })

  test('a schema newer than this snap-gadget is refused, migrate included', async () => {
    const {url} = await instances(0)
    const name = new URL(url).pathname.slice(1)
    await server.query(name, 'UPDATE snap_gadget_schema SET version = $1', [SCHEMA_VERSION + 1])
    await assert.rejects(openStore(location(url)), {code: 'E_SERVE_SCHEMA', message: /newer than this snap-gadget knows/})
    await assert.rejects(migrateDatabase(location(url)), {code: 'E_SERVE_SCHEMA', message: /newer than this snap-gadget knows/})
  })

  test('a server that does not answer: a UserError naming the URL without its password', async () => {
    const url = `postgres://snapgadget:${server.password}@127.0.0.1:1/nowhere`
    await assert.rejects(openStore(location(url)), (error: UserError) => {
      assert.equal(error.code, 'E_SERVE_DATABASE')
      assert.match(error.message, /postgres:\/\/snapgadget:\*\*\*@127\.0\.0\.1:1\/nowhere/)
      assert.doesNotMatch(`${error.message} ${error.hint}`, new RegExp(server.password))
      return true
    })
  })
})

describe('a database that goes away', () => {
  test('while it is down, every call fails with a code the server answers with 503; afterwards the store works again', async () => {
    const {
      stores: [a],
      url,
    } = await instances(1)
    await a.issueSerial(claim(), async () => 'a')
    const down = server.restart()
    // Calls during the restart fail (or succeed once the server is back); none hangs.
    const during = await Promise.allSettled(Array.from({length: 10}, (_, i) => a.issueSerial(claim({deviceKeyId: `key-${i + 1}`, serial: `D-${i}`}), async () => 'x')))
    await down
    for (const result of during) {
      if (result.status === 'rejected') assert.match(String((result.reason as {code?: unknown}).code), /^([0-9A-Z]{5}|ECONNREFUSED|ECONNRESET)$/, String(result.reason))
    }

    // The pool drops connections the restart cut; the next calls open new ones.
    let healthy = false
    for (let attempt = 0; attempt < 20 && !healthy; attempt++) {
      healthy = await a.probeWrite('health-probe').then(
        () => true,
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 250))
          return false
        },
      )
    }

    assert.ok(healthy, 'the store answers again after the restart')
    const logged = new Set((await a.signingLog()).map((e) => e.serial))
    for (const [i, result] of during.entries()) if (result.status === 'fulfilled') assert.ok(logged.has(`D-${i}`), `D-${i} was issued and is logged`)
    const name = new URL(url).pathname.slice(1)
    assert.deepEqual(await invariantViolations((sql) => server.query(name, sql)), [], 'nothing half-written')
    assert.deepEqual(await a.issueSerial(claim({deviceKeyId: 'key-Z'}), async () => 'z'), {kind: 'serial-taken'}, 'what was committed before the crash is still there')
  })
})
