/**
 * The warm-up behind `prepare-device --write-code-cache`. V8 only caches code it has compiled, and
 * it compiles a function when the function first runs, so the runtime is run here, in a scratch
 * directory, the ways a hook runs it: on a sample Raspberry Pi and a sample x86 machine (device
 * tree, /proc/cpuinfo, DMI, a network interface), making the identity key and then reusing it,
 * failing on hardware with no serial, as a dry run and with --json; and on the gadget's own
 * registration config when one is given. snapctl is answered in-process: nothing is run, nothing
 * outside the scratch directory is read or written.
 */
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {InternalError, UserError} from '../errors.js'
import {loadRegistrationConfig} from '../device/config.js'
import type {SnapctlRunner} from '../device/snapctl.js'
import {builtinBoards} from './boards.js'

/** Runs the runtime with these arguments and environment, output discarded; returns its exit code. */
export type WarmUpRun = (argv: string[], env: NodeJS.ProcessEnv, snapctl: SnapctlRunner) => Promise<number>

export interface WarmUpSummary {
  /** How many times the runtime ran. */
  runs: number
  /** Why the gadget's own config could not be run (its paths are then less warm); a build goes on. */
  configFailure?: string
}

/** A snapctl on a device where every plug is connected and every call succeeds. */
const acceptingSnapctl: SnapctlRunner = () => ({status: 0, stderr: '', stdout: ''})

/** Values no placeholder rule refuses, in the formats real boards print. */
const SAMPLE_HARDWARE: Record<string, string> = {
  '/proc/cpuinfo': 'processor\t: 0\nmodel name\t: ARMv7 Processor rev 3 (v7l)\nHardware\t: BCM2835\nRevision\t: c03114\nSerial\t\t: 10000000a3b5c7d9\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n',
  '/sys/class/dmi/id/board_serial': 'L1HF83K01CV\n',
  '/sys/class/dmi/id/product_name': 'ThinkCentre M75q Gen 2\n',
  '/sys/class/dmi/id/product_serial': 'PC2A7F3D\n',
  '/sys/class/dmi/id/product_uuid': '4c4c4544-0042-3510-8051-b4c04f4e3732\n',
  '/sys/class/dmi/id/sys_vendor': 'LENOVO\n',
  '/sys/devices/platform/scb/fd580000.ethernet/net/eth0/address': 'dc:a6:32:5e:7b:10\n',
  '/sys/devices/platform/scb/fd580000.ethernet/net/eth0/addr_assign_type': '0\n',
  '/sys/devices/platform/scb/fd580000.ethernet/net/eth0/type': '1\n',
  '/sys/devices/soc0/family': 'Freescale i.MX\n',
  '/sys/devices/soc0/serial_number': '1E2A3B4C5D6E7F80\n',
  '/sys/devices/soc0/soc_id': 'i.MX8MM\n',
  '/sys/firmware/devicetree/base/compatible': 'raspberrypi,4-model-b\0brcm,bcm2711\0',
  '/sys/firmware/devicetree/base/model': 'Raspberry Pi 4 Model B Rev 1.4\0',
  '/sys/firmware/devicetree/base/serial-number': '10000000a3b5c7d9\0',
}

const SAMPLE_CONFIGS: Record<string, object> = {
  pi: {
    body: {facts: ['board-model', 'board-compatible', 'board-revision', 'mac-addresses', 'serial-source'], fields: {line: 'warm-up'}},
    deviceService: {preset: 'serial-vault'},
    headers: {'api-key': {env: 'WARM_UP_API_KEY'}},
    identity: {enabled: true},
    serial: {board: 'raspberry-pi'},
  },
  x86: {
    body: {facts: ['dmi', 'soc', 'mac-addresses']},
    deviceService: {preset: 'custom', url: 'https://serials.example.com/v1/'},
    headers: {'x-factory': 'line-1'},
    identity: false,
    proposedSerial: false,
    serial: {board: 'x86', transforms: [{prefix: 'wu-'}]},
  },
}

/** Runs the runtime the ways a hook does, so that V8 has compiled what a hook run needs. */
export async function warmUp(run: WarmUpRun, configFile?: string): Promise<WarmUpSummary> {
  // No node:os here: every hook run would pay for loading it.
  const scratch = mkdtempSync(join(process.env.TMPDIR || '/tmp', 'prepare-device-warm-up-'))
  const summary: WarmUpSummary = {runs: 0}
  const runOnce = async (argv: string[], env: NodeJS.ProcessEnv) => {
    summary.runs++
    return run(argv, env, acceptingSnapctl)
  }

  try {
    const root = join(scratch, 'root')
    for (const [path, content] of Object.entries(SAMPLE_HARDWARE)) {
      mkdirSync(dirname(join(root, path)), {recursive: true})
      writeFileSync(join(root, path), content)
    }

    mkdirSync(join(root, 'sys/class/net'), {recursive: true})
    symlinkSync('../../devices/platform/scb/fd580000.ethernet/net/eth0', join(root, 'sys/class/net/eth0'))
    const emptyRoot = join(scratch, 'empty')
    mkdirSync(emptyRoot)

    for (const [name, config] of Object.entries(SAMPLE_CONFIGS)) {
      const file = join(scratch, `${name}.json`)
      writeFileSync(file, JSON.stringify(config))
      const env = {SNAP_DATA: join(scratch, `data-${name}`), SNAP_NAME: 'warm-up', WARM_UP_API_KEY: 'warm-up'}
      const base = ['--config', file, '--root', root]
      // First boot (the key is made), a retry (the key is reused), a dry run, --json.
      for (const argv of [base, base, [...base, '--dry-run'], [...base, '--json']]) {
        const code = await runOnce(argv, env)
        if (code !== 0) throw new InternalError(`the warm-up run ${name} (${argv.slice(4).join(' ') || 'hook'}) exited ${code}`)
      }

      // Hardware without a serial: the failure path and its one-line reason.
      if ((await runOnce(['--config', file, '--root', emptyRoot], env)) === 0) throw new InternalError(`the warm-up run ${name} found a serial on empty hardware`)
    }

    if (configFile !== undefined) {
      try {
        // The config's header variables get sample values: the real ones exist only on the device.
        const config = loadRegistrationConfig(configFile, {boards: builtinBoards})
        const env: NodeJS.ProcessEnv = {SNAP_DATA: join(scratch, 'data-config'), SNAP_NAME: 'warm-up'}
        for (const header of config.headers) if (header.env !== undefined) env[header.env] = 'warm-up'
        const code = await runOnce(['--config', configFile, '--root', root], env)
        if (code !== 0) summary.configFailure = `exit ${code} on the sample hardware`
      } catch (error) {
        summary.configFailure = error instanceof UserError ? error.located : error instanceof Error ? error.message : String(error)
      }
    }
  } finally {
    rmSync(scratch, {force: true, recursive: true})
  }

  return summary
}
