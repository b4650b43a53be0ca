/**
 * N distinct devices registering at once, for a factory sizing its device service before the line
 * starts. Two phases, so that the numbers are the service's:
 *
 * 1. prepare: each device's own RSA key (on libuv's thread pool, a few at a time), and the hook:
 *    run once per device over its own root when the hardware comes from a template, or once for
 *    all when a serial pattern gives each device its proposed serial (the same hardware otherwise);
 * 2. register: `concurrency` devices at a time, each a whole exchange (request-id, serial,
 *    snapd's checks), timed.
 *
 * The summary: verdicts, registrations per second over the register phase, exchange latency
 * percentiles, and the refusals grouped by reason. Bounded: the count, the concurrency, and every
 * device's own limits (registerDevice's).
 */
import {setMaxListeners} from 'node:events'
import {mkdtemp, rm} from 'node:fs/promises'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'

import {UserError} from '../errors.js'
import {type RootTemplate, SerialPattern} from './devices.js'
import {type HookRun, runPrepareDeviceHook} from './hook.js'
import {type CheckId, DEFAULT_LIMITS, type DeviceOptions, exchangeSerial, generateDeviceKey, prepareSimulatedDevice, type PreparedDevice, SNAPD_DEVICE_KEY_BITS, type Verdict} from './register.js'

export const MAX_FLEET_DEVICES = 100_000
export const MAX_FLEET_CONCURRENCY = 1000

export interface FleetOptions extends Omit<DeviceOptions, 'deviceKey' | 'hook' | 'onStep' | 'proposedSerial' | 'root'> {
  count: number
  concurrency: number
  /** Gives device n its proposed serial. */
  serialPattern?: SerialPattern
  /** Gives device n its own hardware. */
  rootTemplate?: RootTemplate
  /** The same hardware for every device (with a serial pattern). */
  root?: string
  onProgress?: (progress: FleetProgress) => void
}

export interface FleetProgress {
  phase: 'keys' | 'hooks' | 'register'
  done: number
  total: number
  accepted: number
}

export interface FleetDevice {
  n: number
  keyId: string
  serial?: string
  verdict: Verdict
  decidedBy?: CheckId
  message?: string
  /** The refusal's code when the service said one. */
  serviceCode?: string
  /** request-id, serial and checks. */
  ms: number
}

export interface FleetRefusal {
  /** The service's code when it said one, else the check that decided. */
  reason: string
  verdict: Verdict
  count: number
  /** snapd's words for the first device refused this way. */
  example: string
}

export interface FleetSummary {
  count: number
  concurrency: number
  keyBits: number
  /** Hook runs: one per device, or one for all with a serial pattern. */
  hookRuns: number
  accepted: number
  verdicts: Partial<Record<Verdict, number>>
  refusals: FleetRefusal[]
  prepareMs: number
  registerMs: number
  /** Accepted registrations per second of the register phase. */
  registrationsPerSecond: number
  /** Exchange times (request-id to the last check) over every device. */
  latencyMs: {p50: number; p90: number; p99: number; max: number}
  devices: FleetDevice[]
}

/** Registers `count` devices, `concurrency` at a time. */
export async function registerFleet(options: FleetOptions): Promise<FleetSummary> {
  const {count, concurrency} = options
  if (!Number.isInteger(count) || count < 1 || count > MAX_FLEET_DEVICES)
    throw new UserError('E_USAGE', `--count must be a whole number from 1 to ${MAX_FLEET_DEVICES}, not ${count}`, {hint: 'give how many devices to simulate'})
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_FLEET_CONCURRENCY) {
    throw new UserError('E_USAGE', `--concurrency must be a whole number from 1 to ${MAX_FLEET_CONCURRENCY}, not ${concurrency}`, {hint: 'give how many devices register at the same time'})
  }

  if (count > 1 && options.gadget.serialRequestHook) {
    throw new UserError(
      'E_USAGE',
      `${options.gadget.name} onboards by hardware identity (it has a prepare-serial-request hook): each device makes its own hardware key, which the service must have imported before it registers`,
      {
        hint: 'register the devices one at a time, each with its own --device-dir, and import their identities (hardware-identity sign, serve import) between the runs',
      },
    )
  }

  if (count > 1 && !options.serialPattern && !options.rootTemplate) {
    throw new UserError('E_REGISTER_PATTERN', `${count} devices need ${count} serials, and nothing makes them differ`, {
      hint: 'give --serial-pattern (e.g. ACME-{n:06}) or --root-template (a captured root with {n} where the serial is)',
    })
  }

  // One signal of our own for every device: each exchange and hook in flight listens to it, more
  // than an AbortSignal's default of 10 listeners; the caller's signal gets one.
  const stop = new AbortController()
  setMaxListeners(2 * concurrency + 2 * availableParallelism() + 10, stop.signal)
  const forward = (): void => stop.abort(options.signal?.reason)
  if (options.signal?.aborted) forward()
  options.signal?.addEventListener('abort', forward, {once: true})
  try {
    return await runFleet({...options, signal: stop.signal})
  } finally {
    options.signal?.removeEventListener('abort', forward)
  }
}

async function runFleet(options: FleetOptions): Promise<FleetSummary> {
  const {count, concurrency} = options
  const prepareStarted = performance.now()
  const bits = options.keyBits ?? SNAPD_DEVICE_KEY_BITS
  const keys = await runPool(
    count,
    Math.max(1, Math.min(availableParallelism(), count)),
    options.signal,
    () => generateDeviceKey(bits),
    (done) => options.onProgress?.({accepted: 0, done, phase: 'keys', total: count}),
  )

  // The hooks: once for all (the same hardware, the serial from the pattern), or once per device.
  const shared = options.rootTemplate ? undefined : await runHook(options, options.root)
  const hooks: HookRun[] = shared
    ? Array.from({length: count}, () => shared)
    : await runPool(
        count,
        Math.max(1, Math.min(availableParallelism(), concurrency, count)),
        options.signal,
        async (i) => {
          const root = await options.rootTemplate!.materialize(i + 1)
          try {
            return await runHook(options, root)
          } finally {
            await options.rootTemplate!.remove(root)
          }
        },
        (done) => options.onProgress?.({accepted: 0, done, phase: 'hooks', total: count}),
      )

  const prepared: PreparedDevice[] = []
  for (let i = 0; i < count; i++) {
    const proposed = options.serialPattern?.serial(i + 1)
    prepared.push(await prepareSimulatedDevice({...options, deviceKey: keys[i], hook: hooks[i], proposedSerial: proposed}))
  }

  const prepareMs = performance.now() - prepareStarted
  const registerStarted = performance.now()
  let accepted = 0
  const devices = await runPool(
    count,
    concurrency,
    options.signal,
    async (i): Promise<FleetDevice> => {
      const result = await exchangeSerial(prepared[i], options)
      if (result.verdict === 'accepted') accepted++
      return {
        decidedBy: result.decidedBy,
        keyId: keys[i].keyId,
        message: result.message,
        ms: result.timings.exchangeMs,
        n: i + 1,
        serial: result.serial?.serial ?? prepared[i].config?.proposedSerial,
        verdict: result.verdict,
        ...(result.serviceCode ? {serviceCode: result.serviceCode} : {}),
      }
    },
    (done) => options.onProgress?.({accepted, done, phase: 'register', total: count}),
  )
  const registerMs = performance.now() - registerStarted

  const verdicts: Partial<Record<Verdict, number>> = {}
  const refusals = new Map<string, FleetRefusal>()
  for (const device of devices) {
    verdicts[device.verdict] = (verdicts[device.verdict] ?? 0) + 1
    if (device.verdict === 'accepted') continue
    const reason = device.serviceCode ?? device.decidedBy ?? 'unknown'
    const key = `${device.verdict} ${reason}`
    const entry = refusals.get(key) ?? {count: 0, example: device.message ?? '', reason, verdict: device.verdict}
    entry.count++
    refusals.set(key, entry)
  }

  const times = devices.map((d) => d.ms).sort((a, b) => a - b)
  return {
    accepted,
    concurrency,
    count,
    devices,
    hookRuns: shared ? 1 : count,
    keyBits: bits,
    latencyMs: {max: times.at(-1) ?? 0, p50: percentile(times, 0.5), p90: percentile(times, 0.9), p99: percentile(times, 0.99)},
    prepareMs,
    refusals: [...refusals.values()].sort((a, b) => b.count - a.count),
    registerMs,
    registrationsPerSecond: registerMs > 0 ? accepted / (registerMs / 1000) : 0,
    verdicts,
  }
}

async function runHook(options: FleetOptions, root: string | undefined): Promise<HookRun> {
  const workDir = await mkdtemp(join(tmpdir(), 'snap-gadget-device-'))
  try {
    return await runPrepareDeviceHook({
      apiKey: options.apiKey,
      architecture: String(options.model.model.assertion.headers.architecture ?? 'amd64'),
      configName: options.model.gadget,
      disconnected: options.disconnected ?? [],
      engine: options.engine,
      gadget: options.gadget,
      root,
      signal: options.signal,
      timeoutMs: options.limits?.hookTimeoutMs ?? DEFAULT_LIMITS.hookTimeoutMs,
      workDir,
    })
  } finally {
    await rm(workDir, {force: true, recursive: true})
  }
}

/** The nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

/** Runs task(0..count-1), `limit` at a time, in order of index; results by index. Stops starting new ones once `signal` aborts. */
async function runPool<T>(count: number, limit: number, signal: AbortSignal | undefined, task: (i: number) => Promise<T>, onDone: (done: number) => void): Promise<T[]> {
  const results = new Array<T>(count)
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      if (signal?.aborted) throw new UserError('E_USAGE', 'stopped before every device registered', {hint: 'run it again to the end for a summary', kind: 'failed'})
      const i = next++
      results[i] = await task(i)
      onDone(++done)
    }
  }

  await Promise.all(Array.from({length: Math.min(limit, count)}, worker))
  return results
}
