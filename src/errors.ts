/**
 * The two error types of snap-gadget, and the one table of exit codes.
 *
 * - {@link UserError}: the user (or the machine's state) is wrong: a missing file, a bad flag,
 *   a serial that cannot be derived. It carries a stable `code`, a message, and a `hint` that
 *   says how to fix it. Messages name the file and the place when there is one.
 * - {@link InternalError}: snap-gadget itself is wrong. It is never expected; the CLI prints it
 *   with a request to report it.
 *
 * The SDK throws these and never prints; the CLI maps them to exit codes with {@link exitCodeFor}.
 */

/** Process exit codes, set in this one place. */
export const ExitCode = {
  /** Nothing to report, or only findings below error level. */
  Ok: 0,
  /** Findings at error level, or an operation that could not complete (no usable serial, …). */
  Failed: 1,
  /** A usage or I/O error: bad flag, missing or unreadable file. */
  Usage: 2,
  /** A bug in snap-gadget. */
  Internal: 3,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** What kind of user error this is; the kind picks the exit code. */
export type UserErrorKind = 'usage' | 'io' | 'failed'

const exitByKind: Record<UserErrorKind, ExitCode> = {
  failed: ExitCode.Failed,
  io: ExitCode.Usage,
  usage: ExitCode.Usage,
}

export interface UserErrorOptions {
  /** How to fix it, in one sentence. */
  hint?: string
  kind?: UserErrorKind
  /** The file the error is about, when there is one. */
  file?: string
  line?: number
  column?: number
  cause?: unknown
  /** Structured details (e.g. every serial source tried and why it was refused). */
  details?: unknown
}

/** A mistake of the user's, or a state of the machine the user can fix. */
export class UserError extends Error {
  override readonly name = 'UserError'
  readonly code: string
  readonly hint?: string
  readonly kind: UserErrorKind
  readonly file?: string
  readonly line?: number
  readonly column?: number
  readonly details?: unknown

  constructor(code: string, message: string, options: UserErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.code = code
    this.hint = options.hint
    this.kind = options.kind ?? 'usage'
    this.file = options.file
    this.line = options.line
    this.column = options.column
    this.details = options.details
  }

  get exitCode(): ExitCode {
    return exitByKind[this.kind]
  }

  /** "file:line:col: message" when a place is known (and the message does not name it), else the message. */
  get located(): string {
    if (!this.file || (this.line === undefined && this.message.includes(this.file))) return this.message
    const place = [this.file, this.line, this.column].filter((p) => p !== undefined).join(':')
    return `${place}: ${this.message}`
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      column: this.column,
      details: this.details,
      file: this.file,
      hint: this.hint,
      line: this.line,
      message: this.message,
    }
  }
}

/** A bug in snap-gadget: an invariant that did not hold. */
export class InternalError extends Error {
  override readonly name = 'InternalError'
  readonly code = 'INTERNAL'

  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
  }
}

/** The exit code for any thrown value. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UserError) return error.exitCode
  return ExitCode.Internal
}

/** Wraps a node I/O error on `file` as a UserError with a useful hint. */
export function ioError(file: string, error: unknown, what = 'read'): UserError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const reasons: Record<string, [string, string]> = {
    EACCES: ['permission denied', `check the file's permissions, or run as a user who may ${what} it`],
    EISDIR: ['is a directory', 'give the path of a file'],
    ENAMETOOLONG: ['a file name or the path is too long for the file system', 'choose a shorter name, or a directory closer to /'],
    ENOENT: ['no such file or directory', 'check the path'],
    ENOSPC: ['no space left on the device', 'free some space'],
    ENOTDIR: ['a part of the path is not a directory', 'check the path'],
    EPERM: ['operation not permitted', `check the file's permissions`],
  }
  const [reason, hint] = (code && reasons[code]) || [String((error as Error)?.message ?? error), 'check the path']
  return new UserError(`E_IO_${code ?? 'UNKNOWN'}`, `cannot ${what} ${file}: ${reason}`, {
    cause: error,
    file,
    hint,
    kind: 'io',
  })
}
