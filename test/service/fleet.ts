/**
 * A factory line for load tests: `serve` instances as processes (the CLI, as an operator starts
 * them), a lab config on SQLite or PostgreSQL, and devices that register the way snapd does: a
 * fresh request-id for every attempt, a real serial-request signed by the device's own key, a
 * retry after a failure snapd retries (no answer, or a status above 500), through the next
 * instance, as a load balancer would send it. Every loop is bounded: attempts per device, and a
 * deadline for the whole run.
 */
import {type ChildProcess} from 'node:child_process'
import {writeFileSync} from 'node:fs'

import {encodePublicKey, signAssertion, type SigningKey} from '../../src/assertions/index.js'
import {API_KEY, BRAND, type Lab, makeLab, MODEL, modelAssertion} from './helpers.js'
import {startServe} from './serve-process.js'

/** A lab whose config names `database` (sqlite:PATH or a postgres:// URL). */
export function makeFleetLab(database: string): Lab {
  const lab = makeLab()
  writeFileSync(
    lab.config,
    `listen: 127.0.0.1:0
database: "${database}"
models:
  - brand: ${BRAND}
    model: ${MODEL}
    api-key: {env: LAB_API_KEY}
    signing-key: serials.pem
    chain: [acme.account, serials.account-key]
`,
  )
  return lab
}

export interface Instance {
  url: string
  child: ChildProcess
  exited: Promise<void>
  stderr(): string
  /** SIGTERM, bounded wait; SIGKILL after it. */
  stop(): Promise<void>
}

/** Starts `snap-gadget serve` and waits (bounded) for its URL. */
export async function startInstance(config: string, args: string[] = []): Promise<Instance> {
  // FLEET_LOG=1 keeps each request's log line (Instance.stderr), to see why requests failed.
  const serve = await startServe(config, {args: ['--json', ...(process.env.FLEET_LOG ? [] : ['--quiet']), ...args], startMs: 30_000})
  return {
    child: serve.child,
    exited: serve.exit.then(() => {}),
    stderr: serve.stderr,
    async stop() {
      await serve.stop()
    },
    url: serve.url,
  }
}

export interface Device {
  key: SigningKey
  serial: string
}

export interface Registration {
  device: Device
  /** The serial assertion and chain of the successful attempt. */
  answer: string
  attempts: number
  ms: number
}

export interface FleetResult {
  registered: Registration[]
  /** Every answer that was not a 200, by status (0: no answer: connection refused or cut). */
  failures: Map<number, number>
  /** The answers that snapd would not retry soon (4xx, 500), with their bodies. */
  final: string[]
}

export interface FleetOptions {
  /** The URLs attempts go to, read at each attempt (a test may swap a restarted instance in). */
  urls: () => string[]
  concurrency: number
  deadline: number
  maxAttempts?: number
  /** Pause before a retry (snapd waits a minute; a test does not). */
  retryDelayMs?: number
  /** Called after each successful registration, with how many are done. */
  onRegistered?: (done: number) => Promise<void> | void
}

const model = modelAssertion()

/** Registers every device, `concurrency` at a time. */
export async function registerFleet(devices: Device[], options: FleetOptions): Promise<FleetResult> {
  const result: FleetResult = {failures: new Map(), final: [], registered: []}
  let next = 0
  let turn = 0
  const worker = async (): Promise<void> => {
    while (next < devices.length) {
      const device = devices[next++]
      const started = performance.now()
      for (let attempt = 1; ; attempt++) {
        if (Date.now() > options.deadline) throw new Error(`the fleet ran past its deadline with ${devices.length - result.registered.length} devices left`)
        if (attempt > (options.maxAttempts ?? 30)) throw new Error(`device ${device.serial} failed ${attempt - 1} attempts`)
        const urls = options.urls()
        const url = urls[turn++ % urls.length]
        const outcome = await attemptRegistration(url, device)
        if (outcome.status === 200) {
          result.registered.push({answer: outcome.text, attempts: attempt, device, ms: performance.now() - started})
          await options.onRegistered?.(result.registered.length)
          break
        }

        result.failures.set(outcome.status, (result.failures.get(outcome.status) ?? 0) + 1)
        // snapd: a 4xx or a 500 ends the attempt for its back-off (minutes); no answer or > 500 is retried.
        if (outcome.status !== 0 && outcome.status <= 500) {
          result.final.push(`${device.serial}: ${outcome.status} ${outcome.text.slice(0, 300)}`)
          break
        }

        await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 100))
      }
    }
  }

  await Promise.all(Array.from({length: options.concurrency}, () => worker()))
  return result
}

async function attemptRegistration(url: string, device: Device): Promise<{status: number; text: string}> {
  try {
    const requestId = await fetch(`${url}request-id`, {headers: {'api-key': API_KEY}, method: 'POST', signal: AbortSignal.timeout(30_000)})
    const idText = await requestId.text()
    if (requestId.status !== 200) return {status: requestId.status, text: idText}
    const nonce = (JSON.parse(idText) as {'request-id': string})['request-id']
    const request = signAssertion(
      {body: `serial: "${device.serial}"\n`, headers: {'brand-id': BRAND, 'device-key': encodePublicKey(device.key.publicKey), model: MODEL, 'request-id': nonce, serial: device.serial}, type: 'serial-request'},
      device.key,
    ).text
    const serial = await fetch(`${url}serial`, {
      body: `${request}\n${model}`,
      headers: {'api-key': API_KEY, 'Content-Type': 'application/x.ubuntu.assertion'},
      method: 'POST',
      signal: AbortSignal.timeout(30_000),
    })
    return {status: serial.status, text: await serial.text()}
  } catch {
    // Refused, cut or timed out: snapd retries it.
    return {status: 0, text: ''}
  }
}
