/**
 * The serial-source model: what a hardware identity source is, what it returns, and the context it
 * reads through. Types only (plus two tiny constructors), so plugins can depend on this file alone.
 */

/** The snapd interface a strictly confined prepare-device hook needs to read a source. */
export type SnapInterface = 'hardware-observe' | 'i2c' | 'network-observe'

/**
 * What a value looks like; decides how it is normalised (hex-like values get their case folded)
 * and which placeholder rules apply.
 */
export type ValueFormat = 'hex' | 'mac' | 'text' | 'uuid'

/** Why a source gave no value. `denied` is a confinement or privilege problem, not an absence. */
export type UnavailableStatus = 'absent' | 'denied' | 'error' | 'invalid' | 'timeout'

interface SourceValue {
  ok: true
  value: string
  format: ValueFormat
  /** Where the value came from: a path under the root, or a command line. */
  origin: string
  /** Remarks worth showing with --explain (e.g. "UUID looks MAC-derived"). */
  notes?: string[]
  /**
   * Parts that must each pass the placeholder checks, when the value is composed of several reads
   * (e.g. soc_id + serial_number): a placeholder hidden inside a composite is still a placeholder.
   */
  parts?: string[]
}

export interface SourceUnavailable {
  ok: false
  status: UnavailableStatus
  /** One sentence, for humans: what was looked at and why it gave nothing. */
  reason: string
  origin?: string
  /** What was read, when something was (e.g. a redacted serial that failed the format check). */
  read?: string
}

export type SourceReading = SourceUnavailable | SourceValue

/** Whether a file system object is there, and how it may be read. */
export interface FileInfo {
  isDirectory: boolean
  /** Permission bits, e.g. 0o400. */
  mode: number
  size: number
}

/**
 * File access for sources. Every path is absolute *inside the root* (`/proc/cpuinfo`); the context
 * maps it under its root directory, so a captured tree laid out in a temp dir reads like a device.
 * Errors are node's (`ENOENT`, `EACCES`, …); sources turn them into readings.
 */
export interface SerialFs {
  /** The whole file (sysfs attributes, /proc/cpuinfo). */
  readFile(path: string): Promise<Buffer>
  /** `length` bytes from `offset` only (EEPROMs are slow: read just what is needed). */
  readBytes(path: string, offset: number, length: number): Promise<Buffer>
  /** Entry names of a directory, sorted. */
  readdir(path: string): Promise<string[]>
  /** The canonical path inside the root (symlinks resolved). */
  realpath(path: string): Promise<string>
  /** Follows symlinks; rejects with ENOENT when absent. */
  stat(path: string): Promise<FileInfo>
  /** Does not follow the last symlink: true for a dangling or present link. */
  isSymlink(path: string): Promise<boolean>
}

/** Runs a program without a shell. */
export interface CommandRunner {
  (argv: readonly string[], options: {timeoutMs: number}): Promise<CommandResult>
}

export interface CommandResult {
  code: null | number
  /** `ETIMEDOUT` when killed by the timeout, `ENOENT` when the program does not exist. */
  error?: string
  stderr: string
  stdout: string
}

export interface SourceContext {
  /** The directory that plays `/` (default `/`). */
  readonly root: string
  readonly fs: SerialFs
  readonly run: CommandRunner
  /** Brand or salt for hash transforms; also available to plugins. */
  readonly brand?: string
  /** The device tree's `compatible` list (most specific first); empty without a device tree. */
  compatible(): Promise<readonly string[]>
}

/**
 * A hardware identity source. Built-in sources and vendor plugins implement the same shape:
 * `read()` returns a value or the reason it has none, and never throws for an absent or odd
 * source (a throw is reported as an error of that source; the chain carries on).
 */
export interface SerialSource {
  /** Stable id, e.g. `devicetree-serial`, or a plugin's own (`acme-board-id`). */
  readonly id: string
  /** What it reads, in a few words (shown by `probe` and `--explain`). */
  readonly description: string
  /** The snapd interfaces the hook needs for this source. */
  readonly plugs: readonly SnapInterface[]
  read(context: SourceContext): Promise<SourceReading>
}

/** A value reading. */
export function found(value: string, origin: string, format: ValueFormat = 'text', extra: Partial<SourceValue> = {}): SourceValue {
  return {...extra, format, ok: true, origin, value}
}

/** A reading without a value. */
export function unavailable(status: UnavailableStatus, reason: string, origin?: string, read?: string): SourceUnavailable {
  const reading: SourceUnavailable = {ok: false, reason, status}
  if (origin !== undefined) reading.origin = origin
  if (read !== undefined) reading.read = read
  return reading
}
