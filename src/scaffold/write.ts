/**
 * writeScaffold: puts a plan on disk. Every file is checked before anything is written: an
 * existing file is kept unless `force`, and a path that leaves the project directory (also
 * through a symbolic link already there) is refused.
 *
 * The write is all or nothing as the user sees it. A new project directory is built beside its
 * final place and renamed into it in one step. Into an existing directory (--force), the whole
 * tree is staged first, then swapped in by renames that keep the old files, and put back on a
 * failure. A run that was killed leaves its staging directory (`.snap-gadget-init-*`) with a
 * journal; the next run rolls it back and removes it. When the project cannot be put back, the
 * error names each file and where the old copies are.
 */
import {randomBytes} from 'node:crypto'
import {chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, type Stats, writeFileSync} from 'node:fs'
import {dirname, join, relative, resolve, sep} from 'node:path'

import {ioError, UserError} from '../errors.js'
import {escapes} from './files.js'
import type {ScaffoldPlan} from './plan.js'

export interface WriteOptions {
  /** Overwrite files that exist. */
  force?: boolean
}

export interface WrittenFile {
  path: string
  action: 'created' | 'overwritten'
}

export interface WriteResult {
  directory: string
  files: WrittenFile[]
  /** What was put right from earlier interrupted runs, one sentence each. */
  recovered?: string[]
}

/** What writing the plan would do to each file; throws when anything stands in the way. */
export function checkScaffoldTarget(plan: ScaffoldPlan, options: WriteOptions = {}): WrittenFile[] {
  const root = plan.directory
  const rootStat = lstatOrUndefined(root)
  if (rootStat && !rootStat.isDirectory() && !rootStat.isSymbolicLink()) {
    throw new UserError('E_INIT_TARGET', `${root} exists and is not a directory`, {file: root, hint: 'choose another directory for the gadget project', kind: 'usage'})
  }

  // Through a symbolic link the project may live elsewhere; what counts is where files land.
  const realRoot = rootStat ? realpathSync(root) : undefined
  const conflicts: string[] = []
  const result: WrittenFile[] = []
  for (const file of plan.files) {
    if (escapes(root, file.path)) throw new UserError('E_INIT_PATH', `${file.path} would be written outside ${root}`, {hint: 'keep every generated path inside the project', kind: 'usage'})
    let action: WrittenFile['action'] = 'created'
    if (realRoot) {
      const blocker = blockingParent(realRoot, file.path)
      if (blocker) {
        throw new UserError('E_INIT_PATH', `${file.path} cannot be written: ${blocker}`, {file: join(root, file.path), hint: 'move that file or link out of the way, or choose another directory', kind: 'usage'})
      }

      const existing = lstatOrUndefined(join(realRoot, file.path))
      if (existing) {
        if (existing.isDirectory())
          throw new UserError('E_INIT_EXISTS', `${file.path} exists and is a directory`, {file: join(root, file.path), hint: 'move it out of the way, or choose another directory', kind: 'usage'})
        if (!options.force) conflicts.push(file.path)
        action = 'overwritten'
      }
    }

    result.push({action, path: file.path})
  }

  if (conflicts.length > 0) {
    const shown = conflicts.slice(0, 8).join(', ') + (conflicts.length > 8 ? ` and ${conflicts.length - 8} more` : '')
    throw new UserError('E_INIT_EXISTS', `${conflicts.length === 1 ? 'a file' : `${conflicts.length} files`} of the new gadget already exist${conflicts.length === 1 ? 's' : ''} in ${root}: ${shown}`, {
      details: {existing: conflicts},
      hint: 'nothing was written; pass --force to overwrite them, or choose another directory',
      kind: 'usage',
    })
  }

  return result
}

/** Staging directories start with this; short and fixed, so any legal project name fits beside it. */
export const STAGING_PREFIX = '.snap-gadget-init-'

/** Writes the plan (see the module comment). */
export function writeScaffold(plan: ScaffoldPlan, options: WriteOptions = {}): WriteResult {
  const root = plan.directory
  const rootStat = lstatOrUndefined(root)
  // An earlier run that was interrupted is undone first, so that what exists is what the user had.
  const recovered = rootStat?.isDirectory() || rootStat?.isSymbolicLink() ? recoverInterrupted(realpathSync(root), root) : []
  const files = checkScaffoldTarget(plan, options)
  if (rootStat === undefined) {
    recovered.push(...writeNewDirectory(plan, root))
    return {directory: root, files, ...(recovered.length > 0 ? {recovered} : {})}
  }

  writeIntoDirectory(plan, realpathSync(root), root, files)
  return {directory: root, files, ...(recovered.length > 0 ? {recovered} : {})}
}

/** What a staging directory records before anything in the project changes. */
interface Journal {
  pid: number
  /** Each file, and whether it was there before (a new one is removed on roll-back, an old one restored). */
  files: Array<{path: string; existed: boolean}>
}

/** `.snap-gadget-init-<pid>-<random>`: the process id tells a live run's staging from a dead one's. */
const stagingName = () => `${STAGING_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`

function writeNewDirectory(plan: ScaffoldPlan, root: string): string[] {
  const parent = dirname(root)
  try {
    mkdirSync(parent, {recursive: true})
  } catch (error) {
    throw ioError(parent, error, 'create')
  }

  // A staging tree left by a killed run never became a project: it is only removed.
  const recovered = removeStaleStaging(parent)
  const staging = join(parent, stagingName())
  try {
    for (const file of plan.files) writeFile(join(staging, file.path), file.content, file.mode)
    renameSync(staging, root)
  } catch (error) {
    removeQuietly(staging)
    throw writeFailed(root, error, `${root} was not created`)
  }

  return recovered
}

/**
 * Existing directory: every new file is written to a staging directory inside it first (where a
 * full disk or a killed process leaves the project untouched), then files are swapped in by
 * renames, each old one moved into the staging directory; a failure puts the old ones back.
 */
function writeIntoDirectory(plan: ScaffoldPlan, realRoot: string, root: string, files: readonly WrittenFile[]): void {
  const staging = join(realRoot, stagingName())
  const journal: Journal = {files: files.map((f) => ({existed: f.action === 'overwritten', path: f.path})), pid: process.pid}
  try {
    writeFile(join(staging, 'journal.json'), `${JSON.stringify(journal)}\n`, 0o600)
    for (const file of plan.files) writeFile(join(staging, 'new', file.path), file.content, file.mode)
  } catch (error) {
    removeQuietly(staging)
    throw writeFailed(root, error, `nothing in ${root} was changed`)
  }

  try {
    for (const file of journal.files) {
      const target = join(realRoot, file.path)
      if (file.existed) moveInto(target, join(staging, 'previous', file.path))
      moveInto(join(staging, 'new', file.path), target)
    }
  } catch (error) {
    const left = rollBack(realRoot, staging, journal)
    if (left.length > 0) throw mixedState(root, staging, left, error)
    removeQuietly(staging)
    throw writeFailed(root, error, `nothing in ${root} was changed (the files already replaced were put back)`)
  }

  // From here the new gadget is complete: a run killed before the clean-up must not be rolled back.
  writeFileSync(join(staging, 'done'), '')
  removeQuietly(staging)
}

/** Directories a new file needed that are empty again once it is gone (snap/hooks in a bare directory). */
function removeEmptyParents(realRoot: string, path: string): void {
  const parts = path.split('/').slice(0, -1)
  while (parts.length > 0) {
    try {
      rmdirSync(join(realRoot, ...parts))
    } catch {
      return
    }

    parts.pop()
  }
}

/** Cleans up after a failure without hiding it: a second error here must not replace the first. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, {force: true, recursive: true})
  } catch {
    // What is left is a staging directory, which the next run removes.
  }
}

function moveInto(from: string, to: string): void {
  mkdirSync(dirname(to), {recursive: true})
  renameSync(from, to)
}

/**
 * Undoes a swap that did not finish: old files back from staging/previous, files that were new
 * removed. Returns the paths it could not put right.
 */
function rollBack(realRoot: string, staging: string, journal: Journal): string[] {
  const left: string[] = []
  for (const file of [...journal.files].reverse()) {
    const target = join(realRoot, file.path)
    const previous = join(staging, 'previous', file.path)
    const placed = lstatOrUndefined(join(staging, 'new', file.path)) === undefined
    try {
      if (lstatOrUndefined(previous)) moveInto(previous, target)
      else if (!file.existed && placed) {
        rmSync(target, {force: true})
        removeEmptyParents(realRoot, file.path)
      }
    } catch {
      left.push(file.path)
    }
  }

  return left
}

/**
 * Staging directories of earlier runs that were killed or ran out of space. One whose process is
 * still running is another init at work: refused. The others are rolled back and removed.
 */
function recoverInterrupted(realRoot: string, root: string): string[] {
  const recovered: string[] = []
  for (const name of staleStaging(realRoot)) {
    const staging = join(realRoot, name)
    let journal: Journal | undefined
    try {
      journal = JSON.parse(readFileSync(join(staging, 'journal.json'), 'utf8')) as Journal
    } catch {
      journal = undefined
    }

    const pid = journal?.pid ?? stagingPid(name)
    if (pid !== process.pid && isRunning(pid)) {
      throw new UserError('E_INIT_BUSY', `another init (process ${pid}) is writing into ${root}`, {file: root, hint: 'wait for it to finish, then run init again', kind: 'usage'})
    }

    if (lstatOrUndefined(join(staging, 'done'))) {
      removeQuietly(staging)
      recovered.push(`removed the staging directory ${name} of an init that had finished`)
      continue
    }

    const left = journal ? rollBack(realRoot, staging, journal) : []
    if (left.length > 0) throw mixedState(root, staging, left, new Error(`an earlier init (process ${journal!.pid}) was interrupted`))
    removeQuietly(staging)
    recovered.push(journal ? `rolled back an init that was interrupted (process ${journal.pid}) and removed its staging directory ${name}` : `removed the staging directory ${name} of an interrupted init`)
  }

  return recovered
}

/** New-project staging trees beside the target whose process is gone: they never became a project. */
function removeStaleStaging(parent: string): string[] {
  const removed: string[] = []
  for (const name of staleStaging(parent)) {
    if (isRunning(stagingPid(name))) continue
    rmSync(join(parent, name), {force: true, recursive: true})
    removed.push(`removed the staging directory ${name} of an interrupted init`)
  }

  return removed
}

function staleStaging(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => name.startsWith(STAGING_PREFIX) && /^\d+-[\da-f]{8}$/.test(name.slice(STAGING_PREFIX.length)))
  } catch {
    return []
  }
}

const stagingPid = (name: string) => Number.parseInt(name.slice(STAGING_PREFIX.length), 10)

function isRunning(pid: number): boolean {
  if (!(pid > 0)) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A write that failed before the project changed (or after it was put back): says so. */
function writeFailed(root: string, error: unknown, state: string): UserError {
  if (error instanceof UserError) return error
  const io = ioError(root, error, 'write')
  return new UserError(io.code, `${io.message}; ${state}`, {cause: error, file: root, hint: `${io.hint ?? 'check the directory'} (a full disk? free some space and run init again)`, kind: 'io'})
}

/** The project is part old, part new and could not be put back: name every file and where the old copies are. */
function mixedState(root: string, staging: string, left: readonly string[], error: unknown): UserError {
  return new UserError('E_INIT_PARTIAL', `${root} is partly written: ${(error as Error).message}; these files could not be put back: ${left.join(', ')}`, {
    details: {notRestored: left, previousCopies: join(staging, 'previous')},
    file: root,
    hint: `the old versions of replaced files are in ${join(staging, 'previous')}; copy them back, or run init --force again to write the whole gadget`,
    kind: 'io',
  })
}

function writeFile(path: string, content: string | Uint8Array, mode: number): void {
  mkdirSync(dirname(path), {recursive: true})
  writeFileSync(path, content, {flag: 'wx', mode})
  // The umask may have taken bits away; hooks must be executable.
  chmodSync(path, mode)
}

/** The first existing component on the way to `path` that is not a real directory inside the root. */
function blockingParent(realRoot: string, path: string): string | undefined {
  const parts = path.split('/').slice(0, -1)
  let current = realRoot
  for (const part of parts) {
    current = join(current, part)
    const stat = lstatOrUndefined(current)
    if (!stat) return undefined
    if (stat.isSymbolicLink()) {
      const target = realpathSync(current)
      const rel = relative(realRoot, target)
      if (rel.startsWith(`..${sep}`) || rel === '..' || resolve(realRoot, rel) !== target) return `${relative(realRoot, current)} is a link that leads out of the project`
      continue
    }

    if (!stat.isDirectory()) return `${relative(realRoot, current)} is a file, not a directory`
  }

  return undefined
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch {
    return undefined
  }
}
