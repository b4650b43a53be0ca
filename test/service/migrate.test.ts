/**
 * `snap-gadget serve migrate` through bin/run.js: it creates the tables once and then finds nothing
 * to do, on SQLite and on PostgreSQL; `serve` on an unmigrated PostgreSQL refuses to start and
 * says how to fix it; no output ever shows the password of the database URL.
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {rmSync} from 'node:fs'
import {after, before, describe, test} from 'node:test'
import {promisify} from 'node:util'

import {SCHEMA_VERSION} from '../../src/service/index.js'
import {MIGRATIONS} from '../../src/service/store/migrations.js'
import {binRun} from '../helpers/paths.js'
import {type PostgresServer, postgresUnavailable, startPostgres} from '../helpers/postgres.js'
import {makeFleetLab} from './fleet.js'
import {API_KEY, type Lab} from './helpers.js'

let server: PostgresServer
const labs: Lab[] = []

before(async () => {
  const reason = postgresUnavailable()
  if (reason !== undefined) throw new Error(`these tests need PostgreSQL: ${reason}`)
  server = await startPostgres()
})

after(async () => {
  await server?.stop()
  for (const lab of labs) rmSync(lab.dir, {force: true, recursive: true})
})

interface Run {
  code: number
  stdout: string
  stderr: string
}

async function cli(...args: string[]): Promise<Run> {
  try {
    const {stderr, stdout} = await promisify(execFile)(process.execPath, [binRun, ...args], {env: {...process.env, LAB_API_KEY: API_KEY, NO_COLOR: '1'}, timeout: 60_000})
    return {code: 0, stderr, stdout}
  } catch (error) {
    const failed = error as {code: number; stdout: string; stderr: string}
    return {code: failed.code, stderr: failed.stderr, stdout: failed.stdout}
  }
}

function lab(database: string): Lab {
  const made = makeFleetLab(database)
  labs.push(made)
  return made
}

describe('serve migrate', () => {
  test('SQLite: creates the schema, then finds nothing to do', async () => {
    const {config} = lab('sqlite:serve.db')
    const first = await cli('serve', 'migrate', '--config', config, '--json')
    assert.equal(first.code, 0, first.stderr)
    assert.deepEqual({...JSON.parse(first.stdout), database: undefined}, {applied: MIGRATIONS.map((m) => m.summary), database: undefined, from: 0, to: SCHEMA_VERSION})
    const again = await cli('serve', 'migrate', '--config', config)
    assert.match(again.stdout, new RegExp(`serve\\.db is at schema version ${SCHEMA_VERSION}: nothing to do`))
  })

  test('PostgreSQL: serve refuses an unmigrated database with the fix; migrate creates it; the password is never shown', async () => {
    const {config} = lab(await server.createDatabase('cli_migrate'))
    const refused = await cli('serve', '--config', config)
    assert.equal(refused.code, 2, refused.stderr)
    assert.match(refused.stderr, /schema version 0/)
    assert.match(refused.stderr, /serve migrate/)
    const migrated = await cli('serve', 'migrate', '--config', config)
    assert.equal(migrated.code, 0, migrated.stderr)
    assert.match(migrated.stdout, new RegExp(`^postgres://snapgadget:\\*\\*\\*@127\\.0\\.0\\.1:${server.port}/cli_migrate: schema version 0 → ${SCHEMA_VERSION}`))
    const log = await cli('serve', 'log', '--config', config)
    assert.equal(log.code, 0, log.stderr)
    assert.match(log.stdout, /no serials signed yet/)
    for (const run of [refused, migrated, log]) assert.doesNotMatch(run.stdout + run.stderr, new RegExp(server.password))
  })

  test('PostgreSQL that does not answer: exit 2 with the URL, without its password', async () => {
    const {config} = lab(`postgres://snapgadget:${server.password}@127.0.0.1:1/nowhere`)
    const run = await cli('serve', 'migrate', '--config', config)
    assert.equal(run.code, 2)
    assert.match(run.stderr, /cannot reach the postgres database postgres:\/\/snapgadget:\*\*\*@127\.0\.0\.1:1\/nowhere/)
    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(server.password))
  })
})
