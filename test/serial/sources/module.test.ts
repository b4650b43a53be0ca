import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {UserError} from '../../../src/errors.js'
import {deriveSerial} from '../../../src/serial/derive.js'
import {projectRoot} from '../../helpers/paths.js'
import {makeRoot, removeRoot} from '../helpers/root.js'
import {attempt, inMemory} from './helpers.js'

const EXAMPLE = join(projectRoot, 'examples', 'serial-plugin')
const dir = await makeRoot()
after(() => removeRoot(dir))

async function plugin(name: string, code: string): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, code)
  return file
}

describe('module (the plugin point)', () => {
  it('runs the documented example end to end', async () => {
    const result = await deriveSerial({config: join(EXAMPLE, 'serial.yaml'), root: join(EXAMPLE, 'root')})
    assert.equal(result.serial, 'acme-GW1-2024-000123')
    assert.equal(result.entry, 'acme-factory-data')
    assert.deepEqual(result.plugs, ['hardware-observe'])
  })

  it('the example falls through when its factory data is absent or blank', async () => {
    const spec = {options: {path: join(EXAMPLE, 'acme-factory-data.mjs')}, source: 'module'}
    assert.equal((await attempt(spec, inMemory({}))).verdict, 'absent')
    const blank = await attempt(spec, inMemory({'/sys/bus/nvmem/devices/acme-factory0/nvmem': Buffer.alloc(64, 0xff)}))
    assert.deepEqual([blank.verdict, blank.reason], ['invalid', 'the factory data area is blank'])
  })

  it('accepts a plain source object and the forgiving return forms', async () => {
    const file = await plugin(
      'forms.mjs',
      `export const asString = {id: 'as-string', read: async () => '  STR-0001 '}
       export const asObject = {id: 'as-object', plugs: ['i2c'], read: async () => ({value: 'OBJ-0002', format: 'text'})}
       export const asReason = {id: 'as-reason', read: async () => ({reason: 'no chip', status: 'absent'})}
       export const asNothing = {id: 'as-nothing', read: async () => undefined}
       export const throwsDenied = {id: 'throws', read: async () => { throw Object.assign(new Error('EACCES: /dev/i2c-1'), {code: 'EACCES'}) }}
       export const returnsPlaceholder = {id: 'placeholder', read: async () => 'Default string'}`,
    )
    const run = (name: string) => attempt({options: {export: name, path: file}, source: 'module'}, inMemory({}))
    assert.equal((await run('asString')).serial, 'STR-0001')
    assert.equal((await run('asObject')).serial, 'OBJ-0002')
    assert.deepEqual([(await run('asObject')).plugs, (await run('asObject')).entry], [['i2c'], 'as-object'])
    assert.deepEqual([(await run('asReason')).verdict, (await run('asReason')).reason], ['absent', 'no chip'])
    assert.equal((await run('asNothing')).reason, 'the plugin returned nothing')
    assert.equal((await run('throwsDenied')).verdict, 'denied')
    assert.equal((await run('returnsPlaceholder')).verdict, 'refused')
  })

  it('passes options to a factory', async () => {
    const file = await plugin('factory.mjs', `export default (options) => ({id: 'factory', read: async () => 'F-' + options.unit})`)
    assert.equal((await attempt({options: {options: {unit: '0042'}, path: file}, source: 'module'}, inMemory({}))).serial, 'F-0042')
  })

  it('refuses a module that is not a source, or cannot be loaded, as a configuration error', async () => {
    const notSource = await plugin('not-source.mjs', 'export default {name: "x"}')
    const broken = await plugin('broken.mjs', 'export default {')
    for (const [path, why] of [
      [notSource, /is not a serial source: it has no string "id"/],
      [broken, /cannot load serial source module/],
      [join(dir, 'missing.mjs'), /does not exist/],
    ] as const) {
      const error = await attempt({options: {path}, source: 'module'}, inMemory({})).then(
        () => assert.fail('expected an error'),
        (error_: unknown) => error_,
      )
      assert.ok(error instanceof UserError)
      assert.equal(error.code, 'E_SERIAL_CONFIG')
      assert.match(error.message, why)
    }
  })
})
