// The device service under load: registrations per second through `snap-gadget serve` on SQLite
// (request-id + serial, RSA-4096 brand key), against the limit of the machine for the same work,
// RSA-4096 signatures per second with node:crypto on one core, measured in the same run. The
// devices are this process: each has its own RSA-2048 key made before the timed part, and signs a
// real serial-request with the nonce it was given.
//
// Each set-up on a fresh database and the same devices:
// - serve as it runs (the target, ≥ 80 % of the one-core limit; it was 70 % before the fleet-lifecycle issue): one service process, which signs
//   on libuv's thread pool and so shares every core with the devices;
// - serve confined to one core (taskset: serve on CPU 0, the devices on CPU 1, the limit measured
//   on CPU 0): what the service costs beside its signatures, printed as its CPU time per
//   registration, the event loop's apart from its other threads (the signatures, V8's own), and
//   less the signatures' own time in that run (serve's signing histogram; target < 1.5 ms);
//   each of these two in SERVE_BENCH_SETUP_ROUNDS rounds (3), the limit measured again just
//   before each round: a shared machine's speed drifts over a run, and one round's figure moved
//   with it by a fifth (the median and every round are printed);
// - hardware-identity onboarding against api-key onboarding, serve as it runs, in alternating
//   rounds (the target: ≥ 95 %): each device also has an ECDSA P-256 hardware key, whose
//   identity the brand certified and serve import took before the run; it asks for a request-id
//   without an api-key and signs it, and serve finds its identity and checks that signature
//   (the serial is the identity's hardware id);
// - an allowlist with metrics against today's configuration, serve as it runs, in alternating
//   rounds (the target: ≥ 95 %): the model issues serials from its allowlist (every device's
//   serial imported with serve import --serials first, among as many others again), and GET
//   /metrics is on and scraped every second during the run; today's configuration issues any
//   serial and has no metrics (metrics: false, as a public listener has it).
//
// SERVE_BENCH_ONLY=policy or SERVE_BENCH_ONLY=onboarding runs that comparison alone (the machine is shared).
import {spawn, spawnSync} from 'node:child_process'
import {generateKeyPair, generateKeyPairSync, sign} from 'node:crypto'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {Agent, request} from 'node:http'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {encodePublicKey, hardwareIdKeyText, readHardwareIdKey, signAssertion, signingKeyFromKeyObject} from '../dist/assertions/index.js'
import {certifyHardwareIdentities} from '../dist/identity/certify.js'
import {fmt, median, medianRatio, percentile, signingLimit} from './lib.mjs'

const DEVICES = Number(process.env.SERVE_BENCH_DEVICES ?? 400)
/**
 * Registrations before the timed part: V8 optimizes serve's code over the first hundred or so, and a
 * line registers devices for hours, so the figures are those of a service past its warm-up.
 */
const WARMUP = 100
const CONCURRENCY = 25
const API_KEY = 'bench-api-key'
/**
 * Alternating rounds of each ratio (allowlist + metrics, hardware identity): a round's rate moves by
 * a tenth with the shared machine's speed, and the median of five rounds' ratios moved by two
 * points from run to run where a ratio's target is five points from 100 %; thirteen hold it
 * within about one.
 */
const ROUNDS = Number(process.env.SERVE_BENCH_ROUNDS ?? 13)
const SETUP_ROUNDS = Number(process.env.SERVE_BENCH_SETUP_ROUNDS ?? 3)
/** The devices' connections (see post). */
const agent = new Agent({keepAlive: true, maxSockets: 64})

const dir = mkdtempSync(join(tmpdir(), 'serve-bench-'))
try {
  const brand = signingKeyFromKeyObject(generateKeyPairSync('rsa', {modulusLength: 4096}).privateKey)
  const root = signingKeyFromKeyObject(generateKeyPairSync('rsa', {modulusLength: 4096}).privateKey)
  const since = '2020-01-01T00:00:00Z'
  writeFileSync(join(dir, 'brand.pem'), brand.privateKey.export({format: 'pem', type: 'pkcs8'}))
  writeFileSync(join(dir, 'account'), signAssertion({headers: {'account-id': 'acme', 'authority-id': 'root', 'display-name': 'Acme', timestamp: since, validation: 'verified'}, type: 'account'}, root).text)
  writeFileSync(
    join(dir, 'account-key'),
    signAssertion({body: brand.encodedPublicKey, headers: {'account-id': 'acme', 'authority-id': 'root', name: 'serials', 'public-key-sha3-384': brand.keyId, since}, type: 'account-key'}, root).text,
  )
  const model = signAssertion(
    {
      headers: {
        architecture: 'amd64',
        'authority-id': 'acme',
        base: 'core24',
        'brand-id': 'acme',
        grade: 'signed',
        model: 'acme-pc',
        series: '16',
        snaps: [{id: 'x'.repeat(32), name: 'pc', type: 'gadget'}],
        timestamp: since,
      },
      type: 'model',
    },
    brand,
  ).text

  // Confinement needs taskset and two cores; without them only the unconfined run is made.
  const canConfine = availableParallelism() >= 2 && spawnSync('taskset', ['-p', String(process.pid)]).status === 0
  const everyCoreCount = availableParallelism()
  const everyCore = `0-${everyCoreCount - 1}`
  const confine = (cpu) => {
    if (canConfine) spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], {stdio: 'ignore'})
  }

  // The limit: what one core can sign, the one cost no service can avoid; on the core serve gets.
  confine(0)
  const signLimit = signingLimit(brand.privateKey, Buffer.from(model))
  confine(everyCore)

  const makeKey = promisify(generateKeyPair)
  const devices = await Promise.all(
    Array.from({length: WARMUP + DEVICES}, async () => {
      const {privateKey} = await makeKey('rsa', {modulusLength: 2048})
      const key = signingKeyFromKeyObject(privateKey)
      const hardware = (await makeKey('ec', {namedCurve: 'P-256'})).privateKey
      return {encoded: encodePublicKey(key.publicKey), hardware, hardwareId: readHardwareIdKey(hardwareIdKeyText(hardware)), key}
    }),
  )
  // The factory's side, once: the brand certifies every device's hardware key.
  const identities = certifyHardwareIdentities(
    devices.map((device, n) => ({hardwareId: `BENCH-${n}`, key: device.hardwareId, source: 'bench'})),
    {hardwareName: 'bench', issuerId: 'acme', key: brand, manufacturer: 'Bench'},
  )
  writeFileSync(join(dir, 'identities.assert'), identities.text)

  /**
   * One load run against a fresh serve on a fresh database; `cpu` confines serve to that core;
   * `hardware` onboards by hardware identity (the identities imported first).
   */
  // The factory's list: every device's serial, and as many that no device of the run proposes.
  writeFileSync(join(dir, 'serials.csv'), `serial\n${Array.from({length: 2 * (WARMUP + DEVICES)}, (_, n) => (n < WARMUP + DEVICES ? `BENCH-${n}` : `OTHER-${n}`)).join('\n')}\n`)

  /**
   * One load run against a fresh serve on a fresh database; `cpu` confines serve to that core;
   * `hardware` onboards by hardware identity (the identities imported first); `policy` issues
   * from the allowlist with metrics on and scraped (else metrics are off, as before them).
   */
  const load = async (name, cpu, hardware = false, policy = false, limit = signLimit) => {
    // Confined, serve signs on its event loop, and its signing histogram is the signatures' own time.
    const confined = cpu !== undefined
    const run = join(dir, name)
    mkdirSync(run)
    const onboarding = hardware ? 'onboarding: hardware-identity' : `api-key: ${API_KEY}`
    const serials = policy ? ', serials: allowlist' : ''
    writeFileSync(
      join(run, 'serve.yaml'),
      `listen: 127.0.0.1:0\ndatabase: sqlite:serve.db\nmetrics: ${policy || confined}\nmodels:\n  - {brand: acme, model: acme-pc, ${onboarding}${serials}, signing-key: ../brand.pem, chain: [../account, ../account-key]}\n`,
    )
    const serveImport = (...args) => {
      const imported = spawnSync(process.execPath, ['bin/run.js', 'serve', 'import', '--config', join(run, 'serve.yaml'), ...args], {encoding: 'utf8'})
      if (imported.status !== 0) throw new Error(`serve import: ${imported.stderr}`)
    }

    if (hardware) serveImport(join(dir, 'identities.assert'))
    if (policy) serveImport('--serials', join(dir, 'serials.csv'), '--model', 'acme/acme-pc')
    const command = [process.execPath, 'bin/run.js', 'serve', '--config', join(run, 'serve.yaml'), '--json', '--quiet']
    const serve = cpu === undefined ? spawn(command[0], command.slice(1), {stdio: ['ignore', 'pipe', 'inherit']}) : spawn('taskset', ['-c', String(cpu), ...command], {stdio: ['ignore', 'pipe', 'inherit']})
    const url = await new Promise((resolve, reject) => {
      let out = ''
      serve.stdout.on('data', (c) => {
        out += c
        if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))).url)
      })
      serve.once('exit', (code) => reject(new Error(`serve exited with ${code}`)))
    })

    const headers = hardware ? {} : {'api-key': API_KEY}
    const register = async (device, n) => {
      const started = performance.now()
      const answer = await post(`${url}request-id`, '', headers)
      if (answer.status !== 200) throw new Error(`request-id ${n}: ${answer.status} ${answer.text}`)
      const nonce = JSON.parse(answer.text)['request-id']
      // What the prepare-serial-request hook sets: the digest under both names, the signature, the key.
      const body = hardware
        ? JSON.stringify({
            'hardware-id-key': device.hardwareId.text,
            'hardware-id-key-sha3-384': device.hardwareId.digest,
            'hardware-id-key-sha384': device.hardwareId.digest,
            'request-id-signature': sign('sha256', Buffer.from(nonce), {dsaEncoding: 'der', key: device.hardware}).toString('base64'),
          })
        : `serial: "BENCH-${n}"\n`
      const request = signAssertion({body, headers: {'brand-id': 'acme', 'device-key': device.encoded, model: 'acme-pc', 'request-id': nonce, serial: `BENCH-${n}`}, type: 'serial-request'}, device.key).text
      const serial = await post(`${url}serial`, `${request}\n${model}`, {...headers, 'Content-Type': 'application/x.ubuntu.assertion'})
      if (serial.status !== 200) throw new Error(`registration ${n}: ${serial.status} ${serial.text}`)
      return performance.now() - started
    }

    // Warm-up (see WARMUP), as many at a time as the timed part.
    let warmed = 0
    await Promise.all(
      Array.from({length: CONCURRENCY}, async () => {
        while (warmed < WARMUP) {
          const n = warmed++
          await register(devices[n], n)
        }
      }),
    )
    const latencies = []
    let next = WARMUP
    const metricsUrl = url.replace(/v1\/$/, 'metrics')
    const signingBefore = confined ? await signingSeconds(metricsUrl) : undefined
    const cpuBefore = serviceCpu(serve.pid)
    let scrapes = 0
    let scrapeFailure
    const scraper = policy
      ? setInterval(() => {
          fetch(metricsUrl)
            .then(async (answer) => {
              if (answer.status !== 200 || !(await answer.text()).includes('snap_gadget_serve_registrations_total')) throw new Error(`status ${answer.status}`)
              scrapes++
            })
            .catch((error) => (scrapeFailure ??= error))
        }, 1000)
      : undefined
    const loadStart = performance.now()
    const devicesCpuBefore = process.cpuUsage()
    await Promise.all(
      Array.from({length: CONCURRENCY}, async () => {
        while (next < devices.length) {
          const n = next++
          latencies.push(await register(devices[n], n))
        }
      }),
    )
    const seconds = (performance.now() - loadStart) / 1000
    const devicesCpu = process.cpuUsage(devicesCpuBefore)
    clearInterval(scraper)
    if (scrapeFailure) throw new Error(`GET /metrics during the run: ${scrapeFailure.message}`)
    if (policy && seconds > 2 && scrapes === 0) throw new Error('no scrape of /metrics answered during the run')
    const cpuAfter = serviceCpu(serve.pid)
    const signingAfter = confined ? await signingSeconds(metricsUrl) : undefined
    const perRegistration = (part) => fmt((cpuAfter[part] - cpuBefore[part]) / latencies.length)
    serve.kill('SIGTERM')
    await new Promise((resolve) => serve.once('exit', resolve))
    const rate = latencies.length / seconds
    // A round's rate, and serve's CPU per registration (all its threads), which the machine's other load moves less.
    const serveMs = cpuAfter.eventLoop + cpuAfter.otherThreads - cpuBefore.eventLoop - cpuBefore.otherThreads
    if (name.startsWith('round-')) return {cpu: serveMs / latencies.length, rate}
    const beside = confined ? besideSignatures(serveMs, signingBefore, signingAfter, latencies.length) : undefined
    const text = [
      `${rate.toFixed(1)} registrations/s = ${((rate / limit) * 100).toFixed(0)}% of the limit (${limit.toFixed(1)}/s just before)`,
      `latency (request-id + serial) p50 ${fmt(median(latencies))}, p99 ${fmt(percentile(latencies, 99))}`,
      `serve's CPU per registration: event loop ${perRegistration('eventLoop')}, other threads ${perRegistration('otherThreads')} (one signature alone: ${fmt(1000 / limit)})`,
      ceiling(serveMs, (devicesCpu.user + devicesCpu.system) / 1000, latencies.length, confined, limit),
      ...(beside ? [beside.text] : []),
    ].join('\n      ')
    return {besideMs: beside?.ms, rate, share: rate / limit, text}
  }

  /**
   * What the machine's cores allow when serve and the devices share them: every registration costs
   * serve's CPU and the devices' (their RSA-2048 signature, HTTP), so the cores divided by the two
   * bound the rate whatever serve does with its own share.
   */
  const ceiling = (serveMs, devicesMs, count, confined, limit) => {
    const devices = `the devices' own CPU per registration (this process): ${fmt(devicesMs / count)}`
    const share = (most) => `${most.toFixed(0)} registrations/s = ${((most / limit) * 100).toFixed(0)}% of the limit`
    // Confined, each side has its own core; else both share every core.
    if (confined) return `${devices}; serve's core allows at most ${share((1000 * count) / serveMs)}, the devices' ${share((1000 * count) / devicesMs)}`
    return `${devices}; serve's and theirs together on ${everyCoreCount} cores allow at most ${share((everyCoreCount * 1000 * count) / (serveMs + devicesMs))}`
  }

  console.log(`RSA-4096 signatures, node:crypto, one core: ${signLimit.toFixed(1)}/s (the limit)`)
  console.log(`${DEVICES} devices timed after ${WARMUP} more, ${CONCURRENCY} at a time, SQLite:`)
  const each = (list) => list.map((r) => r.toFixed(1)).join(', ')
  const only = process.env.SERVE_BENCH_ONLY
  if (only === undefined) await others()
  if (only === 'onboarding') await onboarding()
  if (only === undefined || only === 'policy') await policies()
  async function policies() {
    // An allowlist with metrics against today's configuration, in rounds that alternate which goes first.
    const policyRates = {policy: [], today: []}
    const policyCpu = {policy: [], today: []}
    for (let round = 0; round < ROUNDS; round++) {
      for (const policy of round % 2 === 0 ? [false, true] : [true, false]) {
        const {cpu, rate} = await load(`round-${round}-${policy ? 'allowlist' : 'today'}`, undefined, false, policy)
        policyRates[policy ? 'policy' : 'today'].push(rate)
        policyCpu[policy ? 'policy' : 'today'].push(cpu)
      }
    }

    console.log(`allowlist + metrics against today's configuration, serve as it runs, ${ROUNDS} alternating rounds:`)
    console.log(`  today (any serial, no metrics): ${median(policyRates.today).toFixed(1)} registrations/s (${each(policyRates.today)})`)
    console.log(`  allowlist of ${2 * (WARMUP + DEVICES)} serials + /metrics scraped every second: ${median(policyRates.policy).toFixed(1)} registrations/s (${each(policyRates.policy)})`)
    console.log(`  allowlist + metrics / today: ${(medianRatio(policyRates.policy, policyRates.today) * 100).toFixed(1)}% (median of the rounds' ratios; target ≥ 95%)`)
    console.log(
      `  serve's CPU per registration (all threads): today ${fmt(median(policyCpu.today))}, allowlist + metrics ${fmt(median(policyCpu.policy))}; today / allowlist + metrics: ${(medianRatio(policyCpu.today, policyCpu.policy) * 100).toFixed(0)}%`,
    )
  }

  async function others() {
    const percent = (share) => `${(share * 100).toFixed(0)}%`
    // The limit again, on the core serve signs on, just before each round.
    const limitNow = () => {
      confine(0)
      const limit = signingLimit(brand.privateKey, Buffer.from(model), {seconds: 2})
      confine(everyCore)
      return limit
    }

    const shares = []
    for (let round = 1; round <= SETUP_ROUNDS; round++) {
      const run = await load(`as-it-runs-${round}`, undefined, false, false, limitNow())
      shares.push(run.share)
      console.log(`  serve as it runs, round ${round} (every core, shared with the devices):\n      ${run.text}`)
    }

    console.log(`  serve as it runs: ${percent(median(shares))} of the limit (median of ${SETUP_ROUNDS} rounds: ${shares.map(percent).join(', ')}; target ≥ 80%)`)
    if (canConfine) {
      const besides = []
      for (let round = 1; round <= SETUP_ROUNDS; round++) {
        const limit = limitNow()
        confine(1)
        const run = await load(`one-core-${round}`, 0, false, false, limit)
        confine(everyCore)
        besides.push(run.besideMs)
        console.log(`  serve confined to one core, round ${round} (CPU 0; the devices on CPU 1):\n      ${run.text}`)
      }

      console.log(`  serve's own work beside its signatures: ${fmt(median(besides))} per registration (median of ${SETUP_ROUNDS} rounds: ${besides.map(fmt).join(', ')}; target < 1.5 ms)`)
    } else {
      console.log('  serve confined to one core: not measured (needs taskset and two cores)')
    }

    await onboarding()
  }

  async function onboarding() {
    // Onboarding by hardware identity against api-key, in rounds that alternate which goes first.
    const rates = {apiKey: [], hardware: []}
    const cpu = {apiKey: [], hardware: []}
    for (let round = 0; round < ROUNDS; round++) {
      for (const hardware of round % 2 === 0 ? [false, true] : [true, false]) {
        const run = await load(`round-${round}-${hardware ? 'hardware' : 'api-key'}`, undefined, hardware)
        rates[hardware ? 'hardware' : 'apiKey'].push(run.rate)
        cpu[hardware ? 'hardware' : 'apiKey'].push(run.cpu)
      }
    }

    const ratio = medianRatio(rates.hardware, rates.apiKey)
    console.log(`hardware-identity against api-key onboarding, serve as it runs, ${ROUNDS} alternating rounds:`)
    console.log(`  api-key: ${median(rates.apiKey).toFixed(1)} registrations/s (${each(rates.apiKey)})`)
    console.log(`  hardware-identity: ${median(rates.hardware).toFixed(1)} registrations/s (${each(rates.hardware)})`)
    console.log(`  hardware-identity / api-key: ${(ratio * 100).toFixed(1)}% (median of the rounds' ratios; target ≥ 95%)`)
    console.log(
      `  serve's CPU per registration (all threads): api-key ${fmt(median(cpu.apiKey))}, hardware-identity ${fmt(median(cpu.hardware))}; api-key / hardware-identity: ${(medianRatio(cpu.apiKey, cpu.hardware) * 100).toFixed(0)}%`,
    )
  }
} finally {
  rmSync(dir, {force: true, recursive: true})
}

/**
 * The devices' HTTP client: node:http over kept-alive connections, as undici's fetch keeps them,
 * at about half fetch's CPU per request. The devices share the machine with serve in the "as it
 * runs" set-up, so what their client spends is taken from serve (on a line, each device is its own
 * machine).
 */
function post(url, body, headers) {
  return new Promise((resolve, reject) => {
    const req = request(url, {agent, headers: {...headers, 'Content-Length': Buffer.byteLength(body)}, method: 'POST'}, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({status: res.statusCode, text}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * Serve's own work beside its signatures, per registration (the target: under 1.5 ms): its CPU
 * (all threads) less the time its signatures took in this run, from its signing histogram (confined
 * to one core, serve signs on the event loop, so that time is the signatures' CPU). The limit
 * measured apart moves with the host between runs; this is the same run's.
 */
function besideSignatures(serveMs, before, after, count) {
  const signatures = after.count - before.count
  const signingMs = ((after.sum - before.sum) * 1000) / signatures
  const perRegistration = (serveMs - (after.sum - before.sum) * 1000) / count
  return {ms: perRegistration, text: `its ${signatures} signatures took ${fmt(signingMs)} each in the run (serve's signing histogram); serve's own work beside them: ${fmt(perRegistration)} per registration`}
}

/** The signing histogram's sum (seconds) and count, from serve's GET /metrics. */
async function signingSeconds(metricsUrl) {
  const text = await (await fetch(metricsUrl)).text()
  const read = (name) => {
    const found = new RegExp(`^snap_gadget_serve_signing_seconds_${name} (\\S+)$`, 'm').exec(text)
    if (!found) throw new Error(`GET /metrics has no snap_gadget_serve_signing_seconds_${name}`)
    return Number(found[1])
  }

  return {count: read('count'), sum: read('sum')}
}

/** CPU time (ms) of a process so far, its main thread (the event loop) apart from its other threads. */
function serviceCpu(pid) {
  const ticks = {eventLoop: 0, otherThreads: 0}
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    // utime and stime, in clock ticks (100 per second on Linux), after the command name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks[tid === String(pid) ? 'eventLoop' : 'otherThreads'] += Number(fields[11]) + Number(fields[12])
  }

  return {eventLoop: ticks.eventLoop * 10, otherThreads: ticks.otherThreads * 10}
}
