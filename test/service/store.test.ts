/**
 * The SQLite store: the rules a device service must keep whatever the order of requests (a nonce
 * used once, one serial per device key, one device key per serial, a log entry per issued
 * assertion), and that they survive closing and reopening the file.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import Database from 'better-sqlite3'

import {MIGRATIONS} from '../../src/service/store/migrations.js'
import {openSqliteStore, SQLITE_SCHEMA_VERSION} from '../../src/service/store/sqlite.js'
import type {SerialClaim} from '../../src/service/store/types.js'
import {scratchDir} from '../helpers/scratch.js'

const dir = scratchDir('serve-store-')
let files = 0
const freshStore = () => openSqliteStore(join(dir, `store-${++files}.db`))

const t0 = new Date('2026-12-01T10:00:00Z')
const later = (ms: number): Date => new Date(t0.getTime() + ms)
const claim = (over: Partial<SerialClaim> = {}): SerialClaim => ({brand: 'acme', deviceKeyId: 'key-A', model: 'acme-pc', now: t0, serial: 'S-1', ...over})

describe('nonces', () => {
  test('a nonce is good once, for the scope it was issued to', async () => {
    const store = freshStore()
    await store.addNonce('n1', 'acme/acme-pc', t0)
    assert.equal(await store.consumeNonce('n1', 'acme/acme-pc', later(1000), 600_000), 'ok')
    assert.equal(await store.consumeNonce('n1', 'acme/acme-pc', later(2000), 600_000), 'unknown')
    await store.close()
  })

  test('an old nonce is expired and consumed all the same; another model cannot use one', async () => {
    const store = freshStore()
    await store.addNonce('old', 'acme/acme-pc', t0)
    await store.addNonce('other', 'acme/acme-pi', t0)
    assert.equal(await store.consumeNonce('old', 'acme/acme-pc', later(600_001), 600_000), 'expired')
    assert.equal(await store.consumeNonce('old', 'acme/acme-pc', later(1), 600_000), 'unknown')
    assert.equal(await store.consumeNonce('other', 'acme/acme-pc', later(1), 600_000), 'wrong-model')
    await store.close()
  })

  test('purging removes only nonces issued before the cut', async () => {
    const store = freshStore()
    await store.addNonce('a', 's', t0)
    await store.addNonce('b', 's', later(10_000))
    assert.equal(await store.purgeNonces(later(5000)), 1)
    assert.equal(await store.consumeNonce('a', 's', later(10_000), 600_000), 'unknown')
    assert.equal(await store.consumeNonce('b', 's', later(10_000), 600_000), 'ok')
    await store.close()
  })
})

describe('the health probe', () => {
  test('commits a write that leaves nothing behind, and fails on a database that takes no writes', async () => {
    const path = join(dir, 'probe.db')
    const store = openSqliteStore(path)
    await store.probeWrite('health-1')
    const db = new Database(path, {readonly: true})
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM nonce').get(), {n: 0})
    db.close()
    await store.close()
    const readOnly = new Database(path, {readonly: true})
    // What a read-only file gives the service: the probe's write is refused.
    assert.throws(() => readOnly.prepare('INSERT INTO nonce (nonce, scope, created_ms) VALUES (?, ?, ?)').run('x', '', 0), {code: 'SQLITE_READONLY'})
    readOnly.close()
  })
})

describe('issuing serials', () => {
  test('a first issue is revision 0; the same device asking again gets the same serial, one revision up', async () => {
    const store = freshStore()
    const revisions: number[] = []
    const sign = async (revision: number): Promise<string> => {
      revisions.push(revision)
      return `assertion r${revision}`
    }

    const first = await store.issueSerial(claim(), sign)
    const again = await store.issueSerial(claim({now: later(60_000)}), sign)
    assert.equal(first.kind, 'issued')
    assert.equal(again.kind, 'issued')
    assert.deepEqual(revisions, [0, 1])
    if (again.kind === 'issued') assert.equal(again.assertion, 'assertion r1')
    const log = await store.signingLog()
    assert.deepEqual(
      log.map((e) => [e.serial, e.revision, e.deviceKeyId, e.signed]),
      [
        ['S-1', 1, 'key-A', '2026-12-01T10:01:00.000Z'],
        ['S-1', 0, 'key-A', '2026-12-01T10:00:00.000Z'],
      ],
    )
    // Each entry keeps the assertion as it was signed, given when asked for.
    assert.equal(log[0].assertion, undefined)
    assert.deepEqual(
      (await store.signingLog({withAssertion: true})).map((e) => e.assertion),
      ['assertion r1', 'assertion r0'],
    )
    assert.deepEqual(
      (await store.signingLog({before: log[0].id, withAssertion: true})).map((e) => e.revision),
      [0],
    )
    assert.equal(await store.signingLogSize(), 2)
    await store.close()
  })

  test('a serial issued to one device key is refused to another, and nothing is signed or logged', async () => {
    const store = freshStore()
    await store.issueSerial(claim(), async () => 'a')
    let signed = false
    const outcome = await store.issueSerial(claim({deviceKeyId: 'key-B'}), async () => {
      signed = true
      return 'b'
    })
    assert.deepEqual(outcome, {kind: 'serial-taken'})
    assert.equal(signed, false)
    assert.equal((await store.signingLog()).length, 1)
    await store.close()
  })

  test('a device key never gets a second serial', async () => {
    const store = freshStore()
    await store.issueSerial(claim(), async () => 'a')
    const outcome = await store.issueSerial(claim({serial: 'S-2'}), async () => 'b')
    assert.deepEqual(outcome, {kind: 'key-has-serial', serial: 'S-1'})
    assert.equal((await store.signingLog()).length, 1)
    await store.close()
  })

  test('the same serial under another model is another device', async () => {
    const store = freshStore()
    await store.issueSerial(claim(), async () => 'a')
    const outcome = await store.issueSerial(claim({deviceKeyId: 'key-B', model: 'acme-pi'}), async () => 'b')
    assert.equal(outcome.kind, 'issued')
    await store.close()
  })

  test('a re-registration keeps the serial the device held before in its log entry, across reopening; a first registration has none', async () => {
    const file = join(dir, `store-${++files}.db`)
    const store = openSqliteStore(file)
    await store.issueSerial(claim(), async () => 'first')
    const remodelledFrom = {brand: 'acme', model: 'acme-pc', serial: 'S-1'}
    const outcome = await store.issueSerial(claim({model: 'acme-pc-v2', remodelledFrom}), async () => 'second')
    assert.deepEqual(outcome.kind === 'issued' ? outcome.entry.remodelledFrom : undefined, remodelledFrom)
    await store.close()
    const reopened = openSqliteStore(file)
    assert.deepEqual(
      (await reopened.signingLog({})).map((e) => [e.model, e.remodelledFrom]),
      [
        ['acme-pc-v2', remodelledFrom],
        ['acme-pc', undefined],
      ],
    )
    await reopened.close()
  })

  test('a signer that throws leaves nothing behind', async () => {
    const store = freshStore()
    await assert.rejects(
      store.issueSerial(claim(), async () => {
        throw new Error('the key is gone')
      }),
      /the key is gone/,
    )
    assert.deepEqual(await store.signingLog(), [])
    const outcome = await store.issueSerial(claim({deviceKeyId: 'key-B'}), async () => 'b')
    assert.equal(outcome.kind, 'issued', 'the serial was not reserved by the failed attempt')
    await store.close()
  })

  test('the log filters by brand, model and serial, newest first, with a limit', async () => {
    const store = freshStore()
    await store.issueSerial(claim(), async () => 'a')
    await store.issueSerial(claim({deviceKeyId: 'key-B', serial: 'S-2'}), async () => 'b')
    await store.issueSerial(claim({deviceKeyId: 'key-C', model: 'acme-pi', serial: 'S-3'}), async () => 'c')
    assert.deepEqual(
      (await store.signingLog({model: 'acme-pc'})).map((e) => e.serial),
      ['S-2', 'S-1'],
    )
    assert.deepEqual(
      (await store.signingLog({limit: 1})).map((e) => e.serial),
      ['S-3'],
    )
    assert.deepEqual(
      (await store.signingLog({serial: 'S-1'})).map((e) => e.deviceKeyId),
      ['key-A'],
    )
    await store.close()
  })
})

describe('the database file', () => {
  test('a log written before it kept assertions is migrated: its entries say theirs is absent (null), new ones keep theirs', async () => {
    const path = join(dir, 'schema-1.db')
    const old = new Database(path)
    old.pragma('journal_mode = WAL')
    old.exec(MIGRATIONS[0].sqlite)
    old.pragma('user_version = 1')
    old.prepare('INSERT INTO device VALUES (?, ?, ?, ?, ?)').run('acme', 'acme-pc', 'OLD-1', 'key-old', 0)
    old.prepare('INSERT INTO signing_log (brand, model, serial, device_key_sha3_384, revision, signed) VALUES (?, ?, ?, ?, ?, ?)').run('acme', 'acme-pc', 'OLD-1', 'key-old', 0, t0.toISOString())
    old.close()
    const store = openSqliteStore(path)
    await store.issueSerial(claim({deviceKeyId: 'key-new', serial: 'NEW-1'}), async () => 'the new assertion')
    assert.deepEqual(
      (await store.signingLog({withAssertion: true})).map((e) => [e.serial, e.assertion]),
      [
        ['NEW-1', 'the new assertion'],
        ['OLD-1', null],
      ],
    )
    await store.close()
  })

  test('nonces outstanding when the nonce table became keyed by the nonce are still consumed once; the purge still takes the expired', async () => {
    const path = join(dir, 'nonces-before.db')
    const steps = MIGRATIONS.findIndex((m) => m.summary.startsWith('nonces kept in one B-tree'))
    const old = new Database(path)
    old.pragma('journal_mode = WAL')
    for (const step of MIGRATIONS.slice(0, steps)) old.exec(step.sqlite)
    old.pragma(`user_version = ${steps}`)
    const insert = old.prepare('INSERT INTO nonce (nonce, scope, created_ms) VALUES (?, ?, ?)')
    insert.run('n-fresh', 'acme/acme-pc', later(60_000).getTime())
    insert.run('n-old', 'acme/acme-pc', t0.getTime())
    old.close()
    const store = openSqliteStore(path)
    assert.equal(await store.purgeNonces(later(1000)), 1)
    assert.equal(await store.consumeNonce('n-fresh', 'acme/acme-pc', later(61_000), 300_000), 'ok')
    assert.equal(await store.consumeNonce('n-fresh', 'acme/acme-pc', later(61_000), 300_000), 'unknown')
    assert.equal(await store.consumeNonce('n-old', 'acme/acme-pc', later(61_000), 300_000), 'unknown')
    await store.close()
    const db = new Database(path, {readonly: true})
    assert.deepEqual(db.prepare("SELECT name FROM sqlite_schema WHERE tbl_name = 'nonce' ORDER BY name").all(), [{name: 'nonce'}], 'the nonce table alone: no rowid index, no age index')
    assert.match((db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'nonce'").get() as {sql: string}).sql, /WITHOUT ROWID/)
    db.close()
  })

  test('what was issued survives closing and reopening', async () => {
    const file = join(dir, 'reopen.db')
    const first = openSqliteStore(file)
    await first.issueSerial(claim(), async () => 'a')
    await first.close()
    const second = openSqliteStore(file)
    assert.deepEqual(await second.issueSerial(claim({deviceKeyId: 'key-B'}), async () => 'b'), {kind: 'serial-taken'})
    assert.equal((await second.signingLog()).length, 1)
    await second.close()
  })

  test('the schema is versioned; a database from a newer snap-gadget is refused with the fix', async () => {
    const file = join(dir, 'newer.db')
    await openSqliteStore(file).close()
    const db = new Database(file)
    assert.equal(db.pragma('user_version', {simple: true}), SQLITE_SCHEMA_VERSION)
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`)
    db.close()
    assert.throws(() => openSqliteStore(file), {code: 'E_SERVE_DATABASE', message: /newer than this snap-gadget knows/})
  })

  test('a file that is not a database is refused, naming it', () => {
    const file = join(dir, 'not-a-db.db')
    writeFileSync(file, 'this is not sqlite\n'.repeat(100))
    assert.throws(
      () => openSqliteStore(file),
      (error: Error) => error.message.includes(file),
    )
  })
})

describe('durability', () => {
  test('a serial is answered only after an fsync of the WAL that began after its commit; concurrent serials share one', async () => {
    const file = join(dir, 'durable.db')
    // Each fsync ends only when the test says so; it records how many serials were committed when it began.
    const fsyncs: {committed: number; done: () => void}[] = []
    const store = openSqliteStore(file, {fsync: (fd, done) => fsyncs.push({committed: committed(), done: () => done(null)})})
    // A second connection sees what is committed.
    const reader = new Database(file, {readonly: true})
    const committed = (): number => reader.prepare<[], number>('SELECT count(*) FROM signing_log').pluck().get()!
    const issue = (n: number) => store.issueSerial(claim({deviceKeyId: `key-${n}`, serial: `S-${n}`}), async () => `a${n}`)
    const answered: number[] = []
    const settle = () => new Promise((resolve) => setImmediate(resolve))

    const first = issue(1).then(() => answered.push(1))
    await settle()
    // The first serial's fsyncs (the WAL's and, the first time, its directory's) are under way;
    // these three commit meanwhile and need an fsync that begins after them.
    const begunForFirst = fsyncs.length
    const later = [issue(2), issue(3), issue(4)].map((p, i) => p.then(() => answered.push(i + 2)))
    await settle()
    assert.equal(committed(), 4)
    assert.deepEqual(answered, [], 'nothing is answered before its fsync ends')
    for (let released = 0; released < fsyncs.length; released++) {
      fsyncs[released].done()
      await settle()
    }

    await Promise.all([first, ...later])
    assert.deepEqual(answered, [1, 2, 3, 4])
    assert.deepEqual(
      fsyncs.map((f) => f.committed),
      [...Array.from({length: begunForFirst}, () => 1), 4],
      'one fsync, begun after the three later commits, answered them all',
    )
    reader.close()
    await store.close()
  })

  test('a request whose rows change while it signs signs again with what they say at commit', async () => {
    const store = freshStore()
    const revisions: number[] = []
    // While the first request signs, the same device's retry is issued and committed.
    const outcome = await store.issueSerial(claim(), async (revision) => {
      revisions.push(revision)
      if (revisions.length === 1) assert.equal((await store.issueSerial(claim(), async () => 'retry')).kind, 'issued')
      return `assertion r${revision}`
    })
    assert.deepEqual(revisions, [0, 1])
    assert.equal(outcome.kind, 'issued')
    if (outcome.kind === 'issued') assert.equal(outcome.assertion, 'assertion r1')
    assert.deepEqual(
      (await store.signingLog()).map((e) => e.revision),
      [1, 0],
    )
    await store.close()
  })

  test('a serial taken by another device key while a request signs is refused, and its signature is not recorded', async () => {
    const store = freshStore()
    const outcome = await store.issueSerial(claim(), async () => {
      await store.issueSerial(claim({deviceKeyId: 'key-B'}), async () => 'b')
      return 'a'
    })
    assert.deepEqual(outcome, {kind: 'serial-taken'})
    assert.deepEqual(
      (await store.signingLog()).map((e) => e.deviceKeyId),
      ['key-B'],
    )
    await store.close()
  })

  test('a request whose rows keep changing gives up after five signatures as a busy database (a 503 the device retries)', async () => {
    const store = freshStore()
    let signatures = 0
    await assert.rejects(
      store.issueSerial(claim(), async () => {
        signatures++
        await store.issueSerial(claim(), async () => 'meanwhile')
        return 'never recorded'
      }),
      {code: 'SQLITE_BUSY'},
    )
    assert.equal(signatures, 5)
    assert.equal((await store.signingLog()).length, 5)
    await store.close()
  })

  test('many requests of one device at once each end issued, one revision each', async () => {
    const store = freshStore()
    const outcomes = await Promise.allSettled(Array.from({length: 4}, (_, i) => store.issueSerial(claim({now: later(i)}), async (revision) => `r${revision}`)))
    const revisions = outcomes.map((o) => (o.status === 'fulfilled' && o.value.kind === 'issued' ? o.value.entry.revision : -1)).sort()
    assert.deepEqual(revisions, [0, 1, 2, 3])
    await store.close()
  })

  test('a refused serial waits for no fsync; a failed fsync fails the answer, not the record', async () => {
    let calls = 0
    const store = openSqliteStore(join(dir, 'durable-fail.db'), {
      fsync: (_fd, done) => {
        calls++
        done(Object.assign(new Error('I/O error'), {code: 'EIO'}))
      },
    })
    await assert.rejects(
      store.issueSerial(claim(), async () => 'a'),
      /I\/O error/,
    )
    const before = calls
    assert.deepEqual(await store.issueSerial(claim({deviceKeyId: 'key-B'}), async () => 'b'), {kind: 'serial-taken'})
    assert.equal(calls, before)
    assert.equal((await store.signingLog()).length, 1)
    await store.close()
  })
})
