/**
 * The diagnosis: what the inputs say about the device (a DeviceView), what the service answered
 * from here (a ProbeReport) and what the gadget project would set → the checklist of steps in
 * snapd's order, and the one cause with its fix and evidence. Pure: nothing here reads or prints.
 */
import {CAUSES, type CauseCode} from './causes.js'
import {type Classified, classifyMessage} from './classify.js'
import {type ChangeView, configValue, type DeviceView, findTask, isReady, latestChange, type LogLine, type TaskView} from './device-view.js'
import type {GadgetProjectView} from './gadget-project.js'
import type {ProbeReport} from './probe-types.js'
import {STEPS, type StepId, stepIndex, type StepStatus} from './steps.js'
import {atLeast, SNAPD_CHANGES} from './versions.js'

export interface Evidence {
  /** Where it was read: `state.json task 3 (Request device serial, Error)`, `probe: TLS`. */
  from: string
  text: string
}

export interface StepReport {
  id: StepId
  title: string
  status: StepStatus
  /** Why it is skipped or unknown, in a few words. */
  note?: string
}

export interface CauseReport {
  code: CauseCode
  step: StepId
  title: string
  /** The cause, in one sentence. */
  cause: string
  fix: string
  /** What this device's snapd version changes to the fix or the behaviour. */
  versionNote?: string
  evidence: Evidence[]
}

export interface Diagnosis {
  registered: boolean
  device: {brand?: string; model?: string; serial?: string; keyId?: string; gadget?: string}
  snapd?: {version: string; from: string}
  /** The registration options the device has (secrets masked by the caller). */
  options?: Record<string, unknown>
  attempts?: {count: number; failed: number; latest?: {id: string; status: string; spawnTime?: string; readyTime?: string}}
  steps: StepReport[]
  cause?: CauseReport
  /** Everything else worth knowing (a gadget project that differs, a store proxy, what could not be read). */
  notes: string[]
}

interface DiagnoseInput {
  view?: DeviceView
  probe?: ProbeReport
  gadget?: GadgetProjectView
  /** --snapd: the version to judge for when the inputs do not say it. */
  snapdVersion?: string
}

interface Found {
  code: CauseCode
  step: StepId
  status: 'failed' | 'retrying' | 'in-progress'
  classified?: Classified
  evidence: Evidence[]
}

export function diagnose(input: DiagnoseInput): Diagnosis {
  const {view, probe, gadget} = input
  const snapd = view?.snapdVersion ?? (input.snapdVersion ? {from: '--snapd', version: input.snapdVersion} : view ? inferVersion(view) : undefined)
  const notes: string[] = []
  const diagnosis: Diagnosis = {device: {}, notes, registered: false, snapd, steps: []}

  if (view) {
    diagnosis.device = {brand: view.brand, gadget: view.gadget, keyId: view.keyId, model: view.model, serial: view.serial}
    diagnosis.options = registrationOptions(view)
    const failed = view.changes.filter((c) => c.status === 'Error').length
    const latest = latestChange(view)
    diagnosis.attempts = {
      count: view.changes.length,
      failed,
      latest: latest && {id: latest.id, readyTime: latest.readyTime, spawnTime: latest.spawnTime, status: latest.status},
    }
    for (const gap of view.gaps) notes.push(gap)
  }

  let found: Found | undefined
  if (view?.serial) {
    diagnosis.registered = true
  } else if (view) {
    found = deviceCause(view, snapd?.version)
  }

  // What the service answered from here: evidence for the device's cause, or the cause itself
  // when the device says nothing more precise (no device input, a silent retry, in progress).
  if (probe) {
    const fromProbe = probeCause(probe, view)
    if (fromProbe && (!found || found.code === 'in-progress' || (found.code === 'unknown-error' && fromProbe.code !== 'unknown-error'))) {
      found = {...fromProbe, evidence: [...(found?.evidence ?? []), ...fromProbe.evidence]}
    } else if (found) {
      found.evidence.push(...probeEvidence(probe, found.code, view))
    }

    notes.push(...probe.notes)
  }

  if (gadget) {
    const compared = compareGadget(gadget, view, snapd?.version)
    notes.push(...compared.notes)
    if (diagnosis.registered) {
      // Nothing to explain.
    } else if (compared.cause && (!found || ['serial-request-invalid', 'service-refused', 'in-progress'].includes(found.code))) found = compared.cause
    else if (compared.cause) notes.push(`${CAUSES[compared.cause.code].cause} (${compared.cause.evidence.map((e) => e.text).join('; ')})`)
  }

  if (view && !view.serial && found) {
    const proxy = proxyStoreCause(view, found)
    if (proxy) found = proxy
  }

  if (view) notes.push(...configNotes(view, found), ...backoffNotes(view, diagnosis.registered))
  diagnosis.steps = checklist(view, found, diagnosis.registered, snapd?.version)
  if (found) {
    const spec = CAUSES[found.code]
    diagnosis.cause = {
      cause: fill(spec.cause, view, probe),
      code: found.code,
      evidence: found.evidence,
      fix: fixFor(found, view, probe, gadget, snapd?.version),
      step: found.step,
      title: spec.title,
      versionNote: versionNote(found.code, snapd?.version),
    }
  }

  return diagnosis
}

// -- the device's side ---------------------------------------------------------------------------

/**
 * A lower bound of snapd's version from what the state shows, when nothing names it (a device
 * that never refreshed snapd has no patch-sublevel-last-version in its state).
 */
function inferVersion(view: DeviceView): {version: string; from: string} | undefined {
  if (configValue(view.gadgetConfig, 'registration.request-id') !== undefined) return {from: 'inferred: snapd set registration.request-id, which 2.74 brought', version: '2.74+'}
  const logs = view.changes.flatMap((c) => c.tasks.flatMap((t) => t.log))
  if (logs.some((l) => /skipping getting serial, store is marked as offline/.test(l.text))) return {from: 'inferred: snapd skipped the serial as offline, which 2.61 brought', version: '2.61+'}
  return undefined
}

function deviceCause(view: DeviceView, version: string | undefined): Found | undefined {
  const source = view.source.kind === 'state' ? 'state.json' : view.source.kind === 'socket' ? 'snapd API' : 'snap CLI'
  if (view.hasModel === false || (view.source.kind === 'state' && !view.brand && !view.model)) {
    return {code: 'no-model', evidence: [{from: source, text: view.hasModel === false ? 'no model assertion yet' : 'auth.device has no brand and model'}], status: 'failed', step: 'model'}
  }

  if (view.seeded === false || (view.seeding && view.seeding.status !== 'Done')) {
    const seeding = view.seeding ? `the seeding change ${view.seeding.id} is ${view.seeding.status}` : 'seeded is false'
    return {code: 'not-seeded', evidence: [{from: source, text: seeding}], status: 'failed', step: 'model'}
  }

  const change = latestChange(view)
  const offline = offlineCause(view, version)
  if (!change) {
    if (offline) return {...offline, evidence: [...offline.evidence, {from: source, text: 'no "Initialize device" change'}]}
    if (view.gadget === undefined && view.snapCount === 0) {
      return {
        code: 'classic-no-snaps',
        evidence: [{from: source, text: `no "Initialize device" change; model ${view.brand ?? '?'}/${view.model ?? '?'} has no gadget; no snaps are installed`}],
        status: 'failed',
        step: 'model',
      }
    }

    return {code: 'not-attempted', evidence: [{from: source, text: 'no "Initialize device" change'}], status: 'failed', step: 'model'}
  }

  const changeFrom = `${source} change ${change.id} (Initialize device, ${change.status})`
  const attempt: Evidence[] = view.changes.length > 1 ? [{from: source, text: `${view.changes.length} attempts; ${view.changes.filter((c) => c.status === 'Error').length} failed`}] : []

  const hook = findTask(change, 'run-hook')
  if (hook && hook.status === 'Error') return taskFailure(view, change, hook, 'prepare-device', changeFrom, attempt)
  if (hook && !isReady(hook.status) && hook.status !== 'Done') return inProgress('prepare-device', hook, changeFrom)

  const key = findTask(change, 'generate-device-key')
  if (key && key.status === 'Error') return taskFailure(view, change, key, 'device-key', changeFrom, attempt)
  if (key && (key.status === 'Doing' || key.status === 'Do')) return inProgress('device-key', key, changeFrom)

  const serial = findTask(change, 'request-serial')
  if (!serial) {
    if (offline) return offline
    if (change.status === 'Error') return unknownFailure(change, changeFrom)
    return {code: 'in-progress', evidence: [{from: changeFrom, text: 'no "Request device serial" task'}], status: 'in-progress', step: 'request-id'}
  }

  const from = taskFrom(source, serial)
  if (serial.status === 'Error') return taskFailure(view, change, serial, 'request-id', changeFrom, attempt)
  if (serial.status === 'Done') {
    const skipped = serial.log.find((l) => /skipping getting serial, store is marked as offline/.test(l.text))
    if (skipped) {
      const cause = offline ?? {code: 'store-offline' as const, evidence: [], status: 'failed' as const, step: 'request-id' as const}
      return {...cause, evidence: [{from, text: logText(skipped)}, ...cause.evidence]}
    }

    return unknownFailure(change, changeFrom)
  }

  if (serial.status === 'Doing' || serial.status === 'Do' || serial.status === 'Wait') {
    const last = serial.log.at(-1)
    if (last && last.level === 'ERROR') {
      const classified = classifyMessage(last.text, {bodyIsObject: bodyIsObject(view)})
      const retries = serial.log.filter((l) => l.level === 'ERROR').length
      const evidence: Evidence[] = [{from, text: logText(last)}]
      if (retries > 1) evidence.push({from, text: `${retries} failed tries logged; snapd tries again${serial.atTime ? ` at ${serial.atTime}` : ''}`})
      else if (serial.atTime) evidence.push({from, text: `snapd tries again at ${serial.atTime}`})
      return {classified, code: classified?.code ?? 'unknown-error', evidence: [...evidence, ...classifiedEvidence(classified, view)], status: 'retrying', step: classified?.step ?? 'request-id'}
    }

    if (last && /^Will poll for device serial assertion/.test(last.text)) {
      return {code: 'serial-polling', evidence: [{from, text: logText(last)}], status: 'retrying', step: 'serial-request'}
    }

    // No log line: snapd retries silently only when there is no network (the count goes back to
    // 0) or, from 2.58.1, when the certificate is not valid at the device's time (it counts up).
    if (serial.tentatives === 0 && serial.atTime) {
      return {code: 'no-network', evidence: [{from, text: `Doing, no log line, pre-poll-tentatives 0, next try at ${serial.atTime}`}], status: 'retrying', step: 'request-id'}
    }

    if (serial.tentatives !== undefined && serial.tentatives >= 1 && serial.atTime && !serial.serialRequestSaved && atLeast(version, SNAPD_CHANGES.clockSkewRetries) !== false) {
      return {
        code: 'clock-behind-retrying',
        evidence: [{from, text: `Doing, no log line, pre-poll-tentatives ${serial.tentatives} (of 20), next try at ${serial.atTime}`}],
        status: 'retrying',
        step: 'request-id',
      }
    }

    return inProgress('request-id', serial, changeFrom)
  }

  if (change.status === 'Error') return unknownFailure(change, changeFrom)
  return {code: 'in-progress', evidence: [{from: changeFrom, text: `Request device serial is ${serial.status}`}], status: 'in-progress', step: 'request-id'}
}

function taskFailure(view: DeviceView, change: ChangeView, task: TaskView, step: StepId, changeFrom: string, attempt: Evidence[]): Found {
  const from = taskFrom(view.source.kind === 'state' ? 'state.json' : view.source.kind === 'socket' ? 'snapd API' : 'snap CLI', task)
  const errors = task.log.filter((l) => l.level === 'ERROR')
  // The fatal error is the last ERROR line; the ones before are retries (or, for "cannot accept
  // stream", the same error twice).
  const fatal = errors.at(-1) ?? task.log.at(-1)
  if (!fatal) return {code: 'unknown-error', evidence: [{from, text: 'Error, with no log line'}, {from: changeFrom, text: 'failed'}, ...attempt], status: 'failed', step}
  const classified = classifyMessage(fatal.text, {bodyIsObject: bodyIsObject(view)})
  const evidence: Evidence[] = [{from, text: logText(fatal)}]
  for (const earlier of errors.slice(0, -1).reverse()) {
    if (earlier.text !== fatal.text && !fatal.text.includes(earlier.text) && !earlier.text.includes(fatal.text)) evidence.push({from, text: `before: ${logText(earlier)}`})
  }

  evidence.push(...classifiedEvidence(classified, view), ...attempt)
  return {classified, code: classified?.code ?? 'unknown-error', evidence, status: 'failed', step: classified?.step ?? guessStep(fatal.text, step)}
}

function inProgress(step: StepId, task: TaskView, changeFrom: string): Found {
  return {code: 'in-progress', evidence: [{from: changeFrom, text: `${task.summary} is ${task.status}`}], status: 'in-progress', step}
}

function unknownFailure(change: ChangeView, changeFrom: string): Found {
  const errors = change.tasks.flatMap((t) => t.log.filter((l) => l.level === 'ERROR').map((l) => ({l, t})))
  const last = errors.at(-1)
  return {
    code: 'unknown-error',
    evidence: last ? [{from: changeFrom, text: `${last.t.summary}: ${logText(last.l)}`}] : [{from: changeFrom, text: 'failed without a logged error'}],
    status: 'failed',
    step: last ? guessStep(last.l.text, 'request-id') : 'request-id',
  }
}

function guessStep(text: string, fallback: StepId): StepId {
  if (/request-id/.test(text)) return 'request-id'
  if (/prepare serial request hook|prepare-serial-request/.test(text)) return 'prepare-serial-request'
  if (/serial request|request for a serial/.test(text)) return 'serial-request'
  if (/serial assertion|signing key|assertion/.test(text)) return 'serial-checks'
  return fallback
}

function taskFrom(source: string, task: TaskView): string {
  return `${source} task${task.id ? ` ${task.id}` : ''} (${task.summary}, ${task.status})`
}

function logText(line: LogLine): string {
  return line.time ? `${line.time} ${line.level} ${line.text}` : line.text
}

function bodyIsObject(view: DeviceView): boolean {
  const body = configValue(view.gadgetConfig, 'registration.body')
  return body !== null && typeof body === 'object'
}

/** The details a classified text carries, said plainly. */
function classifiedEvidence(classified: Classified | undefined, view: DeviceView): Evidence[] {
  if (!classified) return []
  const evidence: Evidence[] = []
  if (classified.deviceTime && (classified.notBefore || classified.notAfter)) {
    const device = Date.parse(classified.deviceTime)
    const bound = Date.parse(classified.notBefore ?? classified.notAfter ?? '')
    if (Number.isFinite(device) && Number.isFinite(bound)) {
      const gap = describeDuration(Math.abs(bound - device))
      evidence.push({
        from: 'snapd',
        text: classified.notBefore
          ? `the device's clock said ${classified.deviceTime}; the certificate is valid from ${classified.notBefore}, ${gap} later`
          : `the device's clock said ${classified.deviceTime}; the certificate expired at ${classified.notAfter}, ${gap} before`,
      })
    }
  }

  if (classified.refusal) evidence.push({from: 'the service', text: `serve's refusal ${classified.refusal}`})
  if (classified.code === 'serial-hook-body-object') {
    const body = configValue(view.gadgetConfig, 'registration.body') as Record<string, unknown>
    evidence.push({from: 'gadget config', text: `registration.body is a JSON object (keys ${Object.keys(body).join(', ')}), not the string snapd reads before each try`})
  }

  if (classified.hookOutput !== undefined && classified.runtimeFix) evidence.push({from: "the hook's output", text: 'printed by the snap-gadget runtime, which names its own fix'})
  return evidence
}

function offlineCause(view: DeviceView, version: string | undefined): Found | undefined {
  if (atLeast(version, SNAPD_CHANGES.offlineAccess) === false) return undefined
  if (configValue(view.gadgetConfig, 'device-service.access') === 'offline') {
    return {code: 'device-service-offline', evidence: [{from: 'gadget config', text: 'device-service.access is "offline"'}], status: 'failed', step: 'request-id'}
  }

  if (configValue(view.systemConfig, 'store.access') === 'offline' && !configValue(view.gadgetConfig, 'device-service.url')) {
    return {code: 'store-offline', evidence: [{from: 'system config', text: 'store.access is "offline" and the gadget sets no device-service.url'}], status: 'failed', step: 'request-id'}
  }

  return undefined
}

/**
 * When snapd tries again after a failed attempt (registration-failures.md §1.1): 5 minutes after
 * the first, doubling, 24 hours once doubling would pass 12; counted in memory from the previous
 * attempt, so a snapd restart starts over at once.
 */
function backoffNotes(view: DeviceView, registered: boolean): string[] {
  const latest = latestChange(view)
  if (registered || !latest || latest.status !== 'Error') return []
  const minutes = 5 * 2 ** (view.changes.length - 1)
  const wait = minutes > 12 * 60 ? '24 h' : describeDuration(minutes * 60_000)
  return [
    `snapd tries again ${wait} after the start of the last attempt${latest.spawnTime ? ` (${latest.spawnTime})` : ''} if it has run since (5 minutes after the first, doubling); restarting snapd (sudo systemctl restart snapd) tries at once, and reruns the prepare-device hook`,
  ]
}

/**
 * A store proxy (proxy.store) with a gadget service URL: snapd sends the registration to the
 * proxy. When the failing request went to another host than device-service.url, the proxy
 * answered it.
 */
function proxyStoreCause(view: DeviceView, found: Found): Found | undefined {
  const proxy = configValue(view.systemConfig, 'proxy.store')
  const service = configValue(view.gadgetConfig, 'device-service.url')
  if (typeof proxy !== 'string' || proxy === '' || typeof service !== 'string' || !found.classified?.url) return undefined
  let serviceHost: string
  let usedHost: string
  try {
    serviceHost = new URL(service).host
    usedHost = new URL(found.classified.url).host
  } catch {
    return undefined
  }

  if (serviceHost === usedHost || !/\/api\/v1\/snaps\/auth\//.test(found.classified.url)) return undefined
  return {
    ...found,
    code: 'proxy-store-drops-url',
    evidence: [...found.evidence, {from: 'system config', text: `proxy.store is set (${proxy}); the request went to ${usedHost}, not to device-service.url's ${serviceHost}`}],
  }
}

function configNotes(view: DeviceView, found: Found | undefined): string[] {
  const notes: string[] = []
  const proxy = configValue(view.systemConfig, 'proxy.store')
  if (typeof proxy === 'string' && proxy !== '' && found?.code !== 'proxy-store-drops-url' && configValue(view.gadgetConfig, 'device-service.url')) {
    notes.push(`proxy.store is set (${proxy}): snapd registers through that store proxy when it is new enough, with device-service.url in a header`)
  }

  for (const key of ['proxy.http', 'proxy.https']) {
    const value = configValue(view.systemConfig, key)
    if (typeof value === 'string' && value !== '') notes.push(`${key} is set: the device reaches the service through ${maskUrlCredentials(value)}`)
  }

  return notes
}

// -- the service, from here ----------------------------------------------------------------------

function probeCause(probe: ProbeReport, view: DeviceView | undefined): Found | undefined {
  const evidence = probeEvidence(probe, undefined, view)
  const at = (code: CauseCode, step: StepId = 'request-id'): Found => ({code, evidence, status: 'failed', step})
  if (probe.dns && !probe.dns.ok) return at('dns')
  if (probe.tcp && !probe.tcp.ok) return at('service-unreachable')
  if (probe.tls) {
    const deviceTime = view?.deviceTime?.time
    const cert = probe.tls.certificate
    if (cert && deviceTime && Date.parse(cert.validFrom) > deviceTime.getTime()) return at('clock-behind-retrying')

    if (cert && deviceTime && Date.parse(cert.validTo) < deviceTime.getTime()) return at('certificate-expired')
    if (!probe.tls.ok) return at('tls-failed')
    if (probe.tls.hostnameError) return at('tls-hostname')
    if (!probe.tls.trusted) {
      if (probe.tls.verifyError === 'CERT_NOT_YET_VALID') return at('clock-behind')
      if (probe.tls.verifyError === 'CERT_HAS_EXPIRED') return at('certificate-expired')
      return at('tls-unknown-authority')
    }
  }

  const answer = probe.requestId
  if (answer?.error) return at('service-unreachable')
  if (answer?.status !== undefined && answer.status !== 200) {
    const text = answer.snapdWouldSay ?? `unexpected status ${answer.status}`
    const classified = classifyMessage(`cannot retrieve request-id for making a request for a serial: ${text.replace(/^cannot retrieve request-id for making a request for a serial: /, '')}`)
    if (classified) return {classified, code: classified.code, evidence, status: 'failed', step: classified.step}
  }

  return undefined
}

function probeEvidence(probe: ProbeReport, code: CauseCode | undefined, view: DeviceView | undefined): Evidence[] {
  const evidence: Evidence[] = []
  const from = `probe ${probe.url}`
  if (probe.dns) evidence.push({from, text: probe.dns.ok ? `DNS: ${probe.dns.addresses?.join(', ') ?? 'resolved'}` : `DNS: ${probe.dns.error}`})
  if (probe.tcp) evidence.push({from, text: probe.tcp.ok ? `TCP: ${probe.tcp.address} accepts connections` : `TCP: ${probe.tcp.error}`})
  if (probe.tls) {
    const cert = probe.tls.certificate
    if (cert) {
      evidence.push({
        from,
        text: `TLS: certificate for ${cert.subject}${cert.altNames ? ` (${cert.altNames})` : ''}, issued by ${cert.selfSigned ? 'itself (self-signed)' : cert.issuer}, valid ${cert.validFrom} to ${cert.validTo}`,
      })
    }

    const device = view?.deviceTime
    if (cert && device) {
      const at = device.time.getTime()
      if (Date.parse(cert.validFrom) > at) evidence.push({from, text: `TLS: the device's clock (${device.time.toISOString()}, ${device.from}) is before the certificate's start (${cert.validFrom})`})
      else if (Date.parse(cert.validTo) < at) evidence.push({from, text: `TLS: the device's clock (${device.time.toISOString()}, ${device.from}) is after the certificate's end (${cert.validTo})`})
      else evidence.push({from, text: `TLS: the certificate is valid at the device's clock (${device.time.toISOString()}, ${device.from})`})
    }

    if (!probe.tls.ok) evidence.push({from, text: `TLS: ${probe.tls.error}`})
    else evidence.push({from, text: probe.tls.trusted ? 'TLS: the chain verifies here' : `TLS: the chain does not verify here (${probe.tls.verifyError})`})
    if (probe.tls.hostnameError) evidence.push({from, text: `TLS: ${probe.tls.hostnameError}`})
  }

  if (probe.health) {
    evidence.push({from, text: probe.health.error ? `GET health: ${probe.health.error}` : `GET health: ${probe.health.status}${probe.health.detail ? ` ${probe.health.detail}` : ''}`})
  }

  const answer = probe.requestId
  if (answer) {
    if (!answer.sent) evidence.push({from, text: `POST request-id: not sent (${answer.skipped})`})
    else if (answer.error) evidence.push({from, text: `POST request-id: ${answer.error}`})
    else {
      const headers = answer.headerNames.length > 0 ? ` with header${answer.headerNames.length > 1 ? 's' : ''} ${answer.headerNames.join(', ')}${answer.headersFrom ? ` (${answer.headersFrom})` : ''}` : ' with no headers'
      evidence.push({from, text: `POST request-id${headers}: ${answer.status}${answer.status === 200 ? ' (a request-id was issued)' : `; snapd would log: ${answer.snapdWouldSay}`}`})
    }
  }

  // Keep what bears on the cause, when there is one.
  if (code === undefined) return evidence
  const relevant: Partial<Record<CauseCode, RegExp>> = {
    'api-key-invalid': /request-id/,
    'api-key-missing': /request-id/,
    'certificate-expired': /TLS/,
    'clock-behind': /TLS/,
    'clock-behind-retrying': /TLS/,
    dns: /DNS/,
    'service-error': /health|request-id/,
    'service-unreachable': /DNS|TCP|health|request-id/,
    'service-url-wrong': /health|request-id/,
    'tls-failed': /TLS/,
    'tls-hostname': /TLS/,
    'tls-unknown-authority': /TLS/,
  }
  const pattern = relevant[code]
  return pattern ? evidence.filter((e) => pattern.test(e.text)) : evidence
}

// -- the gadget project --------------------------------------------------------------------------

function compareGadget(gadget: GadgetProjectView, view: DeviceView | undefined, version: string | undefined): {notes: string[]; cause?: Found} {
  const notes = [...gadget.problems]
  let cause: Found | undefined
  if (gadget.hooks.includes('prepare-serial-request') && atLeast(version, SNAPD_CHANGES.prepareSerialRequest) === false) {
    cause = {
      code: 'serial-hook-ignored',
      evidence: [{from: `gadget project ${gadget.dir}`, text: `ships snap/hooks/prepare-serial-request; the device runs snapd ${version}`}],
      status: 'failed',
      step: 'prepare-serial-request',
    }
  }

  if (!view || view.gadgetConfig === undefined) return {cause, notes}
  const deviceUrl = configValue(view.gadgetConfig, 'device-service.url')
  if (gadget.serviceUrl !== undefined && typeof deviceUrl === 'string' && normalizeUrl(deviceUrl) !== normalizeUrl(gadget.serviceUrl)) {
    notes.push(`the device's device-service.url is ${deviceUrl}; the gadget project sets ${gadget.serviceUrl} (${gadget.serviceUrlFrom}): the device runs another gadget revision, or its hook was changed`)
  }

  const deviceHeaders = configValue(view.gadgetConfig, 'device-service.headers')
  const names = deviceHeaders && typeof deviceHeaders === 'object' ? Object.keys(deviceHeaders) : []
  for (const header of gadget.headers) {
    if (!names.includes(header.name)) {
      notes.push(`the gadget project sets the header ${header.name}; the device sends ${names.length > 0 ? names.join(', ') : 'no headers'}`)
      continue
    }

    const value = (deviceHeaders as Record<string, unknown>)[header.name]
    if (header.value !== undefined && typeof value === 'string' && value !== header.value) {
      notes.push(`the device's ${header.name} is not the value the gadget project gives it (${header.env ? `$${header.env}` : 'its literal'})`)
    } else if (header.value !== undefined && value === header.value) {
      notes.push(`the device's ${header.name} is the one the gadget project gives it (${header.env ? `$${header.env}` : 'its literal'})`)
    }
  }

  return {cause, notes}
}

function normalizeUrl(url: string): string {
  return url.endsWith('/') ? url : `${url}/`
}

// -- the checklist -------------------------------------------------------------------------------

function checklist(view: DeviceView | undefined, found: Found | undefined, registered: boolean, version: string | undefined): StepReport[] {
  const change = view ? latestChange(view) : undefined
  const hookTask = findTask(change, 'run-hook')
  const serialHookRan = view !== undefined && configValue(view.gadgetConfig, 'registration.request-id') !== undefined
  // Why a step is not part of this device's path: `definite` when the device says so (no hook
  // task; a snapd without the hook), else only what the options suggest, which says nothing about
  // a step the attempt never reached.
  const skipped = (id: StepId): {reason: string; definite: boolean} | undefined => {
    if (id === 'prepare-device' && change && !hookTask) return {definite: true, reason: 'the gadget has no prepare-device hook'}
    if (id === 'prepare-serial-request') {
      if (atLeast(version, SNAPD_CHANGES.prepareSerialRequest) === false) return {definite: true, reason: `snapd ${version} has no such hook (2.74+)`}
      if (!serialHookRan && found?.step !== 'prepare-serial-request') {
        return {definite: false, reason: view?.gadgetConfig === undefined ? 'not known' : 'no sign of the hook (registration.request-id is unset)'}
      }
    }

    return undefined
  }

  if (!view) {
    // The service alone: only what the probe reached can be judged.
    return STEPS.map((s) => {
      if (s.id === 'request-id' && found) return {id: s.id, status: 'failed', title: s.title}
      return {id: s.id, note: 'not known without the device', status: 'unknown', title: s.title}
    })
  }

  const failing = registered ? stepIndex('registered') + 1 : found ? stepIndex(found.step) : -1
  return STEPS.map((s, i): StepReport => {
    const skip = skipped(s.id)
    const skippedStep: StepReport | undefined = skip && {id: s.id, note: skip.reason, status: 'skipped', title: s.title}
    if (registered) return skippedStep && s.id !== 'registered' ? skippedStep : {id: s.id, status: 'ok', title: s.title}
    if (failing === -1) return {id: s.id, status: 'unknown', title: s.title}
    if (i < failing) return skippedStep ?? {id: s.id, status: 'ok', title: s.title}
    if (i === failing) return {id: s.id, status: found!.status, title: s.title}
    return skip?.definite ? skippedStep! : {id: s.id, status: 'not-reached', title: s.title}
  })
}

// -- fixes, filled in ----------------------------------------------------------------------------

function fill(text: string, view: DeviceView | undefined, probe: ProbeReport | undefined): string {
  let out = text
  if (view?.gadget) out = out.replaceAll('<gadget>', view.gadget)
  const url = configValue(view?.gadgetConfig, 'device-service.url') ?? probe?.url
  if (typeof url === 'string') out = out.replaceAll('<url>', url)
  return out
}

function fixFor(found: Found, view: DeviceView | undefined, probe: ProbeReport | undefined, gadget: GadgetProjectView | undefined, version: string | undefined): string {
  const spec = CAUSES[found.code]
  // The snap-gadget runtime says its own fix; serve's message ends with its own.
  if (found.classified?.runtimeFix) return `${found.classified.runtimeFix} (the hook's own fix; then snapd runs it again with the next attempt)`
  let fix = fill(spec.fix, view, probe)
  if (found.code === 'tls-unknown-authority') {
    const storeCerts = atLeast(version, SNAPD_CHANGES.storeCerts)
    if (storeCerts === true)
      fix = "copy the service's CA certificate to /var/lib/snapd/ssl/store-certs/<name>.pem on the device (snapd 2.59+ trusts it for the device service; the gadget can ship it), or serve a certificate from a public CA"
    if (storeCerts === false)
      fix = "serve a certificate from a CA in the device's system trust store (snapd before 2.59 reads no store-certs), or refresh snapd to 2.59+ and copy the CA to /var/lib/snapd/ssl/store-certs/<name>.pem"
  }

  if (found.classified?.refusal && found.classified.serviceMessage) {
    const own = /: ([^:]+)$/.exec(found.classified.serviceMessage)?.[1]
    if (own && !fix.includes(own)) fix = `${fix}; the service says: ${own}`
  }

  if (gadget && (found.code === 'api-key-invalid' || found.code === 'api-key-missing')) {
    const header = gadget.headers.find((h) => /api[-_]?key/i.test(h.name))
    if (header?.env) fix = `${fix}; the gadget project takes it from $${header.env}`
  }

  return fix
}

function versionNote(code: CauseCode, version: string | undefined): string | undefined {
  const known = version !== undefined
  switch (code) {
    case 'tls-unknown-authority': {
      const storeCerts = atLeast(version, SNAPD_CHANGES.storeCerts)
      if (storeCerts === undefined) return "snapd's version is not known from these inputs: 2.59+ trusts /var/lib/snapd/ssl/store-certs/*.pem, older snapd only the system's CA store (--snapd VERSION says which)"
      if (storeCerts === true) return `snapd ${version} reads /var/lib/snapd/ssl/store-certs/*.pem (2.59+): a CA there is trusted for the device service`
      if (storeCerts === false) return `snapd ${version} is older than 2.59 and trusts only the system's CA store: serve a certificate from a public CA, or refresh snapd`
      return undefined
    }

    case 'clock-behind': {
      const silent = atLeast(version, SNAPD_CHANGES.clockSkewRetries)
      if (silent === true) return `snapd ${version} (2.58.1+) retried silently for 37.5 minutes before this error; the next attempt follows its back-off`
      if (silent === false) return `snapd ${version} gives up at once (2.58.1+ retries for 37.5 minutes); the next attempt follows its back-off (5 minutes, doubling)`
      return 'snapd before 2.58.1 gives up at once; 2.58.1+ first retries silently for 37.5 minutes'
    }

    case 'serial-hook-body-object':
    case 'serial-hook-body-invalid':
    case 'serial-hook-failed':
      return known ? `snapd ${version} runs the prepare-serial-request hook (2.74+)` : undefined
    default:
      return undefined
  }
}

// -- small helpers -------------------------------------------------------------------------------

/** The registration options the device has, for the report (values masked by the caller). */
function registrationOptions(view: DeviceView): Record<string, unknown> | undefined {
  if (view.gadgetConfig === undefined) return undefined
  const pick = (path: string) => configValue(view.gadgetConfig, path)
  const options: Record<string, unknown> = {}
  for (const key of ['device-service.url', 'device-service.access', 'registration.proposed-serial', 'registration.request-id']) {
    const value = pick(key)
    if (value !== undefined) options[key] = value
  }

  const headers = pick('device-service.headers')
  if (headers && typeof headers === 'object') options['device-service.headers'] = Object.fromEntries(Object.keys(headers).map((name) => [name, '<redacted>']))
  const body = pick('registration.body')
  if (typeof body === 'string') options['registration.body'] = `${Buffer.byteLength(body)} bytes`
  else if (body !== undefined) options['registration.body'] = body && typeof body === 'object' ? `a JSON object (${Object.keys(body).join(', ')})` : `a JSON ${typeof body}`
  for (const key of ['proxy.store', 'proxy.http', 'proxy.https', 'store.access']) {
    const value = configValue(view.systemConfig, key)
    if (typeof value === 'string' && value !== '') options[`system ${key}`] = maskUrlCredentials(value)
  }

  return options
}

/** A proxy URL with its user and password masked. */
function maskUrlCredentials(value: string): string {
  return value.replace(/^([a-z][\w+.-]*:\/\/)[^@/]*@/i, '$1<redacted>@')
}

function describeDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000)
  if (minutes < 1) return `${Math.round(ms / 1000)} s`
  if (minutes < 120) return `${minutes} min`
  const hours = Math.round(minutes / 60)
  if (hours < 48) return `${hours} h`
  return `${Math.round(hours / 24)} days`
}
