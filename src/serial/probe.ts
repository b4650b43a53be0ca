/**
 * `probe`: every identity source present on this hardware (or captured tree), its value and what
 * is wrong with it, the board profile that applies and what its chain derives here.
 */
import {detectBoard} from './boards.js'
import {type AttemptVerdict, type ChainEntrySpec, resolveChain, runChain, type SourceAttempt} from './chain.js'
import {checkRoot, type ContextOptions, createSourceContext} from './sources/context.js'
import {AM335X_DEAD_MAGIC, AM335X_HEADER_LENGTH, AM335X_MAGIC} from './formats/am335x-eeprom.js'
import {ONIE_HEADER_LENGTH, ONIE_MAGIC} from './formats/onie-tlv.js'
import {isAm6Layout} from './formats/ti-am6-eeprom.js'
import {collectSystemFacts, type DeviceFacts, readDeviceFacts, type SystemFacts} from './facts.js'
import {expandGlob} from './glob.js'
import {HYPERVISOR_OUIS, isLocallyAdministered, listNetDevices, type NetDevice} from './netdev.js'
import {macProblems} from './sources/mac.js'
import type {SnapInterface, SourceContext} from './sources/source.js'

type ProbeWarningKind = 'container' | 'denied' | 'locally-administered' | 'placeholder' | 'root-only' | 'virtual-machine'

export interface ProbeWarning {
  kind: ProbeWarningKind
  message: string
}

export interface ProbedSource {
  /** Chain entry that reads it: `dmi[board_serial]`, `mac[eth0]`, … */
  entry: string
  source: string
  origin?: string
  /** What the source read (before normalisation). */
  value?: string
  /** Whether a chain would accept it as it is. */
  usable: boolean
  /** `usable`, why not (`refused`, `invalid`, `denied`, …), or `present` for information only. */
  verdict: 'present' | 'usable' | Exclude<AttemptVerdict, 'used'>
  reason?: string
  plugs: readonly SnapInterface[]
  /** File mode, e.g. "0400". */
  mode?: string
  warnings: ProbeWarning[]
}

export interface ProbeReport {
  root: string
  board: {id: string; reason: string; title: string}
  virtualMachine: {detected: boolean; evidence: string[]}
  sources: ProbedSource[]
  recommended: {
    board: string
    chain: string[]
    plugs: readonly SnapInterface[]
    serial?: string
    entry?: string
    attempts: SourceAttempt[]
  }
  suggestions: string[]
  warnings: ProbeWarning[]
  facts: DeviceFacts
  /** systeminformation's view of the running host; only when probing `/`. */
  system?: SystemFacts
}

export interface ProbeOptions extends ContextOptions {
  /** Ask systeminformation too (default: only when the root is `/`). */
  systemFacts?: boolean
  systemFactsTimeoutMs?: number
}

const VM_VENDORS = /qemu|kvm|vmware|virtualbox|innotek|xen|bochs|parallels|bhyve|openstack|amazon ec2|google compute engine|microsoft corporation.*virtual|virtual machine|firecracker|cloud hypervisor/i

/** Single-entry probes: each source that can be read without knowing the board. */
const FIXED_PROBES: readonly ChainEntrySpec[] = [
  {source: 'devicetree-serial'},
  {options: {encoding: 'hex', property: 'system/linux,serial'}, source: 'devicetree-serial'},
  {options: {property: 'chosen/rpi-duid'}, source: 'devicetree-serial'},
  {source: 'cpuinfo-serial'},
  {source: 'soc-serial'},
  {options: {field: 'product_serial'}, source: 'dmi'},
  {options: {field: 'board_serial'}, source: 'dmi'},
  {options: {field: 'chassis_serial'}, source: 'dmi'},
  {options: {field: 'product_uuid'}, source: 'dmi'},
  {name: 'imx-ocotp-uid', options: {device: 'imx-ocotp0', words: [2, 1]}, source: 'nvmem'},
  {name: 'sunxi-sid', options: {device: 'sunxi-sid0', words: [0, 1, 2, 3]}, source: 'nvmem'},
  {name: 'rockchip-cpu-id', options: {cell: 'cpu-id', device: ['rockchip-otp0', 'rockchip-efuse0']}, source: 'nvmem'},
]

export async function probeIdentity(options: ProbeOptions = {}): Promise<ProbeReport> {
  if (options.root !== undefined) await checkRoot(options.root)
  const context = createSourceContext(options)
  const root = context.root
  const wantSystem = options.systemFacts ?? root === '/'
  const systemPromise = wantSystem ? collectSystemFacts({timeoutMs: options.systemFactsTimeoutMs}) : undefined
  const [facts, devices, detection] = await Promise.all([readDeviceFacts(context), listNetDevices(context.fs), detectBoard(context)])

  const evidence = vmEvidence(facts, devices)
  const vmWarning: ProbeWarning = {kind: 'virtual-machine', message: `virtual machine (${evidence.join('; ')}): its DMI and MAC values come from the hypervisor and repeat across cloned VMs`}

  const sources: ProbedSource[] = []
  for (const spec of [...FIXED_PROBES, ...(await eepromProbes(context))]) {
    const probed = await probeEntry(spec, context)
    if (probed) sources.push(probed)
  }

  for (const device of devices.filter((d) => !d.virtual && d.type !== 772)) sources.push(probeNic(device))
  if (evidence.length > 0) for (const s of sources) if (s.source === 'dmi' || s.source === 'mac') s.warnings.push(vmWarning)
  await addModes(context, sources)
  sources.push(...(await informational(context)))

  // The board's own chain, run here.
  const {board} = detection
  const chain = await resolveChain(board, {name: board.id, place: {file: board.file}})
  const outcome = await runChain(chain, context)
  const recommended: ProbeReport['recommended'] = {attempts: outcome.attempts, board: board.id, chain: chain.entries.map((e) => e.label), plugs: chain.plugs}
  if (outcome.serial !== undefined) Object.assign(recommended, {entry: outcome.winner?.entry, serial: outcome.serial})

  const warnings: ProbeWarning[] = []
  if (evidence.length > 0) warnings.push(vmWarning)
  if (facts.container) warnings.push({kind: 'container', message: `container marker ${facts.container}: identity sources may be the host's or missing`})
  const report: ProbeReport = {
    board: {id: board.id, reason: detection.reason, title: board.title},
    facts,
    recommended,
    root,
    sources,
    suggestions: [
      ...suggestions(
        outcome.serial !== undefined,
        board.id,
        chain.entries.map((e) => e.label),
        devices,
      ),
      ...eepromSuggestions(sources, board.id),
    ],
    virtualMachine: {detected: evidence.length > 0, evidence},
    warnings,
  }
  if (systemPromise) report.system = await systemPromise
  return report
}

async function probeEntry(spec: ChainEntrySpec, context: SourceContext): Promise<ProbedSource | undefined> {
  const chain = await resolveChain({chain: [spec], onDenied: 'next'}, {name: 'probe'})
  const {attempts} = await runChain(chain, context)
  const attempt = attempts[0]
  if (attempt.verdict === 'absent') return undefined
  const probed: ProbedSource = {
    entry: attempt.entry,
    plugs: attempt.plugs,
    source: attempt.source,
    usable: attempt.verdict === 'used',
    verdict: attempt.verdict === 'used' ? 'usable' : attempt.verdict,
    warnings: [],
  }
  if (attempt.origin !== undefined) probed.origin = attempt.origin
  if (attempt.read !== undefined) probed.value = attempt.read
  if (attempt.reason !== undefined) probed.reason = attempt.reason
  if (attempt.verdict === 'refused' || attempt.verdict === 'invalid') probed.warnings.push({kind: 'placeholder', message: attempt.reason ?? 'not a usable identity'})
  if (attempt.verdict === 'denied') probed.warnings.push({kind: 'denied', message: attempt.reason ?? 'permission denied'})
  return probed
}

/** I2C EEPROMs and nvmem providers that hold a known identity layout. */
async function eepromProbes(context: SourceContext): Promise<ChainEntrySpec[]> {
  const files = [...(await expandGlob(context.fs, '/sys/bus/i2c/devices/*/eeprom')), ...(await expandGlob(context.fs, '/sys/bus/nvmem/devices/*/nvmem'))]
  const probes: ChainEntrySpec[] = []
  for (const file of files) {
    let head: Buffer
    try {
      head = await context.fs.readBytes(file, 0, Math.max(AM335X_HEADER_LENGTH, ONIE_HEADER_LENGTH))
    } catch {
      continue
    }

    const magic = head.subarray(0, 4)
    if (head.subarray(0, ONIE_MAGIC.length).equals(ONIE_MAGIC)) probes.push({options: {path: file}, source: 'onie-tlv'})
    // The same magic starts both TI layouts: the byte after it tells the K3 record list from the AM335x struct.
    else if (magic.equals(AM335X_MAGIC) && isAm6Layout(head)) probes.push({options: {path: file}, source: 'ti-am6-eeprom'})
    else if (magic.equals(AM335X_MAGIC) || magic.equals(AM335X_DEAD_MAGIC)) probes.push({options: {path: file}, source: 'beaglebone-eeprom'})
  }

  return probes
}

function probeNic(device: NetDevice): ProbedSource {
  const problems = macProblems(device, {allowLocallyAdministered: false, allowUsb: false, allowWireless: false})
  const probed: ProbedSource = {
    entry: `mac[${device.name}]`,
    origin: `/sys/class/net/${device.name}/address`,
    plugs: ['network-observe'],
    source: 'mac',
    usable: problems.length === 0,
    verdict: problems.length === 0 ? 'usable' : device.denied ? 'denied' : 'refused',
    warnings: [],
  }
  if (device.address) probed.value = device.address
  if (problems.length > 0) probed.reason = problems.join('; ')
  if (device.address && isLocallyAdministered(device.address)) {
    probed.warnings.push({kind: 'locally-administered', message: `${device.address} is locally administered: made up by a bootloader, hypervisor or driver, not burned in`})
  }

  if (device.denied) probed.warnings.push({kind: 'denied', message: 'the address is not readable (connect network-observe)'})
  return probed
}

async function addModes(context: SourceContext, sources: ProbedSource[]): Promise<void> {
  await Promise.all(
    sources.map(async (s) => {
      if (!s.origin?.startsWith('/')) return
      try {
        const {mode} = await context.fs.stat(s.origin)
        s.mode = mode.toString(8).padStart(4, '0')
        if ((mode & 0o044) === 0) s.warnings.push({kind: 'root-only', message: `mode ${s.mode}: only root can read it (the hook runs as root; a test or tool run as a user cannot)`})
      } catch {
        // a composite origin or a file that vanished: no mode to report
      }
    }),
  )
}

/** Things people reach for that are not hardware identities, reported so they are not. */
async function informational(context: SourceContext): Promise<ProbedSource[]> {
  const out: ProbedSource[] = []
  const exists = (p: string) =>
    context.fs.stat(p).then(
      () => true,
      () => false,
    )
  if (await exists('/sys/class/tpm/tpm0')) {
    out.push({
      entry: 'tpm',
      origin: '/sys/class/tpm/tpm0',
      plugs: ['hardware-observe'],
      reason: 'a TPM is present; its endorsement key hash is not a built-in source (use a module source with the tpm interface)',
      source: 'tpm',
      usable: false,
      verdict: 'present',
      warnings: [],
    })
  }

  if (await exists('/etc/machine-id')) {
    out.push({
      entry: 'machine-id',
      origin: '/etc/machine-id',
      plugs: [],
      reason: 'identifies the installation, not the hardware: regenerated on reinstall, cloned by golden images',
      source: 'file',
      usable: false,
      verdict: 'present',
      warnings: [],
    })
  }

  return out
}

function vmEvidence(facts: DeviceFacts, devices: readonly NetDevice[]): string[] {
  const evidence: string[] = []
  if (facts.hypervisorFlag) evidence.push('the CPU reports a hypervisor')
  for (const value of [facts.dmi?.sysVendor, facts.dmi?.productName, facts.dmi?.boardVendor]) {
    if (value && VM_VENDORS.test(value)) {
      evidence.push(`DMI says ${value}`)
      break
    }
  }

  if (facts.compatible.includes('linux,dummy-virt')) evidence.push('device tree of a QEMU virt machine')
  for (const d of devices) {
    if (d.virtual) continue
    if (d.driver === 'virtio_net' || /\/virtio\d+\//.test(d.busPath)) evidence.push(`virtio network device ${d.name}`)
    else if (d.address && HYPERVISOR_OUIS[d.address.slice(0, 8)]) evidence.push(`${d.name} has a ${HYPERVISOR_OUIS[d.address.slice(0, 8)]} address`)
  }

  return evidence
}

function suggestions(derived: boolean, board: string, chain: readonly string[], devices: readonly NetDevice[]): string[] {
  if (derived) return []
  const out = [`the ${board} chain (${chain.join(', ')}) finds no usable serial here`]
  const physical = devices.filter((d) => !d.virtual && d.type === 1 && d.address)
  const usable = physical.find((d) => macProblems(d, {allowLocallyAdministered: false, allowUsb: false, allowWireless: false}).length === 0)
  const local = physical.find((d) => macProblems(d, {allowLocallyAdministered: true, allowUsb: false, allowWireless: false}).length === 0)
  if (usable) out.push(`the permanent MAC of ${usable.name} is usable as an opt-in last resort: --chain ${[...chain, `mac[${usable.name}]`].join(',')}`)
  else if (local) {
    out.push(
      `only ${local.name} has an address (${local.address}), and it is locally administered (not burned in): if this model has nothing better, accept it with --chain ${[...chain, `mac[interface=${local.name},allowLocallyAdministered=true]`].join(',')}`,
    )
  }

  return out
}

/** Board EEPROMs found on the bus whose board profile is not the one detected. */
function eepromSuggestions(sources: readonly ProbedSource[], boardId: string): string[] {
  const layouts: Record<string, {board: string; what: string}> = {
    'beaglebone-eeprom': {board: 'beaglebone', what: 'an AM335x board EEPROM'},
    'onie-tlv': {board: 'onie-switch', what: 'an ONIE TlvInfo table'},
    'ti-am6-eeprom': {board: 'beagleplay', what: 'a TI AM6x (K3) board EEPROM'},
  }
  return sources.filter((s) => s.usable && layouts[s.source] && layouts[s.source].board !== boardId).map((s) => `${s.origin} holds ${layouts[s.source].what}: --board ${layouts[s.source].board} uses it`)
}
