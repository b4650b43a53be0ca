/** What system-user reads besides the key and assertions: the password, ssh keys, times. */
import {UserError} from '../../../errors.js'
import {readBoundedFile, readBoundedStdin} from '../../../support/bounded-read.js'
import {askNewPassword} from '../../prompt.js'

/** A password file holds one line; an authorized_keys file a few keys. */
const MAX_PASSWORD_FILE_BYTES = 4096
const MAX_SSH_KEY_FILE_BYTES = 256 * 1024

/** The password from --password-file (its first line) or the terminal; undefined when neither is asked for. */
export async function readPassword(flags: {'ask-password'?: boolean; 'password-file'?: string}): Promise<string | undefined> {
  if (flags['ask-password']) return askNewPassword('password for the new user')
  const file = flags['password-file']
  if (file === undefined) return undefined
  const bytes = file === '-' ? readBoundedStdin(MAX_PASSWORD_FILE_BYTES, 'password') : readBoundedFile(file, MAX_PASSWORD_FILE_BYTES, {what: 'password'})
  const line = bytes.toString('utf8').split(/\r?\n/)[0]
  if (line === '')
    throw new UserError('E_PASSWORD', `the first line of ${file === '-' ? 'standard input' : file} is empty`, {file: file === '-' ? undefined : file, hint: 'put the password on the first line', kind: 'usage'})
  return line
}

/** Every key line of the files (comments and blank lines skipped), in order. */
export function readSshKeys(files: readonly string[]): string[] {
  return files.flatMap((file) => {
    const lines = readBoundedFile(file, MAX_SSH_KEY_FILE_BYTES, {what: 'ssh public key'})
      .toString('utf8')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
    if (lines.length === 0) throw new UserError('E_SYSTEM_USER', `${file} holds no ssh public key`, {file, hint: 'give the .pub file ssh-keygen wrote', kind: 'usage'})
    if (lines.some((line) => line.includes('PRIVATE KEY'))) throw new UserError('E_SYSTEM_USER', `${file} is a private key`, {file, hint: `give the public key (${file}.pub), never the private one`, kind: 'usage'})
    return lines
  })
}

/** An RFC 3339 time (a date alone is midnight UTC). */
export function parseTime(text: string, flag: string): Date {
  const time = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/i.test(text) ? new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text) : new Date(Number.NaN)
  if (Number.isNaN(time.getTime())) throw new UserError('E_FLAGS', `${flag} ${JSON.stringify(text)} is not an RFC 3339 time`, {hint: `give e.g. ${flag} 2026-12-07T08:00:00Z`, kind: 'usage'})
  return time
}

/** 30m, 8h, 3d, 2w in milliseconds. */
export function parseDuration(text: string): number {
  const match = /^([1-9]\d{0,5})([mhdw])$/.exec(text)
  if (!match) throw new UserError('E_FLAGS', `--valid-for ${JSON.stringify(text)} is not a duration`, {hint: 'give a whole number and a unit: 30m, 8h, 3d or 2w', kind: 'usage'})
  return Number(match[1]) * {d: 86_400_000, h: 3_600_000, m: 60_000, w: 604_800_000}[match[2] as 'd' | 'h' | 'm' | 'w']
}
