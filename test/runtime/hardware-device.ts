/**
 * A device for the hardware-identity tests: its hardware (a serial in a file under a root), a
 * recording snapctl, ubuntu-save, SNAP_DATA and SNAP_COMMON, a registration config in
 * hardware-identity onboarding; and the two hooks run from the built bundle as snapd runs them.
 */
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {type Engine, hookEnv, requireBundle, runBundle} from './helpers.js'
import {readSnapctlLog, writeRecordingSnapctl} from '../helpers/snapctl.js'

export const SERIAL = 'ACME-GW-000042'

/** A device: its hardware (a serial in a file), snapctl, ubuntu-save, SNAP_COMMON and the config. */
export interface HookDevice {
  dir: string
  root: string
  save: string
  common: string
  log: string
  config: string
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv
}

export interface DeviceOptions {
  /** The device service. */
  url?: string
  keyType?: string
  /** The serial the hardware gives. */
  serial?: string
  /** The directory to make the device in. */
  parent: string
  /** ubuntu-save: another device directory's, for a key made by an earlier image. */
  save?: string
}

export function makeHookDevice(name: string, options: DeviceOptions): HookDevice {
  const dir = mkdtempSync(join(options.parent, `${name}-`))
  const root = join(dir, 'root')
  mkdirSync(join(root, 'etc'), {recursive: true})
  writeFileSync(join(root, 'etc', 'device-serial'), `${options.serial ?? SERIAL}\n`)
  const bin = join(dir, 'bin')
  writeRecordingSnapctl(bin)
  const save = options.save ?? join(dir, 'save')
  const common = join(dir, 'common')
  const config = join(dir, 'registration.json')
  const onboarding = options.keyType === undefined ? '"hardware-identity"' : `{"mode": "hardware-identity", "keyType": "${options.keyType}"}`
  writeFileSync(
    config,
    `{"deviceService": {"preset": "custom", "url": "${options.url ?? 'http://127.0.0.1:8642/v1/'}"}, "serial": {"chain": [{"source": "file", "options": {"path": "/etc/device-serial"}}]}, "onboarding": ${onboarding}}\n`,
  )
  const log = join(dir, 'snapctl.log')
  return {
    common,
    config,
    dir,
    env: (extra = {}) => hookEnv(bin, {SNAP_COMMON: common, SNAP_DATA: join(dir, 'data'), SNAP_NAME: 'acme-gadget', SNAP_SAVE_DATA: save, SNAPCTL_LOG: log, ...extra}),
    log,
    root,
    save,
  }
}

/** prepare-device as the hook runs it. */
export function prepareDevice(device: HookDevice, engine: Engine = 'node', extra: NodeJS.ProcessEnv = {}) {
  return runBundle(['--config', device.config, '--root', device.root], {bundle: requireBundle('hardware-identity'), engine, env: device.env(extra)})
}

/** prepare-serial-request as the hook runs it, snapd having set registration.request-id. */
export function prepareSerialRequest(device: HookDevice, requestId: string, engine: Engine = 'node') {
  return runBundle(['prepare-serial-request'], {bundle: requireBundle('hardware-identity'), engine, env: device.env({SNAPCTL_GET_registration_request_id: requestId})})
}

/** The registration.body the last `snapctl set` of the log set: a JSON object. */
export function bodyOf(device: HookDevice): Record<string, string> {
  const set = readSnapctlLog(device.log).at(-1)!
  assert.equal(set.length, 2, "one option in the hook's snapctl set")
  assert.match(set[1], /^registration\.body=\{/, 'the body is set as a JSON object, never with -s')
  return JSON.parse(set[1].slice('registration.body='.length)) as Record<string, string>
}
