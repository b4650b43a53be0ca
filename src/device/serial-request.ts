/**
 * What the prepare-serial-request hook does (snapd 2.74 and later, hardware-identity onboarding):
 * snapd has just fetched a request-id from the device service and set it as the gadget option
 * `registration.request-id`; the hook signs it with the hardware identity key prepare-device made,
 * and sets `registration.body` to one JSON object, the hardware proof (identity/hardware-key.ts),
 * which replaces whatever body prepare-device set. snapd then requires the object to have
 * hardware-id-key-sha384 and request-id-signature, and sends it as the serial-request's body.
 *
 * The signed bytes are the request-id's UTF-8 bytes exactly as snapd set it: `snapctl get` prints
 * the value and a newline, and only that newline is dropped. Never prints; fails with a UserError.
 */
import {UserError} from '../errors.js'
import {FileHardwareKeyStore, HARDWARE_KEY_FILE, type HardwareProofBody, hardwareKeyDir, hardwareProofBody} from '../identity/hardware-key.js'
import type {HardwareKeyType} from '../assertions/hardware-identity.js'
import {host} from '../support/host.js'
import {bodyObjectCall, getCall, runSnapctl, type SnapctlCall, type SnapctlRunner, spawnSnapctl} from './snapctl.js'

/** The gadget option snapd sets to the request-id before it runs the hook. */
const REQUEST_ID_OPTION = 'registration.request-id'
/** A request-id is a nonce of a few dozen characters; anything longer is not one. */
const MAX_REQUEST_ID_LENGTH = 1024

export interface PrepareSerialRequestOptions {
  /** The hook's environment: SNAP_SAVE_DATA or SNAP_DATA, where prepare-device keeps the key. */
  env?: Readonly<Record<string, string | undefined>>
  /** How snapctl is run (default: spawned from PATH without a shell). */
  snapctl?: SnapctlRunner
}

export interface PrepareSerialRequestResult {
  requestId: string
  keyFile: string
  keyType: HardwareKeyType
  /** The body set: one JSON object. */
  body: HardwareProofBody
  /** The snapctl calls made, in order. */
  calls: SnapctlCall[]
}

/** Runs the prepare-serial-request hook's work: read the request-id, sign it, set the body. */
export async function prepareSerialRequest(options: PrepareSerialRequestOptions = {}): Promise<PrepareSerialRequestResult> {
  const env = options.env ?? host().env()
  const dir = hardwareKeyDir(env)
  if (dir === undefined) {
    throw new UserError('E_IDENTITY_DIR', 'neither SNAP_SAVE_DATA nor SNAP_DATA is set, so the hardware identity key cannot be found', {
      hint: "run as the gadget's prepare-serial-request hook (snapd sets them)",
      kind: 'failed',
    })
  }

  // The key first: without it there is nothing to sign with, whatever snapd set.
  const keyFile = `${dir}/${HARDWARE_KEY_FILE}`
  const key = new FileHardwareKeyStore(keyFile).load()
  if (!key) {
    throw new UserError('E_IDENTITY_MISSING', `there is no hardware identity key at ${keyFile}`, {
      file: keyFile,
      hint: 'prepare-device makes it in hardware-identity onboarding ("onboarding": "hardware-identity" in the registration config); snapd runs prepare-device again at its next attempt',
      kind: 'failed',
    })
  }

  const runner = options.snapctl ?? spawnSnapctl({env})
  const get = getCall(REQUEST_ID_OPTION)
  const output = (await runSnapctl(runner, get)).stdout
  const requestId = output.endsWith('\n') ? output.slice(0, -1) : output
  if (requestId === '' || requestId.length > MAX_REQUEST_ID_LENGTH || /[\u0000-\u001F\u007F]/.test(requestId)) {
    const what = requestId === '' ? 'empty' : requestId.length > MAX_REQUEST_ID_LENGTH ? `${requestId.length} characters long` : 'holding a control character'
    throw new UserError('E_REQUEST_ID', `snapd's ${REQUEST_ID_OPTION} is ${what}, not a request-id to sign`, {
      hint: 'snapd 2.74 and later set it before they run this hook; run the hook only as snapd runs it',
      kind: 'failed',
    })
  }

  const body = hardwareProofBody(key, requestId)
  const set = bodyObjectCall(body as unknown as Record<string, string>)
  await runSnapctl(runner, set)
  return {body, calls: [get, set], keyFile, keyType: key.type, requestId}
}

/** One line for the hook's log. */
export function describeSerialRequest(result: PrepareSerialRequestResult): string {
  return `signed request-id ${JSON.stringify(result.requestId)} with the ${result.keyType} hardware identity key ${result.body['hardware-id-key-sha3-384']}`
}
