/**
 * `--state FILE`: a copy of snapd's /var/lib/snapd/state.json, read offline
 * (registration-failures.md §3). Read bounded (a busy device's state is tens of MB; more than
 * MAX_STATE_BYTES is refused), parsed as plain JSON, and only what registration involves is kept:
 * auth.device (never its session macaroon), seeded, the gadget's and the system's config, and the
 * "Initialize device" changes with their tasks, logs and retry data.
 */
import {UserError} from '../errors.js'
import {readBoundedFile} from '../support/bounded-read.js'
import {type ChangeView, deriveChangeStatus, type DeviceView, parseLogLine, type SnapdStatus, statusName, taskStatusName, type TaskView} from './device-view.js'

/** Larger than any state.json seen on a device (they run to tens of MB), small enough to parse. */
export const MAX_STATE_BYTES = 256 * 1024 * 1024
/** How many registration changes are kept (snapd prunes old ones too). */
const MAX_CHANGES = 20
/** A task keeps at most 10 log lines; a longer list is not snapd's. */
const MAX_LOG_LINES = 50
const MAX_LOG_LINE_CHARS = 64 * 1024

type Json = Record<string, unknown>

const isRecord = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v)
const own = (o: Json | undefined, key: string): unknown => (o && Object.hasOwn(o, key) ? o[key] : undefined)
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const record = (v: unknown): Json | undefined => (isRecord(v) ? v : undefined)
/** Go's zero time, which snapd writes for "never". */
const time = (v: unknown): string | undefined => {
  const value = text(v)
  return value === undefined || value.startsWith('0001-01-01') ? undefined : value
}

/** Reads and parses the state file; input errors are UserErrors (exit 2). */
export function readStateFile(file: string): DeviceView {
  const bytes = readBoundedFile(file, MAX_STATE_BYTES, {what: 'state.json'})
  let parsed: unknown
  try {
    parsed = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw new UserError('E_DOCTOR_STATE', `${file} is not JSON: ${(error as Error).message}`, {
      file,
      hint: 'give a copy of /var/lib/snapd/state.json from the device (sudo cp /var/lib/snapd/state.json /tmp/ on the device, then scp it)',
      kind: 'io',
    })
  }

  return stateView(parsed, file)
}

/** The view of a parsed state.json. */
export function stateView(parsed: unknown, file: string): DeviceView {
  const state = record(parsed)
  const data = record(own(state, 'data'))
  if (!state || !data || !isRecord(own(state, 'changes')) || !isRecord(own(state, 'tasks'))) {
    throw new UserError('E_DOCTOR_STATE', `${file} is not snapd's state: it has no data, changes and tasks`, {
      file,
      hint: "give snapd's /var/lib/snapd/state.json (not a `snap changes` or REST dump)",
      kind: 'io',
    })
  }

  const view: DeviceView = {changes: [], gaps: [], source: {kind: 'state', where: file}}
  const version = text(own(data, 'patch-sublevel-last-version'))
  if (version) view.snapdVersion = {from: 'state.json patch-sublevel-last-version (the snapd that last started with this state)', version}

  const device = record(own(record(own(data, 'auth')), 'device'))
  view.brand = text(own(device, 'brand'))
  view.model = text(own(device, 'model'))
  view.serial = text(own(device, 'serial'))
  view.keyId = text(own(device, 'key-id'))
  const seeded = own(data, 'seeded')
  view.seeded = seeded === true

  const changes = own(state, 'changes') as Json
  const tasks = own(state, 'tasks') as Json
  const registrations: ChangeView[] = []
  for (const value of Object.values(changes)) {
    const change = record(value)
    if (!change) continue
    const kind = own(change, 'kind')
    if (kind === 'seed' && !view.seeded) {
      const taskViews = taskIds(change).flatMap((id) => {
        const task = record(own(tasks, id))
        return task ? [{status: taskStatusName(own(task, 'status'))}] : []
      })
      view.seeding = {id: String(own(change, 'id') ?? ''), status: deriveChangeStatus(statusName(own(change, 'status')), taskViews)}
    }

    if (kind !== 'become-operational') continue
    const taskViews = taskIds(change).flatMap((id) => {
      const task = record(own(tasks, id))
      return task ? [taskView(task)] : []
    })
    registrations.push({
      id: String(own(change, 'id') ?? ''),
      readyTime: time(own(change, 'ready-time')),
      spawnTime: time(own(change, 'spawn-time')),
      status: deriveChangeStatus(statusName(own(change, 'status')), taskViews),
      tasks: taskViews,
    })
  }

  registrations.sort((a, b) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id))
  view.changes = registrations.slice(-MAX_CHANGES)

  view.snapCount = Object.keys(record(own(data, 'snaps')) ?? {}).length
  view.gadget = gadgetName(data, view.changes)
  const config = record(own(data, 'config'))
  if (view.gadget) view.gadgetConfig = record(own(config, view.gadget)) ?? {}
  view.systemConfig = record(own(config, 'core')) ?? {}
  return view
}

function taskIds(change: Json): string[] {
  const ids = own(change, 'task-ids')
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : []
}

function taskView(task: Json): TaskView {
  const data = record(own(task, 'data'))
  const log = own(task, 'log')
  const view: TaskView = {
    atTime: time(own(task, 'at-time')),
    id: text(own(task, 'id')),
    kind: text(own(task, 'kind')),
    log: Array.isArray(log)
      ? log
          .filter((l): l is string => typeof l === 'string')
          .slice(-MAX_LOG_LINES)
          .map((l) => parseLogLine(l.slice(0, MAX_LOG_LINE_CHARS)))
      : [],
    readyTime: time(own(task, 'ready-time')),
    spawnTime: time(own(task, 'spawn-time')),
    status: taskStatusName(own(task, 'status')),
    summary: text(own(task, 'summary')) ?? '',
  }
  const tentatives = own(data, 'pre-poll-tentatives')
  if (typeof tentatives === 'number' && Number.isInteger(tentatives)) view.tentatives = tentatives
  const setup = record(own(data, 'serial-setup'))
  if (text(own(setup, 'serial-request'))) view.serialRequestSaved = true
  const hook = record(own(data, 'hook-setup'))
  if (hook) view.hook = {name: text(own(hook, 'hook')), snap: text(own(hook, 'snap'))}
  return view
}

/** The gadget: the snap of type gadget in data.snaps, else the snap of a registration hook. */
function gadgetName(data: Json, changes: readonly ChangeView[]): string | undefined {
  const snaps = record(own(data, 'snaps'))
  for (const [name, value] of Object.entries(snaps ?? {})) {
    if (own(record(value), 'type') === 'gadget') return name
  }

  for (const change of changes) for (const task of change.tasks) if (task.hook?.snap) return task.hook.snap
  return undefined
}

export type {SnapdStatus}
