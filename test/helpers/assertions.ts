/**
 * Signed assertions for tests: a trust chain (root → brand), models, serial-requests and serials,
 * all made with src/assertions and accepted by snapd's own asserts package (test/assertions/snapd.test.ts
 * proves it). Keys: the test-only keys in test/fixtures/assertions/ (see its README), or any
 * SigningKey.
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {createPrivateKey} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {promisify} from 'node:util'

import {type HeaderMap, type HeaderValue} from '../../src/assertions/decode.js'
import {loadSigningKey, publicKeyId, type SigningKey, signingKeyFromKeyObject} from '../../src/assertions/keys.js'
import {type SignedAssertion, signAssertion} from '../../src/assertions/sign.js'
import {fixtures} from './paths.js'

/** The committed test-only keys, read once per process. */
export interface TestKeys {
  /** RSA 4096, PKCS#8: the trusted root account's key. */
  root: SigningKey
  /** RSA 4096, PKCS#1: the brand's key. */
  brand: SigningKey
  /** RSA 4096, PKCS#8: a device key. */
  device: SigningKey
  /** RSA 2048, PKCS#8: a device key smaller than a brand key may be (snapd signs with it all the same). */
  device2048: SigningKey
}

let cachedKeys: TestKeys | undefined
export function testKeys(): TestKeys {
  const pem = (name: string): Buffer => readFileSync(fixtures('assertions', `${name}.pem`))
  cachedKeys ??= {
    brand: loadSigningKey(pem('brand'), 'brand.pem'),
    device: loadSigningKey(pem('device'), 'device.pem'),
    device2048: signingKeyFromKeyObject(createPrivateKey(pem('device-2048'))),
    root: loadSigningKey(pem('root'), 'root.pem'),
  }
  return cachedKeys
}

/** A time before every test assertion, and the key validity start of the chain. */
export const CHAIN_SINCE = '2020-01-01T00:00:00Z'
/** A fixed signature time, so that assertions made twice are the same bytes. */
export const SIGNATURE_TIME = new Date('2026-01-01T00:00:00Z')

export interface BrandChainOptions {
  /** Account id of the root (the store's role: "canonical" on real devices). Default "test-root". */
  rootId?: string
  /** The brand's account id. Default "acme-brand". */
  brandId?: string
  /** account-key validity; default since CHAIN_SINCE, no until. */
  since?: string
  until?: string
  /** The brand account-key's name header. Default "default". */
  keyName?: string
  /** The brand account's validation: "verified" (default), "starred" or "unproven". */
  validation?: string
  timestamp?: string
}

export interface BrandChain {
  rootId: string
  brandId: string
  /** The root's self-signed account and account-key: what a device trusts out of the box. */
  trusted: [SignedAssertion, SignedAssertion]
  /** The brand's account and account-key, signed by the root. */
  account: SignedAssertion
  accountKey: SignedAssertion
  /** account + account-key as one stream (what a device service returns before a serial). */
  stream: string
  /** Signs a model for the brand; `headers` replace, add to or (undefined) remove from a minimal UC22 model. */
  signModel(headers?: HeaderOverrides, body?: string): SignedAssertion
  /** Signs a serial for the brand (as a Serial Vault does). */
  signSerial(input: SerialInput): SignedAssertion
}

/** Headers to add or replace; an undefined value removes a default header. */
export type HeaderOverrides = Record<string, HeaderValue | undefined>

export interface SerialInput {
  model: string
  serial: string
  /** The device's public key in snapd's encoding (the serial-request's device-key). */
  deviceKey: string
  body?: string
  revision?: string
  timestamp?: string
  /** More headers, replacements, or (undefined) removals. */
  headers?: HeaderOverrides
}

/** The account and account-key assertions that make `brand` the key of account `brandId`, trusted through `root`. */
export function makeBrandChain(root: SigningKey, brand: SigningKey, options: BrandChainOptions = {}): BrandChain {
  const rootId = options.rootId ?? 'test-root'
  const brandId = options.brandId ?? 'acme-brand'
  const timestamp = options.timestamp ?? CHAIN_SINCE
  const sign = (type: string, headers: HeaderMap, key: SigningKey, body?: string): SignedAssertion => signAssertion({body, headers, type}, key, {signatureTime: SIGNATURE_TIME})
  const account = (id: string): SignedAssertion => sign('account', {'account-id': id, 'authority-id': rootId, 'display-name': `${id} (test)`, timestamp, username: id, validation: options.validation ?? 'verified'}, root)
  const accountKey = (id: string, key: SigningKey, name: string): SignedAssertion =>
    sign(
      'account-key',
      {
        'account-id': id,
        'authority-id': rootId,
        name,
        'public-key-sha3-384': key.keyId,
        since: options.since ?? CHAIN_SINCE,
        ...(options.until === undefined ? {} : {until: options.until}),
      },
      root,
      key.encodedPublicKey,
    )

  const brandAccount = account(brandId)
  const brandAccountKey = accountKey(brandId, brand, options.keyName ?? 'default')
  return {
    account: brandAccount,
    accountKey: brandAccountKey,
    brandId,
    rootId,
    signModel: (headers = {}, body) => signModel(brand, brandId, headers, body),
    signSerial: (input) => signSerial(brand, brandId, input),
    stream: `${brandAccount.text}\n${brandAccountKey.text}`,
    trusted: [account(rootId), accountKey(rootId, root, 'root')],
  }
}

/** A model signed by `brand`; `headers` replace, add to or remove from a minimal UC22 dangerous-grade model. */
export function signModel(brand: SigningKey, brandId: string, headers: HeaderOverrides = {}, body?: string): SignedAssertion {
  const model = withOverrides(
    {
      architecture: 'amd64',
      'authority-id': brandId,
      base: 'core22',
      'brand-id': brandId,
      grade: 'dangerous',
      model: 'acme-gateway',
      series: '16',
      snaps: [
        {'default-channel': '22/stable', name: 'pc', type: 'gadget'},
        {'default-channel': '22/stable', name: 'pc-kernel', type: 'kernel'},
      ],
      timestamp: '2024-01-01T00:00:00Z',
    },
    headers,
  )
  return signAssertion({body, headers: model, type: 'model'}, brand, {signatureTime: SIGNATURE_TIME})
}

/** A serial signed by `brand` as a Serial Vault builds it (device-key and its id, timestamp, body copied). */
export function signSerial(brand: SigningKey, brandId: string, input: SerialInput): SignedAssertion {
  const headers = withOverrides(
    {
      'authority-id': brandId,
      'brand-id': brandId,
      'device-key': input.deviceKey,
      'device-key-sha3-384': publicKeyId(input.deviceKey),
      model: input.model,
      serial: input.serial,
      timestamp: input.timestamp ?? '2024-06-01T00:00:00Z',
      ...(input.revision === undefined ? {} : {revision: input.revision}),
    },
    input.headers,
  )
  return signAssertion({body: input.body, headers, type: 'serial'}, brand, {signatureTime: SIGNATURE_TIME})
}

export interface SerialRequestInput {
  /** The device key: it is carried in device-key and signs the request. */
  deviceKey: SigningKey
  brandId: string
  model: string
  requestId: string
  /** The proposed serial (registration.proposed-serial); left out when undefined or empty, as snapd does. */
  serial?: string
  body?: string
  /** More headers (e.g. original-brand-id for a remodel), replacements or (undefined) removals. */
  headers?: HeaderOverrides
  signatureTime?: Date
}

/** A serial-request as snapd builds it on the device: self-signed by its device key. */
export function makeSerialRequest(input: SerialRequestInput): SignedAssertion {
  const headers = withOverrides(
    {
      'brand-id': input.brandId,
      'device-key': input.deviceKey.encodedPublicKey,
      model: input.model,
      'request-id': input.requestId,
      ...(input.serial ? {serial: input.serial} : {}),
    },
    input.headers,
  )
  return signAssertion({body: input.body, headers, type: 'serial-request'}, input.deviceKey, {signatureTime: input.signatureTime ?? SIGNATURE_TIME})
}

function withOverrides(defaults: HeaderMap, overrides: HeaderOverrides = {}): HeaderMap {
  const headers: HeaderMap = {...defaults}
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete headers[name]
    else headers[name] = value
  }

  return headers
}

// --- snapd's own asserts package --------------------------------------------------------------

/** The Debian Go packages test/fixtures/assertions/snapd-check.go builds against. */
export const SNAPD_PACKAGES = ['github.com/snapcore/snapd/asserts', 'golang.org/x/crypto/openpgp', 'gopkg.in/tomb.v2', 'gopkg.in/yaml.v2']

/** What snapd-check says of one assertion: as snapd decoded it, and "ok" or snapd's error. */
export interface SnapdVerdict {
  type?: string
  headers?: HeaderMap
  body: string
  check: string
}

/**
 * Judges `assertions` with the built snapd-check (buildGoTool(fixtures('assertions',
 * 'snapd-check.go'))) in a database that trusts only `trusted`; they are added in order.
 */
export async function snapdCheck(checker: string, trusted: Array<SignedAssertion | string>, assertions: string[]): Promise<SnapdVerdict[]> {
  const child = promisify(execFile)(checker, [], {maxBuffer: 64 * 1024 * 1024, timeout: 60_000})
  child.child.stdin!.end(JSON.stringify({assertions, trusted: trusted.map((a) => (typeof a === 'string' ? a : a.text))}))
  const {stdout} = await child
  return JSON.parse(stdout) as SnapdVerdict[]
}

/** The creation time in a snapd signature packet: 0x01, 3-byte header, 6 fixed bytes, then subpacket 05 02 <time>. */
export function signatureCreationTime(signature: string): Date {
  const bytes = Buffer.from(signature.replaceAll('\n', ''), 'base64')
  assert.deepEqual([...bytes.subarray(0, 2)], [0x01, 0xc2], 'a v1 signature packet')
  assert.deepEqual([...bytes.subarray(4, 12)], [4, 0, 1, 10, 0, 6, 5, 2], 'v4, binary, RSA, SHA-512, one hashed subpacket: creation time')
  return new Date(bytes.readUInt32BE(12) * 1000)
}
