/**
 * Key files written to disk: a private key with mode 0600 from the first byte (never readable by
 * others, whatever the umask), what may be public (a request) 0644; each complete or absent (a
 * temporary file in the same directory, synced, then linked or renamed into place), and an
 * existing file is replaced only when the caller says so.
 */
import {randomBytes} from 'node:crypto'
import {closeSync, constants, fchmodSync, fsyncSync, linkSync, lstatSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {ioError, UserError} from '../errors.js'

export interface WritePrivateKeyOptions {
  /** Replace a file that exists. */
  force?: boolean
  /** The name messages use for the file (as the user gave it). */
  shown?: string
}

/** Writes `pem` to `path` with mode 0600; refuses an existing file unless `force`. */
export function writePrivateKeyFile(path: string, pem: string, options: WritePrivateKeyOptions = {}): void {
  writeKeyFile(path, pem, 0o600, options)
}

/** Writes public `text` (an account-key-request) to `path` with mode 0644; refuses an existing file unless `force`. */
export function writePublicKeyFile(path: string, text: string, options: WritePrivateKeyOptions = {}): void {
  writeKeyFile(path, text, 0o644, options)
}

function writeKeyFile(path: string, content: string, mode: number, options: WritePrivateKeyOptions): void {
  const shown = options.shown ?? path
  if (!options.force && exists(path)) throw existsError(shown)
  const dir = dirname(path)
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  let fd: number
  try {
    fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
  } catch (error) {
    throw ioError(dir, error, 'create the key file in')
  }

  try {
    try {
      fchmodSync(fd, mode) // the umask may only have narrowed it; make it exact
      writeSync(fd, content)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }

    if (options.force) renameSync(temp, path)
    else linkSync(temp, path) // unlike rename, never replaces a file made since the check above
    syncDirectory(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw existsError(shown)
    throw ioError(shown, error, 'write')
  } finally {
    try {
      unlinkSync(temp)
    } catch {
      // renamed into place: nothing left to remove
    }
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}

function existsError(shown: string): UserError {
  return new UserError('E_EXISTS', `${shown} already exists`, {file: shown, hint: 'choose another file, or pass --force to replace it'})
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
