/**
 * The registration body emitter: exact text for known inputs, strict escaping, refusals, and
 * round trips through the `yaml` library (YAML 1.1 and 1.2) and through Go's gopkg.in/yaml.v2 (the
 * Serial Vault's reader) for hostile and random strings. Then the body facts read from trees.
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {after, before, describe, it, test} from 'node:test'
import {promisify} from 'node:util'

import fc from 'fast-check'
import {parse} from 'yaml'

import {UserError} from '../../src/errors.js'
import {BODY_FACTS, emitRegistrationBody, MAX_BODY_BYTES, readBodyFacts, yamlString} from '../../src/device/body.js'
import type {BodyFields, BodyValue} from '../../src/identity/key.js'
import {createSourceContext} from '../../src/serial/sources/context.js'
import {fixtures, shared} from '../helpers/paths.js'
import {buildGoTool, goUnavailable, requireGo} from '../runtime/helpers.js'
import {dtStrings, dtString, makeRoot, nic, removeRoot, type Tree} from '../serial/helpers/root.js'
import {dmiTreeFromTable} from '../serial/helpers/smbios.js'

const HOSTILE = [
  'plain',
  '',
  ' leading and trailing ',
  'quote " backslash \\ both \\"',
  "single ' quote",
  'line\nbreak\r\nand\rcarriage',
  'tab\there',
  '$(reboot) `id` ${HOME} && rm -rf / ; | > <',
  '# not a comment',
  '- not a list',
  'key: value',
  '{flow: map}',
  '[flow, list]',
  '&anchor *alias !tag %directive @at',
  '---',
  '...',
  'true',
  'yes',
  'no',
  'on',
  'off',
  '~',
  'null',
  '0x1F',
  '0o17',
  '1e3',
  '1000000012345678',
  '007',
  '2024-01-01',
  '12:30:45',
  '.inf',
  '<<',
  'héllo wörld ✓ 日本語',
  'emoji 😀 👩‍👩‍👧 🇺🇦',
  'C0 \u0000\u0001\u0007\u0008\u000B\u000C\u001B\u001F',
  'DEL \u007F C1 \u0080\u0085\u009F NBSP \u00A0',
  'separators \u2028 \u2029 bom \uFEFF nonchars \uFFFE \uFFFF',
  'astral \u{10FFFF} \u{1F600}',
  'trailing backslash \\',
]

/** Bodies that use every shape: scalars, lists, maps, nesting, empties, hostile keys. */
function sampleBodies(): BodyFields[] {
  const bodies: BodyFields[] = [
    {serial: '1000000012345678'},
    {},
    {serial: 'A', list: ['a', 'b'], map: {x: 'y', 'hostile "key"\n': 'v'}, empty: [], none: {}},
    {nested: [['a', ['b']], {k: ['v', {deep: 'x'}]}, [], {}], map: {list: ['1'], map: {a: {b: 'c'}}}},
  ]
  bodies.push(Object.fromEntries(HOSTILE.map((value, i) => [`field-${i}`, value])))
  bodies.push({keys: Object.fromEntries(HOSTILE.map((value, i) => [value, `value ${i}`]))})
  bodies.push({list: HOSTILE})
  return bodies
}

describe('emitter', () => {
  it('writes every scalar, keys included, as a double-quoted string', () => {
    const text = emitRegistrationBody({serial: '1000000012345678', 'mac-addresses': {eth0: 'dc:a6:32:01:02:03'}, compatible: ['raspberrypi,4-model-b', 'brcm,bcm2711'], empty: [], none: {}})
    assert.equal(
      text,
      ['"serial": "1000000012345678"', '"mac-addresses":', '  "eth0": "dc:a6:32:01:02:03"', '"compatible":', '  - "raspberrypi,4-model-b"', '  - "brcm,bcm2711"', '"empty": []', '"none": {}', ''].join('\n'),
    )
  })

  it('puts a nested block on the dash line of a list item', () => {
    assert.equal(emitRegistrationBody({l: [{a: 'b', c: 'd'}, ['x', 'y'], [['z']]]}), ['"l":', '  - "a": "b"', '    "c": "d"', '  - - "x"', '    - "y"', '  - - - "z"', ''].join('\n'))
  })

  it('escapes quotes, backslashes, controls, DEL, C1, YAML 1.1 line breaks and BOM, and nothing else', () => {
    assert.equal(yamlString('a"b\\c'), '"a\\"b\\\\c"')
    assert.equal(yamlString('\t\n\r'), '"\\t\\n\\r"')
    assert.equal(yamlString('\u0000\u001F\u007F\u0080\u0085\u009F'), '"\\u0000\\u001F\\u007F\\u0080\\u0085\\u009F"')
    assert.equal(yamlString('\u2028\u2029\uFEFF\uFFFE\uFFFF'), '"\\u2028\\u2029\\uFEFF\\uFFFE\\uFFFF"')
    assert.equal(yamlString("é ✓ 😀 ' $(x) `y` # : - [ ] { } & * ! | > % @"), '"é ✓ 😀 \' $(x) `y` # : - [ ] { } & * ! | > % @"')
  })

  it('refuses lone surrogates, non-string values, deep nesting and oversized bodies', () => {
    const code = (fn: () => unknown) => {
      try {
        fn()
      } catch (error) {
        assert.ok(error instanceof UserError)
        return error.code
      }

      assert.fail('no error')
    }

    assert.equal(
      code(() => emitRegistrationBody({serial: 'a\uD800b'})),
      'E_BODY_ENCODING',
    )
    assert.equal(
      code(() => emitRegistrationBody({['\uDC00']: 'x'})),
      'E_BODY_ENCODING',
    )
    assert.equal(
      code(() => emitRegistrationBody({list: ['ok', '\uDBFF']})),
      'E_BODY_ENCODING',
    )
    assert.equal(
      code(() => emitRegistrationBody({serial: 12345678} as unknown as BodyFields)),
      'E_BODY_FIELDS',
    )
    assert.equal(
      code(() => emitRegistrationBody({flag: true} as unknown as BodyFields)),
      'E_BODY_FIELDS',
    )
    assert.equal(
      code(() => emitRegistrationBody({nothing: null} as unknown as BodyFields)),
      'E_BODY_FIELDS',
    )
    let deep: BodyValue = 'x'
    for (let i = 0; i < 40; i++) deep = [deep]
    assert.equal(
      code(() => emitRegistrationBody({deep})),
      'E_BODY_FIELDS',
    )
    assert.equal(
      code(() => emitRegistrationBody({big: 'x'.repeat(MAX_BODY_BYTES)})),
      'E_BODY_SIZE',
    )
    // A surrogate pair is one code point and fine.
    assert.equal(emitRegistrationBody({emoji: '\uD83D\uDE00'}), '"emoji": "😀"\n')
  })

  it('is plain UTF-8 text: no BOM, one trailing newline, no raw control characters', () => {
    for (const body of sampleBodies()) {
      const text = emitRegistrationBody(body)
      assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'))
      assert.doesNotMatch(text.slice(0, -1), /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u2028\u2029\uFEFF]/)
      assert.equal(Buffer.from(text, 'utf8').toString('utf8'), text)
    }
  })
})

describe('round trip through the yaml library', () => {
  for (const version of ['1.1', '1.2'] as const) {
    it(`YAML ${version}: every sample body reads back exactly, every value a string`, () => {
      for (const body of sampleBodies()) assert.deepEqual(parse(emitRegistrationBody(body), {uniqueKeys: true, version}), body)
    })
  }
})

/** Any code point but a surrogate, weighted towards the ones that need escapes. */
const codePoint = fc.oneof(
  fc.integer({max: 0x7f, min: 0}),
  fc.integer({max: 0x9f, min: 0x80}),
  fc.constantFrom(0x22, 0x5c, 0x0a, 0x0d, 0x09, 0x85, 0x2028, 0x2029, 0xfeff, 0xfffe, 0xffff, 0x23, 0x3a, 0x2d, 0x27, 0x60, 0x24),
  fc.integer({max: 0xd7ff, min: 0xa0}),
  fc.integer({max: 0x10ffff, min: 0xe000}),
)
// fast-check makes null-prototype dictionaries; parsers make ordinary objects (spread keeps a "__proto__" key as data).
const plain = <T extends object>(dictionary: T): T => ({...dictionary})
const anyString = fc.array(codePoint, {maxLength: 24}).map((points) => String.fromCodePoint(...points))
const bodyValue: fc.Arbitrary<BodyValue> = fc.letrec<{value: BodyValue}>((tie) => ({
  value: fc.oneof({depthSize: 'small', withCrossShrink: true}, anyString, fc.array(tie('value'), {maxLength: 3}), fc.dictionary(anyString, tie('value'), {maxKeys: 3}).map(plain)),
})).value
const randomBody = fc.dictionary(anyString, bodyValue, {maxKeys: 6}).map(plain) as fc.Arbitrary<BodyFields>

test('property: random bodies round-trip through the yaml library (1.1 and 1.2)', () => {
  fc.assert(
    fc.property(randomBody, (body) => {
      const text = emitRegistrationBody(body)
      assert.deepEqual(parse(text, {uniqueKeys: true, version: '1.1'}), body)
      assert.deepEqual(parse(text, {uniqueKeys: true, version: '1.2'}), body)
    }),
    {numRuns: 400},
  )
})

describe("round trip through Go's gopkg.in/yaml.v2 (the Serial Vault's reader)", () => {
  let tool: string
  before(async () => {
    if (goUnavailable() === undefined) tool = await buildGoTool(fixtures('runtime', 'yaml-v2-roundtrip.go'), 'yaml-v2-roundtrip')
  })

  async function decodeAll(texts: string[]): Promise<{error?: string; serial?: string; value?: unknown}[]> {
    const child = promisify(execFile)(tool, [], {maxBuffer: 64 * 1024 * 1024})
    child.child.stdin!.end(JSON.stringify(texts))
    return JSON.parse((await child).stdout) as {error?: string; serial?: string; value?: unknown}[]
  }

  it('reads every sample body back exactly, and the serial as a Go string', async (t) => {
    if (!requireGo(t)) return
    const bodies = sampleBodies()
    const results = await decodeAll(bodies.map((b) => emitRegistrationBody(b)))
    for (const [i, body] of bodies.entries()) {
      assert.equal(results[i].error, undefined, `body ${i}: ${results[i].error}`)
      assert.deepEqual(results[i].value ?? {}, body, `body ${i}`)
      if (typeof body.serial === 'string') assert.equal(results[i].serial, body.serial)
    }
  })

  it('reads 500 random bodies back exactly', async (t) => {
    if (!requireGo(t)) return
    const bodies = fc.sample(randomBody, {numRuns: 500, seed: 4})
    const results = await decodeAll(bodies.map((b) => emitRegistrationBody(b)))
    for (const [i, body] of bodies.entries()) {
      assert.equal(results[i].error, undefined, `${JSON.stringify(body)}: ${results[i].error}`)
      assert.deepEqual(results[i].value ?? {}, body, JSON.stringify(body))
    }
  })

  it('sees what an unquoted body would do: the check itself catches numbers (control)', async (t) => {
    if (!requireGo(t)) return
    const [result] = await decodeAll(['serial: 1000000012345678\n'])
    assert.match(result.error ?? '', /not a string/)
  })
})

describe('body facts', () => {
  const roots: string[] = []
  after(() => Promise.all(roots.map(removeRoot)))
  const context = async (tree: Tree) => {
    const root = await makeRoot(tree)
    roots.push(root)
    return createSourceContext({root})
  }

  const HW = (...parts: string[]) => readFileSync(shared('fixtures', 'hardware', ...parts))

  it('reads a Raspberry Pi: device tree model and compatible, cpuinfo revision, serial source', async () => {
    const ctx = await context({
      '/proc/cpuinfo': HW('raspberry-pi-4b', 'cpuinfo.arm64-no-hardware-line'),
      '/sys/firmware/devicetree/base/compatible': dtStrings('raspberrypi,4-model-b', 'brcm,bcm2711'),
      '/sys/firmware/devicetree/base/model': dtString('Raspberry Pi 4 Model B Rev 1.5'),
    })
    const facts = await readBodyFacts(['board-model', 'board-compatible', 'board-revision', 'serial-source', 'dmi', 'soc', 'mac-addresses'], {context: ctx, serialEntry: 'cpuinfo-serial'})
    assert.deepEqual(facts.fields, {
      'board-compatible': ['raspberrypi,4-model-b', 'brcm,bcm2711'],
      'board-model': 'Raspberry Pi 4 Model B Rev 1.5',
      'board-revision': 'd03115',
      'serial-source': 'cpuinfo-serial',
    })
    assert.deepEqual(facts.omitted, ['dmi', 'soc', 'mac-addresses'])
  })

  it('reads an x86 machine: SMBIOS names from a real table, the product name as the model', async () => {
    const ctx = await context(dmiTreeFromTable(HW('x86-dmi-raw', 'aaeon-up-cht01.DMI.bin')))
    const facts = await readBodyFacts(['board-model', 'dmi'], {context: ctx, serialEntry: 'dmi[product_serial]'})
    const dmi = facts.fields.dmi as Record<string, string>
    assert.equal(facts.fields['board-model'], dmi['product-name'])
    assert.ok(Object.keys(dmi).length > 0)
    for (const value of Object.values(dmi)) assert.equal(typeof value, 'string')
  })

  it('lists the permanent MACs of built-in interfaces only', async () => {
    const ctx = await context({
      ...nic('eth0', {address: 'c8:a0:30:b4:1f:2e', bus: '/sys/devices/platform/ocp/4a100000.ethernet', driver: 'cpsw'}),
      ...nic('wlan0', {address: '00:0b:6b:11:22:33', bus: '/sys/devices/platform/soc/mmc1/wifi', wireless: true}),
      ...nic('usb0', {address: '00:e0:4c:68:00:01', bus: '/sys/devices/platform/usb1/1-1/1-1:1.0'}),
      ...nic('br0', {address: '02:42:ac:11:00:02', virtual: true}),
      ...nic('eth1', {address: '5a:11:22:33:44:55', assign: 1, bus: '/sys/devices/platform/ocp/eth1'}),
      ...nic('eth2', {address: '00:00:00:00:00:00', bus: '/sys/devices/platform/ocp/eth2'}),
    })
    const facts = await readBodyFacts(['mac-addresses'], {context: ctx, serialEntry: 'mac'})
    assert.deepEqual(facts.fields, {'mac-addresses': {eth0: 'c8:a0:30:b4:1f:2e', wlan0: '00:0b:6b:11:22:33'}})
  })

  it('fails, naming the interface, when a fact is there but unreadable', async () => {
    const ctx = createSourceContext({
      fs: {
        readFile: async (path: string) => {
          throw Object.assign(new Error(`EACCES: ${path}`), {code: 'EACCES'})
        },
      },
      root: '/nonexistent',
    })
    await assert.rejects(readBodyFacts(['board-revision'], {context: ctx, serialEntry: 'x'}), (error: UserError) => {
      assert.equal(error.code, 'E_BODY_FACT_DENIED')
      assert.match(error.hint ?? '', /hardware-observe/)
      return true
    })
  })

  it('names the interface each fact reads through', () => {
    assert.deepEqual(BODY_FACTS['mac-addresses'].plugs, ['network-observe'])
    assert.deepEqual(BODY_FACTS['board-model'].plugs, ['hardware-observe'])
    assert.deepEqual(BODY_FACTS['serial-source'].plugs, [])
  })
})
