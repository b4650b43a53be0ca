/**
 * One device registering, snapd's side played without snapd (overlord/devicestate, snapd 2.57.6):
 *
 * 1. the device key: RSA, 4096 bits as snapd makes it (handlers_serial.go keyLength), on the
 *    thread pool;
 * 2. the gadget's prepare-device hook (hook.ts), and what it set read with snapd's types;
 * 3. request-id: `POST {url}request-id`, empty body, User-Agent and device-service.headers; then,
 *    when the gadget has one, its prepare-serial-request hook as snapd 2.74 and later run it
 *    (handlers_serial.go maybeRunPrepareSerialRequestHook): registration.request-id set to the
 *    nonce, the hook run, and the registration.body it left (a JSON object with the mandatory
 *    fields) as the serial-request's body;
 * 4. the serial-request, signed by the device key (brand-id, model, request-id, device-key, the
 *    proposed serial, the body), followed by the model assertion;
 * 5. `POST {url}serial` with snapd's headers, and snapd's own checks of the answer, in snapd's
 *    order and words: the status (what snapd retries and what ends the attempt), the stream, one
 *    serial, brand / model / device key, the signer against the model's serial-authority, and the
 *    signing chain in the device's assertion database (device-db.ts).
 *
 * Every step is reported through `onStep` as it completes, and returned as data: the SDK prints
 * nothing. The verdict is what snapd would do with this attempt.
 */
import {generateKeyPair} from 'node:crypto'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type Assertion, parseAssertions} from '../assertions/decode.js'
import {type SigningKey, signingKeyFromKeyObject} from '../assertions/keys.js'
import {type Assembled, assembleAssertion, AssemblyError, type AssembledSerial} from '../assertions/assemble.js'
import {signAssertionAsync} from '../assertions/sign.js'
import {isSecretHeader, SecretRedactor} from '../device/redact.js'
import {UserError} from '../errors.js'
import {DeviceAssertionDb} from './device-db.js'
import {firstJsonValue, goJson, GoNumber, type GoJsonValue, jsonKind} from './go-json.js'
import {type HookReport, type HookRun, type HookRunOptions, runPrepareDeviceHook, runSerialRequestHook, SNAPD_HOOK_TIMEOUT_MS} from './hook.js'
import {SNAPD_HTTP_TIMEOUT_MS, SNAPD_MAX_REDIRECTS, type SnapdResponse, snapdRequest, TransportError, wireHeaders} from './http.js'
import type {GadgetTree, HookEngine, ModelInput} from './inputs.js'
import {GadgetConfig, type OptionValue, type SerialRequestConfig} from './snapctl-shim.js'
import {rfc3339} from '../support/rfc3339.js'

/** The RSA key size snapd gives every device (handlers_serial.go keyLength). */
export const SNAPD_DEVICE_KEY_BITS = 4096
/** snapd tries request-id this many times in one attempt (handlers_serial.go maxTentatives). */
const SNAPD_MAX_TENTATIVES = 15
/** An answer to request-id is a small JSON object. */
const MAX_REQUEST_ID_ANSWER_BYTES = 1024 * 1024
/**
 * A serial with its signer's account and account-key is a few KB; snapd sets no total limit (it
 * decodes assertion after assertion, each within its decoder's limits: 2.25 MiB), the simulator
 * stops reading here.
 */
const MAX_SERIAL_ANSWER_BYTES = 16 * 1024 * 1024
/** What a step keeps of an answer's body to show. */
const EXCERPT_BYTES = 4096
const ASSERTION_MEDIA_TYPE = 'application/x.ubuntu.assertion'
const SNAPD_VERSION = '2.57.6'

/**
 * What snapd does with the attempt:
 * - accepted: the device has its serial;
 * - refused: the task fails, the change ends in Error; the next attempt comes after the back-off
 *   (5 minutes, doubling up to 24 hours) and runs the hook again;
 * - retry: the task tries again in 60 s (30 s without network), within the same change;
 * - poll: the service answered 202: the same serial-request is posted again in 60 s;
 * - unverified: everything the simulator could check passed, but it cannot tell the rest (no
 *   trusted root given, or an answer beyond its limits).
 */
export type Verdict = 'accepted' | 'poll' | 'refused' | 'retry' | 'unverified'

export type CheckId = 'device-identity' | 'hook' | 'one-serial' | 'options' | 'request-id' | 'serial-authority' | 'serial-status' | 'serial-stream' | 'service-url' | 'signing-chain'

export interface CheckResult {
  check: CheckId
  status: 'failed' | 'passed' | 'skipped'
  /** What was checked and what was found. */
  summary: string
  /** snapd's own words when it fails: the line of the task log. */
  snapd?: string
  /** Where snapd makes this check (snapd 2.57.6). */
  source: string
  /** What snapd does when it fails. */
  outcome?: Exclude<Verdict, 'accepted'>
}

export interface Exchange {
  endpoint: 'request-id' | 'serial'
  method: 'POST'
  url: string
  /** As sent, secrets masked. */
  headers: [string, string][]
  sentBytes: number
  /** The serial-request stream that was posted. */
  sent?: string
  status?: number
  contentType?: string
  receivedBytes?: number
  /** The start of the answer's body (secrets masked). */
  excerpt?: string
  redirects: {status: number; location: string}[]
  /** What Go's client would have said of a transport failure. */
  transportError?: string
  ms: number
}

export type RegistrationStep =
  {kind: 'check'; check: CheckResult} | {kind: 'device-key'; bits: number; keyId: string; ms: number; generated: boolean} | {kind: 'exchange'; exchange: Exchange} | {kind: 'hook'; hook: HookReport; overrides: string[]}

export interface RegistrationResult {
  verdict: Verdict
  /** snapd's words for a verdict other than accepted. */
  message?: string
  /** The check that decided the verdict. */
  decidedBy?: CheckId
  /** The refusal's code when the service said one (`code` or `error_code` in its JSON). */
  serviceCode?: string
  steps: RegistrationStep[]
  checks: CheckResult[]
  device: {brand: string; model: string; keyId: string; keyBits: number; proposedSerial?: string}
  /** The serial assertion the device keeps, when accepted. */
  serial?: {serial: string; authority: string; signKeyId: string; text: string}
  timings: {keyMs: number; hookMs: number; exchangeMs: number; totalMs: number}
}

export interface RegistrationLimits {
  hookTimeoutMs: number
  httpTimeoutMs: number
  maxRedirects: number
}

export const DEFAULT_LIMITS: RegistrationLimits = {hookTimeoutMs: SNAPD_HOOK_TIMEOUT_MS, httpTimeoutMs: SNAPD_HTTP_TIMEOUT_MS, maxRedirects: SNAPD_MAX_REDIRECTS}

export interface DeviceOptions {
  gadget: GadgetTree
  model: ModelInput
  /** The roots the device trusts (account and account-key); none: the chain is checked only as far as the stream goes. */
  trusted: readonly Assembled[]
  engine: HookEngine
  /** Captured hardware (the runtime's --root). */
  root?: string
  /** What `snapctl get api-key` answers. */
  apiKey?: string
  /** Plugs `snapctl is-connected` reports as not connected. */
  disconnected?: readonly string[]
  /** Replaces the device-service.url the hook set. */
  url?: string
  /** Replaces the registration.proposed-serial the hook set. */
  proposedSerial?: string
  keyBits?: number
  /** A device key made beforehand (otherwise one is generated). */
  deviceKey?: SigningKey
  /** An earlier run of the hook, reused instead of running it again. */
  hook?: HookRun
  /**
   * The device's data directories (SNAP_DATA, SNAP_COMMON, SNAP_SAVE_DATA under var/…), kept
   * between runs: a hardware identity key made by prepare-device stays, and so does its export
   * for the factory station. By default they live only as long as the registration.
   */
  deviceDir?: string
  limits?: Partial<RegistrationLimits>
  now?: () => Date
  signal?: AbortSignal
  onStep?: (step: RegistrationStep) => void
}

/** A device after its key and hook: what the exchange with the service needs. */
export interface PreparedDevice {
  key: SigningKey
  hook: HookReport
  /** The options snapd reads, after the overrides; undefined when the hook or the typing failed. */
  config?: SerialRequestConfig
  steps: RegistrationStep[]
  checks: CheckResult[]
  overrides: string[]
  timings: {keyMs: number; hookMs: number}
  /** The device's data directories, which prepare-serial-request needs too. */
  dataDir?: string
  /** Whether the registration made dataDir, and removes it when done. */
  ownsDataDir?: boolean
  /** The gadget's whole configuration after prepare-device: what prepare-serial-request starts from. */
  gadgetOptions?: Record<string, OptionValue>
}

/** Registers one device: key, hook, request-id, serial-request, serial and snapd's checks. */
export async function registerDevice(options: DeviceOptions): Promise<RegistrationResult> {
  const started = performance.now()
  const prepared = await prepareSimulatedDevice(options)
  try {
    const result = await exchangeSerial(prepared, options)
    result.timings.totalMs = performance.now() - started
    return result
  } finally {
    if (prepared.ownsDataDir && prepared.dataDir) await rm(prepared.dataDir, {force: true, recursive: true})
  }
}

/** Makes the device key and runs the hook (or reuses the given ones), and applies the overrides. */
export async function prepareSimulatedDevice(options: DeviceOptions): Promise<PreparedDevice> {
  const steps: RegistrationStep[] = []
  const checks: CheckResult[] = []
  const report = (step: RegistrationStep): void => {
    steps.push(step)
    if (step.kind === 'check') checks.push(step.check)
    options.onStep?.(step)
  }

  const keyStarted = performance.now()
  const bits = options.keyBits ?? SNAPD_DEVICE_KEY_BITS
  const key = options.deviceKey ?? (await generateDeviceKey(bits))
  const keyMs = performance.now() - keyStarted
  report({bits: key.bits, generated: options.deviceKey === undefined, keyId: key.keyId, kind: 'device-key', ms: keyMs})

  let run = options.hook
  // The data directories outlive the hook when prepare-serial-request needs them, or the caller keeps them.
  const ownsDataDir = !run && options.deviceDir === undefined && options.gadget.serialRequestHook !== undefined
  const dataDir = run ? undefined : (options.deviceDir ?? (ownsDataDir ? await mkdtemp(join(tmpdir(), 'snap-gadget-device-data-')) : undefined))
  try {
    run ??= await runDeviceHook(runPrepareDeviceHook, options, dataDir)

    const hook = run.report
    const overrides: string[] = []
    let config = run.config
    if (config && options.url !== undefined && options.url !== config.url) {
      overrides.push(`device-service.url: ${options.url} (the hook set ${config.url === '' ? 'none' : config.url})`)
      config = {...config, url: options.url}
    }

    if (config && options.proposedSerial !== undefined && options.proposedSerial !== config.proposedSerial) {
      overrides.push(`registration.proposed-serial: ${options.proposedSerial} (the hook set ${config.proposedSerial === '' ? 'none' : config.proposedSerial})`)
      config = {...config, proposedSerial: options.proposedSerial}
    }

    report({hook, kind: 'hook', overrides})
    if (hook.failure !== undefined) {
      const task = hook.failedTask === 'hook'
      report({
        check: {
          check: task ? 'hook' : 'options',
          outcome: 'refused',
          snapd: hook.failure,
          source: task ? 'overlord/hookstate/hookmgr.go:424' : 'overlord/devicestate/handlers_serial.go:604-630',
          status: 'failed',
          summary: task
            ? 'the prepare-device hook failed: snapd drops what it set, marks "Generate device key" and "Request device serial" Hold, and runs the hook again on the next attempt'
            : 'a registration option the hook set does not have the type snapd reads it as (device-service.url, registration.proposed-serial and registration.body are strings; device-service.headers a map of strings)',
        },
        kind: 'check',
      })
    } else {
      report({
        check: {
          check: 'hook',
          source: 'overlord/hookstate/hookmgr.go:424',
          status: hook.ran ? 'passed' : 'skipped',
          summary: hook.ran ? `the hook exited 0 after ${hook.calls.length} snapctl call${hook.calls.length === 1 ? '' : 's'}` : 'the gadget has no prepare-device hook: snapd makes no hook task',
        },
        kind: 'check',
      })
    }

    if (config && config.url === '') {
      throw new UserError(
        'E_REGISTER_URL',
        'the hook set no device-service.url: the device would ask the Canonical store for its serial (https://api.snapcraft.io/api/v1/snaps/auth/request-id, then …/devices), which the simulator does not play',
        {hint: 'give --url with the device service to register with'},
      )
    }

    return {checks, config, dataDir, gadgetOptions: run.options, hook, key, overrides, ownsDataDir, steps, timings: {hookMs: hook.ms, keyMs}}
  } catch (error) {
    // A device that goes no further keeps no directory it did not ask to keep.
    if (ownsDataDir && dataDir) await rm(dataDir, {force: true, recursive: true})
    throw error
  }
}

/** Runs one of the gadget's hooks as this device, in a scratch directory removed afterwards. */
async function runDeviceHook(hook: (run: HookRunOptions) => Promise<HookRun>, options: DeviceOptions, dataDir: string | undefined, initial?: Record<string, OptionValue>): Promise<HookRun> {
  const workDir = await mkdtemp(join(tmpdir(), 'snap-gadget-device-'))
  try {
    return await hook({
      apiKey: options.apiKey,
      architecture: String(options.model.model.assertion.headers.architecture ?? 'amd64'),
      configName: options.model.gadget,
      dataDir,
      disconnected: options.disconnected ?? [],
      engine: options.engine,
      gadget: options.gadget,
      ...(initial === undefined ? {} : {initial}),
      root: options.root,
      signal: options.signal,
      timeoutMs: options.limits?.hookTimeoutMs ?? DEFAULT_LIMITS.hookTimeoutMs,
      workDir,
    })
  } finally {
    await rm(workDir, {force: true, recursive: true})
  }
}

/** The hardware proof's mandatory fields, as snapd 2.74–2.77 names them (handlers_serial.go:1005). */
const MANDATORY_PROOF_FIELDS = ['hardware-id-key-sha384', 'request-id-signature']

/**
 * maybeRunPrepareSerialRequestHook (handlers_serial.go:952-1013): registration.request-id set to
 * the nonce, the hook run in the device's data directories, and registration.body read back as
 * the raw JSON snapd keeps (Go's encoding of the value the hook set), which must be a JSON object
 * with the mandatory fields. Its bytes replace the body prepare-device set.
 */
async function serialRequestBody(prepared: PreparedDevice, options: DeviceOptions, nonce: string): Promise<{body: string; check: CheckResult} | {failure: CheckResult}> {
  const failure = (snapd: string, summary: string): {failure: CheckResult} => ({
    failure: {check: 'hook', outcome: 'refused', snapd: `failed to run prepare serial request hook: ${snapd}`, source: 'overlord/devicestate/handlers_serial.go:393-396, 952-1013', status: 'failed', summary},
  })
  const before = new GadgetConfig(options.model.gadget, prepared.gadgetOptions ?? {})
  before.apply({argument: `registration.request-id=${nonce}`, key: 'registration.request-id', value: nonce})
  const run = await runDeviceHook(runSerialRequestHook, options, prepared.dataDir, before.all())
  if (run.report.failure !== undefined || !run.options) {
    return failure(
      `cannot run prepare serial request hook: ${run.report.failure ?? 'the hook did not finish'}`,
      'the prepare-serial-request hook failed: the "Request device serial" task fails, and snapd tries the whole "Initialize device" change again later',
    )
  }

  const value = new GadgetConfig(options.model.gadget, run.options).get('registration.body')
  if (value.error !== undefined) return failure(`cannot get updated registration body: ${value.error}`, 'registration.body cannot be read')
  if (value.value === undefined) {
    return failure(
      `cannot get updated registration body: snap ${JSON.stringify(options.model.gadget)} has no "registration.body" configuration option`,
      'the hook left no registration.body (prepare-device unsets it; the hook must set it)',
    )
  }

  const kind = jsonKind(value.value)
  if (kind !== 'object') {
    return failure(
      `cannot unmarshal registration body as JSON (hook did not overwrite or wrote incorrectly?): json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`,
      "registration.body is not a JSON object: the hook must set it as one (snapctl set registration.body='{…}', not a quoted string)",
    )
  }

  const fields = value.value as Record<string, OptionValue>
  const missing = MANDATORY_PROOF_FIELDS.find((field) => !Object.hasOwn(fields, field))
  if (missing) return failure(`'prepare-serial-request' hook did not set mandatory field ${JSON.stringify(missing)} in registration body`, `registration.body has no ${missing}`)
  return {
    body: goJson(value.value),
    check: {
      check: 'hook',
      source: 'overlord/devicestate/handlers_serial.go:952-1013',
      status: 'passed',
      summary: `prepare-serial-request exited 0 after ${run.report.calls.length} snapctl call${run.report.calls.length === 1 ? '' : 's'}; registration.body is a JSON object with ${MANDATORY_PROOF_FIELDS.join(' and ')}, and replaces the body prepare-device set`,
    },
  }
}

/** An RSA device key made on libuv's thread pool, as snapd makes one (public exponent 65537). */
export function generateDeviceKey(bits = SNAPD_DEVICE_KEY_BITS): Promise<SigningKey> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', {modulusLength: bits, publicExponent: 0x10001}, (error, _publicKey, privateKey) => (error ? reject(error) : resolve(signingKeyFromKeyObject(privateKey))))
  })
}

/** request-id, the serial-request, the serial, and snapd's checks of the answer. */
export async function exchangeSerial(prepared: PreparedDevice, options: DeviceOptions): Promise<RegistrationResult> {
  const started = performance.now()
  const steps = [...prepared.steps]
  const checks = [...prepared.checks]
  const model = options.model.model
  const device = {brand: model.brandId, keyBits: prepared.key.bits, keyId: prepared.key.keyId, model: model.model, proposedSerial: prepared.config?.proposedSerial || undefined}
  const limits = {...DEFAULT_LIMITS, ...options.limits}
  const report = (step: RegistrationStep): void => {
    steps.push(step)
    if (step.kind === 'check') checks.push(step.check)
    options.onStep?.(step)
  }

  const finish = (verdict: Verdict, extra: Partial<RegistrationResult> = {}): RegistrationResult => ({
    checks,
    device,
    steps,
    timings: {...prepared.timings, exchangeMs: performance.now() - started, totalMs: 0},
    verdict,
    ...extra,
  })
  const fail = (check: CheckResult, extra: Partial<RegistrationResult> = {}): RegistrationResult => {
    report({check, kind: 'check'})
    return finish(check.outcome ?? 'refused', {decidedBy: check.check, message: check.snapd, ...extra})
  }

  const failed = prepared.checks.find((c) => c.status === 'failed')
  if (failed || !prepared.config) return finish('refused', {decidedBy: failed?.check, message: failed?.snapd ?? prepared.hook.failure})
  const config = prepared.config

  // The service's base URL, with the trailing / snapd adds.
  let base: URL
  try {
    base = new URL(config.url)
    if (!base.pathname.endsWith('/')) base.pathname += '/'
  } catch (error) {
    return fail({
      check: 'service-url',
      outcome: 'refused',
      snapd: `cannot parse device registration base URL ${JSON.stringify(config.url)}: ${(error as Error).message}`,
      source: 'overlord/devicestate/handlers_serial.go:613',
      status: 'failed',
      summary: 'device-service.url is not a URL',
    })
  }

  const redactor = new SecretRedactor()
  if (options.apiKey) redactor.add(options.apiKey, '<api-key>')
  for (const [name, value] of Object.entries(config.headers)) if (isSecretHeader(name, false)) redactor.add(value, `<${name}>`)
  const userAgent = `snapd/${SNAPD_VERSION} (series 16; simulated by snap-gadget device register)`
  const configured = Object.entries(config.headers)
  const http = {maxRedirects: limits.maxRedirects, signal: options.signal, timeoutMs: limits.httpTimeoutMs}

  // 3. request-id.
  const requestIdUrl = new URL('request-id', base).toString()
  const idHeaders: [string, string][] = [['User-Agent', userAgent], ...configured]
  const idAnswer = await send({body: Buffer.alloc(0), endpoint: 'request-id', headers: idHeaders, maxResponseBytes: MAX_REQUEST_ID_ANSWER_BYTES, url: requestIdUrl}, http, redactor, report)
  const requestIdReason = 'cannot retrieve request-id for making a request for a serial'
  if (idAnswer instanceof TransportError) return fail(transportCheck('request-id', idAnswer, requestIdReason, 'overlord/devicestate/handlers_serial.go:337-363', true))
  if (idAnswer.status !== 200) return fail(statusCheck('request-id', idAnswer, requestIdReason, 'overlord/devicestate/handlers_serial.go:365-367 → 292-311', redactor), {serviceCode: serviceCode(idAnswer)})
  const requestId = readRequestId(idAnswer.body)
  if (requestId.error !== undefined) {
    return fail({
      check: 'request-id',
      outcome: 'retry',
      snapd: `cannot read response with request-id for making a request for a serial: ${requestId.error}`,
      source: 'overlord/devicestate/handlers_serial.go:369-374',
      status: 'failed',
      summary: `the answer is not a JSON object with a string request-id: snapd tries again in 60 s, up to ${SNAPD_MAX_TENTATIVES} times in this attempt`,
    })
  }

  const nonce = requestId.value ?? ''
  if (nonce === '') {
    return fail({
      check: 'request-id',
      outcome: 'refused',
      snapd: 'assertion serial-request: "request-id" header should not be empty',
      source: 'overlord/devicestate/handlers_serial.go:395-398',
      status: 'failed',
      summary: 'the answer has no request-id (or an empty one): snapd cannot sign a serial-request without one',
    })
  }

  report({check: {check: 'request-id', source: 'overlord/devicestate/handlers_serial.go:365-374', status: 'passed', summary: `200 with request-id ${nonce}`}, kind: 'check'})

  // 3b. The gadget's prepare-serial-request hook (snapd 2.74+), with the fresh request-id.
  let body = config.body
  if (options.gadget.serialRequestHook) {
    const signed = await serialRequestBody(prepared, options, nonce)
    if ('failure' in signed) return fail(signed.failure)
    report({check: signed.check, kind: 'check'})
    body = signed.body
  }

  // 4. The serial-request, signed by the device key, then the model.
  const headers: Record<string, string> = {'brand-id': model.brandId, 'device-key': prepared.key.encodedPublicKey, model: model.model, 'request-id': nonce}
  if (config.proposedSerial !== '') headers.serial = config.proposedSerial
  let serialRequest: string
  try {
    serialRequest = (await signAssertionAsync({body, headers, type: 'serial-request'}, prepared.key)).text
  } catch (error) {
    if (!(error instanceof UserError)) throw error
    return fail({
      check: 'options',
      outcome: 'refused',
      snapd: error.message,
      source: 'overlord/devicestate/handlers_serial.go:395-398',
      status: 'failed',
      summary: 'snapd cannot sign a serial-request with what the hook set',
    })
  }

  const stream = `${serialRequest}\n${encodeAssertion(model.assertion)}\n`

  // 5. The serial.
  const serialUrl = new URL('serial', base).toString()
  const serialHeaders: [string, string][] = [['User-Agent', userAgent], ['Snap-Device-Capabilities', 'serial-stream'], ...configured, ['Content-Type', ASSERTION_MEDIA_TYPE]]
  const answer = await send({body: Buffer.from(stream), endpoint: 'serial', headers: serialHeaders, maxResponseBytes: MAX_SERIAL_ANSWER_BYTES, sent: stream, url: serialUrl}, http, redactor, report)
  const serialReason = 'cannot deliver device serial request'
  if (answer instanceof TransportError) return fail(transportCheck('serial-status', answer, serialReason, 'overlord/devicestate/handlers_serial.go:434-436', false))
  if (answer.status === 202) {
    return fail({
      check: 'serial-status',
      outcome: 'poll',
      snapd: 'Will poll for device serial assertion in 60 seconds',
      source: 'overlord/devicestate/handlers_serial.go:441-442, 733-736',
      status: 'failed',
      summary: '202 Accepted: snapd keeps this serial-request and posts it again in 60 s, for as long as the service answers 202',
    })
  }

  if (answer.status !== 200 && answer.status !== 201)
    return fail(statusCheck('serial-status', answer, serialReason, 'overlord/devicestate/handlers_serial.go:438-445 → 292-311', redactor), {serviceCode: serviceCode(answer)})
  report({
    check: {
      check: 'serial-status',
      source: 'overlord/devicestate/handlers_serial.go:438-445',
      status: 'passed',
      summary: `${answer.status}: the body is read as a stream of assertions (its Content-Type, ${answer.contentType || 'none'}, is not looked at)`,
    },
    kind: 'check',
  })

  // The stream: every assertion must decode; exactly one serial.
  let views: Assembled[]
  try {
    views = answer.body.length === 0 ? [] : parseAssertions(answer.body, {file: 'the answer'}).map((a) => assembleAssertion(a))
  } catch (error) {
    if (!(error instanceof UserError) && !(error instanceof AssemblyError)) throw error
    return fail({
      check: 'serial-stream',
      outcome: 'retry',
      snapd: `cannot read response to request for a serial: ${error instanceof UserError ? error.located : error.message}`,
      source: 'overlord/devicestate/handlers_serial.go:451-458',
      status: 'failed',
      summary: 'the answer is not a stream of assertions snapd decodes: snapd tries again in 60 s, without limit',
    })
  }

  report({
    check: {
      check: 'serial-stream',
      source: 'overlord/devicestate/handlers_serial.go:448-472',
      status: 'passed',
      summary: `${views.length} assertion${views.length === 1 ? '' : 's'}: ${views.map((v) => v.assertion.type).join(', ') || 'none'}`,
    },
    kind: 'check',
  })
  const serials = views.filter((v): v is AssembledSerial => v.type === 'serial')
  if (serials.length !== 1) {
    return fail({
      check: 'one-serial',
      outcome: 'refused',
      snapd: serials.length > 1 ? 'cannot accept more than a single device serial assertion from the device service' : 'cannot proceed, received assertion stream from the device service missing device serial assertion',
      source: serials.length > 1 ? 'overlord/devicestate/handlers_serial.go:459-462' : 'overlord/devicestate/handlers_serial.go:475-477',
      status: 'failed',
      summary: `the stream holds ${serials.length} serial assertions; snapd takes exactly one`,
    })
  }

  const [serial] = serials
  const others = views.filter((v) => v.type !== 'serial')
  report({check: {check: 'one-serial', source: 'overlord/devicestate/handlers_serial.go:459-477', status: 'passed', summary: `one serial: ${serial.serial}`}, kind: 'check'})

  // Brand, model and device key.
  if (serial.brandId !== model.brandId || serial.model !== model.model || serial.deviceKeyId !== prepared.key.keyId) {
    const wrong = [serial.brandId !== model.brandId && 'brand', serial.model !== model.model && 'model', serial.deviceKeyId !== prepared.key.keyId && 'device key'].filter(Boolean).join(', ')
    return fail({
      check: 'device-identity',
      outcome: 'refused',
      snapd: `obtained serial assertion does not match provided device identity information (brand, model, key id): ${serial.brandId} / ${serial.model} / ${serial.deviceKeyId} != ${model.brandId} / ${model.model} / ${prepared.key.keyId}`,
      source: 'overlord/devicestate/handlers_serial.go:543-546',
      status: 'failed',
      summary: `the serial is for another ${wrong} than this device's`,
    })
  }

  report({
    check: {
      check: 'device-identity',
      source: 'overlord/devicestate/handlers_serial.go:543-546',
      status: 'passed',
      summary: `brand ${serial.brandId}, model ${serial.model} and device key ${serial.deviceKeyId} are this device's`,
    },
    kind: 'check',
  })

  // The signer: the brand, or an account the model names in serial-authority.
  if (serial.authorityId !== serial.brandId && !model.serialAuthority.includes(serial.authorityId)) {
    return fail({
      check: 'serial-authority',
      outcome: 'refused',
      snapd: `obtained serial assertion is signed by authority ${JSON.stringify(serial.authorityId)} different from brand ${JSON.stringify(serial.brandId)} without model assertion with serial-authority set to to allow for them`,
      source: 'overlord/devicestate/handlers_serial.go:548-555',
      status: 'failed',
      summary: `the serial is signed by ${serial.authorityId}, which is neither the brand nor in the model's serial-authority (${model.serialAuthority.join(', ') || 'none'})`,
    })
  }

  report({
    check: {
      check: 'serial-authority',
      source: 'overlord/devicestate/handlers_serial.go:548-555',
      status: 'passed',
      summary: serial.authorityId === serial.brandId ? `signed by the brand, ${serial.authorityId}` : `signed by ${serial.authorityId}, which the model's serial-authority allows`,
    },
    kind: 'check',
  })

  // The signing chain, in the device's assertion database.
  const chain = checkChain(serial, others, options, options.now?.() ?? new Date())
  if (chain.status === 'failed') return fail(chain)
  report({check: chain, kind: 'check'})
  const accepted = {authority: serial.authorityId, serial: serial.serial, signKeyId: serial.signKeyId, text: encodeAssertion(serial.assertion) + '\n'}
  if (chain.status === 'skipped') return finish('unverified', {decidedBy: 'signing-chain', message: chain.summary, serial: accepted})
  return finish('accepted', {serial: accepted})
}

/**
 * The serial's signing chain as the device's assertion database judges it: with trusted roots,
 * snapd's own checks (acceptSerialOnly and acceptSerialPlusBatch, handlers_serial.go:766-805);
 * without, the serial's signature against the account-key the stream (or the seed) carries, and
 * the rest left to say.
 */
function checkChain(serial: AssembledSerial, others: Assembled[], options: DeviceOptions, now: Date): CheckResult {
  const source = 'overlord/devicestate/handlers_serial.go:750-805, asserts/database.go Check'
  const seed = [...options.model.seed, options.model.model]
  if (options.trusted.length === 0) {
    const key = [...others, ...seed].find((v) => v.type === 'account-key' && v.publicKeyId === serial.signKeyId)
    if (!key || key.type !== 'account-key') {
      return {
        check: 'signing-chain',
        outcome: 'retry',
        snapd: `cannot fetch signing key for the serial: account-key (${serial.signKeyId}) not found`,
        source,
        status: 'failed',
        summary: `neither the stream nor the seed holds account-key ${serial.signKeyId}: the device would fetch it from the store, and a store-free device tries again every 60 s, without limit`,
      }
    }

    const db = new DeviceAssertionDb([key], now)
    const problem = db.check(serial)
    if (problem) return {check: 'signing-chain', outcome: 'refused', snapd: problem, source, status: 'failed', summary: `the serial does not check against its signer's account-key ${key.publicKeyId}`}
    return {
      check: 'signing-chain',
      source,
      status: 'skipped',
      summary: `the serial checks against account-key ${key.publicKeyId} of ${key.accountId}, itself signed by ${key.authorityId}: no trusted root was given (--trust), so whether the device trusts ${key.authorityId} is not checked`,
    }
  }

  // The device holds its seed: the model and the brand's chain, checked when it was seeded.
  const db = new DeviceAssertionDb(options.trusted, now)
  const seeded = db.addBatch(seed)
  // A model file without the brand's chain: the device holds it from its seed all the same.
  const seedNote = seeded === undefined ? '' : ` (the model file's assertions do not check against the trusted roots on their own: ${seeded}; they were taken as the seed's)`
  if (seeded !== undefined) db.assume(seed)

  if (others.length === 0) {
    // Only the serial: snapd asks the store for the key first (always), then adds the serial.
    const problem = db.add(serial)
    if (problem === undefined) return {check: 'signing-chain', source, status: 'passed', summary: `the serial checks against account-key ${serial.signKeyId}, which the device holds from its seed${seedNote}`}
    return {
      check: 'signing-chain',
      outcome: 'retry',
      snapd: `cannot fetch signing key for the serial: account-key (${serial.signKeyId}) not found`,
      source: 'overlord/devicestate/handlers_serial.go:766-792',
      status: 'failed',
      summary: `the answer is the serial alone, and the device cannot check it (${problem})${seedNote}: it asks the store for account-key ${serial.signKeyId}; a store-free device tries again every 60 s, without limit. Send the signer's account and account-key after the serial`,
    }
  }

  const problem = db.addBatch([...others, serial])
  if (problem !== undefined) {
    return {
      check: 'signing-chain',
      outcome: 'refused',
      snapd: `cannot accept stream of assertions from device service: ${problem}`,
      source: 'overlord/devicestate/handlers_serial.go:750-760',
      status: 'failed',
      summary: `the serial and the assertions with it do not chain to a trusted root (${db.trustedAccounts().join(', ')})${seedNote}`,
    }
  }

  const key = db.accountKey(serial.signKeyId)!
  return {
    check: 'signing-chain',
    source,
    status: 'passed',
    summary: `signed by account-key ${key.publicKeyId} of ${key.accountId} (valid from ${rfc3339(key.since)}${key.until ? ` until ${rfc3339(key.until)}` : ''}), signed by ${key.authorityId}, a trusted root${seedNote}`,
  }
}

interface Sending {
  endpoint: Exchange['endpoint']
  url: string
  headers: [string, string][]
  body: Buffer
  sent?: string
  maxResponseBytes: number
}

/** One POST, reported as an exchange step; the answer, or the transport error. */
async function send(sending: Sending, http: {maxRedirects: number; signal?: AbortSignal; timeoutMs: number}, redactor: SecretRedactor, report: (step: RegistrationStep) => void): Promise<SnapdResponse | TransportError> {
  const started = performance.now()
  const exchange: Exchange = {
    endpoint: sending.endpoint,
    headers: wireHeaders(sending.headers).map(([name, value]) => [name, redactor.redact(value)]),
    method: 'POST',
    redirects: [],
    sent: sending.sent === undefined ? undefined : redactor.redact(sending.sent),
    sentBytes: sending.body.length,
    url: sending.url,
    ms: 0,
  }
  try {
    const answer = await snapdRequest({body: sending.body, headers: sending.headers, method: 'POST', url: sending.url}, {...http, maxResponseBytes: sending.maxResponseBytes})
    Object.assign(exchange, {
      contentType: answer.contentType,
      excerpt: redactor.redact(answer.body.subarray(0, EXCERPT_BYTES).toString('utf8')),
      receivedBytes: answer.body.length,
      redirects: answer.redirects,
      status: answer.status,
    })
    return answer
  } catch (error) {
    if (!(error instanceof TransportError)) throw error
    exchange.transportError = error.message
    return error
  } finally {
    exchange.ms = performance.now() - started
    report({exchange, kind: 'exchange'})
  }
}

/** What snapd does with a status other than success (retryBadStatus, handlers_serial.go:292-311). */
function statusCheck(check: CheckId, answer: SnapdResponse, reason: string, source: string, redactor: SecretRedactor): CheckResult {
  if (answer.status > 500) {
    return {
      check,
      outcome: 'retry',
      snapd: `${reason}: unexpected status ${answer.status}`,
      source,
      status: 'failed',
      summary: `${answer.status}: above 500, which snapd takes as temporary: it tries again in 60 s${check === 'request-id' ? `, up to ${SNAPD_MAX_TENTATIVES} times in this attempt` : ', without limit'}`,
    }
  }

  const message = answer.contentType === 'application/json' ? serviceMessage(answer.body) : undefined
  const shown = message === undefined ? `unexpected status ${answer.status}` : redactor.redact(message)
  const why =
    answer.contentType === 'application/json'
      ? message === undefined
        ? 'its JSON has no message (nor error_list[0].message), so snapd says only the status'
        : "snapd shows the service's message"
      : `its Content-Type is ${answer.contentType === '' ? 'missing' : JSON.stringify(answer.contentType)}, not exactly application/json, so snapd shows no message from it`
  return {
    check,
    outcome: 'refused',
    snapd: `${reason}: ${shown}`,
    source,
    status: 'failed',
    summary: `${answer.status}: snapd does not retry 4xx and 500 within the attempt: the change fails, the next attempt comes after the back-off (5 minutes, doubling); ${why}`,
  }
}

/** What snapd does with a transport failure: the request-id POST (retryErr up to 15 times, or fatal) or the serial POST (always retried). */
function transportCheck(check: CheckId, error: TransportError, reason: string, source: string, requestId: boolean): CheckResult {
  const snapd = `${reason}: ${error.message}`
  if (error.ourLimit) return {check, outcome: 'unverified', snapd, source, status: 'failed', summary: `${error.ourLimit}; snapd would go on reading`}
  if (!requestId) return {check, outcome: 'retry', snapd, source, status: 'failed', summary: 'snapd tries to deliver the serial-request again in 60 s, without limit'}
  if (error.kind === 'fatal')
    return {check, outcome: 'refused', snapd, source, status: 'failed', summary: 'an error snapd does not retry (httputil.ShouldRetryError): the attempt fails, the next one comes after the back-off'}
  if (error.kind === 'no-network') return {check, outcome: 'retry', snapd, source, status: 'failed', summary: 'no network: snapd tries again in 30 s, silently, without counting it'}
  return {check, outcome: 'retry', snapd, source, status: 'failed', summary: `snapd tries again in 60 s, up to ${SNAPD_MAX_TENTATIVES} times in this attempt`}
}

/** The request-id of a 200 answer, read as snapd's json.Decoder reads it into requestIDResp. */
function readRequestId(body: Buffer): {value?: string; error?: string} {
  const text = body.toString('utf8')
  if (text.trim() === '') return {error: 'EOF'}
  const first = firstJsonValue(text)
  if (!first) return {error: `invalid character ${JSON.stringify(text.trimStart()[0])} looking for beginning of value`}
  const {value} = first
  if (value === null) return {value: ''}
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof GoNumber) {
    return {error: `json: cannot unmarshal ${kindOf(value)} into Go value of type devicestate.requestIDResp`}
  }

  // encoding/json matches field names case-insensitively; a later key wins.
  let found = ''
  for (const [key, inner] of Object.entries(value)) {
    if (key.toLowerCase() !== 'request-id') continue
    if (inner === null) continue
    if (typeof inner !== 'string') return {error: `json: cannot unmarshal ${kindOf(inner)} into Go struct field requestIDResp.request-id of type string`}
    found = inner
  }

  return {value: found}
}

/** The service's message as snapd reads it: `message`, else `error_list[0].message`. */
function serviceMessage(body: Buffer): string | undefined {
  const first = firstJsonValue(body.toString('utf8'))
  const value = first?.value
  if (!isObject(value)) return undefined
  const field = (object: Record<string, GoJsonValue>, name: string): GoJsonValue | undefined => {
    let found: GoJsonValue | undefined
    for (const [key, inner] of Object.entries(object)) if (key.toLowerCase() === name) found = inner
    return found
  }

  const message = field(value, 'message')
  const list = field(value, 'error_list')
  // A value of the wrong type fails Go's decoding: snapd then shows only the status.
  if (message !== undefined && message !== null && typeof message !== 'string') return undefined
  if (list !== undefined && list !== null && !Array.isArray(list)) return undefined
  if (typeof message === 'string' && message !== '') return message
  const entry = Array.isArray(list) ? list[0] : undefined
  if (isObject(entry)) {
    const inner = field(entry, 'message')
    if (typeof inner === 'string' && inner !== '') return inner
  }

  return undefined
}

/** The refusal code a JSON answer carries (`code`, or the Serial Vault's `error_code`), for grouping refusals. */
function serviceCode(answer: SnapdResponse): string | undefined {
  const value = firstJsonValue(answer.body.toString('utf8'))?.value
  if (!isObject(value)) return undefined
  const code = value.code ?? value.error_code
  return typeof code === 'string' && code.length <= 64 ? code : undefined
}

function isObject(value: GoJsonValue | undefined): value is Record<string, GoJsonValue> {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value) && !(value instanceof GoNumber)
}

function kindOf(value: GoJsonValue): string {
  if (value instanceof GoNumber) return 'number'
  if (Array.isArray(value)) return 'array'
  if (value === null) return 'null'
  return typeof value === 'boolean' ? 'bool' : typeof value === 'object' ? 'object' : 'string'
}

/** An assertion as snapd's encoder writes it into a stream: content, an empty line, the signature (no final newline). */
function encodeAssertion(assertion: Assertion): string {
  return `${Buffer.from(assertion.content).toString('utf8')}\n\n${assertion.signature}`
}
