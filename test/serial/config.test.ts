import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {UserError} from '../../src/errors.js'
import {loadSerialConfig, parseChainList, parseSerialConfig} from '../../src/serial/config/serial-config.js'
import {deriveSerial} from '../../src/serial/derive.js'
import {makeRoot, removeRoot} from './helpers/root.js'

const dir = await makeRoot()
after(() => removeRoot(dir))

async function configFile(name: string, text: string): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, text)
  return file
}

async function configError(text: string): Promise<UserError> {
  const file = await configFile('bad.yaml', text)
  const error = await loadSerialConfig(file).then(
    () => assert.fail('expected a configuration error'),
    (error_: unknown) => error_,
  )
  assert.ok(error instanceof UserError, String(error))
  assert.equal(error.code, 'E_SERIAL_CONFIG')
  assert.equal(error.kind, 'usage')
  assert.equal(error.file, file)
  return error
}

describe('loadSerialConfig', () => {
  it('reads a YAML configuration and derives with it', async () => {
    const file = await configFile(
      'serial.yaml',
      `# the chain for our gateway
brand: acme
chain:
  - devicetree-serial
  - source: dmi
    options: {field: board_serial}
transforms:
  - prefix: gw-
  - maxLength: 40
`,
    )
    const config = await loadSerialConfig(file)
    assert.equal(config.brand, 'acme')
    assert.deepEqual(config.chain, [{source: 'devicetree-serial'}, {options: {field: 'board_serial'}, source: 'dmi'}])
    const root = await makeRoot({'/sys/class/dmi/id/board_serial': 'M80-B7007400024\n'})
    after(() => removeRoot(root))
    const result = await deriveSerial({config: file, root})
    assert.equal(result.serial, 'gw-M80-B7007400024')
    assert.equal(result.entry, 'dmi[board_serial]')
  })

  it('reads JSON too', async () => {
    const file = await configFile('serial.json', '{"board": "raspberry-pi", "transforms": [{"hash": {"length": 24, "salt": "acme"}}]}')
    const config = await loadSerialConfig(file)
    assert.equal(config.board, 'raspberry-pi')
    assert.deepEqual(config.transforms, [{hash: {length: 24, salt: 'acme'}}])
  })

  it('points at the unknown key, with a suggestion', async () => {
    const error = await configError('board: x86\ntransfroms:\n  - prefix: a-\n')
    assert.deepEqual([error.line, error.column], [2, 1])
    assert.match(error.message, /unknown key "transfroms"/)
    assert.match(error.hint ?? '', /did you mean "transforms"/)
  })

  it('points at a bad option value', async () => {
    const error = await configError('chain:\n  - source: eeprom\n    options:\n      path: /sys/bus/i2c/devices/0-0050/eeprom\n      length: lots\n')
    assert.deepEqual([error.line, error.column], [5, 15])
    assert.match(error.located, /bad\.yaml:5:15: chain\[0\]\.options\.length: eeprom option "length" must be an integer/)
  })

  it('points at an unknown source', async () => {
    const error = await configError('chain:\n  - cpuinfo-serial\n  - soc-serail\n')
    assert.deepEqual([error.line, error.column], [3, 5])
    assert.match(error.hint ?? '', /did you mean "soc-serial"/)
  })

  it('reports YAML syntax errors with their place', async () => {
    const error = await configError('chain: [devicetree-serial\n')
    assert.ok(error.line !== undefined)
    assert.match(error.message, /not valid YAML/)
  })

  it('refuses unknown transforms, empty chains, bad patterns and configs that say nothing', async () => {
    assert.match((await configError('board: x86\ntransforms:\n  - hsah: {}\n')).hint ?? '', /did you mean "hash"/)
    assert.match((await configError('chain: []\n')).message, /the chain is empty/)
    assert.match((await configError('board: x86\noutput: {pattern: "[a-z"}\n')).message, /output\.pattern: not a valid regular expression/)
    assert.match((await configError('brand: acme\n')).message, /a serial configuration needs a board or a chain/)
    assert.match((await configError('board: x86\nonDenied: ignore\n')).message, /onDenied must be fail or next/)
    assert.match((await configError('chain:\n  - source: dmi\n    join: [soc-serial]\n')).message, /either "source" or "join"/)
  })

  it('reports a missing file as an I/O error', async () => {
    const error = await loadSerialConfig(join(dir, 'nope.yaml')).then(
      () => assert.fail(),
      (error_: unknown) => error_ as UserError,
    )
    assert.equal(error.code, 'E_IO_ENOENT')
    assert.equal(error.exitCode, 2)
  })
})

describe('parseSerialConfig', () => {
  it('accepts entries as ids, id[value] or mappings', () => {
    const config = parseSerialConfig({chain: ['cpuinfo-serial', 'mac[end0]', {options: {field: 'product_uuid'}, source: 'dmi'}]})
    assert.deepEqual(config.chain, [{source: 'cpuinfo-serial'}, {options: {interface: 'end0'}, source: 'mac'}, {options: {field: 'product_uuid'}, source: 'dmi'}])
  })
})

describe('parseChainList (--chain)', () => {
  it('splits ids and sets the main option from brackets', () => {
    assert.deepEqual(parseChainList('devicetree-serial, dmi[board_serial],mac[enp*s0],nvmem[imx-ocotp0]'), [
      {source: 'devicetree-serial'},
      {options: {field: 'board_serial'}, source: 'dmi'},
      {options: {interface: 'enp*s0'}, source: 'mac'},
      {options: {device: 'imx-ocotp0'}, source: 'nvmem'},
    ])
  })

  it('takes options as key=value pairs', () => {
    assert.deepEqual(parseChainList('mac[interface=end0,allowLocallyAdministered=true],eeprom[path=/sys/bus/i2c/devices/0-0050/eeprom,offset=16,length=12]'), [
      {options: {allowLocallyAdministered: true, interface: 'end0'}, source: 'mac'},
      {options: {length: '12', offset: '16', path: '/sys/bus/i2c/devices/0-0050/eeprom'}, source: 'eeprom'},
    ])
    assert.throws(
      () => parseChainList('mac[alowLocal=true]'),
      (error: unknown) => error instanceof UserError && /mac has no option "alowLocal"/.test(error.message),
    )
  })

  it('rejects unknown ids, values for sources without a main option, and an empty list', () => {
    assert.throws(() => parseChainList('cpuinfo'), /unknown serial source "cpuinfo"/)
    assert.throws(() => parseChainList('cpuinfo-serial[x]'), /cpuinfo-serial takes no \[value\]/)
    assert.throws(() => parseChainList(' , '), /no sources given/)
  })
})
