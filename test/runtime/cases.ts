/**
 * The runtime's fixture cases: a device tree laid out from the real captures in
 * ../shared/fixtures/hardware, a registration config from test/fixtures/runtime/configs, the plugs
 * that are connected, and the exact snapctl argv the hook must produce. The identity key is
 * seeded (written in the documented key-file format), so bodies are predictable byte for byte; the
 * expected signatures are computed with node:crypto from the documented signing rule.
 *
 * Values that are not in a capture are marked: device-tree files built from a capture's cpuinfo
 * lines (SOURCES.md: no raw DT files are public), and the BeagleBone's Ethernet address.
 */
import {readFileSync} from 'node:fs'

import {fixtures, shared} from '../helpers/paths.js'
import {dtString, dtStrings, nic, type Tree} from '../serial/helpers/root.js'
import {dmiTreeFromTable} from '../serial/helpers/smbios.js'
import {expectedSignature, knownKey, type KnownKey} from './helpers.js'

const HW = (...parts: string[]) => readFileSync(shared('fixtures', 'hardware', ...parts))

export const API_KEY = 'test-api-key-not-secret'
export const KEY = knownKey('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb')

export interface RuntimeCase {
  name: string
  /** The registration config. */
  config: string
  tree(): Tree
  /** Plugs `snapctl is-connected` reports as connected. */
  connected: readonly string[]
  /** The argv of every snapctl call, in order. */
  expected: string[][]
  /** The serial and the registration body, as snapd must store them. */
  serial: string
  body: string
  url: string
  headers?: Record<string, string>
}

/** The body text for fields plus, when `key` is given, the identity fields signed with it. */
function bodyText(lines: readonly string[], fields: Record<string, unknown>, key?: KnownKey): string {
  if (!key) return `${lines.join('\n')}\n`
  const unsigned = {...fields, 'identity-scheme': 'snap-gadget-identity-v1', 'identity-key': key.publicKey}
  return `${[...lines, '"identity-scheme": "snap-gadget-identity-v1"', `"identity-key": "${key.publicKey}"`, `"identity-signature": "${expectedSignature(key, unsigned)}"`].join('\n')}\n`
}

/** The one `snapctl set`: options the config leaves out are unset in it as `key!`. */
function setCall(url: string, headers: Record<string, string> | undefined, serial: string | undefined, body: string): string[] {
  return [
    'set',
    `device-service.url=${JSON.stringify(url)}`,
    ...(headers ? [`device-service.headers=${JSON.stringify(headers)}`] : []),
    ...(serial === undefined ? [] : [`registration.proposed-serial=${JSON.stringify(serial)}`]),
    `registration.body=${JSON.stringify(body)}`,
    ...(headers ? [] : ['device-service.headers!']),
    ...(serial === undefined ? ['registration.proposed-serial!'] : []),
  ]
}

function raspberryPi(): RuntimeCase {
  const serial = '100000000fe69593'
  const fields = {serial, 'board-model': 'Raspberry Pi 4 Model B Rev 1.5', 'board-revision': 'd03115', 'board-compatible': ['raspberrypi,4-model-b', 'brcm,bcm2711'], 'serial-source': 'cpuinfo-serial'}
  const body = bodyText(
    [
      `"serial": "${serial}"`,
      '"board-model": "Raspberry Pi 4 Model B Rev 1.5"',
      '"board-revision": "d03115"',
      '"board-compatible":',
      '  - "raspberrypi,4-model-b"',
      '  - "brcm,bcm2711"',
      '"serial-source": "cpuinfo-serial"',
    ],
    fields,
    KEY,
  )
  const url = 'https://serial-vault-partners.canonical.com/v1/'
  const headers = {'api-key': API_KEY}
  return {
    body,
    config: fixtures('runtime', 'configs', 'raspberry-pi.json'),
    connected: ['hardware-observe'],
    expected: [['is-connected', 'hardware-observe'], setCall(url, headers, serial, body)],
    headers,
    name: 'Raspberry Pi 4 (cpuinfo capture)',
    serial,
    tree: () => ({
      '/proc/cpuinfo': HW('raspberry-pi-4b', 'cpuinfo.arm64-no-hardware-line'),
      // Derived: the compatible list and model the firmware gives this board (its cpuinfo Model line).
      '/sys/firmware/devicetree/base/compatible': dtStrings('raspberrypi,4-model-b', 'brcm,bcm2711'),
      '/sys/firmware/devicetree/base/model': dtString('Raspberry Pi 4 Model B Rev 1.5'),
    }),
    url,
  }
}

function x86(): RuntimeCase {
  // The AAEON UP board's SMBIOS serial has only digits: unquoted, snapd would store a number.
  const serial = '19620608'
  const dmi = {'board-name': 'UP-CHT01', 'board-vendor': 'AAEON', 'board-version': 'V0.4', 'product-name': 'UP-CHT01', 'product-version': 'V1.0', 'sys-vendor': 'AAEON'}
  const fields = {serial, 'board-model': 'UP-CHT01', dmi, 'serial-source': 'dmi[product_serial]'}
  const body = bodyText([`"serial": "${serial}"`, '"board-model": "UP-CHT01"', '"dmi":', ...Object.entries(dmi).map(([k, v]) => `  "${k}": "${v}"`), '"serial-source": "dmi[product_serial]"'], fields, KEY)
  const url = 'https://api.snapcraft.io/v1/'
  const headers = {'api-key': API_KEY, 'x-factory-line': 'line 3'}
  return {
    body,
    config: fixtures('runtime', 'configs', 'x86.json'),
    connected: ['hardware-observe'],
    expected: [['is-connected', 'hardware-observe'], setCall(url, headers, serial, body)],
    headers,
    name: 'x86 SMBIOS (AAEON UP table, all-digit serial)',
    serial,
    tree: () => dmiTreeFromTable(HW('x86-dmi-raw', 'aaeon-up-cht01.DMI.bin')),
    url,
  }
}

function beaglebone(): RuntimeCase {
  const serial = '2313BBBK0099'
  // Not from a capture: a TI-range address for the CPSW port.
  const mac = 'c8:a0:30:b4:1f:2e'
  const fields = {serial, 'board-model': 'TI AM335x BeagleBone Black', 'mac-addresses': {eth0: mac}, batch: '2024-06', carrier: {name: 'acme-cape', revision: 'B'}}
  const body = bodyText(
    [`"serial": "${serial}"`, '"board-model": "TI AM335x BeagleBone Black"', '"mac-addresses":', `  "eth0": "${mac}"`, '"batch": "2024-06"', '"carrier":', '  "name": "acme-cape"', '  "revision": "B"'],
    fields,
    KEY,
  )
  const url = 'https://device-service.example.com/v1/'
  const headers = {'api-key': API_KEY}
  return {
    body,
    config: fixtures('runtime', 'configs', 'beaglebone.json'),
    connected: ['hardware-observe', 'net-observe'],
    expected: [['is-connected', 'hardware-observe'], ['is-connected', 'net-observe'], setCall(url, headers, serial, body)],
    headers,
    name: 'BeagleBone Black (board EEPROM capture)',
    serial,
    tree: () => ({
      '/sys/bus/i2c/devices/0-0050/eeprom': {data: HW('beaglebone-black', 'eeprom-0-0050.bin'), mode: 0o400},
      '/sys/firmware/devicetree/base/compatible': dtStrings('ti,am335x-bone-black', 'ti,am335x-bone', 'ti,am33xx'),
      '/sys/firmware/devicetree/base/model': dtString('TI AM335x BeagleBone Black'),
      ...nic('eth0', {address: mac, bus: '/sys/devices/platform/ocp/4a100000.ethernet', driver: 'cpsw'}),
    }),
    url,
  }
}

function onie(): RuntimeCase {
  const serial = 'acme-FAKE-SN-123456'
  const body = bodyText([`"serial": "${serial}"`], {serial})
  const url = 'http://localhost:8080/v1/'
  return {
    body,
    config: fixtures('runtime', 'configs', 'onie.json'),
    connected: ['hardware-observe'],
    expected: [['is-connected', 'hardware-observe'], setCall(url, undefined, undefined, body)],
    name: 'ONIE TlvInfo EEPROM (sample sector), no headers, no proposed serial, no identity',
    serial,
    tree: () => ({'/sys/bus/i2c/devices/2-0050/eeprom': {data: HW('onie', 'onie-qemu-eeprom.dat'), mode: 0o400}}),
    url,
  }
}

export const CASES: readonly RuntimeCase[] = [raspberryPi(), x86(), beaglebone(), onie()]
export const caseNamed = (prefix: string): RuntimeCase => CASES.find((c) => c.name.startsWith(prefix))!
