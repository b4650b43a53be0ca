/**
 * writeScaffold: puts a plan on disk. Every file is checked before anything is written: an
 * existing file is kept unless `force`, and a path that leaves the project directory (also
 * through a symbolic link already there) is refused. A new project directory is built beside its
 * final place and renamed into it in one step; files in an existing directory are each written to
 * a temporary name and renamed, so no file is ever half-written.
 */
import {randomBytes} from 'node:crypto'
import {chmodSync, lstatSync, mkdirSync, realpathSync, renameSync, rmSync, type Stats, writeFileSync} from 'node:fs'
import {basename, dirname, join, relative, resolve, sep} from 'node:path'

import {ioError, UserError} from '../errors.js'
import {escapes, type ScaffoldPlan} from './plan.js'

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
        if (existing.isDirectory()) throw new UserError('E_INIT_EXISTS', `${file.path} exists and is a directory`, {file: join(root, file.path), hint: 'move it out of the way, or choose another directory', kind: 'usage'})
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

/** Writes the plan (see the module comment). */
export function writeScaffold(plan: ScaffoldPlan, options: WriteOptions = {}): WriteResult {
  const files = checkScaffoldTarget(plan, options)
  const root = plan.directory
  if (lstatOrUndefined(root) === undefined) {
    writeNewDirectory(plan, root)
  } else {
    const realRoot = realpathSync(root)
    for (const file of plan.files) writeAtomically(join(realRoot, file.path), file.content, file.mode)
  }

  return {directory: root, files}
}

function writeNewDirectory(plan: ScaffoldPlan, root: string): void {
  const parent = dirname(root)
  try {
    mkdirSync(parent, {recursive: true})
  } catch (error) {
    throw ioError(parent, error, 'create')
  }

  const staging = join(parent, `.${basename(root)}.init-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    for (const file of plan.files) writeFile(join(staging, file.path), file.content, file.mode)
    renameSync(staging, root)
  } catch (error) {
    rmSync(staging, {force: true, recursive: true})
    if (error instanceof UserError) throw error
    throw ioError(root, error, 'write')
  }
}

function writeAtomically(path: string, content: string | Uint8Array, mode: number): void {
  const temporary = join(dirname(path), `.${basename(path)}.init-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    writeFile(temporary, content, mode)
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, {force: true})
    throw ioError(path, error, 'write')
  }
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
