/**
 * What an input tells about a device's registration, whatever it was read from (a state.json
 * copy, snapd's REST API, the `snap` command over ssh): the model of the attempt the diagnosis
 * works on. Every string in it came from the device: it is shown only through
 * support/echo.ts, and secrets in it are masked before anything is shown.
 */

/** A change or task status as snapd names it (state/change.go): Do, Doing, Done, Error, Hold, … */
export type SnapdStatus = 'Default' | 'Hold' | 'Do' | 'Doing' | 'Done' | 'Abort' | 'Undo' | 'Undoing' | 'Undone' | 'Error' | 'Wait' | 'Unknown'

/** snapd's status integers, in order (overlord/state/change.go). */
const STATUS_BY_NUMBER: readonly SnapdStatus[] = ['Default', 'Hold', 'Do', 'Doing', 'Done', 'Abort', 'Undo', 'Undoing', 'Undone', 'Error', 'Wait']

/** A task's status as a name: 0 (Default) means Do for a task. */
export function taskStatusName(value: unknown): SnapdStatus {
  if (typeof value === 'number') return value === 0 ? 'Do' : (STATUS_BY_NUMBER[value] ?? 'Unknown')
  return statusName(value)
}

export function statusName(value: unknown): SnapdStatus {
  if (typeof value === 'number') return STATUS_BY_NUMBER[value] ?? 'Unknown'
  if (typeof value === 'string') {
    const found = STATUS_BY_NUMBER.find((s) => s.toLowerCase() === value.toLowerCase())
    return found ?? 'Unknown'
  }

  return 'Unknown'
}

/** How snapd derives a change's status from its tasks when it stores none (change.go Status()). */
const DERIVED_ORDER: readonly SnapdStatus[] = ['Abort', 'Undoing', 'Undo', 'Doing', 'Do', 'Wait', 'Error', 'Undone', 'Done', 'Hold']

export function deriveChangeStatus(stored: SnapdStatus, tasks: readonly {status: SnapdStatus}[]): SnapdStatus {
  if (stored !== 'Default' && stored !== 'Unknown') return stored
  if (tasks.length === 0) return 'Hold'
  for (const status of DERIVED_ORDER) if (tasks.some((t) => t.status === status)) return status
  return 'Unknown'
}

export function isReady(status: SnapdStatus): boolean {
  return status === 'Done' || status === 'Undone' || status === 'Hold' || status === 'Error'
}

/** One line of a task's log: `<RFC3339> INFO|ERROR <text>` (at most 10 are kept). */
export interface LogLine {
  time?: string
  level: 'INFO' | 'ERROR' | 'OTHER'
  text: string
}

export function parseLogLine(line: string): LogLine {
  const match = /^(\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d))\s+(INFO|ERROR)\s+([\s\S]*)$/.exec(line)
  if (!match) return {level: 'OTHER', text: line}
  return {level: match[2] as 'INFO' | 'ERROR', text: match[3], time: match[1]}
}

/** The registration tasks by kind; `snap tasks` shows only summaries, which name them as well. */
const REGISTRATION_TASKS = {
  'generate-device-key': 'Generate device key',
  'request-serial': 'Request device serial',
  'run-hook': 'Run prepare-device hook',
} as const
type RegistrationTaskKind = keyof typeof REGISTRATION_TASKS

export function taskKindFromSummary(summary: string): RegistrationTaskKind | undefined {
  for (const [kind, text] of Object.entries(REGISTRATION_TASKS)) if (summary === text) return kind as RegistrationTaskKind
  return undefined
}

export interface TaskView {
  id?: string
  kind?: RegistrationTaskKind | string
  summary: string
  status: SnapdStatus
  log: LogLine[]
  /** request-serial: the request-id tries counted so far (state.json only). */
  tentatives?: number
  /** request-serial: a serial-request was saved after a 202 (state.json only). */
  serialRequestSaved?: boolean
  /** When a retry is due (state.json only). */
  atTime?: string
  spawnTime?: string
  readyTime?: string
  /** run-hook: the snap and hook. */
  hook?: {snap?: string; name?: string}
}

export interface ChangeView {
  id: string
  status: SnapdStatus
  spawnTime?: string
  readyTime?: string
  tasks: TaskView[]
}

/** Where something was read, for the evidence: `state.json`, `GET /v2/changes/3`, `snap tasks 3`. */
interface ViewSource {
  kind: 'state' | 'socket' | 'ssh'
  /** The file, socket or host, as given. */
  where: string
}

export interface DeviceView {
  source: ViewSource
  /** snapd's version: from the REST API or `snap version`, or the one that last ran the state's patches. */
  snapdVersion?: {version: string; from: string}
  /** The device's clock when it was read (REST Date header, `date -u`), for certificate checks. */
  deviceTime?: {time: Date; from: string}
  /** auth.device, or the model and serial assertions. */
  brand?: string
  model?: string
  serial?: string
  keyId?: string
  /** Whether the device has a model assertion (undefined: not known from this input). */
  hasModel?: boolean
  seeded?: boolean
  /** How many snaps are installed (a classic system without a gadget registers only once there is one). */
  snapCount?: number
  /** The seeding change, when it is not Done. */
  seeding?: {id: string; status: SnapdStatus}
  gadget?: string
  /** The gadget's config (device-service.*, registration.*), undefined when not readable. */
  gadgetConfig?: Record<string, unknown>
  /** The system ("core") config: proxy.*, store.access. */
  systemConfig?: Record<string, unknown>
  /** become-operational changes, oldest first. */
  changes: ChangeView[]
  /** What could not be read, and why (a permission, a command that failed). */
  gaps: string[]
}

/** A value at a dotted path of a config object (`device-service.url`), or undefined. */
export function configValue(config: Record<string, unknown> | undefined, path: string): unknown {
  let value: unknown = config
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined
    value = (value as Record<string, unknown>)[part]
  }

  return value
}

/** The registration change doctor reads: the newest. */
export function latestChange(view: DeviceView): ChangeView | undefined {
  return view.changes.at(-1)
}

export function findTask(change: ChangeView | undefined, kind: RegistrationTaskKind): TaskView | undefined {
  return change?.tasks.find((t) => (t.kind ?? taskKindFromSummary(t.summary)) === kind)
}
