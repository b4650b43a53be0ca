/**
 * What both stores share of the policy tables (allowed_serial, device_block) and of the refusal
 * log: their rows, how a row becomes a record, and the SQL of the queries that filter, written once
 * with a placeholder function so that SQLite (`?`) and PostgreSQL (`$n`) run the same statement.
 */
import type {BlockTarget, DeviceBlock, RefusalEntry, RefusalQuery, SigningLogQuery} from './types.js'
import {LOG_COLUMNS} from './migrations.js'

export interface BlockRow {
  id: number | string
  kind: string
  value: string
  brand: string
  model: string
  reason: string
  blocked: string
  unblocked: null | string
  unblock_reason: null | string
}

export const BLOCK_COLUMNS = 'id, kind, value, brand, model, reason, blocked, unblocked, unblock_reason'

export function blockRecord(row: BlockRow): DeviceBlock {
  const block: DeviceBlock = {blocked: row.blocked, brand: row.brand, id: Number(row.id), kind: row.kind as DeviceBlock['kind'], model: row.model, reason: row.reason, value: row.value}
  if (row.unblocked !== null) block.unblocked = row.unblocked
  if (row.unblock_reason !== null) block.unblockReason = row.unblock_reason
  return block
}

/**
 * The active block that stops a device: on its serial (in its model, or in every model), or on
 * its device key (likewise). Parameters: brand, model, serial, device key id. The most specific
 * first (a model's own block before an every-model one), then the newest.
 */
export function admissionBlockSql(p: (n: number) => string): string {
  return `SELECT ${BLOCK_COLUMNS} FROM device_block
     WHERE unblocked IS NULL AND ((kind = 'serial' AND value = ${p(3)}) OR (kind = 'device-key' AND value = ${p(4)}))
       AND ((brand = ${p(1)} AND model = ${p(2)}) OR (brand = '' AND model = ''))
     ORDER BY brand DESC, id DESC LIMIT 1`
}

export function admissionListedSql(p: (n: number) => string): string {
  return `SELECT 1 AS listed FROM allowed_serial WHERE brand = ${p(1)} AND model = ${p(2)} AND serial = ${p(3)}`
}

export function targetValues(target: BlockTarget): string[] {
  return [target.kind, target.value, target.brand, target.model]
}

export interface RefusalRow {
  id: number | string
  at: string
  code: string
  status: number
  brand: null | string
  model: null | string
  verified: number
  serial: null | string
  device_key_sha3_384: null | string
  client: null | string
  message: string
}

export const REFUSAL_COLUMNS = 'id, at, code, status, brand, model, verified, serial, device_key_sha3_384, client, message'

export function refusalRecord(row: RefusalRow): RefusalEntry {
  const entry: RefusalEntry = {at: row.at, code: row.code, id: Number(row.id), message: row.message, status: Number(row.status), verified: Number(row.verified) === 1}
  if (row.brand !== null) entry.brand = row.brand
  if (row.model !== null) entry.model = row.model
  if (row.serial !== null) entry.serial = row.serial
  if (row.device_key_sha3_384 !== null) entry.deviceKeyId = row.device_key_sha3_384
  if (row.client !== null) entry.client = row.client
  return entry
}

/** A filtered, paged query of the refusal log, newest first. */
export function refusalQuerySql(q: RefusalQuery, p: (n: number) => string): {sql: string; values: unknown[]} {
  const where: string[] = []
  const values: unknown[] = []
  const add = (condition: (placeholder: string) => string, value: unknown): void => {
    values.push(value)
    where.push(condition(p(values.length)))
  }

  if (q.code !== undefined) add((x) => `code = ${x}`, q.code)
  if (q.brand !== undefined) add((x) => `brand = ${x}`, q.brand)
  if (q.model !== undefined) add((x) => `model = ${x}`, q.model)
  if (q.since !== undefined) add((x) => `at_ms >= ${x}`, q.since.getTime())
  if (q.until !== undefined) add((x) => `at_ms < ${x}`, q.until.getTime())
  if (q.before !== undefined) add((x) => `id < ${x}`, q.before)
  let sql = `SELECT ${REFUSAL_COLUMNS} FROM refusal_log${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`
  if (q.limit !== undefined) {
    values.push(q.limit)
    sql += ` LIMIT ${p(values.length)}`
  }

  return {sql, values}
}

/** A filtered, paged query of the signing log, newest first (the time filters compare RFC 3339 text, which sorts as time does). */
export function signingLogQuerySql(q: SigningLogQuery, p: (n: number) => string): {sql: string; values: unknown[]} {
  const where: string[] = []
  const values: unknown[] = []
  const add = (condition: (placeholder: string) => string, value: unknown): void => {
    values.push(value)
    where.push(condition(p(values.length)))
  }

  for (const column of ['brand', 'model', 'serial'] as const) if (q[column] !== undefined) add((x) => `${column} = ${x}`, q[column])
  if (q.since !== undefined) add((x) => `signed >= ${x}`, q.since.toISOString())
  if (q.until !== undefined) add((x) => `signed < ${x}`, q.until.toISOString())
  if (q.before !== undefined) add((x) => `id < ${x}`, q.before)
  const columns = `${LOG_COLUMNS}${q.withAssertion ? ', assertion' : ''}`
  let sql = `SELECT ${columns} FROM signing_log${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`
  if (q.limit !== undefined) {
    values.push(q.limit)
    sql += ` LIMIT ${p(values.length)}`
  }

  return {sql, values}
}

/** SQLite binds `?` in order of appearance: named parameters let a statement use them in any order. */
export const sqlitePlaceholder = (n: number): string => `@p${n}`
export const postgresPlaceholder = (n: number): string => `$${n}`

/** The values of a statement written with {@link sqlitePlaceholder}, as better-sqlite3 binds them. */
export function sqliteNamed(values: readonly unknown[]): Record<string, unknown> {
  return Object.fromEntries(values.map((value, n) => [`p${n + 1}`, value]))
}
