/**
 * Re-registration on remodel (remodel-and-system-user.md §1–2): when a remodel changes a device's
 * brand or model, snapd asks for a serial of the new model with the original gadget's settings
 * (its api-key too) and the same device key; the serial-request carries original-brand-id,
 * original-model and original-serial, and the stream is the serial-request, the new model and the
 * original serial. The original serial is the device's proof: it must be one this service's keys
 * signed, for the original-* values, certifying the very key that signed the serial-request.
 */
import {type Assertion, type AssertionPublicKey, decodeAssertionPublicKey, serialView, verifyAssertionSignature} from '../assertions/index.js'
import {UserError} from '../errors.js'
import {quoteInput} from '../support/echo.js'
import type {ServiceModel} from './config.js'
import {ServiceRefusal} from './refusals.js'
import type {OriginalSerial} from './store/index.js'

const ORIGINAL_HEADERS = ['original-brand-id', 'original-model', 'original-serial'] as const

/** The serial the device held before, from the serial-request's headers; undefined on a first registration. */
export function originalSerialOf(request: Assertion): OriginalSerial | undefined {
  const values = ORIGINAL_HEADERS.map((name) => request.headers[name])
  if (values.every((value) => value === undefined)) return undefined
  const missing = ORIGINAL_HEADERS.filter((name, n) => typeof values[n] !== 'string' || values[n] === '')
  if (missing.length > 0) throw new ServiceRefusal('remodel-headers', `the serial-request has ${ORIGINAL_HEADERS.filter((name) => !missing.includes(name)).join(', ')} but not ${missing.join(', ')}`)
  const [brand, model, serial] = values as string[]
  return {brand, model, serial}
}

/** Whether `model` takes devices remodelled from `original` (its remodel-from: BRAND/MODEL or BRAND/*). */
export function takesRemodelFrom(model: ServiceModel, original: OriginalSerial): boolean {
  return model.remodelFrom.some((from) => from === `${original.brand}/${original.model}` || from === `${original.brand}/*`)
}

/** The keys of every account this service holds (its models' signing keys and chains), by key id. */
export function knownSerialKeys(models: readonly ServiceModel[]): Map<string, {key: AssertionPublicKey; accountId: string}> {
  const keys = new Map<string, {key: AssertionPublicKey; accountId: string}>()
  for (const model of models) for (const [id, key] of model.brandKeys) if (!keys.has(id)) keys.set(id, {accountId: model.brand, key})
  return keys
}

/**
 * Checks the original serial the stream carries: the original-* values, the device key that
 * signed the serial-request, and a signature by a key this service holds for the serial's
 * authority. A refusal otherwise.
 */
export function checkOriginalSerial(assertion: Assertion, original: OriginalSerial, deviceKey: AssertionPublicKey, keys: ReadonlyMap<string, {key: AssertionPublicKey; accountId: string}>): void {
  let view
  try {
    view = serialView(assertion, 'the original serial')
  } catch (error) {
    if (error instanceof UserError) throw new ServiceRefusal('remodel-serial-mismatch', error.located)
    throw error
  }

  const claimed = `${original.brand}/${original.model} serial ${original.serial}`
  if (view.brandId !== original.brand || view.model !== original.model || view.serial !== original.serial) {
    throw new ServiceRefusal(
      'remodel-serial-mismatch',
      `the original serial in the stream is ${quoteInput(`${view.brandId}/${view.model} serial ${view.serial}`)}, and the serial-request's original-* headers say ${quoteInput(claimed)}`,
    )
  }

  let certified: AssertionPublicKey | undefined
  try {
    certified = decodeAssertionPublicKey(view.deviceKey, "the original serial's device-key")
  } catch {
    certified = undefined
  }

  if (!certified || certified.id !== deviceKey.id || view.deviceKeyId !== deviceKey.id) {
    throw new ServiceRefusal('remodel-serial-mismatch', `the original serial ${quoteInput(claimed)} certifies device key ${quoteInput(view.deviceKeyId)}, not the key ${deviceKey.id} that signed the serial-request`)
  }

  const signer = keys.get(view.signKeyId)
  if (!signer || signer.accountId !== view.authorityId) {
    throw new ServiceRefusal('remodel-serial-untrusted', `the original serial ${quoteInput(claimed)} is signed by ${quoteInput(view.authorityId)} with key ${quoteInput(view.signKeyId)}, which this service does not hold`)
  }

  const check = verifyAssertionSignature(assertion, signer.key)
  if (!check.valid) throw new ServiceRefusal('remodel-serial-untrusted', `the original serial ${quoteInput(claimed)} does not verify against key ${view.signKeyId}: ${check.reason}`)
}
