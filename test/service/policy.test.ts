/**
 * The issue policy through the service over HTTP, as devices meet it: a model on an allowlist
 * refuses a serial the factory did not list (403, JSON, a message saying what to fix) and issues it
 * once `serve import --serials` took it, without a restart; a pattern model issues only what the
 * whole pattern matches; a block stops a first issue and a device asking again, by serial or by
 * device key, until unblocked; each refusal is in the refusal log, the block's reason with it, and
 * what the request only claimed is marked unverified. The pattern's bounds, and the serials file
 * (CSV, JSON lines), are checked here too.
 */
import assert from 'node:assert/strict'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {UserError} from '../../src/errors.js'
import {blockDevice, importAllowedSerials, loadImportConfig, loadServiceConfig, readRefusalLog, type RunningService, startDeviceService, unblockDevice} from '../../src/service/index.js'
import {compileSerialPattern, MAX_PATTERN_INPUT, matchSerialPattern} from '../../src/service/serial-pattern.js'
import {API_KEY, type Lab, makeLab, modelAssertion, TestDevice} from './helpers.js'

const labs: Lab[] = []
after(() => {
  for (const lab of labs) rmSync(lab.dir, {force: true, recursive: true})
})

/** A lab whose model has `serials` (YAML) and a second model acme-pi that issues any serial. */
function policyLab(serials: string): Lab {
  const lab = makeLab()
  labs.push(lab)
  const text = readFileSync(lab.config, 'utf8')
  const model = text.slice(text.indexOf('  - brand:'))
  writeFileSync(lab.config, `${text.replace('    chain:', `    serials: ${serials}\n    chain:`)}${model.replace('acme-pc', 'acme-pi').replace('LAB_API_KEY', 'PI_API_KEY')}`)
  return lab
}

const env = {LAB_API_KEY: API_KEY, PI_API_KEY: 'pi-api-key-0123456789'}

async function register(url: string, device: TestDevice, serial: string, options: {apiKey?: string; model?: string} = {}): Promise<{status: number; contentType: string; body: string}> {
  const headers = {'api-key': options.apiKey ?? API_KEY}
  const nonce = ((await (await fetch(`${url}request-id`, {headers, method: 'POST'})).json()) as {'request-id': string})['request-id']
  const answer = await fetch(`${url}serial`, {body: `${device.serialRequest(nonce, {model: options.model, serial})}\n${modelAssertion({model: options.model})}`, headers, method: 'POST'})
  return {body: await answer.text(), contentType: answer.headers.get('content-type') ?? '', status: answer.status}
}

function refusalOf(answer: {status: number; contentType: string; body: string}): {code: string; message: string} {
  assert.equal(answer.contentType, 'application/json', answer.body)
  return JSON.parse(answer.body) as {code: string; message: string}
}

describe('an allowlist', () => {
  let lab: Lab
  let service: RunningService
  before(async () => {
    lab = policyLab('allowlist')
    service = await startDeviceService(loadServiceConfig(lab.config, {env}), {version: 'test'})
  })
  after(() => service.close())

  test('refuses an unlisted serial with what to fix, and issues it once imported, serve running', async () => {
    const device = new TestDevice()
    const early = await register(service.url, device, 'LINE1-0001')
    assert.equal(early.status, 403)
    assert.deepEqual(refusalOf(early), {
      code: 'serial-not-allowed',
      message:
        'serial "LINE1-0001" is not on the allowlist of acme/acme-pc: the factory adds the serial to the model\'s allowlist (snap-gadget serve import --serials FILE); the device asks again by itself after its back-off',
    })

    const list = join(lab.dir, 'line1.csv')
    writeFileSync(list, 'brand,model,serial\r\nacme,acme-pc,LINE1-0001\r\nacme,acme-pc,"LINE1-0002"\r\n')
    const imported = await importAllowedSerials(loadImportConfig(lab.config), [list])
    assert.deepEqual([imported.read, imported.imported, imported.unchanged, imported.models, imported.warnings], [2, 2, 0, [{held: 2, model: 'acme/acme-pc'}], []])
    assert.equal((await register(service.url, device, 'LINE1-0001')).status, 200)
    // The other model issues any serial: its list is not consulted.
    assert.equal((await register(service.url, new TestDevice(), 'ANYTHING-1', {apiKey: env.PI_API_KEY, model: 'acme-pi'})).status, 200)
  })

  test('each refusal is in the refusal log: the verified model, the serial as proposed, the device key', async () => {
    const device = new TestDevice()
    await register(service.url, device, 'NOT-LISTED-1')
    await register(service.url, device, 'NOT-LISTED\u001b[31m')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const [invalid, unlisted] = await readRefusalLog(loadServiceConfig(lab.config, {env}), {limit: 2})
    assert.deepEqual(
      [unlisted.code, unlisted.brand, unlisted.model, unlisted.verified, unlisted.serial, unlisted.deviceKeyId, unlisted.status, unlisted.client],
      ['serial-not-allowed', 'acme', 'acme-pc', true, 'NOT-LISTED-1', device.keyId, 403, '127.0.0.1'],
    )
    // Kept as the device sent it (escaped where shown), with the message it was given.
    assert.deepEqual([invalid.code, invalid.serial], ['serial-invalid', 'NOT-LISTED\u001b[31m'])
    assert.match(invalid.message, /^serial "NOT-LISTED\\u001b\[31m" cannot be a serial/)
  })
})

describe('a pattern', () => {
  let service: RunningService
  before(async () => {
    service = await startDeviceService(loadServiceConfig(policyLab("{pattern: 'ACME-[0-9]{6}'}").config, {env}), {version: 'test'})
  })
  after(() => service.close())

  test('issues what the whole pattern matches, and refuses the rest, a prefix or a suffix match included', async () => {
    assert.equal((await register(service.url, new TestDevice(), 'ACME-000001')).status, 200)
    for (const serial of ['ACME-00001', 'XACME-000002', 'ACME-0000023', 'acme-000004']) {
      const answer = await register(service.url, new TestDevice(), serial)
      assert.equal(answer.status, 403, serial)
      assert.deepEqual(refusalOf(answer).code, 'serial-pattern')
      assert.match(refusalOf(answer).message, /does not match "ACME-\[0-9\]\{6\}", the serial pattern of acme\/acme-pc: propose a serial/)
    }
  })
})

describe('blocks', () => {
  let lab: Lab
  let service: RunningService
  before(async () => {
    lab = policyLab('any')
    service = await startDeviceService(loadServiceConfig(lab.config, {env}), {version: 'test'})
  })
  after(() => service.close())

  test('a blocked serial gets no re-issue, a blocked key no serial at all, until unblocked; the reason goes to the log, not the device', async () => {
    const config = loadImportConfig(lab.config)
    const device = new TestDevice()
    assert.equal((await register(service.url, device, 'DEV-1')).status, 200)
    const blocked = await blockDevice(config, {model: 'acme/acme-pc', serial: 'DEV-1'}, 'returned: RMA 4711 (secret customer)')
    assert.equal(blocked.kind, 'blocked')
    const again = await register(service.url, device, 'DEV-1')
    assert.equal(again.status, 403)
    const told = refusalOf(again)
    assert.equal(told.code, 'device-blocked')
    assert.match(told.message, /^serial "DEV-1" is blocked for acme\/acme-pc since \d{4}-.*: the device is refused on purpose/)
    assert.ok(!told.message.includes('RMA 4711'), 'the reason is the operator’s')
    // Blocked in acme-pc only: the same serial in acme-pi is another device.
    assert.equal((await register(service.url, new TestDevice(), 'DEV-1', {apiKey: env.PI_API_KEY, model: 'acme-pi'})).status, 200)

    const stolen = new TestDevice()
    await blockDevice(config, {deviceKey: stolen.keyId}, 'key leaked')
    assert.equal(refusalOf(await register(service.url, stolen, 'DEV-2')).code, 'device-blocked')
    assert.equal(refusalOf(await register(service.url, stolen, 'DEV-3', {apiKey: env.PI_API_KEY, model: 'acme-pi'})).code, 'device-blocked', 'every model')

    await new Promise((resolve) => setTimeout(resolve, 50))
    const logged = await readRefusalLog(loadServiceConfig(lab.config, {env}), {code: 'device-blocked'})
    assert.deepEqual(
      logged.map((r) => [r.serial, r.message.endsWith('[block reason: key leaked]') || r.message.endsWith('[block reason: returned: RMA 4711 (secret customer)]')]),
      [
        ['DEV-3', true],
        ['DEV-2', true],
        ['DEV-1', true],
      ],
    )

    assert.equal((await unblockDevice(config, {model: 'acme/acme-pc', serial: 'DEV-1'}, 'repaired')).kind, 'unblocked')
    assert.equal((await register(service.url, device, 'DEV-1')).status, 200)
    await assert.rejects(unblockDevice(config, {serial: 'DEV-1'}, ''), (error: UserError) => error.code === 'E_SERVE_BLOCK' && /is not blocked/.test(error.message))
  })

  test('a block needs a reason and a target the config knows', async () => {
    const config = loadImportConfig(lab.config)
    await assert.rejects(blockDevice(config, {serial: 'X'}, ' '), /a block needs a reason/)
    await assert.rejects(blockDevice(config, {}, 'r'), /give a serial or --device-key/)
    await assert.rejects(blockDevice(config, {deviceKey: 'short', serial: undefined}, 'r'), /is not a device key id/)
    await assert.rejects(blockDevice(config, {model: 'acme/nope', serial: 'X'}, 'r'), /"acme\/nope" is not a model of/)
  })
})

describe('an unverified claim', () => {
  test('a refusal before the api-key is checked logs the claimed model as unverified', async () => {
    const lab = policyLab('any')
    const config = loadServiceConfig(lab.config, {env})
    const service = await startDeviceService(config, {version: 'test'})
    try {
      const device = new TestDevice()
      const nonce = ((await (await fetch(`${service.url}request-id`, {headers: {'api-key': API_KEY}, method: 'POST'})).json()) as {'request-id': string})['request-id']
      // The pi api-key with a request for acme-pc: the request claims acme-pc, the key proves acme-pi.
      const answer = await fetch(`${service.url}serial`, {body: `${device.serialRequest(nonce, {serial: 'X-1'})}\n${modelAssertion()}`, headers: {'api-key': env.PI_API_KEY}, method: 'POST'})
      assert.equal(answer.status, 401)
      const bogus = await fetch(`${service.url}serial`, {body: 'garbage', headers: {'api-key': 'wrong'}, method: 'POST'})
      assert.equal(bogus.status, 401)
      await new Promise((resolve) => setTimeout(resolve, 50))
      const [wrongKey, mismatch] = await readRefusalLog(config)
      assert.deepEqual([wrongKey.code, wrongKey.brand, wrongKey.verified], ['api-key-invalid', undefined, false])
      assert.deepEqual([mismatch.code, mismatch.brand, mismatch.model, mismatch.verified], ['api-key-invalid', 'acme', 'acme-pi', true])
    } finally {
      await service.close()
    }
  })
})

describe('serial patterns', () => {
  test('anchored; refused at load when they could backtrack without bound', () => {
    const ok = compileSerialPattern('ACME-([0-9]{4}-)?[0-9]{6}|LAB-[A-Z]+')
    assert.ok(!('problem' in ok))
    if (!('problem' in ok)) {
      assert.equal(matchSerialPattern(ok, 'ACME-1234-567890'), true)
      assert.equal(matchSerialPattern(ok, 'LAB-X'), true)
      assert.equal(matchSerialPattern(ok, 'LAB-X\n'), false)
      assert.equal(matchSerialPattern(ok, 'xLAB-X'), false)
      assert.equal(matchSerialPattern(ok, 'A'.repeat(MAX_PATTERN_INPUT + 1)), undefined)
    }

    for (const [pattern, why] of [
      ['(a+)+$', /repetition or an alternation/],
      ['(a|aa)*', /repetition or an alternation/],
      ['((ab)*c)+', /repetition or an alternation/],
      ['(?:x{2,3}){2,}', /repetition or an alternation/],
      ['(a)\\1', /back-reference/],
      ['(?<n>a)\\k<n>', /back-reference/],
      ['(?!x)a', /lookahead or lookbehind/],
      ['(?<=x)a', /lookahead or lookbehind/],
      ['x'.repeat(513), /at most 512/],
      ['[', /not a regular expression/],
    ] as const) {
      const compiled = compileSerialPattern(pattern)
      assert.ok('problem' in compiled, pattern)
      if ('problem' in compiled) assert.match(compiled.problem, why, pattern)
    }
  })

  test('a pattern the safety rules let through stays fast on a hostile serial of the longest length', () => {
    const compiled = compileSerialPattern('[A-Z0-9]+-?[A-Z0-9]*-?[0-9]+')
    assert.ok(!('problem' in compiled))
    if ('problem' in compiled) return
    const started = performance.now()
    assert.equal(matchSerialPattern(compiled, `${'A'.repeat(MAX_PATTERN_INPUT - 1)}!`), false)
    assert.ok(performance.now() - started < 500, `${performance.now() - started} ms`)
  })

  test('the config says where a bad pattern is and how to fix it', () => {
    const lab = policyLab("{pattern: '(a+)+'}")
    assert.throws(
      () => loadServiceConfig(lab.config, {env}),
      (error: UserError) =>
        error.code === 'E_SERVE_CONFIG' && error.line === 8 && /models\[0\]\.serials\.pattern: the serial pattern cannot be used: a group repeated by \+/.test(error.message) && /ACME-\[0-9\]\{6\}/.test(error.hint ?? ''),
    )
  })
})

describe('serials files', () => {
  const lab = policyLab('allowlist')
  const config = loadImportConfig(lab.config)
  const file = (name: string, text: string): string => {
    writeFileSync(join(lab.dir, name), text)
    return join(lab.dir, name)
  }

  test('JSON lines and a CSV of serials alone with --model; the same serial twice counts once; importing again changes nothing', async () => {
    const jsonl = file('a.jsonl', '{"serial": "J-1", "model": "acme/acme-pc"}\n\n{"serial": "J-2", "brand": "acme", "model": "acme-pc", "batch": 7}\n')
    const csv = file('b.csv', 'serial\nJ-2\nJ-3\n')
    const first = await importAllowedSerials(config, [jsonl, csv], {model: 'acme/acme-pc'})
    assert.deepEqual([first.read, first.imported, first.unchanged], [3, 3, 0])
    const again = await importAllowedSerials(config, [jsonl, csv], {model: 'acme/acme-pc'})
    assert.deepEqual([again.read, again.imported, again.unchanged], [3, 0, 3])
    // A model that issues any serial: kept, with a warning.
    const pi = await importAllowedSerials(config, [file('c.csv', 'serial,model\nP-1,acme/acme-pi\n')])
    assert.match(pi.warnings[0], /^acme\/acme-pi does not issue serials from its allowlist yet \(serials: any\)/)
  })

  test('a bad row anywhere stops the import with its line, and nothing is imported', async () => {
    const before = (await importAllowedSerials(config, [])).models
    assert.deepEqual(before, [])
    const cases: [string, string, RegExp][] = [
      ['bad.csv', 'serial,model\nG-1,acme/acme-pc\nG 2 ,acme/acme-pc\n', /bad\.csv:3: serial " *G 2 *" cannot be a serial/],
      ['unknown.csv', 'serial,model\nG-1,acme/acme-pc\nG-2,acme/acme-xx\n', /unknown\.csv:3: "acme\/acme-xx" is not a model of/],
      ['nomodel.csv', 'serial\nG-1\n', /nomodel\.csv:2: the row names no model/],
      ['fields.csv', 'serial,model\nG-1\n', /fields\.csv:2: the row has 1 fields and the header 2/],
      ['noserial.csv', 'id,model\n1,acme/acme-pc\n', /noserial\.csv:1: the header \(id,model\) has no serial column/],
      ['quote.csv', 'serial,model\n"G-1,acme/acme-pc\n', /quote\.csv:2: a quoted field has no closing quote/],
      ['bad.jsonl', '{"serial": "G-1", "model": "acme/acme-pc"}\n{"serial": 5}\n', /bad\.jsonl:2: serial is not a string/],
      ['long.csv', `serial,model\n${'L'.repeat(9000)},acme/acme-pc\n`, /long\.csv:2: the line is 9013 characters; a line of a serials list is at most 8192/],
    ]
    for (const [name, text, message] of cases) {
      await assert.rejects(importAllowedSerials(config, [file(name, text)]), (error: UserError) => error.code === 'E_SERVE_IMPORT' && message.test(error.message), name)
    }

    const service = loadServiceConfig(lab.config, {env})
    const {openStore} = await import('../../src/service/index.js')
    const store = await openStore(service.database)
    try {
      assert.equal((await store.admission('acme', 'acme-pc', 'G-1', 'k'.repeat(64))).listed, false, 'G-1 came in no import')
    } finally {
      await store.close()
    }
  })
})
