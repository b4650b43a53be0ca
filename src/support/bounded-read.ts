/**
 * Reads a file the user named, bounded: refused unless it is a regular file (a FIFO, /dev/zero or
 * /dev/urandom would block or never end), refused when larger than the limit, and never read past
 * limit + 1 bytes even when it grows while being read. Standard input is read with the same cap.
 */
import {closeSync, constants, fstatSync, openSync, readSync} from 'node:fs'

import {ioError, UserError} from '../errors.js'

interface BoundedReadOptions {
  /** The name shown in messages (as the user gave it). */
  shown?: string
  /** What the file is, for messages: "gadget.yaml", "model", "assertion". */
  what?: string
}

const MIB = 1024 * 1024

/** `4 MiB`, `512 KiB`, `12 bytes`: limits as a reader thinks of them. */
function formatSize(bytes: number): string {
  if (bytes >= MIB) return `${Number.isInteger(bytes / MIB) ? bytes / MIB : (bytes / MIB).toFixed(1)} MiB`
  if (bytes >= 1024) return `${Number.isInteger(bytes / 1024) ? bytes / 1024 : (bytes / 1024).toFixed(1)} KiB`
  return `${bytes} bytes`
}

/** Error when a file is larger than snap-gadget reads: an I/O problem (exit 2), not a finding. */
function tooLargeError(shown: string, size: number | undefined, limit: number, what = 'file'): UserError {
  const measured = size === undefined ? `more than ${formatSize(limit)}` : formatSize(size)
  return new UserError('E_TOO_LARGE', `${shown} is ${measured}; snap-gadget reads ${what === 'file' ? 'files' : `${what} files`} of at most ${formatSize(limit)}`, {
    file: shown,
    hint: `check that ${shown} is the right file`,
    kind: 'io',
  })
}

/** What a non-regular file is, in words. */
function kindOf(stat: {isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean}): string {
  if (stat.isDirectory()) return 'a directory'
  if (stat.isFIFO()) return 'a FIFO (named pipe)'
  if (stat.isCharacterDevice()) return 'a character device'
  if (stat.isBlockDevice()) return 'a block device'
  if (stat.isSocket()) return 'a socket'
  return 'not a regular file'
}

/**
 * The bytes of `path`, at most `limit` of them. Opened non-blocking so that a FIFO with no writer
 * cannot hang the open; the type is checked on the open descriptor, so a swap between check and
 * read changes nothing.
 */
export function readBoundedFile(path: string, limit: number, options: BoundedReadOptions = {}): Buffer {
  const shown = options.shown ?? path
  const what = options.what ?? 'file'
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    throw ioError(shown, error, 'read')
  }

  try {
    const stat = fstatSync(fd)
    if (stat.isDirectory()) throw ioError(shown, Object.assign(new Error('is a directory'), {code: 'EISDIR'}), 'read')
    if (!stat.isFile()) {
      throw new UserError('E_NOT_A_FILE', `${shown} is ${kindOf(stat)}, not a regular file`, {
        file: shown,
        hint: `give the path of a regular ${what} file; to read standard input, pass -`,
        kind: 'io',
      })
    }

    if (stat.size > limit) throw tooLargeError(shown, stat.size, limit, what)
    return readUpTo(fd, limit, () => tooLargeError(shown, undefined, limit, what), shown, stat.size)
  } finally {
    closeSync(fd)
  }
}

/**
 * The first `length` bytes of a regular file, or undefined when it cannot be read or is no regular
 * file: for a look at a file the user did not name (a runtime's first line), never an error.
 */
export function readFileHead(path: string, length: number): Buffer | undefined {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch {
    return undefined
  }

  try {
    if (!fstatSync(fd).isFile()) return undefined
    const head = Buffer.alloc(length)
    return head.subarray(0, readSync(fd, head, 0, length, 0))
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}

/** Reads standard input (fd 0) to its end, refusing more than `limit` bytes. */
export function readBoundedStdin(limit: number, what = 'input'): Buffer {
  return readUpTo(0, limit, () => tooLargeError('<stdin>', undefined, limit, what), '<stdin>')
}

/**
 * A regular file whose fstat gives a size is read into one buffer of that size and a byte more:
 * a read that comes back short of it is the end of the file, so no second read is made, and no
 * 64 KB buffer per file (reading a hundred gadget.yaml files went from about 90 to 40 µs each).
 * A file that grew since the fstat, one whose size says 0 (/proc, /sys: the kernel answers a page
 * or a record at a time, short of the end), and standard input are read on in 64 KB chunks until
 * a read gives nothing.
 */
function readUpTo(fd: number, limit: number, tooLarge: () => UserError, shown: string, fileSize?: number): Buffer {
  const chunks: Buffer[] = []
  let total = 0
  for (;;) {
    const wanted = total === 0 && fileSize !== undefined ? fileSize + 1 : 64 * 1024
    const chunk = Buffer.allocUnsafe(Math.min(wanted, limit + 1 - total))
    let count: number
    try {
      count = readSync(fd, chunk, 0, chunk.length, null)
    } catch (error) {
      // A pipe on stdin opened non-blocking by the parent: wait a moment and read on.
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
        continue
      }

      throw ioError(shown, error, 'read')
    }

    if (count === 0) break
    chunks.push(chunk.subarray(0, count))
    total += count
    if (total > limit) throw tooLarge()
    if (fileSize !== undefined && fileSize > 0 && count < chunk.length) break
  }

  return Buffer.concat(chunks, total)
}
