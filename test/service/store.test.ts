/**
 * The SQLite store: the rules a device service must keep whatever the order of requests (a nonce
 * used once, one serial per device key, one device key per serial, a log entry per issued
 * assertion), and that they survive closing and reopening the file.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'

import Database from 'better-sqlite3'

import {openSqliteStore, SQLITE_SCHEMA_VERSION} from '../../src/service/store/sqlite.js'
import type {SerialClaim} from '../../src/service/store/types.js'

const dir = mkdtempSync(join(tmpdir(), 'serve-store-'))
after(() => rmSync(dir, {force: true, recursive: true}))
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

describe('issuing serials', () => {
  test('a first issue is revision 0; the same device asking again gets the same serial, one revision up', async () => {
    const store = freshStore()
    const revisions: number[] = []
    const sign = (revision: number): string => {
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
    await store.close()
  })

  test('a serial issued to one device key is refused to another, and nothing is signed or logged', async () => {
    const store = freshStore()
    await store.issueSerial(claim(), () => 'a')
    let signed = false
    const outcome = await store.issueSerial(claim({deviceKeyId: 'key-B'}), () => {
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
    await store.issueSerial(claim(), () => 'a')
    const outcome = await store.issueSerial(claim({serial: 'S-2'}), () => 'b')
    assert.deepEqual(outcome, {kind: 'key-has-serial', serial: 'S-1'})
    assert.equal((await store.signingLog()).length, 1)
    await store.close()
  })

  test('the same serial under another model is another device', async () => {
    const store = freshStore()
    await store.issueSerial(claim(), () => 'a')
    const outcome = await store.issueSerial(claim({deviceKeyId: 'key-B', model: 'acme-pi'}), () => 'b')
    assert.equal(outcome.kind, 'issued')
    await store.close()
  })

  test('a signer that throws leaves nothing behind', async () => {
    const store = freshStore()
    await assert.rejects(
      store.issueSerial(claim(), () => {
        throw new Error('the key is gone')
      }),
      /the key is gone/,
    )
    assert.deepEqual(await store.signingLog(), [])
    const outcome = await store.issueSerial(claim({deviceKeyId: 'key-B'}), () => 'b')
    assert.equal(outcome.kind, 'issued', 'the serial was not reserved by the failed attempt')
    await store.close()
  })

  test('the log filters by brand, model and serial, newest first, with a limit', async () => {
    const store = freshStore()
    await store.issueSerial(claim(), () => 'a')
    await store.issueSerial(claim({deviceKeyId: 'key-B', serial: 'S-2'}), () => 'b')
    await store.issueSerial(claim({deviceKeyId: 'key-C', model: 'acme-pi', serial: 'S-3'}), () => 'c')
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
  test('what was issued survives closing and reopening', async () => {
    const file = join(dir, 'reopen.db')
    const first = openSqliteStore(file)
    await first.issueSerial(claim(), () => 'a')
    await first.close()
    const second = openSqliteStore(file)
    assert.deepEqual(await second.issueSerial(claim({deviceKeyId: 'key-B'}), () => 'b'), {kind: 'serial-taken'})
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
    const events: string[] = []
    const pending: (() => void)[] = []
    // An fsync that ends only when the test says so, recording when it began.
    const fsync = (_fd: number, done: (error: NodeJS.ErrnoException | null) => void): void => {
      events.push('fsync')
      pending.push(() => done(null))
    }

    const store = openSqliteStore(join(dir, 'durable.db'), {fsync})
    const issue = (n: number) =>
      store.issueSerial(claim({deviceKeyId: `key-${n}`, serial: `S-${n}`}), () => {
        events.push(`commit ${n}`)
        return `a${n}`
      })
    const answered: number[] = []
    const first = issue(1).then(() => answered.push(1))
    await new Promise((resolve) => setImmediate(resolve))
    // Committed while the first fsync is under way: they need the next one.
    const later = [issue(2), issue(3), issue(4)].map((p, i) => p.then(() => answered.push(i + 2)))
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(answered, [], 'nothing is answered before its fsync ends')
    const started = events.filter((e) => e === 'fsync').length
    while (pending.length > 0) {
      pending.shift()!()
      await new Promise((resolve) => setImmediate(resolve))
    }

    await Promise.all([first, ...later])
    assert.deepEqual(answered, [1, 2, 3, 4])
    // The first serial's fsync (with the directory's, the first time), then one for the three others.
    assert.equal(events.filter((e) => e === 'fsync').length, started + 1)
    const lastCommit = events.lastIndexOf('commit 4')
    assert.ok(events.indexOf('fsync', lastCommit) > lastCommit, `the three later serials waited for an fsync begun after their commits: ${events.join(', ')}`)
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
      store.issueSerial(claim(), () => 'a'),
      /I\/O error/,
    )
    const before = calls
    assert.deepEqual(await store.issueSerial(claim({deviceKeyId: 'key-B'}), () => 'b'), {kind: 'serial-taken'})
    assert.equal(calls, before)
    assert.equal((await store.signingLog()).length, 1)
    await store.close()
  })
})
