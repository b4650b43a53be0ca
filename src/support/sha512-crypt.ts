/**
 * SHA-512-crypt (`$6$`), the password hash glibc's crypt(3) makes and snapd's system-user
 * assertion takes as it is (snapd passes it to useradd), as Ulrich Drepper's specification
 * "Unix crypt using SHA-256 and SHA-512" defines it. node:crypto has SHA-512 but not this
 * construction; the specification's own test vectors and `openssl passwd -6` hold it in tests.
 */
import {createHash, randomBytes} from 'node:crypto'

/** crypt's base-64 alphabet (not RFC 4648's). */
const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const SHA512_CRYPT_DEFAULT_ROUNDS = 5000
const MIN_ROUNDS = 1000
const MAX_ROUNDS = 999_999_999
const MAX_SALT = 16
/** The order in which the 64 digest bytes are written, three at a time (the specification's table). */
const BYTE_ORDER = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
] as const

interface Sha512CryptOptions {
  /** At most 16 characters of [a-zA-Z0-9./]; longer salts are cut, as crypt(3) cuts them. Default: 16 random ones. */
  salt?: string
  /** 1000 to 999,999,999 (clamped, as crypt(3) clamps); written as rounds=N only when given. */
  rounds?: number
}

/** The `$6$…` hash of `password`. */
export function sha512Crypt(password: string | Uint8Array, options: Sha512CryptOptions = {}): string {
  const key = typeof password === 'string' ? Buffer.from(password, 'utf8') : Buffer.from(password)
  const salt = Buffer.from((options.salt ?? randomSalt()).slice(0, MAX_SALT), 'latin1')
  if (!/^[a-zA-Z0-9./]*$/.test(salt.toString('latin1'))) throw new RangeError('a SHA-512-crypt salt is made of [a-zA-Z0-9./]')
  const rounds = options.rounds === undefined ? SHA512_CRYPT_DEFAULT_ROUNDS : Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Math.floor(options.rounds)))
  const digest = sha512CryptDigest(key, salt, rounds)
  let encoded = ''
  for (const [a, b, c] of BYTE_ORDER) encoded += base64Triple(digest[a], digest[b], digest[c], 4)
  encoded += base64Triple(0, 0, digest[63], 2)
  return `$6$${options.rounds === undefined ? '' : `rounds=${rounds}$`}${salt.toString('latin1')}$${encoded}`
}

function sha512CryptDigest(key: Buffer, salt: Buffer, rounds: number): Buffer {
  const sha512 = (...parts: Uint8Array[]): Buffer => {
    const hash = createHash('sha512')
    for (const part of parts) hash.update(part)
    return hash.digest()
  }

  // Steps 1–12: digest A from the key, the salt and the alternate digest B.
  const alternate = sha512(key, salt, key)
  const a = createHash('sha512').update(key).update(salt)
  let left = key.length
  for (; left > 64; left -= 64) a.update(alternate)
  a.update(alternate.subarray(0, left))
  for (let bits = key.length; bits > 0; bits >>= 1) a.update(bits & 1 ? alternate : key)
  let c = a.digest()

  // Steps 13–20: the sequences P (from the key) and S (from the salt).
  const p = repeatTo(sha512(...Array.from({length: key.length}, () => key)), key.length)
  const s = repeatTo(sha512(...Array.from({length: 16 + c[0]}, () => salt)), salt.length)

  // Step 21: the rounds.
  for (let round = 0; round < rounds; round++) {
    const hash = createHash('sha512')
    hash.update(round & 1 ? p : c)
    if (round % 3) hash.update(s)
    if (round % 7) hash.update(p)
    hash.update(round & 1 ? c : p)
    c = hash.digest()
  }

  return c
}

function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length)
  for (let at = 0; at < length; at += block.length) block.copy(out, at, 0, Math.min(block.length, length - at))
  return out
}

function base64Triple(high: number, middle: number, low: number, characters: number): string {
  let word = (high << 16) | (middle << 8) | low
  let out = ''
  for (let i = 0; i < characters; i++) {
    out += ALPHABET[word & 0x3f]
    word >>= 6
  }

  return out
}

function randomSalt(): string {
  return [...randomBytes(MAX_SALT)].map((byte) => ALPHABET[byte & 0x3f]).join('')
}
