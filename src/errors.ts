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

/** Why a file operation failed, by errno name, with how to fix it; any other errno is E_IO_OTHER. */
const IO_REASONS = {
  EACCES: ['permission denied', "check the file's permissions, or run as a user who may WHAT it"],
  EISDIR: ['is a directory', 'give the path of a file'],
  ENAMETOOLONG: ['a file name or the path is too long for the file system', 'choose a shorter name, or a directory closer to /'],
  ENOENT: ['no such file or directory', 'check the path'],
  ENOSPC: ['no space left on the device', 'free some space'],
  ENOTDIR: ['a part of the path is not a directory', 'check the path'],
  EPERM: ['operation not permitted', "check the file's permissions"],
} as const
const IO_CODES = ['E_IO_EACCES', 'E_IO_EISDIR', 'E_IO_ENAMETOOLONG', 'E_IO_ENOENT', 'E_IO_ENOSPC', 'E_IO_ENOTDIR', 'E_IO_EPERM', 'E_IO_OTHER'] as const satisfies readonly (
  `E_IO_${keyof typeof IO_REASONS}` | 'E_IO_OTHER'
)[]

/**
 * Every code a UserError carries, by area: a code names one kind of mistake and stays stable
 * across releases (scripts and CI match on it). Adding a code here is what makes it usable.
 */
const USER_CODES = [
  // Assertions read, written or checked (snapd's format).
  'E_ASSERTION_BODY_LENGTH',
  'E_ASSERTION_COUNT',
  'E_ASSERTION_EMPTY',
  'E_ASSERTION_ENCODING',
  'E_ASSERTION_HEADER',
  'E_ASSERTION_INPUT',
  'E_ASSERTION_KEY',
  'E_ASSERTION_SIGNATURE',
  'E_ASSERTION_SYNTAX',
  'E_ASSERTION_TOO_LARGE',
  'E_SIGNING_KEY',
  // Brand keys: their files, GnuPG exports, the external key manager, account-key-requests.
  'E_ACCOUNT_KEY_REQUEST',
  'E_GNUPG_EXPORT',
  'E_GNUPG_KEY_SIZE',
  'E_GNUPG_NO_SECRET',
  'E_GNUPG_NOT_RSA',
  'E_GNUPG_PROTECTED',
  'E_GNUPG_PUBLIC',
  'E_KEY_DIRECTORY',
  'E_KEY_ENCRYPTED',
  'E_KEY_FORMAT',
  'E_KEY_MISMATCH',
  'E_KEY_NAME',
  'E_KEY_NOT_FOUND',
  'E_KEYMGR_INPUT',
  'E_KEYMGR_USAGE',
  // The registration body the device sends.
  'E_BODY_ENCODING',
  'E_BODY_FACT',
  'E_BODY_FACT_DENIED',
  'E_BODY_FIELDS',
  'E_BODY_NOT_MAP',
  'E_BODY_SIZE',
  'E_BODY_YAML',
  // The device's identity key and its proof.
  'E_IDENTITY_DIR',
  'E_IDENTITY_ENCODING',
  'E_IDENTITY_FIELDS',
  'E_IDENTITY_INVALID',
  'E_IDENTITY_KEY_FILE',
  'E_IDENTITY_KEY_FORMAT',
  'E_IDENTITY_KEY_OWNER',
  'E_IDENTITY_KEY_PERMISSIONS',
  'E_IDENTITY_KEY_SIZE',
  'E_IDENTITY_MISSING',
  'E_IDENTITY_NO_SERIAL',
  'E_IDENTITY_SCHEME',
  'E_IDENTITY_SEED',
  'E_IDENTITY_SIGNATURE',
  // system-user assertions: access for the factory and support.
  'E_PASSWORD',
  'E_SYSTEM_USER',
  // doctor: why a device did not register (a cause found is E_DOCTOR_NOT_REGISTERED, exit 1).
  'E_DOCTOR_GADGET',
  'E_DOCTOR_INPUT',
  'E_DOCTOR_NOT_REGISTERED',
  'E_DOCTOR_SERVICE',
  'E_DOCTOR_SOCKET',
  'E_DOCTOR_SSH',
  'E_DOCTOR_STATE',
  // Hardware identities made in the factory: station exports, their keys, the assertions that certify them.
  'E_HARDWARE_EXPORT',
  'E_HARDWARE_IDENTITY',
  'E_HARDWARE_IDENTITY_CONFLICT',
  'E_HARDWARE_KEY',
  // init: scaffolding a gadget.
  'E_INIT_ARCH',
  'E_INIT_BASE',
  'E_INIT_BOARD',
  'E_INIT_BOARD_DIR',
  'E_INIT_BUSY',
  'E_INIT_CANCELLED',
  'E_INIT_EXISTS',
  'E_INIT_FLAG',
  'E_INIT_GRADE',
  'E_INIT_KERNEL',
  'E_INIT_MISSING',
  'E_INIT_MODEL',
  'E_INIT_NAME',
  'E_INIT_PARTIAL',
  'E_INIT_PATH',
  'E_INIT_REGISTRATION',
  'E_INIT_SECRET',
  'E_INIT_SERVICE',
  'E_INIT_TARGET',
  'E_INIT_TEMPLATE',
  'E_INIT_TEXT',
  // The prepare-device hook on the device: its config, snapctl, plugs.
  'E_HEADER_ENV',
  'E_PLUG_NOT_CONNECTED',
  'E_PLUG_UNDECLARED',
  'E_REGISTRATION_CONFIG',
  'E_REQUEST_ID',
  'E_RUNTIME_FLAVOUR',
  'E_SNAPCTL_ARGUMENT',
  'E_SNAPCTL_FAILED',
  // device register: snapd's side of a registration, played without snapd.
  'E_REGISTER_ENGINE',
  'E_REGISTER_GADGET',
  'E_REGISTER_MODEL',
  'E_REGISTER_PATTERN',
  'E_REGISTER_TEMPLATE',
  'E_REGISTER_TRUST',
  'E_REGISTER_URL',
  // Serials derived from hardware.
  'E_SERIAL_BOARD',
  'E_SERIAL_CHAIN',
  'E_SERIAL_CONFIG',
  'E_SERIAL_DENIED',
  'E_SERIAL_NONE',
  'E_SERIAL_ROOT',
  // serve: the device service.
  'E_SERVE_BLOCK',
  'E_SERVE_CHECK',
  'E_SERVE_CONFIG',
  'E_SERVE_DATABASE',
  'E_SERVE_DRIVER',
  'E_SERVE_IMPORT',
  'E_SERVE_LISTEN',
  'E_SERVE_LOG',
  'E_SERVE_SCHEMA',
  'E_SERVE_TLS',
  // validate: what is given to judge.
  'E_MODEL_MISSING',
  'E_MODEL_SYNTAX',
  'E_MODEL_TYPE',
  'E_NO_GADGET',
  'E_SNAPD_VERSION',
  // Files, input and flags, whatever the command.
  'E_EXISTS',
  'E_FLAGS',
  'E_JSON_SYNTAX',
  'E_NO_STDIN',
  'E_NOT_A_FILE',
  'E_TOO_LARGE',
  'E_USAGE',
] as const
export type ErrorCode = (typeof USER_CODES)[number] | (typeof IO_CODES)[number]
/** Every code, the I/O ones included. A pure call, so a bundle that never lists them drops the list (2.7 KB of the device runtime). */
export const ERROR_CODES: readonly ErrorCode[] = /* @__PURE__ */ (USER_CODES as readonly ErrorCode[]).concat(IO_CODES)

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
  readonly code: ErrorCode
  readonly hint?: string
  readonly kind: UserErrorKind
  readonly file?: string
  readonly line?: number
  readonly column?: number
  readonly details?: unknown

  constructor(code: ErrorCode, message: string, options: UserErrorOptions = {}) {
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
  const errno = (error as NodeJS.ErrnoException | undefined)?.code
  const known = errno !== undefined && Object.hasOwn(IO_REASONS, errno) ? (errno as keyof typeof IO_REASONS) : undefined
  const [reason, hint] = known ? IO_REASONS[known] : [errno ? `${errno}: ${String((error as Error).message)}` : String((error as Error)?.message ?? error), 'check the path']
  return new UserError(known ? `E_IO_${known}` : 'E_IO_OTHER', `cannot ${what} ${file}: ${reason}`, {
    cause: error,
    file,
    hint: hint.replace('WHAT', what),
    kind: 'io',
  })
}
