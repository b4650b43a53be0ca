/**
 * The registration settings init writes into the gadget (runtime/registration.json,
 * schemas/registration.schema.json): the device service, headers (never a secret), the serial
 * board and the body. planScaffold checks the result with the runtime's own rules.
 */
import {UserError} from '../errors.js'
import {DEFAULT_HARDWARE_KEY_TYPE, type HardwareKeyType} from '../assertions/hardware-identity.js'
import {DEVICE_SERVICE_PRESETS, type OnboardingMode} from '../device/config.js'
import {quoteInput} from '../support/echo.js'

export const DEFAULT_API_KEY_ENV = 'SERIAL_VAULT_API_KEY'
/** The gadget option the factory sets with `snap set <gadget> api-key=…`. */
export const API_KEY_OPTION = 'api-key'
const DEFAULT_BODY_FACTS = ['serial-source', 'board-model'] as const
export const DEVICE_SERVICES = ['serial-vault', 'model-service', 'local'] as const
/** What a gadget in hardware-identity onboarding assumes: the snapd that runs prepare-serial-request. */
export const HARDWARE_IDENTITY_SNAPD = 'snapd2.74'
/** Header and body field names whose values are secrets: never written into the project. */
const SECRET_NAME = /api[-_]?key|secret|passw|token|authori[sz]ation|cookie/i

export function deviceServiceOf(value: string): {preset: string; url: string} {
  if ((DEVICE_SERVICES as readonly string[]).includes(value)) return {preset: value, url: DEVICE_SERVICE_PRESETS[value as (typeof DEVICE_SERVICES)[number]]}
  if (/^https?:\/\/[^\s/]+/i.test(value) && !/[\u0000-\u0020\u007F"'<>\\^`{|}]/.test(value)) return {preset: 'custom', url: value}
  throw new UserError('E_INIT_SERVICE', `--device-service ${quoteInput(value)} is neither a preset nor an http(s) URL`, {
    hint: 'use serial-vault, model-service, local, or the URL of your own service (https://vault.example.com/v1/)',
    kind: 'usage',
  })
}

interface RegistrationInput {
  apiKeyEnv: null | string
  bodyFacts?: readonly string[]
  bodyFields?: Readonly<Record<string, string>>
  brand: string
  deviceService: {preset: string; url: string}
  headers?: Readonly<Record<string, string>>
  identity?: boolean
  serialBoard: string
  /** api-key (the default) or hardware-identity: then no api-key, body or identity (the prepare-serial-request hook sets the body). */
  onboarding?: OnboardingMode
  hardwareKeyType?: HardwareKeyType
}

/** runtime/registration.json (schemas/registration.schema.json). */
export function registrationConfig(input: RegistrationInput): Record<string, unknown> {
  const headers: Record<string, unknown> = {}
  if (input.apiKeyEnv !== null) headers['api-key'] = {env: input.apiKeyEnv}
  const secret = (flag: string, name: string) =>
    new UserError('E_INIT_SECRET', `${flag} ${name}=… looks like a secret, which would be written into the gadget`, {
      hint: `leave it out: the api-key comes from ${input.apiKeyEnv ?? DEFAULT_API_KEY_ENV} at build time or from snap set in the factory; another secret header goes into runtime/registration.json as {"env": "NAME"}`,
      kind: 'usage',
    })
  for (const [key, value] of Object.entries(input.headers ?? {})) {
    if (SECRET_NAME.test(key)) throw secret('--header', key)
    headers[key] = value
  }

  for (const key of Object.keys(input.bodyFields ?? {})) if (SECRET_NAME.test(key)) throw secret('--body-field', key)

  const config: Record<string, unknown> = {
    $schema: '../schemas/registration.schema.json',
    deviceService: input.deviceService.preset === 'custom' ? {preset: 'custom', url: input.deviceService.url} : {preset: input.deviceService.preset},
  }
  if (Object.keys(headers).length > 0) config.headers = headers
  config.serial = {board: input.serialBoard, brand: input.brand}
  config.proposedSerial = true
  if (input.onboarding === 'hardware-identity') {
    const keyType = input.hardwareKeyType ?? DEFAULT_HARDWARE_KEY_TYPE
    config.onboarding = keyType === DEFAULT_HARDWARE_KEY_TYPE ? 'hardware-identity' : {keyType, mode: 'hardware-identity'}
    return config
  }

  const body: Record<string, unknown> = {facts: [...(input.bodyFacts ?? DEFAULT_BODY_FACTS)]}
  if (input.bodyFields && Object.keys(input.bodyFields).length > 0) body.fields = {...input.bodyFields}
  config.body = body
  config.identity = {enabled: input.identity ?? true}
  return config
}
