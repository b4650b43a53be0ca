/**
 * Shared by the scaffold tests: generating a gadget for a profile and base into a temp dir, the
 * snap tree `snapcraft` would prime from it (meta/ and content placeholders), a hardware tree for
 * each board from ../shared/fixtures/hardware, and a throwaway GnuPG key for `snap sign`.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {parse, stringify} from 'yaml'

import {freshDir} from '../helpers/scratch.js'
import {planScaffold, type ScaffoldOptions, type ScaffoldPlan} from '../../src/scaffold/plan.js'
import {writeScaffold} from '../../src/scaffold/write.js'
import {projectRoot, shared} from '../helpers/paths.js'
import {dtString, dtStrings, nic, type Tree} from '../serial/helpers/root.js'
import {dmiTreeFromTable} from '../serial/helpers/smbios.js'

export const BOARDS = ['pc-amd64', 'raspberry-pi', 'generic-uboot', 'beaglebone'] as const
export const BASES = ['core22', 'core24'] as const
export const MATRIX = BOARDS.flatMap((board) => BASES.map((base) => ({base, board})))
export const TIMESTAMP = '2026-01-01T00:00:00Z'

/** Hostile strings for every string option: quotes, line breaks, $(…), backticks, ../, controls, unicode. */
export const HOSTILE = [
  `it's "quoted"`,
  'line\nbreak',
  'carriage\rreturn',
  'tab\there',
  '$(reboot)',
  '`id`',
  '../escape',
  '; rm -rf / #',
  'key: value # not a comment',
  '{"json": [1]}',
  'ünïcödé ✓ 日本語 🚀',
  ' padded ',
  '-leading-dash',
  'nul\u0000byte',
  '',
]

/** The answers the matrix uses (a kernel name where the board has no published kernel). */
export function matrixOptions(board: string, base: string): Omit<ScaffoldOptions, 'directory'> {
  const own = board === 'generic-uboot' || board === 'beaglebone'
  return {base: base as ScaffoldOptions['base'], board, brand: 'acme', kernel: own ? `acme-${board}-kernel` : undefined, timestamp: TIMESTAMP}
}

/** A new directory for one use, removed when the test file's process ends (or earlier, by whoever made it). */
export function tempDir(prefix: string): string {
  return freshDir(`snap-gadget-${prefix}-`)
}

/** Plans and writes a gadget into a new temp dir; returns the dir and the plan. */
export async function generate(board: string, base: string, extra: Partial<ScaffoldOptions> = {}): Promise<{dir: string; plan: ScaffoldPlan}> {
  const dir = join(tempDir('gadget'), 'gadget')
  const plan = await planScaffold({...matrixOptions(board, base), directory: dir, ...extra})
  writeScaffold(plan)
  return {dir, plan}
}

interface Snapcraft {
  name: string
  version: string
  summary: string
  description: string
  type: string
  base: string
  confinement: string
  grade: string
  assumes?: string[]
  hooks: Record<string, Record<string, unknown>>
  parts: Record<string, Record<string, unknown>>
  platforms?: Record<string, unknown>
  architectures?: {'build-for': string[]}[]
}

/**
 * The tree snapcraft primes: meta/snap.yaml from snapcraft.yaml's fields (as snapcraft writes
 * them), meta/gadget.yaml, meta/hooks/*, what the registration-runtime part installs (its own
 * override-build), the project's content, and empty placeholders for the content the parts build
 * (boot firmware). The quickjs part's `usr/bin/qjs` is left to the caller (hookEngine). Returns
 * the tree and what the runtime part printed.
 */
export function assembleSnapTree(project: string, out: string): {partLog: string; tree: string} {
  const sc = parse(readFileSync(join(project, 'snap', 'snapcraft.yaml'), 'utf8')) as Snapcraft
  const architecture = sc.platforms ? Object.keys(sc.platforms)[0] : sc.architectures![0]['build-for'][0]
  const hooks: Record<string, Record<string, unknown>> = {configure: {}, ...sc.hooks}
  const snap: Record<string, unknown> = {
    name: sc.name,
    version: sc.version,
    summary: sc.summary,
    description: sc.description,
    type: sc.type,
    base: sc.base,
    architectures: [architecture],
    confinement: sc.confinement,
    grade: sc.grade,
    hooks,
  }
  if (sc.assumes) snap.assumes = sc.assumes
  mkdirSync(join(out, 'meta', 'hooks'), {recursive: true})
  writeFileSync(join(out, 'meta', 'snap.yaml'), stringify(snap))
  copyFileSync(join(project, 'gadget.yaml'), join(out, 'meta', 'gadget.yaml'))
  // Every hook the project has, as snapcraft copies snap/hooks/ into meta/hooks/.
  for (const hook of readdirSync(join(project, 'snap', 'hooks'))) {
    copyFileSync(join(project, 'snap', 'hooks', hook), join(out, 'meta', 'hooks', hook))
    chmodSync(join(out, 'meta', 'hooks', hook), 0o755)
  }

  const partLog = runRuntimePart(project, sc, out)
  const gadget = parse(readFileSync(join(project, 'gadget.yaml'), 'utf8')) as {volumes: Record<string, {structure: {content?: {image?: string; source?: string}[]}[]}>}
  for (const volume of Object.values(gadget.volumes)) {
    for (const structure of volume.structure) {
      for (const content of structure.content ?? []) {
        const path = content.source ?? content.image!
        if (path.startsWith('$kernel:')) continue
        const target = join(out, path)
        if (existsSync(join(project, path))) cpSync(join(project, path), target, {recursive: true})
        else if (path.endsWith('/')) mkdirSync(target, {recursive: true})
        else {
          mkdirSync(dirname(target), {recursive: true})
          writeFileSync(target, '')
        }
      }
    }
  }

  return {partLog, tree: out}
}

/**
 * Runs the registration-runtime part's override-build as snapcraft does: in a copy of its source,
 * under bash with errexit, CRAFT_PART_INSTALL being the tree (nothing filters this part between
 * install and prime). Returns what it printed.
 */
function runRuntimePart(project: string, sc: Snapcraft, out: string): string {
  const part = sc.parts['registration-runtime']
  if (typeof part?.['override-build'] !== 'string') throw new Error('snapcraft.yaml has no registration-runtime part with an override-build')
  const build = tempDir('part-build')
  try {
    cpSync(join(project, String(part.source)), build, {recursive: true})
    const result = spawnSync('bash', ['-e', '-c', part['override-build']], {
      cwd: build,
      encoding: 'utf8',
      env: {CRAFT_PART_INSTALL: out, HOME: build, PATH: process.env.PATH},
      timeout: 120_000,
    })
    if (result.status !== 0) throw new Error(`the registration-runtime part failed (exit ${result.status}):\n${result.stderr}`)
    return `${result.stdout}${result.stderr}`
  } finally {
    rmSync(build, {force: true, recursive: true})
  }
}

/**
 * Puts the hook's engine at `usr/bin/qjs` of a snap tree: Debian trixie's QuickJS for amd64
 * (scripts/quickjs.sh), with `--root ROOT` added after the hook's arguments so that the runtime
 * reads a captured board instead of this machine.
 */
export function installHookEngine(tree: string, root: string): string {
  const qjs = join(tree, 'usr', 'bin', 'qjs')
  mkdirSync(dirname(qjs), {recursive: true})
  const script = join(projectRoot, 'scripts', 'quickjs.sh')
  // The captured board is the hardware prepare-device reads; prepare-serial-request reads none (and takes no --root).
  writeFileSync(
    qjs,
    `#!/bin/sh\ncase " $* " in *" prepare-serial-request "*) exec bash ${JSON.stringify(script)} run amd64 -- "$@" ;; esac\nexec bash ${JSON.stringify(script)} run amd64 -- "$@" --root ${JSON.stringify(root)}\n`,
  )
  chmodSync(qjs, 0o755)
  return qjs
}

export interface HardwareCase {
  tree: Tree
  serial: string
  source: string
  model: string
}

const HW = (...parts: string[]) => readFileSync(shared('fixtures', 'hardware', ...parts))

/**
 * A root tree for each board, from the captures (device-tree files derived from a capture's
 * cpuinfo Model line, as the runtime's own cases do), and what the hook must derive from it.
 */
export function hardwareFor(board: string): HardwareCase {
  switch (board) {
    case 'pc-amd64': {
      return {model: 'UP-CHT01', serial: '19620608', source: 'dmi[product_serial]', tree: dmiTreeFromTable(HW('x86-dmi-raw', 'aaeon-up-cht01.DMI.bin'))}
    }

    case 'raspberry-pi': {
      return {
        model: 'Raspberry Pi 4 Model B Rev 1.5',
        serial: '100000000fe69593',
        source: 'cpuinfo-serial',
        tree: {
          '/proc/cpuinfo': HW('raspberry-pi-4b', 'cpuinfo.arm64-no-hardware-line'),
          '/sys/firmware/devicetree/base/compatible': dtStrings('raspberrypi,4-model-b', 'brcm,bcm2711'),
          '/sys/firmware/devicetree/base/model': dtString('Raspberry Pi 4 Model B Rev 1.5'),
        },
      }
    }

    case 'generic-uboot': {
      return {
        model: 'Rockchip RK3528 Evaluation Board',
        serial: '8f05e6569c61bf21',
        source: 'cpuinfo-serial',
        tree: {
          '/proc/cpuinfo': HW('rockchip-rk3528', 'cpuinfo.vendor-5.10'),
          '/sys/firmware/devicetree/base/compatible': dtStrings('rockchip,rk3528-evb', 'rockchip,rk3528'),
          '/sys/firmware/devicetree/base/model': dtString('Rockchip RK3528 Evaluation Board'),
        },
      }
    }

    case 'beaglebone': {
      return {
        model: 'TI AM335x BeagleBone Black',
        serial: '2313BBBK0099',
        source: 'beaglebone-eeprom',
        tree: {
          '/sys/bus/i2c/devices/0-0050/eeprom': {data: HW('beaglebone-black', 'eeprom-0-0050.bin'), mode: 0o400},
          '/sys/firmware/devicetree/base/compatible': dtStrings('ti,am335x-bone-black', 'ti,am335x-bone', 'ti,am33xx'),
          '/sys/firmware/devicetree/base/model': dtString('TI AM335x BeagleBone Black'),
          ...nic('eth0', {address: 'c8:a0:30:b4:1f:2e', bus: '/sys/devices/platform/ocp/4a100000.ethernet', driver: 'cpsw'}),
        },
      }
    }

    default:
      throw new Error(`no hardware case for ${board}`)
  }
}

/** Why a tool the tests compare against is missing, or undefined when it is there. */
export function toolMissing(tool: 'gpg' | 'snap'): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], {encoding: 'utf8'})
  return found.status === 0 ? undefined : `${tool} is not installed (apt-get install ${tool === 'snap' ? 'snapd' : 'gnupg'})`
}

export interface SigningKey {
  home: string
  name: string
  cleanup(): void
}

/** A throwaway RSA-4096 key without a passphrase in a private SNAP_GNUPG_HOME (offline-signing.md §2b). */
export function throwawayKey(): SigningKey {
  const home = tempDir('gnupg')
  chmodSync(home, 0o700)
  const params = join(home, 'params')
  writeFileSync(params, ['%no-protection', 'Key-Type: RSA', 'Key-Length: 4096', 'Name-Real: init-test', 'Creation-Date: seconds=1451606400', 'Preferences: SHA512', '%commit', ''].join('\n'))
  execFileSync('gpg', ['--homedir', home, '--batch', '--quiet', '--gen-key', params], {stdio: 'ignore', timeout: 300_000})
  return {
    cleanup() {
      spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], {stdio: 'ignore'})
      rmSync(home, {force: true, recursive: true})
    },
    home,
    name: 'init-test',
  }
}

/** `snap sign -k <key>` on a model.json; stdout is the assertion. */
export function snapSign(key: SigningKey, modelJson: string): {status: null | number; stdout: string; stderr: string} {
  const result = spawnSync('snap', ['sign', '-k', key.name, modelJson], {encoding: 'utf8', env: {...process.env, SNAP_GNUPG_HOME: key.home}, timeout: 120_000})
  return {status: result.status, stderr: result.stderr, stdout: result.stdout}
}
