/**
 * Board profiles: data files (`boards/<id>.json` next to this module) naming a board family's
 * default chain, the interfaces its hook needs and how to recognise the board. The build copies
 * them to dist/serial/boards/.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {UserError} from '../errors.js'
import {quoteInput} from '../support/echo.js'
import type {ChainSpec} from './chain.js'
import {checkChainSpec} from './config/serial-config.js'
import {matchGlob} from './glob.js'
import {checkKeys, closest, type ConfigPlace, configError, describeValue, isRecord, SNAP_INTERFACES} from './config/options.js'
import type {SnapInterface, SourceContext} from './sources/source.js'

/** How a board is recognised from the running system. */
export interface BoardMatch {
  /** Device-tree compatible globs. */
  compatible?: readonly string[]
  /** cpuinfo vendor_id values (x86). */
  cpuVendor?: readonly string[]
  /** Any machine with SMBIOS tables. */
  dmi?: boolean
}

export interface SerialBoardProfile extends ChainSpec {
  id: string
  title: string
  /** Snap architectures the family runs (armhf, arm64, amd64, i386, riscv64). */
  architectures: readonly string[]
  match?: BoardMatch
  /** The interfaces the prepare-device hook must plug for this chain. */
  interfaces: readonly SnapInterface[]
  notes?: string
  /**
   * Other names that select this profile: the ids of the `init` board profiles whose hook runs
   * this chain (`pc-amd64` → x86), so one board name works in every command.
   */
  aliases?: readonly string[]
  /** The profile file. */
  file: string
}

/** The shipped profiles' directory, found when first needed (the single-file runtime has none). */
const boardsDir = () => fileURLToPath(new URL('boards/', import.meta.url))

const PROFILE_KEYS = ['id', 'aliases', 'title', 'architectures', 'match', 'interfaces', 'notes', 'chain', 'normalise', 'transforms', 'output', 'onDenied']
const ARCHITECTURES = ['amd64', 'arm64', 'armhf', 'i386', 'riscv64', 'ppc64el', 's390x']
const cache = new Map<string, SerialBoardProfile>()

/** The ids of every shipped profile, sorted. */
export function boardIds(): string[] {
  return readdirSync(boardsDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort()
}

/** A shipped profile by id; an unknown id is a usage error with a suggestion. */
export function loadBoard(id: string): SerialBoardProfile {
  const cached = cache.get(id)
  if (cached) return cached
  const ids = boardIds()
  if (!ids.includes(id)) {
    const aliased = ids.map((known) => loadBoard(known)).find((board) => board.aliases?.includes(id))
    if (aliased) return aliased
    const names = boardNames()
    const guess = closest(id, names)
    throw new UserError('E_SERIAL_BOARD', `unknown board ${quoteInput(id)}`, {hint: guess ? `did you mean "${guess}"? (boards: ${names.join(', ')})` : `boards: ${names.join(', ')}`, kind: 'usage'})
  }

  const file = join(boardsDir(), `${id}.json`)
  const place: ConfigPlace = {file}
  let data: unknown
  try {
    data = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new UserError('E_SERIAL_CONFIG', `board profile ${id} is not valid JSON: ${(error as Error).message}`, {file, hint: 'fix the JSON syntax', kind: 'usage'})
  }

  const profile = checkBoardProfile(data, place, file)
  if (profile.id !== id) throw configError(place, ['id'], `id "${profile.id}" does not match the file name`, `set id: "${id}" or rename the file`)
  cache.set(id, profile)
  return profile
}

/** Every name a board can be given by: the profile ids and their aliases, sorted. */
export function boardNames(): string[] {
  return boardIds()
    .flatMap((id) => [id, ...(loadBoard(id).aliases ?? [])])
    .sort()
}

export function listBoards(): SerialBoardProfile[] {
  return boardIds().map((id) => loadBoard(id))
}

/** Checks a parsed profile document. */
export function checkBoardProfile(data: unknown, place: ConfigPlace, file = place.file ?? ''): SerialBoardProfile {
  if (!isRecord(data)) throw configError(place, [], `a board profile is a mapping, not ${describeValue(data)}`, 'see the shipped profiles in boards/')
  checkKeys(data, PROFILE_KEYS, place, [], 'a board profile')
  const text = (key: string, required: boolean): string | undefined => {
    const value = data[key]
    if (value === undefined && !required) return undefined
    if (typeof value !== 'string' || value === '') throw configError(place, [key], `${key} must be a non-empty string`, `add ${key}: "..."`)
    return value
  }

  const list = (key: string, allowed: readonly string[]): string[] => {
    const value = data[key]
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && allowed.includes(v))) {
      throw configError(place, [key], `${key} must be a non-empty list of ${allowed.join(', ')}`, `e.g. ${key}: ["${allowed[0]}"]`)
    }

    return value as string[]
  }

  const spec = checkChainSpec(data, place, [], true) as ChainSpec
  const profile: SerialBoardProfile = {
    ...spec,
    architectures: list('architectures', ARCHITECTURES),
    file,
    id: text('id', true)!,
    interfaces: list('interfaces', SNAP_INTERFACES) as SnapInterface[],
    title: text('title', true)!,
  }
  if (data.aliases !== undefined) {
    if (!Array.isArray(data.aliases) || !data.aliases.every((a) => typeof a === 'string' && /^[a-z\d][a-z\d-]*$/.test(a))) {
      throw configError(place, ['aliases'], 'aliases must be a list of board ids (lower-case letters, digits, dashes)', 'e.g. aliases: ["pc-amd64"]')
    }

    profile.aliases = data.aliases as string[]
  }

  const notes = text('notes', false)
  if (notes !== undefined) profile.notes = notes
  if (data.match !== undefined) profile.match = checkMatch(data.match, place)
  return profile
}

function checkMatch(raw: unknown, place: ConfigPlace): BoardMatch {
  if (!isRecord(raw)) throw configError(place, ['match'], 'match must be a mapping', 'e.g. match: {compatible: ["fsl,imx*"]}')
  checkKeys(raw, ['compatible', 'cpuVendor', 'dmi'], place, ['match'], 'match')
  const match: BoardMatch = {}
  for (const key of ['compatible', 'cpuVendor'] as const) {
    const value = raw[key]
    if (value === undefined) continue
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) throw configError(place, ['match', key], `${key} must be a list of strings`, `e.g. ${key}: ["..."]`)
    match[key] = value as string[]
  }

  if (raw.dmi !== undefined) {
    if (typeof raw.dmi !== 'boolean') throw configError(place, ['match', 'dmi'], 'dmi must be true or false', 'dmi: true matches machines with SMBIOS tables')
    match.dmi = raw.dmi
  }

  return match
}

export interface BoardDetection {
  board: SerialBoardProfile
  /** What matched: `compatible raspberrypi,5-model-b`, `DMI tables`, … */
  reason: string
}

/** The fallback when nothing identifies the board. */
const FALLBACK_BOARD = 'generic-arm'

/**
 * Picks the profile for the system under `context.root`: device-tree compatible first (most
 * specific entry first), then SMBIOS or an x86 CPU, else the generic device-tree profile.
 * Never by cpuinfo `Hardware`, which changed across Raspberry Pi kernels.
 */
export async function detectBoard(context: SourceContext): Promise<BoardDetection> {
  const boards = listBoards()
  const compatible = await context.compatible()
  for (const entry of compatible) {
    for (const board of boards) {
      if (board.match?.compatible?.some((g) => matchGlob(entry, g))) return {board, reason: `device-tree compatible ${entry}`}
    }
  }

  // The raw table counts too: some systems export it without the id files.
  const exists = (path: string) =>
    context.fs.stat(path).then(
      () => true,
      () => false,
    )
  const hasDmi = (await exists('/sys/class/dmi/id')) || (await exists('/sys/firmware/dmi/tables/DMI'))
  const vendor = hasDmi ? undefined : await cpuVendor(context)
  for (const board of boards) {
    if (hasDmi && board.match?.dmi) return {board, reason: 'SMBIOS (DMI) tables'}
    if (vendor && board.match?.cpuVendor?.includes(vendor)) return {board, reason: `CPU vendor ${vendor}`}
  }

  return {board: loadBoard(FALLBACK_BOARD), reason: compatible.length > 0 ? `no profile for ${compatible[0]}` : 'nothing identified the board'}
}

async function cpuVendor(context: SourceContext): Promise<string | undefined> {
  try {
    const text = (await context.fs.readFile('/proc/cpuinfo')).toString('utf8')
    return /^vendor_id\s*:\s*(\S+)/m.exec(text)?.[1]
  } catch {
    return undefined
  }
}

/** Board profiles by id: the shipped files, or (in the single-file runtime) built-in copies. */
export interface BoardCatalog {
  ids(): readonly string[]
  load(id: string): SerialBoardProfile
}

/** The shipped profile files. */
export const fileBoards: BoardCatalog = {ids: boardIds, load: loadBoard}
