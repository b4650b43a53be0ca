/**
 * `doctor` as an SDK: why a device did not register. Inputs (a state.json copy, snapd's REST
 * socket, the `snap` command over ssh, the device service probed from here, the gadget project)
 * → a view of the device's attempt → the steps in snapd's order → one cause and its fix, from the
 * table in causes.ts. Nothing here prints; the report never holds a secret (header values, the
 * registration body: masked wherever they would appear, snapd's log lines included).
 */

import {SecretRedactor} from '../device/redact.js'
import {UserError} from '../errors.js'
import {readBoundedFile} from '../support/bounded-read.js'
import {type Diagnosis, diagnose} from './diagnose.js'
import {configValue, type DeviceView} from './device-view.js'
import {type GadgetProjectView, readGadgetProject} from './gadget-project.js'
import {probeService} from './probe.js'
import type {ProbeReport} from './probe-types.js'
import {readSocket, DEFAULT_SOCKET} from './socket.js'
import {readSsh, type SshOptions} from './ssh.js'
import {readStateFile} from './state-file.js'

export {CAUSE_CODES, CAUSES, type CauseCode, type CauseSpec, type SnapdSays} from './causes.js'
export {classifyMessage, type Classified} from './classify.js'
export type {CauseReport, Diagnosis, Evidence, StepReport} from './diagnose.js'
export {diagnose} from './diagnose.js'
export type {ChangeView, DeviceView, LogLine, TaskView} from './device-view.js'
export {readGadgetProject, type GadgetProjectView} from './gadget-project.js'
export {probeService, type ProbeOptions} from './probe.js'
export type {CertificateInfo, ProbeReport} from './probe-types.js'
export {DEFAULT_SOCKET, readSocket, type SocketOptions} from './socket.js'
export {SSH_COMMANDS, readSsh, type SshOptions} from './ssh.js'
export {MAX_STATE_BYTES, readStateFile, stateView} from './state-file.js'
export {STEPS, type StepId, type StepStatus} from './steps.js'

export interface DoctorOptions {
  /** A copy of the device's /var/lib/snapd/state.json. */
  state?: string
  /** snapd's REST socket on this machine (DEFAULT_SOCKET when true). */
  socket?: string | true
  /** The device over ssh. */
  ssh?: SshOptions
  /** The device service to probe from here; `true`: the URL the device or the gadget project sets. */
  service?: string | true
  /** The gadget project. */
  gadget?: string
  /** The snapd version, when the inputs do not say it. */
  snapd?: string
  /** Make the request-id POST of the probe (default true; it consumes a nonce). */
  requestId?: boolean
  /** PEM files of CAs the device trusts (its store-certs), for the probe. */
  ca?: string[]
  /** Each network wait's limit. */
  timeoutMs?: number
  env?: Readonly<Record<string, string | undefined>>
}

export interface DoctorReport extends Diagnosis {
  /** What was read, and from where. */
  inputs: {kind: 'state' | 'socket' | 'ssh' | 'service' | 'gadget'; where: string}[]
  probe?: ProbeReport
}

const MAX_CA_BYTES = 1024 * 1024

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const env = options.env ?? process.env
  const inputs: DoctorReport['inputs'] = []
  const views: DeviceView[] = []
  if (options.state !== undefined) {
    views.push(readStateFile(options.state))
    inputs.push({kind: 'state', where: options.state})
  }

  if (options.socket !== undefined) {
    const path = options.socket === true ? DEFAULT_SOCKET : options.socket
    views.push(await readSocket({path, timeoutMs: options.timeoutMs}))
    inputs.push({kind: 'socket', where: path})
  }

  if (options.ssh !== undefined) {
    views.push(await readSsh(options.ssh))
    inputs.push({kind: 'ssh', where: options.ssh.destination})
  }

  const gadget = options.gadget === undefined ? undefined : readGadgetProject(options.gadget, env)
  if (gadget) inputs.push({kind: 'gadget', where: gadget.dir})
  if (views.length === 0 && options.service === undefined && !gadget) {
    throw new UserError('E_DOCTOR_INPUT', 'doctor needs something to read: --state FILE, --socket, --ssh USER@HOST, --service URL or --gadget DIR', {
      hint: 'on the device: snap-gadget doctor --socket; from a desk: snap-gadget doctor --ssh user@device, or --state with a copy of /var/lib/snapd/state.json',
    })
  }

  const view = mergeViews(views)
  const secrets = new SecretRedactor()
  if (view) addDeviceSecrets(secrets, view)
  for (const header of gadget?.headers ?? []) if (header.value) secrets.add(header.value, '<redacted>')

  let probe: ProbeReport | undefined
  if (options.service !== undefined) {
    const target = serviceTarget(options.service, view, gadget)
    if (target.url === undefined) {
      throw new UserError('E_DOCTOR_SERVICE', '--service was given without a URL, and neither the device nor the gadget project sets device-service.url', {
        hint: 'give the URL: --service https://…/v1/ (a device without device-service.url registers with the store)',
      })
    }

    const ca = (options.ca ?? []).map((file) => readBoundedFile(file, MAX_CA_BYTES, {what: 'PEM certificate'}).toString('utf8'))
    probe = await probeService({ca, headers: target.headers, headersFrom: target.headersFrom, requestId: options.requestId, timeoutMs: options.timeoutMs, url: target.url, urlFrom: target.urlFrom})
    inputs.push({kind: 'service', where: probe.url})
  }

  const report: DoctorReport = {...diagnose({gadget, probe, snapdVersion: options.snapd, view}), inputs, probe}
  return maskDeep(report, secrets)
}

/** Several inputs about one device: the first (the most detailed) leads, the others fill in what it lacks. */
function mergeViews(views: DeviceView[]): DeviceView | undefined {
  if (views.length === 0) return undefined
  const [first, ...rest] = views
  const merged: DeviceView = {...first, gaps: [...first.gaps]}
  for (const other of rest) {
    merged.snapdVersion ??= other.snapdVersion
    merged.deviceTime ??= other.deviceTime
    merged.gadgetConfig ??= other.gadgetConfig
    merged.systemConfig ??= other.systemConfig
    merged.hasModel ??= other.hasModel
    merged.gadget ??= other.gadget
    if (merged.changes.length === 0) merged.changes = other.changes
    merged.gaps.push(...other.gaps)
  }

  return merged
}

function addDeviceSecrets(secrets: SecretRedactor, view: DeviceView): void {
  const headers = configValue(view.gadgetConfig, 'device-service.headers')
  if (headers && typeof headers === 'object') {
    for (const value of Object.values(headers)) if (typeof value === 'string') secrets.add(value, '<redacted>')
  }

  // The body may carry hardware-bound data and signatures: shown by its size and keys only.
  const body = configValue(view.gadgetConfig, 'registration.body')
  if (typeof body === 'string' && body.length > 0) secrets.add(body, '<registration.body>')
  else if (body && typeof body === 'object') secrets.add(JSON.stringify(body), '<registration.body>')
  for (const value of Object.values((body && typeof body === 'object' ? body : {}) as Record<string, unknown>)) {
    if (typeof value === 'string' && value.length >= 16) secrets.add(value, '<redacted>')
  }

  // The api-key the factory gave a snap-gadget gadget (`snap set <gadget> api-key=…`).
  const apiKey = configValue(view.gadgetConfig, 'api-key')
  if (typeof apiKey === 'string') secrets.add(apiKey, '<redacted>')
}

function serviceTarget(service: string | true, view: DeviceView | undefined, gadget: GadgetProjectView | undefined): {url?: string; urlFrom: string; headers?: Record<string, string>; headersFrom?: string} {
  const deviceUrl = configValue(view?.gadgetConfig, 'device-service.url')
  const url = service !== true ? service : typeof deviceUrl === 'string' && deviceUrl !== '' ? deviceUrl : gadget?.serviceUrl
  const urlFrom = service !== true ? '--service' : typeof deviceUrl === 'string' && deviceUrl !== '' ? "the device's device-service.url" : 'the gadget project'
  const deviceHeaders = configValue(view?.gadgetConfig, 'device-service.headers')
  if (deviceHeaders && typeof deviceHeaders === 'object') {
    const headers = Object.fromEntries(Object.entries(deviceHeaders).filter((e): e is [string, string] => typeof e[1] === 'string'))
    return {headers, headersFrom: "the device's device-service.headers", url, urlFrom}
  }

  if (gadget && gadget.headers.length > 0) {
    const headers = Object.fromEntries(gadget.headers.filter((h) => h.value !== undefined).map((h) => [h.name, h.value!]))
    const missing = gadget.headers.filter((h) => h.value === undefined).map((h) => (h.env ? `$${h.env}` : h.name))
    return {headers, headersFrom: `the gadget project${missing.length > 0 ? ` (not set here: ${missing.join(', ')})` : ''}`, url, urlFrom}
  }

  return {url, urlFrom}
}

/** Every string of the report with the secrets masked. */
function maskDeep<T>(value: T, secrets: SecretRedactor): T {
  if (typeof value === 'string') return secrets.redact(value) as T
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, secrets)) as T
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, secrets)])) as T
  }

  return value
}
