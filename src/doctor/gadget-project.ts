/**
 * `--gadget DIR`: what a gadget project would make its device set, compared with what the device
 * has. Read: the registration config a snap-gadget project ships (runtime/registration.json: the
 * service URL, the headers, whether a serial is proposed), the snap's name and `assumes`
 * (snap/snapcraft.yaml, or meta/snap.yaml in a built tree), and its hooks (snap/hooks,
 * meta/hooks). A header value is resolved from the environment as the hook would; it stays in
 * memory for the comparison and is never reported.
 */
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {parse as parseYaml} from 'yaml'

import {DEFAULT_CONFIG_NAME, loadRegistrationConfig} from '../device/config.js'
import {UserError} from '../errors.js'
import {readBoundedFile} from '../support/bounded-read.js'

export interface GadgetProjectView {
  dir: string
  name?: string
  /** The device service URL the hook would set, and which setting gives it. */
  serviceUrl?: string
  serviceUrlFrom?: string
  /** The headers the hook would set: `value` resolved (literal, or from the environment when set). */
  headers: {name: string; value?: string; env?: string}[]
  proposedSerial?: boolean
  /** The hooks the snap ships (prepare-device, prepare-serial-request, …). */
  hooks: string[]
  assumes: string[]
  /** What could not be read, said once each. */
  problems: string[]
}

const MAX_SNAP_YAML_BYTES = 1024 * 1024

export function readGadgetProject(dir: string, env: Readonly<Record<string, string | undefined>> = process.env): GadgetProjectView {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError('E_DOCTOR_GADGET', `${dir} is not a directory`, {file: dir, hint: 'give the gadget project directory (where snap/snapcraft.yaml is), or a built snap tree', kind: 'io'})
  }

  const view: GadgetProjectView = {assumes: [], dir, headers: [], hooks: [], problems: []}
  const snapYaml = [join(dir, 'snap', 'snapcraft.yaml'), join(dir, 'snapcraft.yaml'), join(dir, 'meta', 'snap.yaml')].find((f) => existsSync(f))
  if (snapYaml) {
    try {
      const parsed = parseYaml(readBoundedFile(snapYaml, MAX_SNAP_YAML_BYTES, {what: 'snap.yaml'}).toString('utf8'), {maxAliasCount: 100}) as unknown
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        const record = parsed as Record<string, unknown>
        if (typeof record.name === 'string') view.name = record.name
        if (Array.isArray(record.assumes)) view.assumes = record.assumes.filter((a): a is string => typeof a === 'string')
        if (record.hooks && typeof record.hooks === 'object') view.hooks.push(...Object.keys(record.hooks))
      }
    } catch (error) {
      view.problems.push(`${snapYaml} could not be read: ${(error as Error).message}`)
    }
  } else {
    view.problems.push(`${dir} has no snap/snapcraft.yaml or meta/snap.yaml`)
  }

  for (const hooksDir of [join(dir, 'snap', 'hooks'), join(dir, 'meta', 'hooks')]) {
    if (existsSync(hooksDir) && statSync(hooksDir).isDirectory()) view.hooks.push(...readdirSync(hooksDir))
  }

  view.hooks = [...new Set(view.hooks)].sort()

  const configFile = join(dir, DEFAULT_CONFIG_NAME)
  if (existsSync(configFile)) {
    try {
      const config = loadRegistrationConfig(configFile)
      view.serviceUrl = config.deviceService.url
      view.serviceUrlFrom = `${DEFAULT_CONFIG_NAME}: deviceService ${config.deviceService.preset === 'custom' ? 'url' : `preset ${config.deviceService.preset}`}`
      view.proposedSerial = config.proposedSerial
      view.headers = config.headers.map((h) => {
        const value = h.env === undefined ? h.value : env[h.env]
        return {env: h.env, name: h.name, value: value === '' ? undefined : value}
      })
    } catch (error) {
      view.problems.push(`${configFile}: ${error instanceof UserError ? error.located : (error as Error).message}`)
    }
  } else if (view.hooks.includes('prepare-device')) {
    view.problems.push(`${dir} has a prepare-device hook but no ${DEFAULT_CONFIG_NAME}: doctor cannot tell what it sets`)
  }

  return view
}
