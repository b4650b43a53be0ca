/**
 * Descriptive facts about the hardware (manufacturer, model, board, SoC) for `probe` and for the
 * registration body, never for the serial. Two ways: direct reads under the root (fast, no child
 * processes, work on captured trees), and systeminformation on the running host (lazily loaded,
 * always behind a timeout: it spawns shells and fails silently under confinement).
 */
import type {SerialFs, SourceContext} from './sources/source.js'

export interface DeviceFacts {
  /** Device-tree model, else DMI product name. */
  model?: string
  compatible: readonly string[]
  dmi?: {boardName?: string; boardVendor?: string; productName?: string; productVersion?: string; sysVendor?: string}
  soc?: {family?: string; machine?: string; revision?: string; socId?: string}
  cpu?: {hardware?: string; model?: string; modelName?: string; revision?: string; vendorId?: string}
  /** The CPU reports it runs under a hypervisor. */
  hypervisorFlag: boolean
  /** A container marker file exists under the root. */
  container?: string
}

async function text(fs: SerialFs, path: string): Promise<string | undefined> {
  try {
    const value = (await fs.readFile(path)).toString('utf8').split('\0')[0].trim()
    return value === '' ? undefined : value
  } catch {
    return undefined
  }
}

function compact<T extends Record<string, unknown>>(record: T): T | undefined {
  const entries = Object.entries(record).filter(([, v]) => v !== undefined)
  return entries.length > 0 ? (Object.fromEntries(entries) as T) : undefined
}

/** Facts read straight from /sys and /proc under the root. */
export async function readDeviceFacts(context: SourceContext): Promise<DeviceFacts> {
  const {fs} = context
  const dmiDir = '/sys/class/dmi/id'
  const [dtModel, sysVendor, productName, productVersion, boardVendor, boardName, machine, family, socId, revision, cpuinfo, compatible, dockerenv, containerenv] = await Promise.all([
    text(fs, '/sys/firmware/devicetree/base/model').then((m) => m ?? text(fs, '/proc/device-tree/model')),
    text(fs, `${dmiDir}/sys_vendor`),
    text(fs, `${dmiDir}/product_name`),
    text(fs, `${dmiDir}/product_version`),
    text(fs, `${dmiDir}/board_vendor`),
    text(fs, `${dmiDir}/board_name`),
    text(fs, '/sys/devices/soc0/machine'),
    text(fs, '/sys/devices/soc0/family'),
    text(fs, '/sys/devices/soc0/soc_id'),
    text(fs, '/sys/devices/soc0/revision'),
    text(fs, '/proc/cpuinfo'),
    context.compatible(),
    fs.stat('/.dockerenv').then(
      () => '/.dockerenv',
      () => undefined,
    ),
    fs.stat('/run/.containerenv').then(
      () => '/run/.containerenv',
      () => undefined,
    ),
  ])
  const line = (key: string) => (cpuinfo ? new RegExp(`^${key}\\s*:\\s*(.+)$`, 'm').exec(cpuinfo)?.[1].trim() : undefined)
  const facts: DeviceFacts = {compatible, hypervisorFlag: Boolean(cpuinfo && /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo))}
  const model = dtModel ?? productName
  if (model) facts.model = model
  const dmi = compact({boardName, boardVendor, productName, productVersion, sysVendor})
  if (dmi) facts.dmi = dmi
  const soc = compact({family, machine, revision, socId})
  if (soc) facts.soc = soc
  const cpu = compact({hardware: line('Hardware'), model: line('Model'), modelName: line('model name'), revision: line('Revision'), vendorId: line('vendor_id')})
  if (cpu) facts.cpu = cpu
  const container = dockerenv ?? containerenv
  if (container) facts.container = container
  return facts
}

export type SystemFacts =
  | {
      ok: true
      ms: number
      system: {manufacturer?: string; model?: string; version?: string; virtual?: boolean}
      baseboard: {manufacturer?: string; model?: string; version?: string}
      cpu: {brand?: string; manufacturer?: string}
    }
  | {ms: number; ok: false; reason: string}

interface SystemFactsOptions {
  /** Give up after this long (default 3000 ms). */
  timeoutMs?: number
}

/**
 * Manufacturer, model and CPU of the running host through systeminformation. Serials and UUIDs
 * are left out on purpose: systeminformation keeps placeholders and returns "" when not root.
 */
export async function collectSystemFacts(options: SystemFactsOptions = {}): Promise<SystemFacts> {
  const started = performance.now()
  const timeoutMs = options.timeoutMs ?? 3000
  const ms = () => Math.round(performance.now() - started)
  const clean = (value: unknown) => (typeof value === 'string' && value.trim() !== '' && value.trim() !== '-' ? value.trim() : undefined)
  const work = (async () => {
    const loaded = (await import('systeminformation')) as typeof import('systeminformation') & {default?: typeof import('systeminformation')}
    const si = loaded.default ?? loaded
    const [system, baseboard, cpu] = await Promise.all([si.system(), si.baseboard(), si.cpu()])
    return {
      baseboard: compact({manufacturer: clean(baseboard.manufacturer), model: clean(baseboard.model), version: clean(baseboard.version)}) ?? {},
      cpu: compact({brand: clean(cpu.brand), manufacturer: clean(cpu.manufacturer)}) ?? {},
      system: compact({manufacturer: clean(system.manufacturer), model: clean(system.model), version: clean(system.version), virtual: system.virtual}) ?? {},
    }
  })()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), timeoutMs)
    timer.unref()
  })
  try {
    const result = await Promise.race([work, timeout])
    if (!result) return {ms: ms(), ok: false, reason: `systeminformation did not answer within ${timeoutMs} ms`}
    return {...result, ms: ms(), ok: true}
  } catch (error) {
    return {ms: ms(), ok: false, reason: `systeminformation failed: ${(error as Error)?.message ?? String(error)}`}
  } finally {
    clearTimeout(timer)
    // A late rejection after the timeout must not become an unhandled one.
    work.catch(() => {})
  }
}
