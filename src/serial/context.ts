/**
 * The context sources read through: a root directory standing in for `/`, file access under it,
 * and a shell-less command runner with a hard timeout.
 */
import {spawn} from 'node:child_process'
// Synchronous reads: sysfs and procfs files are tiny, and fs/promises costs start-up time on the device.
import {closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync} from 'node:fs'
import {posix, resolve, sep} from 'node:path'

import {ioError, UserError} from '../errors.js'
import type {CommandResult, CommandRunner, FileInfo, SerialFs, SourceContext, SourceUnavailable} from './source.js'
import {unavailable} from './source.js'

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

/** File access with every path resolved under `root`. */
export function rootedFs(root: string): SerialFs {
  const host = (p: string) => underRoot(root, p)
  let realRoot: string | undefined
  return {
    async isSymlink(path) {
      try {
        return lstatSync(host(path)).isSymbolicLink()
      } catch {
        return false
      }
    },
    async readBytes(path, offset, length) {
      const fd = openSync(host(path), 'r')
      try {
        const buffer = Buffer.alloc(length)
        const bytesRead = readSync(fd, buffer, 0, length, offset)
        return buffer.subarray(0, bytesRead)
      } finally {
        closeSync(fd)
      }
    },
    readdir: async (path) => readdirSync(host(path)).sort(),
    readFile: async (path) => readFileSync(host(path)),
    async realpath(path) {
      realRoot ??= realpathSync(root)
      const base = realRoot
      const full = realpathSync(host(path))
      if (base === '/' || base === sep) return full
      if (full === base) return '/'
      // A symlink that leaves the root (an absolute link in a captured tree) keeps its host path.
      return full.startsWith(base + sep) ? full.slice(base.length) : full
    },
    async stat(path): Promise<FileInfo> {
      const s = statSync(host(path))
      return {isDirectory: s.isDirectory(), mode: s.mode & 0o7777, size: s.size}
    },
  }
}

/** Runs `argv` without a shell; kills the whole process group when `timeoutMs` passes. */
export const runCommand: CommandRunner = (argv, {timeoutMs}) =>
  new Promise<CommandResult>((done) => {
    const maxOutput = 64 * 1024
    let stdout = ''
    let stderr = ''
    let settled = false
    const finish = (result: CommandResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      done(result)
    }

    const child = spawn(argv[0], argv.slice(1), {detached: true, shell: false, stdio: ['ignore', 'pipe', 'pipe']})
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }

    const timer = setTimeout(() => {
      kill()
      // Do not wait for pipes a grandchild may still hold open: the timeout is the answer.
      finish({code: null, error: 'ETIMEDOUT', stderr, stdout})
    }, timeoutMs)
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      if (stdout.length > maxOutput) {
        kill()
        finish({code: null, error: 'E2BIG', stderr, stdout: stdout.slice(0, maxOutput)})
      }
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < maxOutput) stderr += d
    })
    child.on('error', (error: NodeJS.ErrnoException) => finish({code: null, error: error.code ?? error.message, stderr, stdout}))
    child.on('close', (code) => finish({code, stderr, stdout}))
  })

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
  return (error as NodeJS.ErrnoException | undefined)?.code
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
export async function readFirst(
  fs: SerialFs,
  paths: readonly string[],
  plugs?: string,
): Promise<{data: Buffer; path: string} | SourceUnavailable> {
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
export function absentAll(paths: readonly string[]): SourceUnavailable {
  if (paths.length === 1) return unavailable('absent', `${paths[0]} does not exist`, paths[0])
  return unavailable('absent', `none of ${paths.join(', ')} exists`, paths[0])
}

/** A root that is not a directory is a usage error, not "no sources". */
export async function checkRoot(root: string): Promise<void> {
  let info: ReturnType<typeof statSync>
  try {
    info = statSync(root)
  } catch (error) {
    throw ioError(root, error, 'use as root')
  }

  if (!info.isDirectory()) throw new UserError('E_SERIAL_ROOT', `${root} is not a directory`, {file: root, hint: '--root takes the directory that plays / (e.g. a captured tree)', kind: 'usage'})
}
