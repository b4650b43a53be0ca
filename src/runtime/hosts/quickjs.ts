/**
 * The QuickJS host: `qjs --std` gives the script the `std` and `os` modules as globals. Files are
 * read with os.open/os.read, programs are run with os.exec (an argv array, never a shell) and
 * reaped with os.waitpid, random bytes come from /dev/urandom, and the keys and hashes from
 * JavaScript libraries (quickjs-crypto.ts).
 * installQuickJsGlobals() adds what the shared code expects of a JavaScript host and QuickJS lacks:
 * Buffer, setTimeout, clearTimeout, and a Promise that never rejects before its handler is there.
 */
import './engine-fixes.js'

import {type Host, hostError, type HostStat, type SpawnResult} from '../../support/host.js'
import {quickjsCrypto} from './quickjs-crypto.js'
import {PortableBuffer, utf8Decode, utf8Encode} from './portable-buffer.js'

/** The parts of QuickJS's `os` module used here (quickjs-libc). */
interface QuickJsOs {
  O_RDONLY: number
  O_WRONLY: number
  O_CREAT: number
  O_EXCL: number
  S_IFMT: number
  S_IFREG: number
  S_IFDIR: number
  S_IFLNK: number
  SIGTERM: number
  WNOHANG: number
  open(path: string, flags: number, mode?: number): number
  close(fd: number): number
  seek(fd: number, offset: number, whence: number): number
  read(fd: number, buffer: ArrayBuffer, offset: number, length: number): number
  write(fd: number, buffer: ArrayBuffer, offset: number, length: number): number
  stat(path: string): [QuickJsStat, number]
  lstat(path: string): [QuickJsStat, number]
  readlink(path: string): [string, number]
  readdir(path: string): [string[], number]
  mkdir(path: string, mode: number): number
  rename(from: string, to: string): number
  remove(path: string): number
  getcwd(): [string, number]
  getpid?: () => number
  exec(argv: readonly string[], options: {block?: boolean; usePath?: boolean; stdout?: number; stderr?: number; stdin?: number; env?: Record<string, string>}): number
  waitpid(pid: number, options: number): [number, number]
  kill(pid: number, signal: number): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(timer: unknown): void
  now?: () => number
}

interface QuickJsStat {
  mode: number
  size: number
  uid: number
}

interface QuickJsFile {
  fileno(): number
  seek(offset: number, whence: number): number
  read(buffer: ArrayBuffer, offset: number, length: number): number
  puts(text: string): void
  flush(): void
  close(): number
}

interface QuickJsStd {
  exit(code: number): never
  SEEK_SET: number
  out: QuickJsFile
  err: QuickJsFile
  getenviron(): Record<string, string>
  tmpfile(): QuickJsFile | null
}

declare const os: QuickJsOs
declare const std: QuickJsStd
/** The script's name, then its arguments (quickjs-libc sets it). */
declare const scriptArgs: string[]

/**
 * quickjs-libc's `os` has SIGTERM but no SIGKILL (neither 2021 nor 2025): os.SIGKILL would be
 * undefined, which kill(2) gets as signal 0, a mere existence check. SIGKILL is 9 on every Linux
 * architecture.
 */
const SIGKILL = 9

/** Linux errno numbers (the same on amd64, arm64 and armhf) and their names. */
const ERRNO: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  5: 'EIO',
  6: 'ENXIO',
  11: 'EAGAIN',
  13: 'EACCES',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  20: 'ENOTDIR',
  21: 'EISDIR',
  22: 'EINVAL',
  24: 'EMFILE',
  28: 'ENOSPC',
  30: 'EROFS',
  36: 'ENAMETOOLONG',
  40: 'ELOOP',
  95: 'EOPNOTSUPP',
}

/** Throws for a negative (or, with `[value, errno]`, non-zero) result of an os function. */
function check(result: number, what: string, path: string): number {
  if (result >= 0) return result
  const code = ERRNO[-result] ?? `E${-result}`
  throw hostError(code, `${what} ${path}`)
}

function checked<T>([value, errno]: [T, number], what: string, path: string): T {
  if (errno !== 0) check(-Math.abs(errno), what, path)
  return value
}

function toHostStat(stat: QuickJsStat): HostStat {
  const type = stat.mode & os.S_IFMT
  const kind = type === os.S_IFREG ? 'file' : type === os.S_IFDIR ? 'directory' : type === os.S_IFLNK ? 'symlink' : 'other'
  return {kind, mode: stat.mode & 0o7777, size: stat.size, uid: stat.uid}
}

function readFd(fd: number, length: number, path: string): Uint8Array {
  const buffer = new ArrayBuffer(length)
  let filled = 0
  while (filled < length) {
    const n = check(os.read(fd, buffer, filled, length - filled), 'read', path)
    if (n === 0) break
    filled += n
  }

  return new Uint8Array(buffer, 0, filled)
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    os.setTimeout(resolve, ms)
  })

/** The program's path: QuickJS's own PATH search cannot tell "not found" from exit 127. */
function findProgram(name: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const candidates = name.includes('/') ? [name] : (env.PATH ?? '/usr/bin:/bin').split(':').map((dir) => `${dir || '.'}/${name}`)
  for (const file of candidates) {
    const [stat, errno] = os.stat(file)
    if (errno === 0 && (stat.mode & os.S_IFMT) === os.S_IFREG && (stat.mode & 0o111) !== 0) return file
  }

  return undefined
}

/** The pids of every descendant of `pid`, from /proc: the children a killed child leaves. */
function descendants(pid: number): number[] {
  const [entries] = os.readdir('/proc')
  const parents = new Map<number, number[]>()
  for (const entry of entries ?? []) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readSmall(`/proc/${entry}/stat`)
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (!Number.isInteger(ppid)) continue
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)])
  }

  const found: number[] = []
  const walk = (parent: number) => {
    for (const child of parents.get(parent) ?? []) {
      found.push(child)
      walk(child)
    }
  }

  walk(pid)
  return found
}

function readSmall(path: string): string | undefined {
  const fd = os.open(path, os.O_RDONLY)
  if (fd < 0) return undefined
  try {
    return utf8Decode(readFd(fd, 4096, path))
  } finally {
    os.close(fd)
  }
}

function readTempFile(file: QuickJsFile, max: number): string {
  file.seek(0, std.SEEK_SET)
  const buffer = new ArrayBuffer(max)
  let filled = 0
  while (filled < max) {
    const n = file.read(buffer, filled, max - filled)
    if (n <= 0) break
    filled += n
  }

  file.close()
  return utf8Decode(new Uint8Array(buffer, 0, filled))
}

function decodeStatus(status: number): {signal?: string; status: null | number} {
  const signal = status & 0x7f
  if (signal === 0) return {status: (status >> 8) & 0xff}
  return {signal: signal === SIGKILL ? 'SIGKILL' : signal === os.SIGTERM ? 'SIGTERM' : `signal ${signal}`, status: null}
}

export const quickjsHost: Host = {
  ...quickjsCrypto((length) => quickjsHost.randomBytes(length)),
  args: () => scriptArgs.slice(1),
  cwd: () => checked(os.getcwd(), 'getcwd', '.'),
  engine: 'quickjs',
  env: () => std.getenviron(),
  exit(code) {
    std.out.flush()
    std.err.flush()
    std.exit(code)
  },
  // QuickJS resolves an absolute path itself (it has no file: URLs).
  importModule: async (file) => (await import(file)) as Record<string, unknown>,
  link() {
    // quickjs-libc has no link(2): the caller falls back to rename.
    throw hostError('ENOTSUP', 'hard links')
  },
  lstat: (path) => toHostStat(checked(os.lstat(path), 'lstat', path)),
  mkdir(path, mode) {
    let at = ''
    for (const part of path.split('/')) {
      at = at === '' && path.startsWith('/') ? `/${part}` : at === '' ? part : `${at}/${part}`
      if (part === '' || part === '.') continue
      const result = os.mkdir(at, mode)
      if (result < 0 && ERRNO[-result] !== 'EEXIST') check(result, 'mkdir', at)
    }

    if (toHostStat(checked(os.stat(path), 'stat', path)).kind !== 'directory') throw hostError('ENOTDIR', path)
  },
  now: () => (typeof os.now === 'function' ? os.now() : Date.now()),
  // QuickJS 2021 has no os.getpid: /proc/self names this process.
  pid: () => (typeof os.getpid === 'function' ? os.getpid() : Number(checked(os.readlink('/proc/self'), 'readlink', '/proc/self'))),
  randomBytes(length) {
    const fd = check(os.open('/dev/urandom', os.O_RDONLY), 'open', '/dev/urandom')
    try {
      const bytes = readFd(fd, length, '/dev/urandom')
      if (bytes.length !== length) throw hostError('EIO', '/dev/urandom gave fewer bytes than asked')
      return bytes
    } finally {
      os.close(fd)
    }
  },
  readBytes(path, offset, length) {
    const fd = check(os.open(path, os.O_RDONLY), 'open', path)
    try {
      if (offset > 0) check(os.seek(fd, offset, std.SEEK_SET), 'seek', path)
      return PortableBuffer.from(readFd(fd, length, path))
    } finally {
      os.close(fd)
    }
  },
  readdir: (path) => checked(os.readdir(path), 'readdir', path).filter((name) => name !== '.' && name !== '..'),
  readlink: (path) => checked(os.readlink(path), 'readlink', path),
  rename(from, to) {
    check(os.rename(from, to), 'rename', from)
  },
  async spawn(argv, options) {
    const env = options.env ?? std.getenviron()
    const program = findProgram(argv[0], env)
    if (program === undefined) return {error: 'ENOENT', status: null, stderr: '', stdout: ''}
    // setsid(1) makes the child the leader of a process group of its own (quickjs-libc cannot), so
    // a timeout kills everything it started; setsid execs in place, so the pid is the child's.
    const setsid = findProgram('setsid', {PATH: '/usr/bin:/bin'})
    const stdout = std.tmpfile()
    const stderr = std.tmpfile()
    if (!stdout || !stderr) return {error: 'EMFILE', status: null, stderr: '', stdout: ''}
    const childEnv: Record<string, string> = {}
    for (const [name, value] of Object.entries(env)) if (value !== undefined) childEnv[name] = value
    const pid = os.exec(setsid ? [setsid, program, ...argv.slice(1)] : [program, ...argv.slice(1)], {block: false, env: childEnv, stderr: stderr.fileno(), stdout: stdout.fileno()})
    if (pid < 0) return {error: ERRNO[-pid] ?? `E${-pid}`, status: null, stderr: '', stdout: ''}
    const started = quickjsHost.now()
    let phase: 'killed' | 'running' | 'terminated' = 'running'
    let ended: SpawnResult | undefined
    for (let pause = 1; ended === undefined; pause = Math.min(pause * 2, 20)) {
      const [done, status] = os.waitpid(pid, os.WNOHANG)
      if (done === pid) {
        ended = decodeStatus(status) as SpawnResult
        break
      }

      const elapsed = quickjsHost.now() - started
      if (phase === 'running' && elapsed >= options.timeoutMs) {
        phase = 'terminated'
        os.kill(setsid ? -pid : pid, os.SIGTERM)
      } else if (phase === 'terminated' && elapsed >= options.timeoutMs + options.graceMs) {
        phase = 'killed'
        // Without setsid(1) there is no group to kill: find the children while they are still ours.
        if (!setsid) for (const child of descendants(pid)) os.kill(child, SIGKILL)
        os.kill(setsid ? -pid : pid, SIGKILL)
      }

      await sleep(pause)
    }

    // Whatever the child left running in its group (a grandchild holding its output) goes with it.
    if (setsid) os.kill(-pid, SIGKILL)
    const result: SpawnResult = {...ended, stderr: readTempFile(stderr, options.maxOutputBytes), stdout: readTempFile(stdout, options.maxOutputBytes)}
    if (phase !== 'running') result.error = 'ETIMEDOUT'
    return result
  },
  stat: (path) => toHostStat(checked(os.stat(path), 'stat', path)),
  syncDirectory() {
    // quickjs-libc has no fsync: sync(1) flushes the new key file and its directory entry.
    const sync = findProgram('sync', {PATH: '/usr/bin:/bin'})
    if (sync) os.exec([sync], {block: true})
  },
  uid() {
    // quickjs-libc has no getuid: the effective uid is the second field of /proc/self/status's Uid line.
    const line = /^Uid:\s+\d+\s+(\d+)/m.exec(readSmall('/proc/self/status') ?? '')
    return line ? Number(line[1]) : -1
  },
  unlink(path) {
    check(os.remove(path), 'remove', path)
  },
  write(fd, text) {
    const file = fd === 1 ? std.out : std.err
    file.puts(text)
    file.flush()
  },
  writeNewFile(path, data, mode) {
    const fd = check(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), 'create', path)
    try {
      const copy = Uint8Array.from(data)
      let written = 0
      while (written < copy.length) written += check(os.write(fd, copy.buffer, written, copy.length - written), 'write', path)
    } finally {
      os.close(fd)
    }
  },
}

/**
 * A Promise whose rejections happen one microtask late. QuickJS 2025.04.26's `qjs` ends the script
 * (exit 1, "Possibly unhandled promise rejection") the moment a promise is rejected with no handler
 * yet, which is every async function that throws before its first await: its caller attaches the
 * handler only when the call has returned. The bundle lowers async functions to generators driven
 * by the global Promise (scripts/build.mjs), so with this one installed the caller's handler is
 * always there first, on the 2021 engine (no such check) and the 2025 one, without any qjs option.
 */
function rejectingLaterPromise(): PromiseConstructor {
  const NativePromise = Promise
  class RejectingLaterPromise<T> extends NativePromise<T> {
    constructor(executor: (resolve: (value: PromiseLike<T> | T) => void, reject: (reason?: unknown) => void) => void) {
      super((resolve, reject) => {
        const rejectLater = (reason: unknown) => {
          void NativePromise.resolve().then(() => reject(reason))
        }

        try {
          executor(resolve, rejectLater)
        } catch (error) {
          rejectLater(error)
        }
      })
    }
  }

  return RejectingLaterPromise as unknown as PromiseConstructor
}

/**
 * Buffer, setTimeout and clearTimeout, where QuickJS has none; a Promise that rejects after its
 * handler is attached. (ES2022's `at` and hasOwn on QuickJS 2021, and the BigInt fix, are put in
 * place earlier, by engine-fixes.ts: @noble/curves uses them as its modules load.)
 */
export function installQuickJsGlobals(): void {
  const globals = globalThis as Record<string, unknown>
  globals.Promise = rejectingLaterPromise()
  globals.Buffer ??= PortableBuffer
  globals.setTimeout ??= (callback: () => void, ms = 0) => os.setTimeout(callback, ms)
  globals.clearTimeout ??= (timer: unknown) => {
    if (timer !== undefined) os.clearTimeout(timer)
  }
}

/** Whether this script runs in `qjs --std`. */
export function onQuickJs(): boolean {
  return typeof std === 'object' && typeof os === 'object'
}

export {utf8Decode, utf8Encode}
