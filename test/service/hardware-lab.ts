/**
 * A lab for hardware-identity onboarding: the service lab's brand (acme) with models that onboard
 * by hardware identity alone, by either onboarding, and by hardware identity behind an api-key; a
 * manufacturer (acme-odm) that issues identities acme accepts; another brand (other) with a model
 * of its own. Identities are certified as the factory does it (hardware-identity sign's SDK), and
 * devices sign request-ids with node:crypto as the conventions say.
 */
import {createPrivateKey} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {type SigningKey, signingKeyFromKeyObject} from '../../src/assertions/index.js'
import {certifyHardwareIdentities} from '../../src/identity/certify.js'
import {importHardwareIdentities, loadImportConfig, type ServiceStore} from '../../src/service/index.js'
import {makeBrandChain} from '../helpers/assertions.js'
import {type HardwareKey, hardwareBody} from '../helpers/hardware.js'
import {fixtures} from '../helpers/paths.js'
import {brandKey, type Lab, makeLab, MODEL, modelAssertion, rootKey, TestDevice} from './helpers.js'

export const HW_MODEL = MODEL
export const BOTH_MODEL = 'acme-both'
export const GATED_MODEL = 'acme-gated'
export const ODM = 'acme-odm'
export const OTHER_BRAND = 'other'
export const OTHER_MODEL = 'other-pc'
export const GATE_API_KEY = 'gate-api-key-0123456789'

/** 4096-bit test keys for the other accounts (the committed device and root keys). */
const odmKey = signingKeyFromKeyObject(createPrivateKey(readFileSync(fixtures('assertions', 'device.pem'))))
const otherKey = signingKeyFromKeyObject(createPrivateKey(readFileSync(fixtures('assertions', 'root.pem'))))
const odmChain = makeBrandChain(rootKey, odmKey, {brandId: ODM})
const otherChain = makeBrandChain(rootKey, otherKey, {brandId: OTHER_BRAND})

export const issuerKeys: Record<string, SigningKey> = {acme: brandKey, [ODM]: odmKey, [OTHER_BRAND]: otherKey}

export interface HardwareLab extends Lab {
  /** Writes the hardware-identity assertions of `devices`, issued by `issuer`, to a file; returns it. */
  identities(devices: {hardwareId: string; key: HardwareKey}[], issuer?: string, name?: string): string
  /** Imports files as `serve import` does, into the lab's database or `store`. */
  import(files: string[], store?: ServiceStore): ReturnType<typeof importHardwareIdentities>
}

/** The lab's serve config; `limits` and the model entries' extra lines as given. */
export function makeHardwareLab(options: {limits?: string; database?: string} = {}): HardwareLab {
  const lab = makeLab({
    models: `listen: 127.0.0.1:0
database: ${options.database ?? 'sqlite:serve.db'}
${options.limits ?? ''}issuers:
  - account-id: ${ODM}
    chain: [odm.account, odm.account-key]
models:
  - brand: acme
    model: ${HW_MODEL}
    onboarding: hardware-identity
    issuers: [${ODM}]
    signing-key: serials.pem
    chain: [acme.account, serials.account-key]
  - brand: acme
    model: ${BOTH_MODEL}
    onboarding: [api-key, hardware-identity]
    api-key: {env: LAB_API_KEY}
    serial-from: request
    signing-key: serials.pem
    chain: [acme.account, serials.account-key]
  - brand: acme
    model: ${GATED_MODEL}
    onboarding: hardware-identity
    api-key: {env: GATE_API_KEY}
    signing-key: serials.pem
    chain: [acme.account, serials.account-key]
  - brand: ${OTHER_BRAND}
    model: ${OTHER_MODEL}
    onboarding: hardware-identity
    signing-key: other.pem
    chain: [other.account, other.account-key]
`,
  })
  writeFileSync(join(lab.dir, 'odm.account'), odmChain.account.text)
  writeFileSync(join(lab.dir, 'odm.account-key'), odmChain.accountKey.text)
  writeFileSync(join(lab.dir, 'other.account'), otherChain.account.text)
  writeFileSync(join(lab.dir, 'other.account-key'), otherChain.accountKey.text)
  writeFileSync(join(lab.dir, 'other.pem'), otherKey.privateKey.export({format: 'pem', type: 'pkcs8'}), {mode: 0o600})
  let files = 0
  return {
    ...lab,
    identities(devices, issuer = 'acme', name = `identities-${++files}.assert`) {
      const rows = devices.map((d) => ({hardwareId: d.hardwareId, key: d.key.id, source: 'test'}))
      const {text} = certifyHardwareIdentities(rows, {hardwareName: 'acme-gw-r2', issuerId: issuer, key: issuerKeys[issuer], manufacturer: 'Acme Devices Ltd.'})
      const file = join(lab.dir, name)
      writeFileSync(file, text)
      return file
    },
    import: (files, store) => importHardwareIdentities(loadImportConfig(lab.config), files, store ? {store} : {}),
  }
}

/** A model assertion of the lab's models. */
export function labModel(model: string): string {
  return model === OTHER_MODEL ? otherChain.signModel({model}).text : modelAssertion({model})
}

/** The serial-request stream of a device whose hardware key signs `requestId` (body as the hook sets it). */
export function hardwareStream(
  device: TestDevice,
  key: HardwareKey,
  requestId: string,
  options: {model?: string; brand?: string; serial?: string; body?: string; bodyOver?: Record<string, string | undefined>} = {},
): string {
  const model = options.model ?? HW_MODEL
  const brand = options.brand ?? (model === OTHER_MODEL ? OTHER_BRAND : 'acme')
  return `${device.serialRequest(requestId, {body: options.body ?? hardwareBody(key, requestId, options.bodyOver), brand, model, serial: options.serial})}\n${labModel(model)}`
}
