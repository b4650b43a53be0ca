// `serve` at factory scale: registrations per second (request-id + serial, RSA-4096 brand key)
// with one instance on SQLite, one and two instances on one PostgreSQL, and two instances while
// hostile clients run beside the devices, against the limit measured in the same run: RSA-4096
// signatures per second with node:crypto on one core. p50/p99 of one registration at 50
// concurrent devices. CPU seconds used by each part (the instances, PostgreSQL, the devices
// themselves, all on this machine) say where the limit is.
//
// PostgreSQL is a throwaway server (test/helpers/postgres.ts, run through tsx like the device
// keys and the fleet of test/service/), with its default durability (fsync on).
import {readFileSync, rmSync} from 'node:fs'
import {connect} from 'node:net'
import {availableParallelism, loadavg} from 'node:os'

import {register} from 'tsx/esm/api'

import {fmt, median, percentile, signingLimit} from './lib.mjs'

register()
const {startPostgres} = await import('../test/helpers/postgres.ts')
const {deviceKeys} = await import('../test/service/device-keys.ts')
const {makeFleetLab, registerFleet, startInstance} = await import('../test/service/fleet.ts')
const {API_KEY, brandKey, modelAssertion} = await import('../test/service/helpers.ts')

const DEVICES = Number(process.env.SERVE_BENCH_DEVICES ?? 600)
const CONCURRENCY = 50
const WARMUP = 20

const loadLevel = loadavg()
// The limit: what one core can sign, the one cost no service can avoid.
const signLimit = signingLimit(brandKey.privateKey, Buffer.from(modelAssertion()))
const keys = await deviceKeys(DEVICES + WARMUP)
const server = await startPostgres({durable: true})
const labs = []
const results = []
/** Every instance started, stopped at the end whatever happened. */
const running = []
try {
  results.push(await scenario('SQLite, 1 instance', 'sqlite:serve.db', 1))
  results.push(await scenario('PostgreSQL, 1 instance', 'pg', 1))
  results.push(await scenario('PostgreSQL, 2 instances', 'pg', 2))
  results.push(await scenario('PostgreSQL, 2 instances, hostile clients beside', 'pg', 2, {hostile: true}))
} finally {
  await Promise.all(running.map((instance) => instance.stop()))
  await server.stop()
  for (const lab of labs) rmSync(lab.dir, {force: true, recursive: true})
}

console.log(`${availableParallelism()} cores; load average before the run ${loadLevel.map((l) => l.toFixed(1)).join(', ')} (other work on the machine slows every figure but the CPU seconds)`)
console.log(`RSA-4096 signatures, node:crypto, one core: ${signLimit.toFixed(1)}/s = ${(1000 / signLimit).toFixed(1)} ms each (the limit of one instance; ${(2 * signLimit).toFixed(1)}/s for two cores)`)
for (const r of results) {
  const cores = Math.min(r.instances, 2)
  console.log(
    `${r.name}: ${r.rate.toFixed(1)} registrations/s = ${((r.rate / (cores * signLimit)) * 100).toFixed(0)}% of ${cores === 1 ? 'one core' : 'two cores'}' signing limit; p50 ${fmt(r.p50)}, p99 ${fmt(r.p99)}; CPU s per registration: instances ${r.cpu.serve}, PostgreSQL ${r.cpu.postgres}, devices ${r.cpu.devices}${r.hostile ? `; hostile answers ${r.hostile}` : ''}`,
  )
}

const [, pgOne, pgTwo] = results
console.log(`one → two instances on PostgreSQL: ×${(pgTwo.rate / pgOne.rate).toFixed(2)}`)
const total = Number(pgTwo.cpu.serve) + Number(pgTwo.cpu.postgres) + Number(pgTwo.cpu.devices)
console.log(
  `CPU per registration on PostgreSQL, 2 instances: ${(total * 1000).toFixed(1)} ms in all, of which the signature ${(1000 / signLimit).toFixed(1)} ms, the rest of the instance ${((Number(pgTwo.cpu.serve) - 1 / signLimit) * 1000).toFixed(1)} ms (HTTP, checks, the device's signature), PostgreSQL ${(Number(pgTwo.cpu.postgres) * 1000).toFixed(1)} ms, the devices ${(Number(pgTwo.cpu.devices) * 1000).toFixed(1)} ms: at most ${(availableParallelism() / total).toFixed(0)}/s on this machine with the devices on it`,
)

async function scenario(name, database, instances, {hostile = false} = {}) {
  let dbName
  let url = database
  if (database === 'pg') {
    dbName = `bench_${results.length}`
    url = await server.createDatabase(dbName)
  }

  const lab = makeFleetLab(url)
  labs.push(lab)
  const started = []
  for (let i = 0; i < instances; i++) {
    started.push(await startInstance(lab.config, i === 0 ? ['--migrate'] : []))
    running.push(started[i])
  }

  const urls = started.map((s) => s.url)
  const devices = keys.map((key, i) => ({key, serial: `BENCH-${i}`}))
  // Warm-up: the instances' first requests compile their code.
  await registerFleet(devices.slice(0, WARMUP), {concurrency: 2 * instances, deadline: Date.now() + 60_000, urls: () => urls})

  const postgresPids = dbName ? clusterPids() : []
  const before = {devices: process.cpuUsage(), postgres: cpuSeconds(postgresPids), serve: cpuSeconds(started.map((s) => s.child.pid))}
  const stopHostile = hostile ? startHostileClients(urls) : undefined
  const loadStart = performance.now()
  const result = await registerFleet(devices.slice(WARMUP), {concurrency: CONCURRENCY, deadline: Date.now() + 600_000, urls: () => urls})
  const seconds = (performance.now() - loadStart) / 1000
  const hostileAnswers = await stopHostile?.()
  const devicesCpu = process.cpuUsage(before.devices)
  const perRegistration = (s) => (s / result.registered.length).toFixed(4)
  const cpu = {
    devices: perRegistration((devicesCpu.user + devicesCpu.system) / 1e6),
    postgres: dbName ? perRegistration(cpuSeconds(postgresPids) - before.postgres) : '-',
    serve: perRegistration(cpuSeconds(started.map((s) => s.child.pid)) - before.serve),
  }
  await Promise.all(started.map((s) => s.stop()))
  if (result.failures.size > 0 || result.final.length > 0) {
    const errors = started.flatMap((s) =>
      s
        .stderr()
        .split('\n')
        .filter((line) => line.includes('"error"'))
        .slice(0, 2),
    )
    throw new Error(`${name}: failures ${JSON.stringify([...result.failures])} ${result.final.slice(0, 3)}\n${errors.join('\n')}`)
  }
  const latencies = result.registered.map((r) => r.ms)
  return {cpu, hostile: hostileAnswers, instances, name, p50: median(latencies), p99: percentile(latencies, 99), rate: result.registered.length / seconds}
}

/** The PIDs of the cluster: the postmaster and its children. */
function clusterPids() {
  const postmaster = server.pid()
  return [postmaster, ...children(postmaster)]
}

function children(parent) {
  try {
    return readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** utime + stime of the processes and their children still running, in seconds. */
function cpuSeconds(pids) {
  let ticks = 0
  const all = new Set(pids)
  for (const pid of pids) for (const child of children(pid)) all.add(child)
  for (const pid of all) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // Gone: a backend that ended.
    }
  }

  return ticks / 100
}

/**
 * Hostile clients until stopped: slow senders trickling a body (20 connections), oversized
 * bodies (10/s), garbage instead of assertions (20/s), and request-ids never used (20/s). Returns
 * the answers by status.
 */
function startHostileClients(urls) {
  const answers = new Map()
  const count = (status) => answers.set(status, (answers.get(status) ?? 0) + 1)
  let running = true
  const loops = []
  const target = (i) => new URL(urls[i % urls.length])
  const raw = (i, head, body) =>
    new Promise((resolve) => {
      const url = target(i)
      const socket = connect(Number(url.port), url.hostname)
      let received = ''
      let timer
      socket.on('connect', () => {
        socket.write(head)
        timer = setInterval(() => (running && socket.writable ? socket.write(body) : socket.destroy()), 200)
      })
      socket.on('data', (c) => (received += c.toString('latin1')))
      socket.on('error', () => {})
      socket.on('close', () => {
        clearInterval(timer)
        const status = Number(received.split(' ')[1])
        if (status) count(status)
        resolve()
      })
    })
  const head = (length) => `POST /v1/serial HTTP/1.1\r\nHost: x\r\napi-key: ${API_KEY}\r\n${length}\r\n\r\n`
  for (let i = 0; i < 20; i++) loops.push(raw(i, head('Content-Length: 100000'), 'x'))
  // Each loop at most 10 requests a second: hostile, not a flood (a flood is the firewall's).
  const repeat = async (i, work) => {
    while (running) await Promise.all([work(i).catch(() => {}), new Promise((resolve) => setTimeout(resolve, 100))])
  }
  loops.push(repeat(0, (i) => raw(i, head('Content-Length: 100000000'), '')))
  for (let i = 0; i < 2; i++) {
    loops.push(repeat(i, (n) => fetch(new URL('serial', target(n)), {body: 'type: serial-request\n\nnot signed', headers: {'api-key': API_KEY}, method: 'POST'}).then((a) => count(a.status))))
    loops.push(repeat(i, (n) => fetch(new URL('request-id', target(n)), {headers: {'api-key': API_KEY}, method: 'POST'}).then((a) => count(a.status))))
  }

  return async () => {
    running = false
    await Promise.all(loops)
    return [...answers]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}×${n}`)
      .join(', ')
  }
}
