/**
 * A throwaway PostgreSQL server for tests and benchmarks: `initdb` in a temporary directory, a
 * server on a free loopback port started with `pg_ctl`, stopped and deleted afterwards. Debian's
 * `postgresql` package provides the binaries (scripts/system-deps.sh installs it). PostgreSQL
 * refuses to run as root, so as root (CI) the server runs as the `postgres` user (or `nobody`),
 * which owns the directory. Every wait is bounded.
 *
 * Connections over TCP need the password (scram-sha-256), so a URL with a password is what the
 * service gets, as in production; the socket in the directory is left to `trust`.
 */
import {execFile, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import pg from 'pg'

const run = promisify(execFile)
const PG_CTL_WAIT_S = 30
const COMMAND_TIMEOUT_MS = 60_000
const SUPERUSER = 'snapgadget'

/** The directory of initdb and pg_ctl: Debian's newest /usr/lib/postgresql/N/bin, else PATH. */
export function postgresBinDir(): string | undefined {
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a))
    if (versions.length > 0) return join(debian, versions[0], 'bin')
  }

  const found = spawnSync('sh', ['-c', 'command -v initdb'], {encoding: 'utf8'}).stdout.trim()
  return found === '' ? undefined : join(found, '..')
}

/** Why no server can be started here, or undefined when one can. */
export function postgresUnavailable(): string | undefined {
  if (postgresBinDir() === undefined) return 'PostgreSQL is not installed (apt-get install postgresql)'
  if (process.getuid?.() === 0 && serverUser() === undefined) return 'running as root, and there is no postgres or nobody user to run the server as'
  return undefined
}

export interface PostgresServer {
  port: number
  /** The URL of `database` for the superuser, password included. */
  url(database: string): string
  /** The password in every URL (tests check it is never shown). */
  password: string
  /** A fresh, empty database; returns its URL. */
  createDatabase(name: string): Promise<string>
  /** Runs one statement on `database` over a fresh connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(database: string, sql: string, values?: unknown[]): Promise<R[]>
  /** `pg_ctl restart -m immediate`: a crash of the server and its recovery. */
  restart(): Promise<void>
  stop(): Promise<void>
  /** The server's log, for a failure message. */
  log(): string
  /** The postmaster's process id (benchmarks read the cluster's CPU time). */
  pid(): number
}

export interface StartPostgresOptions {
  /** Keep PostgreSQL's default durability (fsync on), for benchmarks; tests turn fsync off. */
  durable?: boolean
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir()
  if (bin === undefined) throw new Error('PostgreSQL is not installed (apt-get install postgresql)')
  const user = process.getuid?.() === 0 ? serverUser() : undefined
  const dir = mkdtempSync(join(tmpdir(), 'snap-gadget-pg-'))
  const data = join(dir, 'data')
  const logFile = join(dir, 'server.log')
  const password = randomBytes(12).toString('hex')
  writeFileSync(join(dir, 'pwfile'), `${password}\n`, {mode: 0o600})
  writeFileSync(logFile, '')
  if (user) for (const path of [dir, join(dir, 'pwfile'), logFile]) chownSync(path, user.uid, user.gid)

  const as = (command: string, args: string[]): Promise<{stdout: string}> =>
    user ? run('runuser', ['-u', user.name, '--', join(bin, command), ...args], {timeout: COMMAND_TIMEOUT_MS}) : run(join(bin, command), args, {timeout: COMMAND_TIMEOUT_MS})
  // Always with -l: a server started without one keeps pg_ctl's stdout open, and the call waits for it.
  const pgCtl = (...args: string[]): Promise<{stdout: string}> => as('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', String(PG_CTL_WAIT_S), ...args])
  const readLog = (): string => spawnSync('tail', ['-n', '40', logFile], {encoding: 'utf8'}).stdout

  let started = false
  try {
    await as('initdb', ['-D', data, '-U', SUPERUSER, `--pwfile=${join(dir, 'pwfile')}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'])
    const port = await freePort()
    // fsync off: a test's data need not survive the machine, only the server (restart -m immediate
    // loses nothing the OS was given). synchronous_commit stays on: a commit is in the WAL.
    const settings = [`-p ${port}`, '-c listen_addresses=127.0.0.1', `-c unix_socket_directories=${dir}`, '-c max_connections=200']
    if (!options.durable) settings.push('-c fsync=off', '-c full_page_writes=off')
    await pgCtl('-o', settings.join(' '), 'start')
    started = true
    const url = (database: string): string => `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/${database}`
    const server: PostgresServer = {
      async createDatabase(name) {
        if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`)
        await server.query('postgres', `CREATE DATABASE ${name}`)
        return url(name)
      },
      log: readLog,
      password,
      pid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
      port,
      async query(database, sql, values) {
        const client = new pg.Client({connectionString: url(database), connectionTimeoutMillis: 10_000, query_timeout: 30_000})
        await client.connect()
        try {
          return (await client.query(sql, values)).rows
        } finally {
          await client.end()
        }
      },
      async restart() {
        await pgCtl('-m', 'immediate', 'restart')
      },
      async stop() {
        try {
          await pgCtl('-m', 'immediate', 'stop')
        } finally {
          rmSync(dir, {force: true, recursive: true})
        }
      },
      url,
    }
    return server
  } catch (error) {
    const log = readLog()
    if (started) await pgCtl('-m', 'immediate', 'stop').catch(() => {})
    rmSync(dir, {force: true, recursive: true})
    throw new Error(`cannot start a PostgreSQL server: ${(error as Error).message}\n${log}`, {cause: error})
  }
}

function serverUser(): {name: string; uid: number; gid: number} | undefined {
  for (const name of ['postgres', 'nobody']) {
    const id = spawnSync('id', [name], {encoding: 'utf8'})
    const match = /uid=(\d+).*?gid=(\d+)/.exec(id.stdout)
    if (id.status === 0 && match) return {gid: Number(match[2]), name, uid: Number(match[1])}
  }

  return undefined
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const {port} = probe.address() as {port: number}
      probe.close(() => resolve(port))
    })
  })
}
