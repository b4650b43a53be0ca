/**
 * Many distinct device keys for load tests and benchmarks, made in seconds: RSA 2048 (snapd makes
 * 4096; the service does not care). Generating 1,000 key pairs costs 1,000 prime pairs, minutes on
 * a busy two-core machine; instead a few dozen primes are generated (in parallel, on libuv's
 * threads) and every pair of them is one key, so each key has its own modulus and key id. Keys
 * sharing primes are worthless as secrets, which test keys are anyway.
 */
import {createPrivateKey, generatePrime} from 'node:crypto'

import {type SigningKey, signingKeyFromKeyObject} from '../../src/assertions/index.js'

const E = 65_537n

export async function deviceKeys(count: number): Promise<SigningKey[]> {
  let primeCount = 2
  while ((primeCount * (primeCount - 1)) / 2 < count) primeCount++
  const make = (): Promise<bigint> =>
    new Promise((resolve, reject) => {
      generatePrime(1024, {bigint: true}, (error, prime) => (error ? reject(error) : resolve(prime)))
    })
  const primes: bigint[] = []
  while (primes.length < primeCount) {
    const batch = await Promise.all(Array.from({length: primeCount - primes.length}, () => make()))
    // e must be invertible modulo p - 1; a repeated prime would repeat a modulus.
    for (const p of batch) if ((p - 1n) % E !== 0n && !primes.includes(p)) primes.push(p)
  }

  const keys: SigningKey[] = []
  for (let i = 0; i < primes.length && keys.length < count; i++) {
    for (let j = i + 1; j < primes.length && keys.length < count; j++) keys.push(rsaKey(primes[i], primes[j]))
  }

  return keys
}

function rsaKey(p: bigint, q: bigint): SigningKey {
  const d = inverse(E, (p - 1n) * (q - 1n))
  const jwk = {d: b64(d), dp: b64(d % (p - 1n)), dq: b64(d % (q - 1n)), e: b64(E), kty: 'RSA', n: b64(p * q), p: b64(p), q: b64(q), qi: b64(inverse(q, p))}
  return signingKeyFromKeyObject(createPrivateKey({format: 'jwk', key: jwk}))
}

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n]
  while (r1 !== 0n) {
    const q = r0 / r1
    ;[r0, r1] = [r1, r0 - q * r1]
    ;[s0, s1] = [s1, s0 - q * s1]
  }

  if (r0 !== 1n) throw new Error('not invertible')
  return ((s0 % m) + m) % m
}

function b64(value: bigint): string {
  const hex = value.toString(16)
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url')
}
