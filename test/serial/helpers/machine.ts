/**
 * Facts about the machine the tests run on, found independently of the code under test, so the
 * real-/sys tests hold on any Linux VM and skip (with the reason) where their precondition fails.
 */
import {existsSync, readdirSync, readFileSync, realpathSync} from 'node:fs'

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

export const isLinux = process.platform === 'linux' && existsSync('/sys/class/net')
export const hasDmi = existsSync('/sys/class/dmi')
const cpuinfo = read('/proc/cpuinfo') ?? ''
export const x86Vendor = /^vendor_id\s*:\s*(GenuineIntel|AuthenticAMD|HygonGenuine|CentaurHauls)/m.exec(cpuinfo)?.[1]
export const hypervisorFlag = /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo)

export interface MachineNic {
  name: string
  /** aa:bb:cc:dd:ee:ff */
  address: string
  locallyAdministered: boolean
}

/**
 * The interface the `mac` source should pick: physical (not under /sys/devices/virtual), not USB,
 * wireless, a bridge or a bond, Ethernet, a permanent non-zero unicast address; first by bus path.
 */
export function expectedNic(): MachineNic | undefined {
  if (!isLinux) return undefined
  const candidates = readdirSync('/sys/class/net')
    .map((name) => {
      const dir = `/sys/class/net/${name}`
      return {address: read(`${dir}/address`) ?? '', assign: read(`${dir}/addr_assign_type`), dir, name, path: realpathSync(dir), type: read(`${dir}/type`)}
    })
    .filter(
      (n) =>
        !n.path.startsWith('/sys/devices/virtual/') &&
        !/\/usb\d*\//.test(n.path) &&
        !existsSync(`${n.dir}/wireless`) &&
        !existsSync(`${n.dir}/phy80211`) &&
        !existsSync(`${n.dir}/bridge`) &&
        !existsSync(`${n.dir}/bonding`) &&
        !existsSync(`${n.dir}/master`) &&
        n.type === '1' &&
        (n.assign === undefined || n.assign === '0') &&
        /^([\da-f]{2}:){5}[\da-f]{2}$/.test(n.address) &&
        !/^(00:){5}00$|^(ff:){5}ff$/.test(n.address) &&
        (Number.parseInt(n.address.slice(0, 2), 16) & 1) === 0,
    )
    .sort((a, b) => (a.path < b.path ? -1 : 1))
  const nic = candidates[0]
  return nic && {address: nic.address, locallyAdministered: (Number.parseInt(nic.address.slice(0, 2), 16) & 2) === 2, name: nic.name}
}
