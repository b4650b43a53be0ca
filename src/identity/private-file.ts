/**
 * A file only its owner may read, as the device keeps its keys: read only when it is a regular
 * file (not a symbolic link, a FIFO or a device), owned by the user who runs the hook, closed to
 * group and others, and no larger than such a file can be; written once, atomically, with mode
 * 0600, never over a file another process made first. Through the host, on both engines.
 */
import {InternalError, ioError, UserError} from '../errors.js'
import {host} from '../support/host.js'

export interface PrivateFileRules {
  /** What the file is, for messages: "the identity key", "the hardware identity key". */
  what: string
  /** The largest such file. */
  maxBytes: number
  /** What deleting the file means, for hints: "the device must then register again". */
  consequence: string
}

/** The file's bytes; undefined when there is no file. Refuses an unsafe file with a UserError. */
export function readPrivateFile(file: string, rules: PrivateFileRules): Uint8Array | undefined {
  const {what, maxBytes, consequence} = rules
  try {
    // lstat, not stat: a symlink planted in the data directory must not redirect us, and a FIFO or
    // a device must be refused before it is opened (it could block the hook or never end).
    const stat = host().lstat(file)
    if (stat.kind !== 'file') {
      const kind = stat.kind === 'symlink' ? 'a symbolic link' : stat.kind === 'directory' ? 'a directory' : 'a special file'
      throw notRegularFile(file, kind, rules)
    }

    const uid = host().uid()
    if (uid >= 0 && stat.uid !== uid) {
      throw new UserError('E_IDENTITY_KEY_OWNER', `${what} ${file} belongs to user ${stat.uid}, not to user ${uid} who runs the hook; refusing to use it`, {
        file,
        hint: `if nobody else could have written it, chown ${uid} it; otherwise delete it so a new key is made (${consequence})`,
        kind: 'failed',
      })
    }

    if ((stat.mode & 0o077) !== 0) {
      throw new UserError('E_IDENTITY_KEY_PERMISSIONS', `${what} ${file} may be read or changed by group or others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}); refusing to use it`, {
        file,
        hint: `if nobody else could have read it, chmod 600 it; otherwise delete it so a new key is made (${consequence})`,
        kind: 'failed',
      })
    }

    if (stat.size > maxBytes) {
      throw new UserError('E_IDENTITY_KEY_SIZE', `${what} ${file} is ${stat.size} bytes; a key file is under ${maxBytes}, so this is not one`, {
        file,
        hint: `delete it so a new key is made (${consequence})`,
        kind: 'failed',
      })
    }

    const bytes = host().readBytes(file, 0, maxBytes + 1)
    if (bytes.length > maxBytes) throw notRegularFile(file, 'a file that grew while it was read', rules)
    return bytes
  } catch (error) {
    if (error instanceof UserError) throw error
    if ((error as {code?: string}).code === 'ENOENT') return undefined
    throw ioError(file, error)
  }
}

/**
 * Writes the file unless it exists: temp file (0600) in the same directory, fsync, then a hard
 * link to the final name, which unlike rename never replaces a file another process made. Returns
 * false when the file already existed.
 */
export function writePrivateFileOnce(file: string, data: Uint8Array, what: string): boolean {
  const dir = file.slice(0, file.lastIndexOf('/')) || '/'
  const name = file.slice(file.lastIndexOf('/') + 1)
  const temp = `${dir}/.${name}.${host().pid()}.${Buffer.from(host().randomBytes(6)).toString('hex')}.tmp`
  try {
    host().writeNewFile(temp, data, 0o600)
  } catch (error) {
    throw ioError(dir, error, `create ${what} in`)
  }

  try {
    try {
      host().link(temp, file)
    } catch (error) {
      const code = (error as {code?: string}).code
      if (code === 'EEXIST') return false
      // File systems (and hosts) without hard links: rename is still atomic, only not exclusive.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') host().rename(temp, file)
      else throw error
    }

    // Makes the new directory entry durable, so a power cut cannot lose a key already sent out.
    host().syncDirectory(dir)
    return true
  } catch (error) {
    throw error instanceof UserError || error instanceof InternalError ? error : ioError(file, error, 'write')
  } finally {
    try {
      host().unlink(temp)
    } catch {
      // already renamed into place, or never linked: nothing left to remove
    }
  }
}

function notRegularFile(file: string, kind: string, rules: PrivateFileRules): UserError {
  return new UserError('E_IDENTITY_KEY_FILE', `${rules.what} ${file} is ${kind}, not a regular file; refusing to use it`, {
    file,
    hint: `remove it; snap-gadget then makes a new key file (${rules.consequence})`,
    kind: 'failed',
  })
}
