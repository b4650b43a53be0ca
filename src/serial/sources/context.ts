/**
 * The context sources read through: a root directory standing in for `/`, file access under it,
 * and a shell-less command runner with a hard timeout. Every read goes through the host (Node or
 * QuickJS) and is bounded: only regular files are read (a FIFO or a character device such as
 * /dev/zero would block or never end), at most MAX_SOURCE_BYTES of each, and symbolic links in a
 * captured tree are resolved inside its root, never on the machine that reads it.
 */
import {posix, resolve} from 'node:path'

import {ioError, UserError} from '../../errors.js'
import {host, hostError} from '../../support/host.js'
import type {CommandResult, CommandRunner, FileInfo, SerialFs, SourceContext, SourceUnavailable} from './source.js'
import {unavailable} from './source.js'

/** The most a source reads of one file: /proc/cpuinfo of a large server is about 200 KB. */
export const MAX_SOURCE_BYTES = 1024 * 1024
/** As the kernel: a path that crosses more links than this loops. */
const MAX_LINKS = 40
/** After a command's timeout (SIGTERM), this long before SIGKILL goes to its process group. */
const COMMAND_GRACE_MS = 500
const MAX_COMMAND_OUTPUT = 64 * 1024

export interface ContextOptions {
  /** The directory that plays `/`; default `/`. */
  root?: string
  /** Replace some file operations (tests use this to simulate EACCES, slow reads, …). */
  fs?: Partial<SerialFs>
  run?: CommandRunner
  brand?: string
}

/** Maps an absolute in-root path to a host path; `..` can never climb above the root. */
export function underRoot(root: string, path: string): string {
  const inside = posix.normalize(`/${path}`)
  return root === '/' ? inside : resolve(root, `.${inside}`)
}

/**
 * The canonical in-root path of `path`: every symbolic link on the way is read and followed as if
 * `root` were `/` (an absolute target starts again at the root, `..` stops at it). With
 * `followLast` false the last component is left as it is (lstat semantics).
 */
function resolveInRoot(root: string, path: string, followLast = true): string {
  const pending = posix.normalize(`/${path}`).split('/').filter(Boolean)
  let resolved: string[] = []
  let links = 0
  while (pending.length > 0) {
    const part = pending.shift()!
    if (part === '.') continue
    if (part === '..') {
      resolved.pop()
      continue
    }

    const candidate = [...resolved, part]
    if (pending.length === 0 && !followLast) {
      resolved = candidate
      break
    }

    const at = underRoot(root, `/${candidate.join('/')}`)
    let isLink = false
    try {
      isLink = host().lstat(at).kind === 'symlink'
    } catch (error) {
      // A missing component: what follows cannot exist either, and the caller's read says so.
      if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') return `/${[...candidate, ...pending].join('/')}`
      throw error
    }

    if (!isLink) {
      resolved = candidate
      continue
    }

    if (++links > MAX_LINKS) throw hostError('ELOOP', `too many symbolic links in ${path}`)
    const target = host().readlink(at)
    if (target.startsWith('/')) resolved = []
    pending.unshift(...target.split('/').filter(Boolean))
  }

  return `/${resolved.join('/')}`
}

/** File access with every path resolved under `root`. */
export function rootedFs(root: string): SerialFs {
  // On the device itself the kernel resolves links exactly as resolveInRoot would.
  const hostPath = (path: string, followLast = true) => underRoot(root, root === '/' ? posix.normalize(`/${path}`) : resolveInRoot(root, path, followLast))
  const regularFile = (path: string): string => {
    const at = hostPath(path)
    const stat = host().stat(at)
    if (stat.kind === 'directory') throw hostError('EISDIR', path)
    if (stat.kind !== 'file') throw hostError('ENOTREGULAR', `${path} is not a regular file`)
    return at
  }

  const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return {
    async isSymlink(path) {
      try {
        return host().lstat(hostPath(path, false)).kind === 'symlink'
      } catch {
        return false
      }
    },
    async readBytes(path, offset, length) {
      if (length > MAX_SOURCE_BYTES) throw hostError('EFBIG', `${path}: ${length} bytes asked, at most ${MAX_SOURCE_BYTES} are read`)
      return asBuffer(host().readBytes(regularFile(path), offset, length))
    },
    readdir: async (path) => host().readdir(hostPath(path)).sort(),
    async readFile(path) {
      const bytes = host().readBytes(regularFile(path), 0, MAX_SOURCE_BYTES + 1)
      if (bytes.length > MAX_SOURCE_BYTES) throw hostError('EFBIG', `${path} is larger than ${MAX_SOURCE_BYTES} bytes`)
      return asBuffer(bytes)
    },
    async realpath(path) {
      const inside = resolveInRoot(root, path)
      // Checked like the other reads: a missing path rejects with ENOENT.
      host().lstat(underRoot(root, inside))
      return inside
    },
    async stat(path): Promise<FileInfo> {
      const s = host().stat(hostPath(path))
      return {isDirectory: s.kind === 'directory', mode: s.mode, size: s.size}
    },
  }
}

/** Runs `argv` without a shell; stops its whole process group when `timeoutMs` passes. */
export const runCommand: CommandRunner = async (argv, {timeoutMs}) => {
  const result = await host().spawn(argv, {graceMs: COMMAND_GRACE_MS, maxOutputBytes: MAX_COMMAND_OUTPUT, timeoutMs})
  const outcome: CommandResult = {code: result.status, stderr: result.stderr, stdout: result.stdout}
  if (result.error !== undefined) outcome.error = result.error
  return outcome
}

export function createSourceContext(options: ContextOptions = {}): SourceContext {
  const root = options.root ?? '/'
  const fs: SerialFs = {...rootedFs(root), ...options.fs}
  let compatible: Promise<readonly string[]> | undefined
  return {
    brand: options.brand,
    compatible() {
      compatible ??= readCompatible(fs)
      return compatible
    },
    fs,
    root,
    run: options.run ?? runCommand,
  }
}

async function readCompatible(fs: SerialFs): Promise<readonly string[]> {
  for (const path of ['/sys/firmware/devicetree/base/compatible', '/proc/device-tree/compatible']) {
    try {
      return (await fs.readFile(path)).toString('latin1').split('\0').filter(Boolean)
    } catch {
      // absent here: try the other view of the same tree
    }
  }

  return []
}

/** The errno code of a thrown value, if it has one. */
export function errnoOf(error: unknown): string | undefined {
  return (error as undefined | {code?: string})?.code
}

/**
 * Turns a failed read into a reading. ENOENT means the source is simply not on this board;
 * EACCES/EPERM mean it is there but unreadable, which is a confinement or privilege problem.
 */
export function readingFromError(error: unknown, path: string, plugs = 'hardware-observe'): SourceUnavailable {
  switch (errnoOf(error)) {
    case 'ENOENT':
    case 'ENOTDIR': {
      return unavailable('absent', `${path} does not exist`, path)
    }

    case 'EACCES':
    case 'EPERM': {
      return unavailable('denied', `${path}: permission denied (connect ${plugs}, and run as root)`, path)
    }

    case 'EISDIR': {
      return unavailable('invalid', `${path} is a directory, not a file`, path)
    }

    case 'ENOTREGULAR': {
      return unavailable('invalid', `${path} is not a regular file (a FIFO, a device or a socket); refusing to read it`, path)
    }

    case 'EFBIG': {
      return unavailable('invalid', `${path} is larger than ${MAX_SOURCE_BYTES} bytes; refusing to read it`, path)
    }

    case 'ELOOP': {
      return unavailable('invalid', `${path}: too many symbolic links`, path)
    }

    case 'ENXIO':
    case 'EIO':
    case 'ENODEV': {
      return unavailable('error', `${path}: the device did not answer (${errnoOf(error)})`, path)
    }

    default: {
      return unavailable('error', `${path}: ${(error as Error)?.message ?? String(error)}`, path)
    }
  }
}

/** Reads the first path of `paths` that exists; the reading of the first when none does. */
export async function readFirst(fs: SerialFs, paths: readonly string[], plugs?: string): Promise<{data: Buffer; path: string} | SourceUnavailable> {
  for (const path of paths) {
    try {
      return {data: await fs.readFile(path), path}
    } catch (error) {
      const reading = readingFromError(error, path, plugs)
      // Anything but absence is an answer: a denied first path must not hide behind a second.
      if (reading.status !== 'absent') return reading
    }
  }

  return absentAll(paths)
}

/** The reading for "none of these paths exists". */
function absentAll(paths: readonly string[]): SourceUnavailable {
  if (paths.length === 1) return unavailable('absent', `${paths[0]} does not exist`, paths[0])
  return unavailable('absent', `none of ${paths.join(', ')} exists`, paths[0])
}

/** A root that is not a directory is a usage error, not "no sources". */
export async function checkRoot(root: string): Promise<void> {
  let kind: string
  try {
    kind = host().stat(root).kind
  } catch (error) {
    throw ioError(root, error, 'use as root')
  }

  if (kind !== 'directory') throw new UserError('E_SERIAL_ROOT', `${root} is not a directory`, {file: root, hint: '--root takes the directory that plays / (e.g. a captured tree)', kind: 'usage'})
}
