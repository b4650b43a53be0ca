/**
 * snapd's side of a registration, played without snapd: one device (registerDevice) or many
 * (registerFleet) against any device service, with snapd's own checks of what comes back. The
 * SDK returns data and reports steps through callbacks; it never prints.
 */
import {existsSync, mkdirSync, statSync, writeFileSync} from 'node:fs'
import {resolve} from 'node:path'

import {ioError, UserError} from '../errors.js'

export {RootTemplate, SerialPattern} from './devices.js'
export {type FleetDevice, type FleetOptions, type FleetProgress, type FleetRefusal, type FleetSummary, MAX_FLEET_CONCURRENCY, MAX_FLEET_DEVICES, registerFleet} from './fleet.js'
export {type HookReport, type HookRun, SNAPD_HOOK_TIMEOUT_MS} from './hook.js'
export {SNAPD_HTTP_TIMEOUT_MS} from './http.js'
export {type GadgetTree, type HookEngine, type ModelInput, readGadgetTree, readModel, readTrust, resolveEngine} from './inputs.js'
export {
  type CheckId,
  type CheckResult,
  DEFAULT_LIMITS,
  type DeviceOptions,
  type Exchange,
  exchangeSerial,
  generateDeviceKey,
  prepareSimulatedDevice,
  type PreparedDevice,
  registerDevice,
  type RegistrationLimits,
  type RegistrationResult,
  type RegistrationStep,
  SNAPD_DEVICE_KEY_BITS,
  type Verdict,
} from './register.js'
export {type SnapctlRecord} from './snapctl-shim.js'

/** Writes an accepted serial assertion to `file`; an existing file is kept unless `force`. */
export function writeSerialAssertion(file: string, text: string, options: {force?: boolean} = {}): void {
  if (existsSync(file) && !options.force) throw new UserError('E_EXISTS', `${file} already exists`, {file, hint: 'pass --force to overwrite it, or choose another --output', kind: 'usage'})
  try {
    writeFileSync(file, text)
  } catch (error) {
    throw ioError(file, error, 'write')
  }
}

/**
 * A device's data directory for --device-dir: made when missing (it holds the device's state
 * between runs, so an existing one is reused, not replaced); anything but a directory is refused.
 */
export function deviceDataDir(path: string): string {
  const dir = resolve(path)
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new UserError('E_IO_ENOTDIR', `${path} is not a directory`, {file: path, hint: "give a directory for the device's data, or a path where one can be made", kind: 'io'})
  }

  try {
    mkdirSync(dir, {mode: 0o700, recursive: true})
  } catch (error) {
    throw ioError(path, error, 'create')
  }

  return dir
}
