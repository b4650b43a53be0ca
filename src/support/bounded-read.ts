/**
 * Reads a file a user named, never more than a limit and never from something that is not a
 * regular file: a FIFO, /dev/zero or a socket given by mistake must not hang the reader or grow
 * its memory. The descriptor is checked after opening, so a path swapped between a stat and the
 * read cannot slip a device in.
 */
import {closeSync, constants, fstatSync, openSync, readSync} from 'node:fs'

import {ioError, UserError} from '../errors.js'

export interface BoundedReadOptions {
  /** Bytes at most; a larger file is refused. */
  limit: number
  /** How the file is named in errors (the path as the user gave it). */
  shown?: string
  /** What the file is, for the messages ("the serve config", "a chain assertion"). */
  what?: string
}

/** The file's bytes; throws an I/O UserError (exit 2) naming the file when it cannot be read whole. */
export function readBoundedFile(path: string, options: BoundedReadOptions): Buffer {
  const shown = options.shown ?? path
  let fd: number
  try {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    throw ioError(shown, error, 'read')
  }

  try {
    const stat = fstatSync(fd)
    if (stat.isDirectory()) throw ioError(shown, Object.assign(new Error('is a directory'), {code: 'EISDIR'}), 'read')
    if (!stat.isFile()) {
      throw new UserError('E_IO_NOT_FILE', `cannot read ${shown}: it is not a regular file (${fileKind(stat)})`, {
        file: shown,
        hint: `give the path of ${options.what ?? 'a file'}, not a device, FIFO or socket`,
        kind: 'io',
      })
    }

    if (stat.size > options.limit) throw tooLarge(shown, stat.size, options)
    // The size can change under us: read one byte past the limit to notice a file that grew.
    const buffer = Buffer.allocUnsafe(Math.min(stat.size, options.limit) + 1)
    let length = 0
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null)
      if (n === 0) break
      length += n
      if (length > options.limit) throw tooLarge(shown, length, options)
      if (length === buffer.length) break
    }

    return buffer.subarray(0, length)
  } catch (error) {
    if (error instanceof UserError) throw error
    throw ioError(shown, error, 'read')
  } finally {
    closeSync(fd)
  }
}

function tooLarge(shown: string, size: number, options: BoundedReadOptions): UserError {
  return new UserError('E_IO_TOO_LARGE', `cannot read ${shown}: it is ${formatBytes(size)}, more than the ${formatBytes(options.limit)} snap-gadget reads for ${options.what ?? 'this file'}`, {
    file: shown,
    hint: `check that this is ${options.what ?? 'the file you meant'}`,
    kind: 'io',
  })
}

function fileKind(stat: ReturnType<typeof fstatSync>): string {
  if (stat.isFIFO()) return 'a FIFO'
  if (stat.isCharacterDevice()) return 'a character device'
  if (stat.isBlockDevice()) return 'a block device'
  if (stat.isSocket()) return 'a socket'
  return 'not a file'
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} bytes`
}
