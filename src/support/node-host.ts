/**
 * The Node host: node:fs, node:child_process and node:crypto. The CLI and the SDK run on it, and so
 * does `node prepare-device.cjs`. In that bundle the node: modules are looked up only when a
 * function here runs, so the same file also loads on QuickJS, which never calls them.
 */
import {spawn} from 'node:child_process'
import {createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign} from 'node:crypto'
import {closeSync, constants, fchmodSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, renameSync, type Stats, statSync, unlinkSync, writeSync} from 'node:fs'
import {pathToFileURL} from 'node:url'

import {descriptorSink} from './descriptor-sink.js'
import type {Host, HostKeyType, HostStat, SpawnResult} from './host-types.js'

function toHostStat(stats: Stats): HostStat {
  const kind = stats.isSymbolicLink() ? 'symlink' : stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'other'
  return {kind, mode: stats.mode & 0o7777, size: stats.size, uid: stats.uid}
}

function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** The node:crypto key of a seed: in and out as a JWK (no DER decoders set up on every run). */
const keys = new Map<string, KeyObject>()
function privateKey(seed: Uint8Array): KeyObject {
  const d = toBase64Url(seed)
  let key = keys.get(d)
  if (!key) {
    // For a private JWK Node reads only d and derives the public key; x must merely be a string.
    key = createPrivateKey({format: 'jwk', key: {crv: 'Ed25519', d, kty: 'OKP', x: ''}})
    keys.set(d, key)
  }

  return key
}

/** A PKCS#8 DER private key; an error with code EKEYFORMAT for bytes that are none. */
function pkcs8Key(pkcs8: Uint8Array): KeyObject {
  try {
    return createPrivateKey({format: 'der', key: Buffer.from(pkcs8), type: 'pkcs8'})
  } catch (error) {
    throw Object.assign(new Error(`EKEYFORMAT: not a PKCS#8 private key: ${(error as Error).message}`), {code: 'EKEYFORMAT'})
  }
}

/** The hardware identity key type of a key (the same rule as assertions/hardware-identity.ts). */
function keyTypeOf(key: KeyObject): HostKeyType | undefined {
  const details = key.asymmetricKeyDetails ?? {}
  if (key.asymmetricKeyType === 'ec') return details.namedCurve === 'prime256v1' ? 'ecdsa-p256' : details.namedCurve === 'secp384r1' ? 'ecdsa-p384' : undefined
  const bits = details.modulusLength
  if (key.asymmetricKeyType === 'rsa' && details.publicExponent === 65_537n && (bits === 2048 || bits === 3072 || bits === 4096)) return `rsa-${bits}`
  return undefined
}

const stdout = descriptorSink(1)
const stderr = descriptorSink(2)

export const nodeHost: Host = {
  args: () => process.argv.slice(2),
  cwd: () => process.cwd(),
  ed25519PublicKey(seed) {
    const x = privateKey(seed).export({format: 'jwk'}).x
    return new Uint8Array(Buffer.from(x ?? '', 'base64url'))
  },
  ed25519Sign: (seed, message) => new Uint8Array(sign(null, message, privateKey(seed))),
  engine: 'node',
  env: () => process.env,
  generatePrivateKey(type) {
    const {privateKey} =
      type === 'ecdsa-p256' || type === 'ecdsa-p384'
        ? generateKeyPairSync('ec', {namedCurve: type === 'ecdsa-p256' ? 'P-256' : 'P-384'})
        : generateKeyPairSync('rsa', {modulusLength: Number(type.slice(4)), publicExponent: 65_537})
    return new Uint8Array(privateKey.export({format: 'der', type: 'pkcs8'}))
  },
  exit(code) {
    process.exitCode = code
  },
  importModule: async (file) => (await import(pathToFileURL(file).href)) as Record<string, unknown>,
  link: (from, to) => linkSync(from, to),
  lstat: (path) => toHostStat(lstatSync(path)),
  mkdir(path, mode) {
    mkdirSync(path, {mode, recursive: true})
  },
  now: () => performance.now(),
  pid: () => process.pid,
  publicKeyOf(pkcs8) {
    const key = pkcs8Key(pkcs8)
    const type = keyTypeOf(key)
    return {spki: new Uint8Array(createPublicKey(key).export({format: 'der', type: 'spki'})), ...(type === undefined ? {} : {type})}
  },
  randomBytes: (length) => new Uint8Array(randomBytes(length)),
  readBytes(path, offset, length) {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
    try {
      const buffer = Buffer.alloc(length)
      let filled = 0
      while (filled < length) {
        const n = readSync(fd, buffer, filled, length - filled, offset + filled)
        if (n === 0) break
        filled += n
      }

      return buffer.subarray(0, filled)
    } finally {
      closeSync(fd)
    }
  },
  readdir: (path) => readdirSync(path),
  readlink: (path) => readlinkSync(path),
  rename: (from, to) => renameSync(from, to),
  sha3_384: (data) => new Uint8Array(createHash('sha3-384').update(data).digest()),
  sha512: (data) => new Uint8Array(createHash('sha512').update(data).digest()),
  signWithPrivateKey(pkcs8, message) {
    const key = pkcs8Key(pkcs8)
    const hash = keyTypeOf(key) === 'ecdsa-p384' ? 'sha384' : 'sha256'
    return new Uint8Array(sign(hash, message, key.asymmetricKeyType === 'ec' ? {dsaEncoding: 'der', key} : key))
  },
  spawn: (argv, options) =>
    new Promise<SpawnResult>((done) => {
      let stdout = ''
      let stderr = ''
      let settled = false
      let signal: string | undefined
      let error: string | undefined
      const timers: NodeJS.Timeout[] = []
      const finish = (result: SpawnResult) => {
        if (settled) return
        settled = true
        for (const timer of timers) clearTimeout(timer)
        done(result)
      }

      const child = spawn(argv[0], argv.slice(1), {detached: true, env: options.env as NodeJS.ProcessEnv | undefined, shell: false, stdio: ['ignore', 'pipe', 'pipe']})
      const killGroup = (name: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, name)
        } catch {
          child.kill(name)
        }
      }

      timers.push(
        setTimeout(() => {
          error = 'ETIMEDOUT'
          signal = 'SIGTERM'
          killGroup('SIGTERM')
          timers.push(
            setTimeout(() => {
              signal = 'SIGKILL'
              killGroup('SIGKILL')
              // Pipes a grandchild still holds open are not waited for: the group is gone.
              setTimeout(() => finish({error, signal, status: null, stderr, stdout}), 100)
            }, options.graceMs),
          )
        }, options.timeoutMs),
      )
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (stdout.length < options.maxOutputBytes) stdout = (stdout + d).slice(0, options.maxOutputBytes)
      })
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < options.maxOutputBytes) stderr = (stderr + d).slice(0, options.maxOutputBytes)
      })
      child.on('error', (failure: NodeJS.ErrnoException) => finish({error: failure.code ?? failure.message, status: null, stderr, stdout}))
      child.on('close', (code, closedBy) => {
        if (error === undefined) killGroup('SIGKILL') // a grandchild left behind by a child that exited
        const result: SpawnResult = {status: code, stderr, stdout}
        if (error !== undefined) result.error = error
        if (closedBy ?? signal) result.signal = (closedBy ?? signal) as string
        finish(result)
      })
    }),
  stat: (path) => toHostStat(statSync(path)),
  syncDirectory(path) {
    const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY)
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  },
  uid: () => process.getuid?.() ?? -1,
  unlink: (path) => unlinkSync(path),
  write(fd, text) {
    ;(fd === 1 ? stdout : stderr).write(text)
  },
  writeNewFile(path, data, mode) {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
    try {
      fchmodSync(fd, mode) // the umask may only have narrowed it; make it exact
      writeSync(fd, data)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  },
}
