import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {UserError} from '../../src/errors.js'
import {type ChainEntry, deriveFromChain, resolveChain, runChain, type SerialChain, type SourceAttempt} from '../../src/serial/chain.js'
import {createSourceContext} from '../../src/serial/sources/context.js'
import {found, type SerialSource, type SourceReading, unavailable} from '../../src/serial/sources/source.js'
import {DEFAULT_SERIAL_PATTERN, type TransformSpec} from '../../src/serial/transforms.js'
import {memoryFs} from './helpers/memory-fs.js'

function fake(id: string, reading: (() => Promise<SourceReading>) | SourceReading, plugs: SerialSource['plugs'] = []): SerialSource & {calls: number} {
  const source = {
    calls: 0,
    description: `fake ${id}`,
    id,
    plugs,
    async read() {
      source.calls++
      return typeof reading === 'function' ? reading() : reading
    },
  }
  return source
}

function entry(source: SerialSource, extra: Partial<ChainEntry> = {}): ChainEntry {
  return {label: source.id, plugs: source.plugs, separator: '-', source, sourceId: source.id, transforms: [], ...extra}
}

function chainOf(entries: ChainEntry[], extra: Partial<SerialChain> = {}): SerialChain {
  return {entries, name: 'test', normalise: {}, onDenied: 'fail', pattern: DEFAULT_SERIAL_PATTERN, plugs: [...new Set(entries.flatMap((e) => e.plugs))], transforms: [], ...extra}
}

const context = (files: Record<string, string> = {}) => createSourceContext({fs: memoryFs(files)})

async function failure(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => assert.fail('expected an error'),
    (error_: unknown) => error_,
  )
  assert.ok(error instanceof UserError, String(error))
  return error
}

const attemptsOf = (error: UserError) => (error.details as {attempts: SourceAttempt[]}).attempts

describe('runChain', () => {
  it('uses the first usable value and does not read the rest', async () => {
    const a = fake('a', unavailable('absent', 'a is not here'))
    const b = fake('b', found('  ABC123def\n', '/b'))
    const c = fake('c', found('other', '/c'))
    const result = await deriveFromChain(chainOf([entry(a), entry(b), entry(c)]), context())
    assert.equal(result.serial, 'ABC123def')
    assert.equal(result.entry, 'b')
    assert.equal(c.calls, 0)
    assert.deepEqual(
      result.attempts.map((x) => [x.entry, x.verdict]),
      [
        ['a', 'absent'],
        ['b', 'used'],
      ],
    )
  })

  it('refuses empty, all-zero, all-F and placeholder values and says why', async () => {
    const sources = [
      fake('empty', found('\u0000\u0000', '/1')),
      fake('zeros', found('0000000000000000', '/2', 'hex')),
      fake('effs', found('FFFFFFFF', '/3', 'hex')),
      fake('oem', found('To Be Filled By O.E.M.', '/4')),
      fake('uuid', found('00020003-0004-0005-0006-000700080009', '/5', 'uuid')),
    ]
    const error = await failure(deriveFromChain(chainOf(sources.map((s) => entry(s))), context()))
    assert.equal(error.code, 'E_SERIAL_NONE')
    assert.equal(error.kind, 'failed')
    assert.equal(error.exitCode, 1)
    const reasons = attemptsOf(error).map((x) => `${x.entry}: ${x.verdict}: ${x.reason}`)
    assert.equal(reasons.length, 5)
    assert.match(reasons[0], /^empty: refused: empty/)
    assert.match(reasons[1], /^zeros: refused: placeholder/)
    assert.match(reasons[2], /^effs: refused: placeholder: all Fs/)
    assert.match(reasons[3], /^oem: refused: placeholder "To Be Filled By O\.E\.M\."/)
    assert.match(reasons[4], /^uuid: refused: placeholder UUID/)
    for (const line of reasons) assert.ok(error.message.includes(line.split(': ')[0]), line)
    assert.match(error.hint ?? '', /snap-gadget probe/)
  })

  it('checks every part of a composite value', async () => {
    const soc = fake('soc', found('356-0000000000000000', '/soc', 'text', {parts: ['0000000000000000']}))
    const error = await failure(deriveFromChain(chainOf([entry(soc)]), context()))
    assert.match(attemptsOf(error)[0].reason ?? '', /0000000000000000/)
  })

  it('stops at a denied source instead of falling back to a weaker one', async () => {
    const denied = fake('dmi', unavailable('denied', '/sys/class/dmi/id/product_serial: permission denied'), ['hardware-observe'])
    const weaker = fake('mac', found('001122334455', '/mac', 'mac'))
    const error = await failure(deriveFromChain(chainOf([entry(denied), entry(weaker)]), context()))
    assert.equal(error.code, 'E_SERIAL_DENIED')
    assert.equal(error.kind, 'failed')
    assert.match(error.hint ?? '', /hardware-observe/)
    assert.equal(weaker.calls, 0)
  })

  it('falls through a denied source with onDenied: next', async () => {
    const denied = fake('dmi', unavailable('denied', 'permission denied'))
    const next = fake('mac', found('001122334455', '/mac', 'mac'))
    const result = await deriveFromChain(chainOf([entry(denied), entry(next)], {onDenied: 'next'}), context())
    assert.equal(result.serial, '001122334455')
  })

  it('gives up on a source that does not answer, and on one that throws', async () => {
    const hangs = fake('hangs', () => new Promise<SourceReading>(() => {}))
    const throws = fake('throws', async () => {
      throw new Error('boom')
    })
    const good = fake('good', found('GOOD1234', '/g'))
    const started = Date.now()
    const result = await deriveFromChain(chainOf([entry(hangs), entry(throws), entry(good)]), context(), {sourceTimeoutMs: 100})
    assert.ok(Date.now() - started < 2000)
    assert.deepEqual(
      result.attempts.map((a) => a.verdict),
      ['timeout', 'error', 'used'],
    )
    assert.match(result.attempts[1].reason ?? '', /boom/)
  })

  it('applies entry transforms, then chain transforms, then checks the serial', async () => {
    const a = fake('a', found('a/b/c', '/a'))
    const b = fake('b', found('48343bbbe3ae743b', '/b', 'hex'))
    const transforms: TransformSpec[] = [{prefix: 'acme-'}]
    const result = await deriveFromChain(chainOf([entry(a), entry(b, {transforms: [{prefix: 'rpi-'}]})], {transforms}), context())
    assert.equal(result.serial, 'acme-rpi-48343bbbe3ae743b')
    assert.match(result.attempts[0].reason ?? '', /contains a "\/"/)
  })

  it('refuses a value that would be too long and moves on', async () => {
    const long = fake('long', found('A1B2C3'.repeat(14), '/l'))
    const short = fake('short', found('SHORT123', '/s'))
    const result = await deriveFromChain(chainOf([entry(long), entry(short)], {transforms: [{maxLength: 64}]}), context())
    assert.equal(result.serial, 'SHORT123')
    assert.match(result.attempts[0].reason ?? '', /more than the maximum of 64/)
  })

  it('skips entries whose "when" does not match the device tree', async () => {
    const imx8mp = fake('imx8mp', found('AAAA1111', '/x'))
    const other = fake('other', found('BBBB2222', '/y'))
    const files = {'/sys/firmware/devicetree/base/compatible': 'fsl,imx8mq-evk\0fsl,imx8mq\0'}
    const chain = chainOf([entry(imx8mp, {when: {compatible: ['fsl,imx8mp*']}}), entry(other, {when: {compatible: ['fsl,imx*'], notCompatible: ['fsl,imx8mp*']}})])
    const result = await deriveFromChain(chain, context(files))
    assert.equal(result.serial, 'BBBB2222')
    assert.equal(result.attempts[0].verdict, 'skipped')
    assert.match(result.attempts[0].reason ?? '', /only for fsl,imx8mp\*; this board is fsl,imx8mq-evk, fsl,imx8mq/)
    assert.equal(imx8mp.calls, 0)
  })
})

describe('join', () => {
  const files = {'/sys/devices/soc0/serial_number': '3761520834\n', '/sys/devices/soc0/soc_id': '356\n', '/sys/firmware/devicetree/base/serial-number': 'DT-SERIAL-42\0'}

  it('joins several sources into one value', async () => {
    const chain = await resolveChain({chain: [{join: [{source: 'soc-serial'}, {source: 'devicetree-serial'}], separator: '_'}]}, {name: 'j'})
    const result = await deriveFromChain(chain, context(files))
    assert.equal(result.serial, '3761520834_DT-SERIAL-42')
    assert.equal(result.entry, 'join(soc-serial+devicetree-serial)')
    assert.deepEqual(chain.plugs, ['hardware-observe'])
  })

  it('refuses the join when a part is unusable, naming the part', async () => {
    const chain = await resolveChain({chain: [{join: [{source: 'soc-serial'}, {source: 'cpuinfo-serial'}]}]}, {name: 'j'})
    const outcome = await runChain(chain, context(files))
    assert.equal(outcome.serial, undefined)
    assert.match(outcome.attempts[0].reason ?? '', /^cpuinfo-serial: \/proc\/cpuinfo does not exist/)
  })
})

describe('resolveChain', () => {
  it('refuses an empty chain', async () => {
    const error = await failure(resolveChain({chain: []}, {name: 'x', place: {file: 'serial.yaml'}}))
    assert.equal(error.code, 'E_SERIAL_CONFIG')
    assert.equal(error.located, 'serial.yaml: chain: the chain is empty')
  })

  it('names an unknown source and suggests the closest', async () => {
    const error = await failure(resolveChain({chain: [{source: 'devictree-serial'}]}, {name: 'x'}))
    assert.match(error.message, /chain\[0\]\.source: unknown serial source "devictree-serial"/)
    assert.match(error.hint ?? '', /did you mean "devicetree-serial"/)
  })

  it('checks source options: types, ranges, unknown keys, required ones', async () => {
    const cases: [unknown, RegExp][] = [
      [{field: 'product_serail'}, /option "field" must be one of product_serial/],
      [{feild: 'product_serial'}, /unknown key "feild"/],
    ]
    for (const [options, message] of cases) {
      const error = await failure(resolveChain({chain: [{options: options as Record<string, unknown>, source: 'dmi'}]}, {name: 'x'}))
      assert.match(error.message, message)
    }

    assert.match((await failure(resolveChain({chain: [{options: {path: '/x'}, source: 'eeprom'}]}, {name: 'x'}))).message, /eeprom needs the option "length"/)
    assert.match((await failure(resolveChain({chain: [{options: {length: 0, path: '/x'}, source: 'eeprom'}]}, {name: 'x'}))).message, /from 1 to 4096/)
    assert.match((await failure(resolveChain({chain: [{options: {device: 'x'}, source: 'nvmem'}]}, {name: 'x'}))).message, /exactly one of "cell", "length" or "words"/)
  })

  it('labels entries by their main option and collects the plugs', async () => {
    const chain = await resolveChain({chain: [{options: {field: 'board_serial'}, source: 'dmi'}, {source: 'mac'}, {name: 'mine', source: 'cpuinfo-serial'}]}, {name: 'x'})
    assert.deepEqual(
      chain.entries.map((e) => e.label),
      ['dmi[board_serial]', 'mac', 'mine'],
    )
    assert.deepEqual(chain.plugs, ['hardware-observe', 'network-observe'])
  })
})
