/**
 * `mac`: the burned-in address of a physical Ethernet port. Last resort on most boards (opt-in per
 * model), the CPSW port on BeagleBone. Only an address the kernel reports as permanent
 * (addr_assign_type 0) on a device that is not virtual, USB (removable), wireless (may not exist
 * yet when the hook runs), a bridge or a bond. Interfaces are chosen by name or bus path, else
 * the first by bus path: names and ifindex depend on probe order and udev.
 */
import {defineSource} from './definition.js'
import {matchGlob} from '../glob.js'
import {isLocallyAdministered, listNetDevices, NET_CLASS, type NetDevice} from '../netdev.js'
import {refusalOf} from '../placeholders.js'
import {found, unavailable} from './source.js'

interface MacOptions {
  /** Interface names or globs (`end0`, `enp*s0`). */
  interface?: readonly string[]
  /** Bus path fragments or globs (`30be0000.ethernet`, `0000:01:00.0`). */
  busPath?: readonly string[]
  allowLocallyAdministered: boolean
  allowUsb: boolean
  allowWireless: boolean
}

/** Why `device` cannot give the identity, or an empty list when it can. */
export function macProblems(device: NetDevice, options: Omit<MacOptions, 'busPath' | 'interface'>): string[] {
  const problems: string[] = []
  if (device.virtual) problems.push('virtual (under /sys/devices/virtual)')
  if (device.bridge) problems.push('a bridge')
  if (device.bond) problems.push('a bond master')
  if (device.master) problems.push(`enslaved to ${device.master} (its address may be the master's)`)
  if (device.type !== undefined && device.type !== 1) problems.push(`not Ethernet (type ${device.type})`)
  if (device.wireless && !options.allowWireless) problems.push('wireless (may not exist yet when the hook runs; allowWireless accepts it)')
  if (device.usb && !options.allowUsb) problems.push('a USB adapter (removable; allowUsb accepts it)')
  if (problems.length > 0) return problems
  if (device.denied) return ['its address is not readable (connect network-observe)']
  if (!device.address || !/^([\da-f]{2}:){5}[\da-f]{2}$/.test(device.address)) return [`no Ethernet address (${device.address ?? 'none'})`]
  if (device.addrAssignType === 1) problems.push(`random address ${device.address} (addr_assign_type 1: new on every boot)`)
  else if (device.addrAssignType === 2) problems.push(`stolen address ${device.address} (addr_assign_type 2)`)
  else if (device.addrAssignType === 3) problems.push(`address ${device.address} was set by software (addr_assign_type 3); the permanent one is not in sysfs`)
  const refusal = refusalOf(device.address, 'mac')
  if (refusal) problems.push(refusal.reason)
  else if (isLocallyAdministered(device.address) && !options.allowLocallyAdministered) {
    problems.push(`locally administered address ${device.address} (made up by a bootloader, hypervisor or driver, not burned in; allowLocallyAdministered accepts it)`)
  }

  return problems
}

export const mac = defineSource<MacOptions>({
  create(options) {
    const wanted = [...(options.interface ?? []), ...(options.busPath ?? [])]
    return {
      description: `permanent MAC address of ${wanted.length > 0 ? wanted.join(', ') : 'the first physical Ethernet port by bus path'}`,
      id: 'mac',
      plugs: ['network-observe'],
      async read(context) {
        const all = await listNetDevices(context.fs)
        if (all.length === 0) return unavailable('absent', `${NET_CLASS} lists no network interfaces`, NET_CLASS)
        const candidates = all.filter(
          (d) => (!options.interface || options.interface.some((g) => matchGlob(d.name, g))) && (!options.busPath || options.busPath.some((g) => d.busPath.includes(g) || matchGlob(d.busPath, g))),
        )
        if (candidates.length === 0) {
          return unavailable('absent', `no interface matches ${wanted.join(', ')} (present: ${all.map((d) => d.name).join(', ')})`, NET_CLASS)
        }

        const refused: string[] = []
        let denied = false
        for (const device of candidates) {
          const problems = macProblems(device, options)
          if (problems.length === 0) {
            return found(device.address!.replace(/:/g, ''), `${NET_CLASS}/${device.name}/address`, 'mac', {notes: [`${device.name} at ${device.busPath}`]})
          }

          denied ||= Boolean(device.denied)
          refused.push(`${device.name}: ${problems.join('; ')}`)
        }

        const physical = candidates.some((d) => !d.virtual && !d.bridge && !d.bond)
        const status = denied ? 'denied' : physical ? 'invalid' : 'absent'
        return unavailable(status, `no usable interface: ${refused.join(' | ')}`, NET_CLASS)
      },
    }
  },
  id: 'mac',
  options: {
    allowLocallyAdministered: {default: false, doc: 'accept an address with the locally administered bit (derived, not burned in)', type: 'boolean'},
    allowUsb: {default: false, doc: 'accept USB network adapters (removable)', type: 'boolean'},
    allowWireless: {default: false, doc: 'accept wireless interfaces', type: 'boolean'},
    busPath: {doc: 'bus path fragments or globs, e.g. 30be0000.ethernet or 0000:01:00.0', type: 'strings'},
    interface: {doc: 'interface names or globs, e.g. end0 or enp*s0', type: 'strings'},
  },
  plugs: ['network-observe'],
  primary: 'interface',
  summary: 'the permanent MAC of a physical Ethernet port (by name, bus path, or first by bus path)',
})
