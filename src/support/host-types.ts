/**
 * The interface between the engine-neutral code and the machine (see host.ts). Types only: the
 * Node host (node-host.ts) and the QuickJS host (runtime/hosts/quickjs.ts) implement it, and
 * host.ts, which picks one, imports the Node host as its default.
 */
/** What a path is, without following a final symbolic link (`lstat`) or after following it (`stat`). */
export interface HostStat {
  kind: 'directory' | 'file' | 'other' | 'symlink'
  /** Permission bits (0o7777). */
  mode: number
  size: number
  /** The owner's user id. */
  uid: number
}

export interface SpawnOptions {
  /** The environment of the child (default: the host's own). */
  env?: Readonly<Record<string, string | undefined>>
  /** Send SIGTERM after this long… */
  timeoutMs: number
  /** …and SIGKILL to the child's whole process group this long after that. */
  graceMs: number
  /** Keep at most this many bytes of stdout and of stderr. */
  maxOutputBytes: number
}

export interface SpawnResult {
  /** The exit status; null when killed or never started. */
  status: null | number
  /** The signal that ended it (SIGTERM, SIGKILL), if one did. */
  signal?: string
  stdout: string
  stderr: string
  /** Why it could not run or was stopped: ENOENT (no such program), ETIMEDOUT (killed), … */
  error?: string
}

/** The key types of a hardware identity key (assertions/hardware-identity.ts names them). */
export type HostKeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096'

export interface Host {
  readonly engine: 'node' | 'quickjs'
  /** The process environment. */
  env(): Record<string, string | undefined>
  cwd(): string
  /** The user id the process runs as. */
  uid(): number
  pid(): number
  /** Milliseconds since some fixed moment, for deadlines. */
  now(): number
  stat(path: string): HostStat
  lstat(path: string): HostStat
  readlink(path: string): string
  /** Entry names, unsorted, without `.` and `..`. */
  readdir(path: string): string[]
  /**
   * Up to `length` bytes from `offset` of a regular file (the caller has checked it is one: a FIFO
   * or a character device would block or never end).
   */
  readBytes(path: string, offset: number, length: number): Uint8Array
  /** Creates the directory and its parents, with `mode` for the ones it makes. */
  mkdir(path: string, mode: number): void
  /** Creates `path` (it must not exist: O_EXCL) with exactly `mode`, writes `data`, fsyncs it. */
  writeNewFile(path: string, data: Uint8Array, mode: number): void
  /** A hard link; fails with EEXIST when `to` exists. */
  link(from: string, to: string): void
  rename(from: string, to: string): void
  unlink(path: string): void
  /** Makes a directory's entries durable. */
  syncDirectory(path: string): void
  randomBytes(length: number): Uint8Array
  sha512(data: Uint8Array): Uint8Array
  /** The Ed25519 public key of a 32-byte seed (RFC 8032). */
  ed25519PublicKey(seed: Uint8Array): Uint8Array
  /** The Ed25519 signature of `message` by the key of `seed`. */
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array
  /** SHA3-384 (FIPS 202). */
  sha3_384(data: Uint8Array): Uint8Array
  /**
   * A new private key of `type` as PKCS#8 DER. QuickJS makes ECDSA keys only: an RSA type throws
   * an error with code ENOTSUP.
   */
  generatePrivateKey(type: HostKeyType): Uint8Array
  /**
   * The DER SubjectPublicKeyInfo of a PKCS#8 private key and its type; undefined type for a key of
   * another kind. Throws (code EKEYFORMAT, or ENOTSUP on QuickJS for RSA) for what is no such key.
   */
  publicKeyOf(pkcs8: Uint8Array): {spki: Uint8Array; type?: HostKeyType}
  /**
   * The signature of `message` by a PKCS#8 key of one of the types, as the hardware identity
   * conventions make it: ECDSA as ASN.1 DER over SHA-256 (P-256) or SHA-384 (P-384), RSA PKCS#1
   * v1.5 over SHA-256.
   */
  signWithPrivateKey(pkcs8: Uint8Array, message: Uint8Array): Uint8Array
  /** Runs `argv` without a shell in a process group of its own, bounded in time and output. */
  spawn(argv: readonly string[], options: SpawnOptions): Promise<SpawnResult>
  /** Loads a JavaScript module by absolute path (a vendor serial source). */
  importModule(file: string): Promise<Record<string, unknown>>
  /** Writes text to stdout (1) or stderr (2). */
  write(fd: 1 | 2, text: string): void
  /** The script's arguments (after the script's own name). */
  args(): string[]
  /** Ends the process with this status once output is written. */
  exit(code: number): void
}

/** What the QuickJS host takes from JavaScript libraries and the Node host from node:crypto. */
export type HostCrypto = Pick<Host, 'ed25519PublicKey' | 'ed25519Sign' | 'generatePrivateKey' | 'publicKeyOf' | 'sha3_384' | 'sha512' | 'signWithPrivateKey'>
