/**
 * Board profiles for `init`: data under templates/boards/<id>/ (a profile.json and the real files
 * the gadget gets), plus a vendor's own profiles from `--board-dir`. A profile names the serial
 * board profile (src/serial/boards/<id>.json) whose chain the prepare-device hook runs; the plugs
 * the hook needs come from there, never from a copy.
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {isAbsolute, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {ioError, UserError} from '../errors.js'
import {loadBoard} from '../serial/boards.js'
import type {SnapInterface} from '../serial/sources/source.js'
import {quoteInput} from '../support/echo.js'
import {didYouMean} from '../support/suggest.js'
import {boardIdProblem, snapIdProblem, snapNameProblem} from './naming.js'

/** The package's templates directory. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url))
export const BUILTIN_BOARDS_DIR = join(TEMPLATES_DIR, 'boards')
export const SHARED_TEMPLATES_DIR = join(TEMPLATES_DIR, 'shared')

export const BASES = ['core22', 'core24'] as const
export type Base = (typeof BASES)[number]
export const ARCHITECTURES = ['amd64', 'arm64', 'armhf', 'riscv64'] as const
const BOOTLOADERS = ['grub', 'piboot', 'u-boot'] as const

/** Restricts a list entry of the profile's data to some bases or architectures. */
export interface When {
  base?: readonly string[]
  architecture?: readonly string[]
}

export interface BoardKernel {
  /** The kernel snap's name. */
  name: string
  /** Its snap id, when it is a published snap (pc-kernel, pi-kernel). */
  id?: string
  /** The model's default-channel for it; `{track}` stands for the base's track (22, 24). */
  channel?: string
}

export interface GadgetBoardProfile {
  id: string
  title: string
  description: string
  architectures: readonly string[]
  bases: readonly Base[]
  bootloader: string
  /** The serial board profile whose chain the hook runs. */
  serialBoard: string
  /** The interfaces the hook plugs for that chain (from the serial board profile). */
  interfaces: readonly SnapInterface[]
  kernel?: BoardKernel
  /** The serial console (U-Boot boards). */
  console?: string
  /** snapcraft `assumes` per base. */
  assumes: Readonly<Partial<Record<Base, readonly string[]>>>
  /** gadget.yaml volumes, with `when` filters and `#` comments. */
  volumes: Readonly<Record<string, unknown>>
  /** snapcraft parts for the boot assets, same conventions. */
  parts: Readonly<Record<string, unknown>>
  /** Gadget path → shared template (templates/shared/…). */
  sharedFiles: Readonly<Record<string, string>>
  /** Content paths gadget.yaml names that the project does not hold, and why. */
  externalContent: Readonly<Record<string, string>>
  notes: readonly string[]
  /** The profile's directory. */
  dir: string
  /** Where it came from: `built-in`, or the --board-dir it was found in. */
  origin: string
}

const PROFILE_KEYS = ['id', 'title', 'description', 'architectures', 'bases', 'bootloader', 'serialBoard', 'kernel', 'console', 'assumes', 'volumes', 'parts', 'sharedFiles', 'externalContent', 'notes']

export interface BoardSearchOptions {
  /** A vendor's board profiles: a profile directory, or a directory of them. */
  boardDirs?: readonly string[]
  /** Resolves relative --board-dir paths (default: the working directory). */
  cwd?: string
}

interface Candidate {
  id: string
  dir: string
  origin: string
}

/** Every profile directory: the vendor's first, so a vendor profile can stand in for a built-in one. */
function candidates(options: BoardSearchOptions): Candidate[] {
  const found: Candidate[] = []
  const seen = new Set<string>()
  const add = (dir: string, origin: string) => {
    const id = dir.split(/[\\/]/).filter(Boolean).pop() ?? ''
    if (seen.has(id)) return
    seen.add(id)
    found.push({dir, id, origin})
  }

  for (const given of options.boardDirs ?? []) {
    const dir = resolve(options.cwd ?? process.cwd(), given)
    if (!isDirectory(dir)) throw new UserError('E_INIT_BOARD_DIR', `--board-dir ${given} is not a directory`, {file: given, hint: 'give a board profile directory (with profile.json) or a directory of them', kind: 'io'})
    if (existsSync(join(dir, 'profile.json'))) {
      add(dir, given)
      continue
    }

    const inside = subdirectories(dir).filter((d) => existsSync(join(d, 'profile.json')))
    if (inside.length === 0)
      throw new UserError('E_INIT_BOARD_DIR', `--board-dir ${given} holds no board profile`, {
        file: given,
        hint: 'a board profile is a directory with a profile.json, like the built-in templates/boards/<id>/',
        kind: 'usage',
      })
    for (const d of inside) add(d, given)
  }

  for (const d of subdirectories(BUILTIN_BOARDS_DIR)) add(d, 'built-in')
  return found
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, {withFileTypes: true})
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name))
      .sort()
  } catch (error) {
    throw ioError(dir, error, 'list')
  }
}

/** The ids of every available profile, sorted. */
export function boardProfileIds(options: BoardSearchOptions = {}): string[] {
  return candidates(options)
    .map((c) => c.id)
    .sort()
}

/** Every available profile, sorted by id. */
export function listBoardProfiles(options: BoardSearchOptions = {}): GadgetBoardProfile[] {
  return candidates(options)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((c) => readProfile(c))
}

/** One profile by id; an unknown id is a usage error that lists the known ones. */
export function loadBoardProfile(id: string, options: BoardSearchOptions = {}): GadgetBoardProfile {
  const all = candidates(options)
  const found = all.find((c) => c.id === id)
  if (!found) {
    const ids = all.map((c) => c.id).sort()
    const guess = didYouMean(id, ids)
    throw new UserError('E_INIT_BOARD', `unknown board ${quoteInput(id)}`, {
      hint: `${guess ? `did you mean "${guess}"? ` : ''}boards: ${ids.join(', ')} (snap-gadget boards lists them; --board-dir adds your own)`,
      kind: 'usage',
    })
  }

  return readProfile(found)
}

function readProfile({dir, id, origin}: Candidate): GadgetBoardProfile {
  const file = join(dir, 'profile.json')
  let data: unknown
  try {
    data = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    if (error instanceof SyntaxError) throw new UserError('E_INIT_BOARD', `${file} is not valid JSON: ${error.message}`, {file, hint: 'fix the JSON syntax', kind: 'usage'})
    throw ioError(file, error, 'read')
  }

  return checkProfile(data, {dir, file, id, origin})
}

interface ProfilePlace {
  dir: string
  file: string
  id: string
  origin: string
}

/** Checks a profile document; every mistake names the file and the key. */
function checkProfile(data: unknown, place: ProfilePlace): GadgetBoardProfile {
  const fail = (key: string, message: string, hint: string): never => {
    throw new UserError('E_INIT_BOARD', `${place.file}: ${key}: ${message}`, {file: place.file, hint, kind: 'usage'})
  }

  if (!isRecord(data)) return fail('(top level)', 'a board profile is a JSON object', 'see templates/boards/pc-amd64/profile.json')
  for (const key of Object.keys(data)) {
    if (!PROFILE_KEYS.includes(key)) fail(key, 'unknown key', `the keys are ${PROFILE_KEYS.join(', ')}${didYouMean(key, PROFILE_KEYS) ? ` (did you mean "${didYouMean(key, PROFILE_KEYS)}"?)` : ''}`)
  }

  const text = (key: string, required = true): string | undefined => {
    const value = data[key]
    if (value === undefined && !required) return undefined
    if (typeof value !== 'string' || value.trim() === '') return fail(key, 'must be a non-empty string', `add "${key}": "…"`)
    return value
  }

  const list = (key: string, allowed?: readonly string[]): string[] => {
    const value = data[key]
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && (!allowed || allowed.includes(v)))) {
      return fail(key, `must be a non-empty list${allowed ? ` of ${allowed.join(', ')}` : ' of strings'}`, `e.g. "${key}": ["${allowed?.[0] ?? '…'}"]`)
    }

    return value as string[]
  }

  const id = text('id')!
  if (id !== place.id) fail('id', `"${id}" is not the directory's name "${place.id}"`, `set "id": "${place.id}" or rename the directory`)
  const idProblem = boardIdProblem(id)
  if (idProblem) fail('id', idProblem, 'rename the profile directory and its id')
  const architectures = list('architectures', ARCHITECTURES)
  const bases = list('bases', BASES) as Base[]
  const bootloader = text('bootloader')!
  if (!(BOOTLOADERS as readonly string[]).includes(bootloader)) fail('bootloader', `"${bootloader}" is not one of ${BOOTLOADERS.join(', ')}`, 'UC20+ gadgets boot with grub, u-boot or piboot')

  const serialBoard = text('serialBoard')!
  let interfaces: readonly SnapInterface[]
  try {
    const serial = loadBoard(serialBoard)
    interfaces = serial.interfaces
    const foreign = architectures.filter((a) => !serial.architectures.includes(a))
    if (foreign.length > 0)
      fail(
        'serialBoard',
        `the serial profile "${serialBoard}" is for ${serial.architectures.join(', ')}, not ${foreign.join(', ')}`,
        'pick a serial board profile for these architectures (snap-gadget serial --help lists them)',
      )
  } catch (error) {
    if (error instanceof UserError && error.code === 'E_SERIAL_BOARD') return fail('serialBoard', error.message, error.hint ?? '')
    throw error
  }

  const profile: GadgetBoardProfile = {
    architectures,
    assumes: {},
    bases,
    bootloader,
    description: text('description')!,
    dir: place.dir,
    externalContent: {},
    id,
    interfaces,
    notes: [],
    origin: place.origin,
    parts: {},
    serialBoard,
    sharedFiles: {},
    title: text('title')!,
    volumes: {},
  }

  const consoleText = text('console', false)
  if (consoleText !== undefined) {
    if (!/^[A-Za-z0-9,._-]+$/.test(consoleText)) fail('console', `"${consoleText}" is not a console setting like ttyS0,115200n8`, 'write the device and its settings: "ttyS2,1500000n8"')
    profile.console = consoleText
  }

  if (data.kernel !== undefined) profile.kernel = checkKernel(data.kernel, fail)
  if (data.assumes !== undefined) {
    if (!isRecord(data.assumes)) fail('assumes', 'must map bases to lists of snapd features', 'e.g. "assumes": {"core24": ["snapd2.63"]}')
    for (const [base, features] of Object.entries(data.assumes as Record<string, unknown>)) {
      if (!(BASES as readonly string[]).includes(base) || !Array.isArray(features) || !features.every((f) => typeof f === 'string' && /^[a-z0-9][a-z0-9.-]*$/.test(f))) {
        fail(`assumes.${base}`, 'must be a list of snapd features for core22 or core24', 'e.g. ["snapd2.63"]')
      }
    }

    profile.assumes = data.assumes as GadgetBoardProfile['assumes']
  }

  if (!isRecord(data.volumes) || Object.keys(data.volumes).length === 0) fail('volumes', 'must map volume names to volumes', 'write the gadget.yaml volumes as JSON')
  profile.volumes = data.volumes as Record<string, unknown>
  checkQuantities(profile.volumes, ['volumes'], fail)
  if (data.parts !== undefined) {
    if (!isRecord(data.parts)) fail('parts', 'must map part names to snapcraft parts', 'write the parts as JSON')
    profile.parts = data.parts as Record<string, unknown>
    checkPartFiles(profile.parts, place.dir, fail)
  }

  if (data.sharedFiles !== undefined) {
    if (!isRecord(data.sharedFiles) || !Object.values(data.sharedFiles).every((v) => typeof v === 'string'))
      fail('sharedFiles', 'must map gadget paths to shared templates', 'e.g. {"boot-assets/seed/boot.cmd.hbs": "u-boot/boot.cmd.hbs"}')
    for (const [target, shared] of Object.entries(data.sharedFiles as Record<string, string>)) {
      if (!inside(SHARED_TEMPLATES_DIR, shared) || !existsSync(join(SHARED_TEMPLATES_DIR, shared)))
        fail(`sharedFiles.${target}`, `no shared template "${shared}"`, `the shared templates are under ${SHARED_TEMPLATES_DIR}`)
      if (!safeRelative(target)) fail(`sharedFiles.${target}`, 'the gadget path must be relative and stay inside the gadget', 'write a path like boot-assets/seed/boot.cmd.hbs')
    }

    profile.sharedFiles = data.sharedFiles as Record<string, string>
  }

  if (data.externalContent !== undefined) {
    if (!isRecord(data.externalContent) || !Object.values(data.externalContent).every((v) => typeof v === 'string'))
      fail('externalContent', 'must map content paths to why the project does not hold them', 'e.g. {"boot-assets/MLO": "built by the boot-assets part"}')
    profile.externalContent = data.externalContent as Record<string, string>
  }

  if (data.notes !== undefined) profile.notes = list('notes')
  return profile
}

type Fail = (key: string, message: string, hint: string) => never

function checkKernel(raw: unknown, fail: Fail): BoardKernel {
  if (!isRecord(raw) || typeof raw.name !== 'string') return fail('kernel', 'must be {"name": …, "id": …, "channel": …}', 'name the kernel snap the model uses')
  const problem = snapNameProblem(raw.name)
  if (problem) fail('kernel.name', problem, 'give the kernel snap name')
  const kernel: BoardKernel = {name: raw.name}
  if (raw.id !== undefined) {
    if (typeof raw.id !== 'string' || snapIdProblem(raw.id)) fail('kernel.id', 'must be a 32-character snap id', 'snap info <kernel> shows it')
    kernel.id = raw.id as string
  }

  if (raw.channel !== undefined) {
    if (typeof raw.channel !== 'string') fail('kernel.channel', 'must be a channel such as {track}/stable', '{track} stands for 22 or 24')
    kernel.channel = raw.channel as string
  }

  return kernel
}

const QUANTITY_KEYS = new Set(['size', 'offset', 'min-size'])

/** Sizes and offsets are bytes or M: K is refused (snapd's K is not what people expect of it). */
function checkQuantities(value: unknown, path: readonly (number | string)[], fail: Fail): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkQuantities(v, [...path, i], fail))
    return
  }

  if (!isRecord(value)) return
  for (const [key, item] of Object.entries(value)) {
    if (QUANTITY_KEYS.has(key) && !(typeof item === 'number' && Number.isSafeInteger(item) && item >= 0) && !(typeof item === 'string' && /^[0-9]+M?$/.test(item))) {
      fail([...path, key].join('.'), `${JSON.stringify(item)} is not a size in bytes or M`, 'write bytes (131072) or mebibytes ("4M"); K and G are not used')
    }

    checkQuantities(item, [...path, key], fail)
  }
}

/** `{"file": "parts/x.sh"}` values must name files inside the profile directory. */
function checkPartFiles(parts: Record<string, unknown>, dir: string, fail: Fail): void {
  for (const [name, part] of Object.entries(parts)) {
    if (!isRecord(part)) fail(`parts.${name}`, 'must be a snapcraft part', 'write the part as a JSON object')
    for (const [key, value] of Object.entries(part as Record<string, unknown>)) {
      if (!isRecord(value) || !('file' in value)) continue
      const file = value.file
      if (typeof file !== 'string' || !safeRelative(file) || !existsSync(join(dir, file)))
        fail(`parts.${name}.${key}`, `no file ${JSON.stringify(file)} in the profile directory`, 'name a script inside the profile directory, e.g. parts/boot-assets.sh')
    }
  }
}

/** A relative path that stays inside its root. */
export function safeRelative(path: string): boolean {
  if (path === '' || isAbsolute(path) || path.includes('\\') || path.includes('\u0000')) return false
  return !path.split('/').some((part) => part === '..')
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, resolve(root, path))
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Keeps the entries whose `when` matches, and drops the `when` keys. */
export function selectFor<T>(value: T, target: {base: string; architecture: string}): T {
  if (Array.isArray(value)) return value.filter((v) => matches(v, target)).map((v) => selectFor(v, target)) as T
  if (!isRecord(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    if (key === 'when') continue
    out[key] = selectFor(item, target)
  }

  return out as T
}

function matches(value: unknown, target: {base: string; architecture: string}): boolean {
  if (!isRecord(value) || !isRecord(value.when)) return true
  const when = value.when as When
  if (when.base && !when.base.includes(target.base)) return false
  if (when.architecture && !when.architecture.includes(target.architecture)) return false
  return true
}
