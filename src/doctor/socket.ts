/**
 * `--socket PATH`: snapd's REST API on the machine it runs on (registration-failures.md §4).
 * Read-only GETs, each with a time limit and a size limit: the system (snapd's version), the model
 * and serial assertions (as JSON headers), the changes with their tasks and logs, the installed
 * snaps, and the gadget's and the system's config (readable by root only: said when refused).
 * The device's clock comes from the answers' Date header.
 */
import {request} from 'node:http'

import {UserError} from '../errors.js'
import {type ChangeView, type DeviceView, parseLogLine, statusName, taskStatusName, type TaskView} from './device-view.js'

export const DEFAULT_SOCKET = '/run/snapd.socket'

export interface SocketOptions {
  path: string
  /** Each request's limit (default 10 s). */
  timeoutMs?: number
}

const MAX_ANSWER_BYTES = 32 * 1024 * 1024
const DEFAULT_TIMEOUT_MS = 10_000
const MAX_CHANGES = 20

interface Answer {
  status: number
  date?: string
  result: unknown
}

type Json = Record<string, unknown>
const isRecord = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v)
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

export async function readSocket(options: SocketOptions): Promise<DeviceView> {
  const get = (path: string) => getJson(options.path, path, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  const view: DeviceView = {changes: [], gaps: [], source: {kind: 'socket', where: options.path}}

  const info = await get('/v2/system-info')
  if (info.status !== 200 || !isRecord(info.result)) throw socketError(options.path, `GET /v2/system-info answered ${info.status}`)
  const version = text(info.result.version)
  if (version) view.snapdVersion = {from: 'snapd API /v2/system-info', version}
  if (info.date) {
    const time = new Date(info.date)
    if (Number.isFinite(time.getTime())) view.deviceTime = {from: "the snapd API's Date header", time}
  }

  const model = await get('/v2/model?json=true')
  if (model.status === 404) view.hasModel = false
  else if (model.status === 200 && isRecord(model.result) && isRecord(model.result.headers)) {
    const headers = model.result.headers
    view.hasModel = true
    view.brand = text(headers['brand-id'])
    view.model = text(headers.model)
    view.gadget = text(headers.gadget)
  } else view.gaps.push(`GET /v2/model answered ${model.status}`)

  const serial = await get('/v2/model/serial?json=true')
  if (serial.status === 200 && isRecord(serial.result) && isRecord(serial.result.headers)) {
    view.serial = text(serial.result.headers.serial)
    view.keyId = text(serial.result.headers['device-key-sha3-384'])
  } else if (serial.status !== 404) view.gaps.push(`GET /v2/model/serial answered ${serial.status}`)

  const changes = await get('/v2/changes?select=all')
  if (changes.status === 200 && Array.isArray(changes.result)) {
    const registrations: ChangeView[] = []
    for (const change of changes.result) {
      if (!isRecord(change)) continue
      if (change.kind === 'seed' && change.status !== 'Done') view.seeding = {id: String(change.id ?? ''), status: statusName(change.status)}
      if (change.kind === 'seed' && change.status === 'Done') view.seeded = true
      if (change.kind === 'become-operational') registrations.push(changeView(change))
    }

    registrations.sort((a, b) => Number(a.id) - Number(b.id))
    view.changes = registrations.slice(-MAX_CHANGES)
    if (view.seeding) view.seeded = false
  } else view.gaps.push(`GET /v2/changes answered ${changes.status}`)

  const snaps = await get('/v2/snaps')
  if (snaps.status === 200 && Array.isArray(snaps.result)) {
    view.snapCount = snaps.result.length
    view.gadget ??= snaps.result.map((s) => (isRecord(s) && s.type === 'gadget' ? text(s.name) : undefined)).find(Boolean)
  }

  if (view.gadget) {
    const conf = await get(`/v2/snaps/${encodeURIComponent(view.gadget)}/conf`)
    if (conf.status === 200 && isRecord(conf.result)) view.gadgetConfig = conf.result
    else if (conf.status === 401 || conf.status === 403)
      view.gaps.push(`the gadget's config needs root (GET /v2/snaps/${view.gadget}/conf answered ${conf.status}): run doctor with sudo to compare the registration options`)
    else if (conf.status === 400) view.gadgetConfig = {}
    else view.gaps.push(`GET /v2/snaps/${view.gadget}/conf answered ${conf.status}`)
  }

  const system: Json = {}
  for (const key of ['proxy', 'store.access']) {
    const conf = await get(`/v2/snaps/system/conf?keys=${key}`)
    if (conf.status === 200 && isRecord(conf.result)) Object.assign(system, key === 'proxy' ? conf.result : {store: {access: conf.result[key]}})
    else if (conf.status === 401 || conf.status === 403) view.gaps.push(`the system config needs root (GET /v2/snaps/system/conf answered ${conf.status})`)
  }

  view.systemConfig = system
  return view
}

function changeView(change: Json): ChangeView {
  const tasks: TaskView[] = (Array.isArray(change.tasks) ? change.tasks : []).filter(isRecord).map((task) => ({
    id: text(task.id),
    kind: text(task.kind),
    log: (Array.isArray(task.log) ? task.log : [])
      .filter((l): l is string => typeof l === 'string')
      .slice(-50)
      .map((l) => parseLogLine(l)),
    readyTime: text(task['ready-time']),
    spawnTime: text(task['spawn-time']),
    status: taskStatusName(task.status),
    summary: text(task.summary) ?? '',
  }))
  return {id: String(change.id ?? ''), readyTime: text(change['ready-time']), spawnTime: text(change['spawn-time']), status: statusName(change.status), tasks}
}

function socketError(path: string, reason: string, error?: unknown): UserError {
  return new UserError('E_DOCTOR_SOCKET', `cannot read snapd's API on ${path}: ${reason}`, {
    cause: error,
    hint: `run doctor on the device where snapd runs (its socket is ${DEFAULT_SOCKET}), or read it from a desk with --ssh or --state`,
    kind: 'io',
  })
}

/** One GET on the unix socket: status, Date header and `result` of snapd's JSON envelope. */
function getJson(socketPath: string, path: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({headers: {Accept: 'application/json', Host: 'localhost'}, method: 'GET', path, socketPath}, (res) => {
      const chunks: Buffer[] = []
      let length = 0
      res.on('data', (chunk: Buffer) => {
        length += chunk.length
        if (length > MAX_ANSWER_BYTES) {
          req.destroy(socketError(socketPath, `GET ${path} sent more than ${MAX_ANSWER_BYTES} bytes`))
          return
        }

        chunks.push(chunk)
      })
      res.once('end', () => {
        clearTimeout(timer)
        let body: unknown
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        } catch {
          reject(socketError(socketPath, `GET ${path} did not answer JSON (is this snapd's socket?)`))
          return
        }

        resolve({date: res.headers.date, result: isRecord(body) ? body.result : undefined, status: res.statusCode ?? 0})
      })
      res.once('error', (error) => {
        clearTimeout(timer)
        reject(socketError(socketPath, error.message, error))
      })
    })
    const timer = setTimeout(() => req.destroy(socketError(socketPath, `GET ${path}: no answer within ${timeoutMs / 1000} s`)), timeoutMs)
    req.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (error instanceof UserError) reject(error)
      else reject(socketError(socketPath, error.code === 'ENOENT' ? 'no such socket (snapd is not running here, or runs elsewhere)' : error.code === 'EACCES' ? 'permission denied' : error.message, error))
    })
    req.end()
  })
}
