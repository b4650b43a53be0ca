/**
 * The refusal log's own bounds, whatever a flood of bad requests does: at most 1,000 refusals are
 * written a second (the rest counted as unlogged), the retention is applied after every tenth of
 * its count written (at least 100), a failed write never reaches the request, and client-chosen
 * values are cut to a bounded length; brand and model are verified only when the request proved them.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {MAX_LOGGED_PER_SECOND, RefusalLog} from '../../src/service/refusal-log.js'
import {openSqliteStore} from '../../src/service/store/sqlite.js'
import type {NewRefusal, Retention, ServiceStore} from '../../src/service/store/types.js'

const t0 = new Date('2026-12-01T10:00:00Z')

function recording(fail = false): {store: ServiceStore; written: NewRefusal[]; pruned: Retention[]} {
  const base = openSqliteStore(':memory:')
  const written: NewRefusal[] = []
  const pruned: Retention[] = []
  const store = Object.assign(Object.create(base) as ServiceStore, {
    async logRefusal(refusal: NewRefusal) {
      if (fail) throw Object.assign(new Error('disk full'), {code: 'SQLITE_FULL'})
      written.push(refusal)
    },
    async pruneRefusals(retention: Retention) {
      pruned.push(retention)
      return 0
    },
  })
  return {pruned, store, written}
}

const refusal = (at: Date, claimed = 'x') => ({at, code: 'api-key-invalid', event: {claimed: {brand: claimed, model: 'm', serial: 'S'.repeat(5000)}}, message: 'no', status: 401})

test('a flood: 1,000 written a second, the rest counted; the next second writes again', async () => {
  const {store, written} = recording()
  let unlogged = 0
  const log = new RefusalLog(
    store,
    {entries: 100_000},
    () => t0,
    () => unlogged++,
  )
  await Promise.all(Array.from({length: 1500}, () => log.record(refusal(t0))))
  assert.equal(written.length, MAX_LOGGED_PER_SECOND)
  assert.equal(unlogged, 500)
  await log.record(refusal(new Date(t0.getTime() + 1000)))
  assert.equal(written.length, MAX_LOGGED_PER_SECOND + 1)
})

test('claims are cut, and marked unverified; a proved model is verified', async () => {
  const {store, written} = recording()
  const log = new RefusalLog(store, {}, () => t0)
  await log.record(refusal(t0, 'b'.repeat(600)))
  await log.record({at: t0, code: 'serial-taken', event: {brand: 'acme', claimed: {brand: 'evil'}, model: 'acme-pc'}, message: 'taken', status: 400})
  assert.equal(written[0].verified, false)
  assert.equal(written[0].brand, `${'b'.repeat(512)}… (600 characters)`)
  assert.equal(written[0].serial?.length, 512 + '… (5000 characters)'.length)
  assert.deepEqual([written[1].brand, written[1].model, written[1].verified], ['acme', 'acme-pc', true])
})

test('the retention is applied after every tenth of its count written, at least every 100', async () => {
  const {pruned, store} = recording()
  const log = new RefusalLog(store, {entries: 500, maxAgeMs: 1000}, () => t0)
  for (let i = 0; i < 99; i++) await log.record(refusal(t0))
  assert.equal(pruned.length, 0)
  await log.record(refusal(t0))
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(pruned, [{entries: 500, maxAgeMs: 1000}])
})

test('a write that fails is counted, never thrown', async () => {
  const {store} = recording(true)
  let unlogged = 0
  const log = new RefusalLog(
    store,
    {},
    () => t0,
    () => unlogged++,
  )
  await log.record(refusal(t0))
  assert.equal(unlogged, 1)
})
