/**
 * A lab for the device service: a brand with a registered serial-signing key (account and
 * account-key signed by a test root), a model signed by the brand, devices with their own RSA
 * keys that make serial-requests the way snapd does, and a serve config in a temporary directory.
 */
import {generateKeyPairSync, type KeyObject} from 'node:crypto'
import {chmodSync, copyFileSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type SigningKey, signingKeyFromKeyObject} from '../../src/assertions/index.js'
import {makeBrandChain, makeSerialRequest, testKeys} from '../helpers/assertions.js'
import {fixtures} from '../helpers/paths.js'

export const BRAND = 'acme'
export const MODEL = 'acme-pc'
export const API_KEY = 'lab-api-key-0123456789abcdef'

export const {brand: brandKey, root: rootKey} = testKeys()
export const brandKeyPem = fixtures('assertions', 'brand.pem')
const chain = makeBrandChain(rootKey, brandKey, {brandId: BRAND})
/** What a device of the lab trusts out of the box: the root's account and account-key. */
export const labTrusted = chain.trusted

/** The brand's account-key for `key`, as the root would sign it (options: another account, an end of validity). */
export function accountKeyAssertion(key: SigningKey, accountId = BRAND, options: {until?: string} = {}): string {
  return makeBrandChain(rootKey, key, {brandId: accountId, until: options.until}).accountKey.text
}

/** A model of the brand (or of `model`), signed by the brand key unless `signer` is given. */
export function modelAssertion(options: {model?: string; signer?: SigningKey} = {}): string {
  const headers = {model: options.model ?? MODEL}
  if (!options.signer) return chain.signModel(headers).text
  return makeBrandChain(rootKey, options.signer, {brandId: BRAND}).signModel(headers).text
}

/** A device: its RSA key (2048 bits: snapd makes 4096, but the service does not care and tests stay quick). */
export class TestDevice {
  readonly key: SigningKey

  constructor(privateKey?: KeyObject) {
    this.key = signingKeyFromKeyObject(privateKey ?? generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey)
  }

  get keyId(): string {
    return this.key.keyId
  }

  /** The serial-request snapd would build for this device. */
  serialRequest(requestId: string, options: {brand?: string; model?: string; serial?: string; body?: string} = {}): string {
    return makeSerialRequest({body: options.body, brandId: options.brand ?? BRAND, deviceKey: this.key, model: options.model ?? MODEL, requestId, serial: options.serial}).text
  }
}

export interface Lab {
  dir: string
  config: string
  chain: string[]
}

/** A directory with the brand's key, its chain and a serve config for one model. */
export function makeLab(options: {extraConfig?: string; models?: string} = {}): Lab {
  const dir = mkdtempSync(join(tmpdir(), 'serve-lab-'))
  const files = [chain.account.text, chain.accountKey.text]
  writeFileSync(join(dir, 'acme.account'), files[0])
  writeFileSync(join(dir, 'serials.account-key'), files[1])
  copyFileSync(brandKeyPem, join(dir, 'serials.pem'))
  // As an operator keeps it: serve warns about a signing key others may read.
  chmodSync(join(dir, 'serials.pem'), 0o600)
  const config = join(dir, 'serve.yaml')
  writeFileSync(
    config,
    options.models ??
      `listen: 127.0.0.1:0
database: sqlite:serve.db
${options.extraConfig ?? ''}models:
  - brand: ${BRAND}
    model: ${MODEL}
    api-key: {env: LAB_API_KEY}
    signing-key: serials.pem
    chain: [acme.account, serials.account-key]
`,
  )
  return {chain: files, config, dir}
}
