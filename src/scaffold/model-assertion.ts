/**
 * The model assertion's input for `snap sign` (a JSON object of headers), built consistent with
 * the gadget, and checked with the rules snapd applies when it assembles a model
 * (asserts/model.go; registration-protocol.md §5): the UC20+ "extended" form with a `snaps`
 * header, or the UC16/UC18 form with `gadget`, `kernel` and `required-snaps` headers.
 */
import {UserError} from '../errors.js'
import {accountIdProblem, channelProblem, modelNameProblem, snapIdProblem, snapNameProblem, storeIdProblem, trackProblem} from './naming.js'

/** Snap ids snapd fills in itself for well-known snaps (snap/naming/wellknown.go). */
export const WELL_KNOWN_SNAP_IDS: Readonly<Record<string, string>> = {
  core: '99T7MUlRhtI3U0QFgl5mXXESAiSwt776',
  core18: 'CSO04Jhav2yK0uz97cr0ipQRyqg0qQL6',
  core20: 'DLqre5XGLbDqg9jPtiAhRRjDuPVa5X1q',
  core22: 'amcUKQILKXHHTlmSa7NMdnXSx02dNeeT',
  core24: 'dwTAh7MZZ01zyriOZErqd1JynQLiOGvM',
  snapd: 'PMrrV4ml8uWuEUDBT8dSGnKUYbevVhc4',
}

export const MODEL_GRADES = ['dangerous', 'signed', 'secured'] as const
export type ModelGrade = (typeof MODEL_GRADES)[number]
export const STORAGE_SAFETIES = ['prefer-unencrypted', 'prefer-encrypted', 'encrypted'] as const
export type StorageSafety = (typeof STORAGE_SAFETIES)[number]

export interface ModelSnapInput {
  name: string
  id?: string
  /** track/risk; default latest/stable. */
  channel?: string
}

export interface ModelInput {
  brand: string
  model: string
  displayName?: string
  architecture: string
  base: string
  grade: ModelGrade
  storageSafety?: StorageSafety
  gadget: ModelSnapInput
  kernel: ModelSnapInput
  /** A brand store id. */
  store?: string
  /** Snaps besides the essential ones. */
  extraSnaps: readonly ModelSnapInput[]
  /** RFC 3339; must not be before the signing key's registration. */
  timestamp: string
  /** The UC16/UC18 form. */
  legacy?: boolean
}

/** A `snap sign` input: headers as strings, lists and maps of strings. */
export type ModelJson = Record<string, unknown>

/** The model.json object for the input (not yet checked; see {@link modelProblems}). */
export function buildModelJson(input: ModelInput): ModelJson {
  const model: ModelJson = {
    type: 'model',
    'authority-id': input.brand,
    'brand-id': input.brand,
    series: '16',
    model: input.model,
  }
  if (input.displayName !== undefined) model['display-name'] = input.displayName
  model.architecture = input.architecture
  model.base = input.base
  if (input.store !== undefined) model.store = input.store
  if (input.legacy) {
    model.gadget = withTrack(input.gadget)
    model.kernel = withTrack(input.kernel)
    if (input.extraSnaps.length > 0) model['required-snaps'] = input.extraSnaps.map((s) => s.name)
  } else {
    model.grade = input.grade
    if (input.storageSafety !== undefined) model['storage-safety'] = input.storageSafety
    model.snaps = [
      snapEntry(input.gadget, 'gadget'),
      snapEntry(input.kernel, 'kernel'),
      snapEntry({channel: 'latest/stable', id: WELL_KNOWN_SNAP_IDS[input.base], name: input.base}, 'base'),
      snapEntry({channel: 'latest/stable', id: WELL_KNOWN_SNAP_IDS.snapd, name: 'snapd'}, 'snapd'),
      ...input.extraSnaps.map((s) => snapEntry(s, 'app')),
    ]
  }

  model.timestamp = input.timestamp
  return model
}

function snapEntry(snap: ModelSnapInput, type: string): Record<string, string> {
  const entry: Record<string, string> = {name: snap.name}
  if (snap.id !== undefined) entry.id = snap.id
  entry.type = type
  entry['default-channel'] = snap.channel ?? 'latest/stable'
  return entry
}

/** `name=track` for the non-extended headers; the risk of a channel does not go there. */
function withTrack(snap: ModelSnapInput): string {
  const track = snap.channel?.split('/')[0]
  return track === undefined || track === 'latest' ? snap.name : `${snap.name}=${track}`
}

const ESSENTIAL_TYPES = ['snapd', 'kernel', 'gadget']
const SNAP_TYPES = ['app', 'base', 'gadget', 'kernel', 'core', 'snapd']
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/

/** Everything snapd would refuse in this model, as sentences; empty when `snap sign` accepts it. */
export function modelProblems(model: ModelJson): string[] {
  const problems: string[] = []
  const add = (problem: string) => problems.push(problem)
  checkHeaderValues(model, '', add)
  const str = (key: string): string | undefined => (typeof model[key] === 'string' ? (model[key] as string) : undefined)

  if (model.type !== 'model') add('"type" must be "model"')
  const brand = str('brand-id')
  if (brand === undefined) add('"brand-id" header is mandatory')
  else if (accountIdProblem(brand)) add(`"brand-id" ${JSON.stringify(brand)}: ${accountIdProblem(brand)}`)
  if (str('authority-id') !== brand) add('"authority-id" and "brand-id" must match: model assertions are signed by the brand')
  if (model.series !== '16') add('"series" must be the string "16"')
  const name = str('model')
  if (name === undefined) add('"model" header is mandatory')
  else if (modelNameProblem(name)) add(`"model" ${JSON.stringify(name)}: ${modelNameProblem(name)}`)
  if (str('architecture') === undefined || str('architecture') === '') add('"architecture" header is mandatory')
  const timestamp = str('timestamp')
  if (timestamp === undefined) add('"timestamp" header is mandatory')
  else if (!RFC3339.test(timestamp) || Number.isNaN(Date.parse(timestamp))) add(`"timestamp" ${JSON.stringify(timestamp)} is not an RFC 3339 date such as 2026-01-31T12:00:00Z`)
  const store = str('store')
  if (store !== undefined && storeIdProblem(store)) add(`"store" ${JSON.stringify(store)}: ${storeIdProblem(store)}`)
  const base = str('base')
  if (base !== undefined && snapNameProblem(base)) add(`"base" ${JSON.stringify(base)}: ${snapNameProblem(base)}`)

  if ('snaps' in model) extendedProblems(model, base, add)
  else legacyProblems(model, add)
  return problems
}

function extendedProblems(model: ModelJson, base: string | undefined, add: (p: string) => void): void {
  for (const header of ['gadget', 'kernel', 'required-snaps']) {
    if (header in model) add(`cannot specify a separate "${header}" header once using the extended snaps header`)
  }

  if (base === undefined) add('"base" header is mandatory with the snaps header (core20, core22, core24)')
  const grade = model.grade ?? 'signed'
  if (!(MODEL_GRADES as readonly unknown[]).includes(grade)) add(`"grade" must be ${MODEL_GRADES.join(', ')}`)
  const safety = model['storage-safety']
  if (safety !== undefined && !(STORAGE_SAFETIES as readonly unknown[]).includes(safety)) add(`"storage-safety" must be ${STORAGE_SAFETIES.join(', ')}`)
  if (grade === 'secured' && safety !== undefined && safety !== 'encrypted') add('a secured grade model must not override storage-safety: only "encrypted" is valid')

  const snaps = model.snaps
  if (!Array.isArray(snaps)) {
    add('"snaps" must be a list of maps')
    return
  }

  const names = new Set<string>()
  const ids = new Map<string, string>()
  const byType = new Map<string, string[]>()
  for (const raw of snaps) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      add('"snaps" must be a list of maps')
      continue
    }

    const snap = raw as Record<string, unknown>
    const name = typeof snap.name === 'string' ? snap.name : ''
    const what = `snap ${JSON.stringify(name)}`
    if (snapNameProblem(name)) add(`invalid snap name ${JSON.stringify(name)} in "snaps": ${snapNameProblem(name)}`)
    if (names.has(name)) add(`cannot list the same snap ${JSON.stringify(name)} multiple times`)
    names.add(name)
    if (snap.id === undefined) {
      if (grade !== 'dangerous') add(`"id" of ${what} is mandatory for ${String(grade)} grade model`)
    } else if (typeof snap.id !== 'string' || snapIdProblem(snap.id)) {
      add(`"id" of ${what}: ${snapIdProblem(String(snap.id))}`)
    } else if (ids.has(snap.id)) {
      add(`cannot specify the same snap id ${snap.id} for snaps ${JSON.stringify(ids.get(snap.id))} and ${JSON.stringify(name)}`)
    } else {
      ids.set(snap.id, name)
    }

    const type = snap.type ?? 'app'
    if (!SNAP_TYPES.includes(type as string)) add(`type of ${what} must be one of ${SNAP_TYPES.join('|')}`)
    byType.set(type as string, [...(byType.get(type as string) ?? []), name])
    const channel = snap['default-channel'] ?? 'latest/stable'
    if (typeof channel !== 'string' || channelProblem(channel)) add(`default channel of ${what}: ${channelProblem(String(channel))}`)
    if (snap.presence !== undefined && snap.presence !== 'required' && snap.presence !== 'optional') add(`presence of ${what} must be required or optional`)
    const essential = ESSENTIAL_TYPES.includes(type as string) || name === base
    if (essential && (snap.presence !== undefined || snap.modes !== undefined)) add(`essential snaps are always available: cannot specify modes or presence for ${what}`)
    if (name === base && type !== 'base') add(`boot base ${JSON.stringify(base)} must specify type "base", not ${JSON.stringify(type)}`)
  }

  for (const type of ['gadget', 'kernel']) {
    const found = byType.get(type) ?? []
    if (found.length === 0) add(`one "snaps" entry must specify the model ${type}`)
    if (found.length > 1) add(`cannot specify multiple ${type} snaps: ${found.join(', ')}`)
  }

  if ((byType.get('snapd') ?? []).length > 1) add('cannot specify multiple snapd snaps')
  if (base !== undefined && !names.has(base) && WELL_KNOWN_SNAP_IDS[base] === undefined && grade !== 'dangerous') add(`cannot specify not well-known base ${JSON.stringify(base)} without a corresponding "snaps" entry`)
}

function legacyProblems(model: ModelJson, add: (p: string) => void): void {
  for (const header of ['grade', 'storage-safety']) {
    if (header in model) add(`cannot specify "${header}" for a model without the extended snaps header`)
  }

  for (const header of ['gadget', 'kernel']) {
    const value = model[header]
    if (typeof value !== 'string' || value === '') {
      add(`"${header}" header is mandatory`)
      continue
    }

    const [name, track] = value.split('=', 2)
    if (snapNameProblem(name)) add(`invalid snap name in "${header}" header: ${name}`)
    if (track !== undefined && (track.includes('/') || trackProblem(track))) add(`"${header}" channel selector must be a track name only: ${trackProblem(track) ?? 'no "/"'}`)
  }

  const required = model['required-snaps']
  if (required !== undefined) {
    if (!Array.isArray(required)) add('"required-snaps" must be a list of snap names')
    else for (const name of required) if (typeof name !== 'string' || snapNameProblem(name)) add(`invalid snap name in "required-snaps" header: ${String(name)}`)
  }
}

/** Header values are strings, or lists and maps of them (snap sign refuses numbers and booleans). */
function checkHeaderValues(value: unknown, path: string, add: (p: string) => void): void {
  if (typeof value === 'string') return
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkHeaderValues(v, `${path}[${i}]`, add))
    return
  }

  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) checkHeaderValues(item, path ? `${path}.${key}` : key, add)
    return
  }

  add(`header "${path}": header values must be strings or lists and maps of strings, not ${JSON.stringify(value)}`)
}

/** Throws one usage error listing every problem of the model. */
export function checkModelJson(model: ModelJson, file = 'model.json'): void {
  const problems = modelProblems(model)
  if (problems.length === 0) return
  throw new UserError('E_INIT_MODEL', `${file} would be refused by snap sign: ${problems.join('; ')}`, {
    details: {problems},
    file,
    hint: 'fix the flags that feed the model (--brand, --model, --grade, --gadget-id, --kernel-id, --snap)',
    kind: 'usage',
  })
}
