/**
 * Network devices as sysfs shows them, classified: physical or virtual, USB, wireless, bridge,
 * bond, and how the current address was assigned. Shared by the `mac` source and `probe`.
 */
import {errnoOf} from './sources/context.js'
import type {SerialFs} from './sources/source.js'

export const NET_CLASS = '/sys/class/net'

export interface NetDevice {
  name: string
  /** The device's canonical sysfs path: the bus path that orders interfaces stably. */
  busPath: string
  /** `aa:bb:cc:dd:ee:ff`, lower case; undefined when unreadable. */
  address?: string
  /** 0 permanent, 1 random, 2 stolen, 3 set by software; undefined on kernels without it. */
  addrAssignType?: number
  /** ARPHRD type: 1 Ethernet, 772 loopback, … */
  type?: number
  driver?: string
  virtual: boolean
  usb: boolean
  wireless: boolean
  bridge: boolean
  bond: boolean
  /** The master (bond/bridge) this port is enslaved to. */
  master?: string
  /** The address file exists but could not be read (confinement). */
  denied?: boolean
}

/** Every interface under /sys/class/net, sorted by bus path. */
export async function listNetDevices(fs: SerialFs): Promise<NetDevice[]> {
  let names: string[]
  try {
    names = await fs.readdir(NET_CLASS)
  } catch {
    return []
  }

  const devices = await Promise.all(names.map((name) => describeNetDevice(fs, name)))
  return devices.sort((a, b) => (a.busPath < b.busPath ? -1 : a.busPath > b.busPath ? 1 : 0))
}

async function describeNetDevice(fs: SerialFs, name: string): Promise<NetDevice> {
  const dir = `${NET_CLASS}/${name}`
  const text = async (file: string) => {
    try {
      return {value: (await fs.readFile(`${dir}/${file}`)).toString('latin1').trim()}
    } catch (error) {
      return {code: errnoOf(error)}
    }
  }

  const exists = (file: string) =>
    fs.stat(`${dir}/${file}`).then(
      () => true,
      () => false,
    )
  const resolved = async (file: string) => {
    try {
      return await fs.realpath(file)
    } catch {
      return undefined
    }
  }

  const [busPath, address, assign, type, driver, master, wireless, phy, bridge, bonding] = await Promise.all([
    resolved(dir),
    text('address'),
    text('addr_assign_type'),
    text('type'),
    resolved(`${dir}/device/driver`),
    resolved(`${dir}/master`),
    exists('wireless'),
    exists('phy80211'),
    exists('bridge'),
    exists('bonding'),
  ])
  const path = busPath ?? dir
  const device: NetDevice = {
    bond: bonding,
    bridge,
    busPath: path,
    name,
    usb: /\/usb\d*\//.test(path),
    virtual: path.startsWith('/sys/devices/virtual/'),
    wireless: wireless || phy,
  }
  if (address.value !== undefined) device.address = address.value.toLowerCase()
  if (address.code === 'EACCES' || address.code === 'EPERM') device.denied = true
  if (assign.value !== undefined && /^\d+$/.test(assign.value)) device.addrAssignType = Number(assign.value)
  if (type.value !== undefined && /^\d+$/.test(type.value)) device.type = Number(type.value)
  if (driver) device.driver = driver.slice(driver.lastIndexOf('/') + 1)
  if (master) device.master = master.slice(master.lastIndexOf('/') + 1)
  // A dangling master link still means the port is enslaved.
  else if (await fs.isSymlink(`${dir}/master`)) device.master = '(unknown master)'
  return device
}

/** Whether the locally administered bit is set: a bootloader, hypervisor or driver made it up. */
export function isLocallyAdministered(mac: string): boolean {
  return (Number.parseInt(mac.slice(0, 2), 16) & 2) === 2
}

/** Hypervisor OUIs (a hint that this is a VM, not a reason to refuse). */
export const HYPERVISOR_OUIS: Readonly<Record<string, string>> = {
  '00:05:69': 'VMware',
  '00:0c:29': 'VMware',
  '00:15:5d': 'Hyper-V',
  '00:16:3e': 'Xen',
  '00:1c:42': 'Parallels',
  '00:50:56': 'VMware',
  '08:00:27': 'VirtualBox',
  '52:54:00': 'QEMU/KVM',
}
