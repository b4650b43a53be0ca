/**
 * Hardware identity keys for tests, one of every type the conventions allow, and what a device
 * makes with them: the signature over a request-id (node:crypto, as the conventions say: SHA-256
 * for P-256 and RSA, SHA-384 for P-384; ECDSA in DER, RSA PKCS#1 v1.5), the registration body the
 * prepare-serial-request hook sets as snapd stores and sends it (Go's json.Marshal), and the row a
 * factory station exports.
 */
import {createPrivateKey, generateKeyPairSync, type KeyObject, sign} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {HARDWARE_KEY_TYPES, type HardwareIdKey, hardwareIdKeyText, type HardwareKeyType, nonceHashOf, readHardwareIdKey} from '../../src/assertions/index.js'
import {fixtures} from './paths.js'

export interface HardwareKey {
  type: HardwareKeyType
  privateKey: KeyObject
  id: HardwareIdKey
}

let cached: Record<HardwareKeyType, HardwareKey> | undefined

/** One key of each type: the committed test keys where there is one (RSA 4096 and 2048, P-256), fresh ones otherwise. */
export function hardwareKeys(): Record<HardwareKeyType, HardwareKey> {
  cached ??= Object.fromEntries(HARDWARE_KEY_TYPES.map((type) => [type, hardwareKeyFrom(committedKey(type) ?? newHardwareKey(type))])) as Record<HardwareKeyType, HardwareKey>
  return cached
}

function committedKey(type: HardwareKeyType): KeyObject | undefined {
  const file = {'ecdsa-p256': 'ec.pem', 'rsa-2048': 'device-2048.pem', 'rsa-4096': 'device.pem'}[type as string]
  return file === undefined ? undefined : createPrivateKey(readFileSync(fixtures('assertions', file)))
}

/** A fresh private key of `type`. */
export function newHardwareKey(type: HardwareKeyType): KeyObject {
  if (type === 'ecdsa-p256') return generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey
  if (type === 'ecdsa-p384') return generateKeyPairSync('ec', {namedCurve: 'P-384'}).privateKey
  return generateKeyPairSync('rsa', {modulusLength: Number(type.slice(4))}).privateKey
}

export function hardwareKeyFrom(privateKey: KeyObject): HardwareKey {
  const id = readHardwareIdKey(hardwareIdKeyText(privateKey))
  return {id, privateKey, type: id.type}
}

/** The device's signature over `requestId`, as the conventions make it (raw bytes). */
export function signRequestId(key: HardwareKey, requestId: string): Buffer {
  return sign(nonceHashOf(key.type), Buffer.from(requestId, 'utf8'), key.type.startsWith('ecdsa') ? {dsaEncoding: 'der', key: key.privateKey} : key.privateKey)
}

/** `registration.body` as the hook sets it and snapd sends it: both digest names, the signature, the key. */
export function hardwareBody(key: HardwareKey, requestId: string, over: Record<string, string | undefined> = {}): string {
  const fields: Record<string, string | undefined> = {
    'hardware-id-key': key.id.text,
    'hardware-id-key-sha3-384': key.id.digest,
    'hardware-id-key-sha384': key.id.digest,
    'request-id-signature': signRequestId(key, requestId).toString('base64'),
    ...over,
  }
  return goJson(Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined)))
}

/** Go's json.Marshal of a map of strings: compact, keys sorted bytewise, <, > and & (and U+2028/9) escaped. */
export function goJson(value: Record<string, string>): string {
  const keys = Object.keys(value).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  const escaped = (text: string) => JSON.stringify(text).replaceAll('<', '\\u003c').replaceAll('>', '\\u003e').replaceAll('&', '\\u0026').replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029')
  return `{${keys.map((k) => `${escaped(k)}:${escaped(value[k])}`).join(',')}}`
}

/** A station's export of one device (the JSON object form). */
export function stationRow(key: HardwareKey, hardwareId: string, over: Record<string, string | undefined> = {}): Record<string, string> {
  const row: Record<string, string | undefined> = {
    'hardware-id': hardwareId,
    'hardware-id-key': key.id.text,
    'hardware-id-key-sha3-384': key.id.digest,
    'key-type': key.type,
    'public-key-pem': key.id.key.export({format: 'pem', type: 'spki'}) as string,
    ...over,
  }
  return Object.fromEntries(Object.entries(row).filter((entry): entry is [string, string] => entry[1] !== undefined))
}
