/**
 * snapd's naming rules and the model rules (registration-protocol.md §3.5 and §5), checked
 * against the sample models and the refusals `snap sign` printed for the negative cases in
 * ../shared/fixtures/assertions.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, it} from 'node:test'

import {buildModelJson, checkModelJson, type ModelInput, type ModelJson, modelProblems} from '../../src/scaffold/model-assertion.js'
import {accountIdProblem, channelProblem, modelNameProblem, snapIdProblem, snapNameProblem, trackProblem} from '../../src/scaffold/naming.js'
import {UserError} from '../../src/errors.js'
import {shared} from '../helpers/paths.js'

describe('snapd naming rules', () => {
  it('snap names (snap/naming ValidateSnap)', () => {
    for (const ok of ['pc', 'pi-kernel', 'acme-pc-amd64', 'a1', '1a', 'x'.repeat(40)]) assert.equal(snapNameProblem(ok), undefined, ok)
    for (const bad of ['a', 'x'.repeat(41), 'Acme', 'a--b', '-a', 'a-', '12', 'a_b', 'a.b', 'ü-x', '']) assert.ok(snapNameProblem(bad), bad)
  })

  it('model names (asserts checkModel)', () => {
    for (const ok of ['pc-amd64-24', 'a', '1', 'a-1']) assert.equal(modelNameProblem(ok), undefined, ok)
    for (const bad of ['Acme', 'a--b', '-a', 'a-', 'a_b', '', 'a b']) assert.ok(modelNameProblem(bad), bad)
  })

  it('account ids (asserts validAccountID)', () => {
    for (const ok of ['acme', 'acme-brand', 'x'.repeat(28), 'A'.repeat(32), 'generic']) assert.equal(accountIdProblem(ok), undefined, ok)
    for (const bad of ['a', 'x'.repeat(29), 'Acme', 'acme_brand', 'A'.repeat(31), '']) assert.ok(accountIdProblem(bad), bad)
  })

  it('snap ids and channels', () => {
    assert.equal(snapIdProblem('pYVQrBcKmBa0mZ4CCN7ExT6jH8rY1hza'), undefined)
    for (const bad of ['pYVQrBcKmBa0mZ4CCN7ExT6jH8rY1hz', 'pYVQrBcKmBa0mZ4CCN7ExT6jH8rY1hza1', 'pYVQrBcKmBa0mZ4CCN7ExT6jH8rY1hz-']) assert.ok(snapIdProblem(bad))
    for (const ok of ['latest/stable', '22/stable', '24', '24/edge/fix-1']) assert.equal(channelProblem(ok), undefined, ok)
    for (const bad of ['stable', 'edge', '22/unstable', '', '22/stable/', 'a/b/c/d']) assert.ok(channelProblem(bad), bad)
    assert.ok(trackProblem('stable'))
    assert.equal(trackProblem('22'), undefined)
  })
})

const sample = (name: string) => JSON.parse(readFileSync(shared('fixtures', 'assertions', name), 'utf8')) as ModelJson

describe('model rules', () => {
  it('accept the sample models snap sign signed (UC16, UC18, UC22, UC24 dangerous)', () => {
    for (const name of ['model-uc16.json', 'model-uc18.json', 'model-uc22.json', 'model-uc24-dangerous.json']) assert.deepEqual(modelProblems(sample(name)), [], name)
  })

  // Each negative case of fixtures/assertions/negative-cases.txt, made from a sample.
  const cases: [string, (m: ModelJson) => void, RegExp][] = [
    ['authority not brand', (m) => (m['authority-id'] = 'someone-else'), /authority-id/],
    ['channel without track', (m) => ((m.snaps as Record<string, string>[])[4]['default-channel'] = 'stable'), /must name a track/],
    ['bad timestamp', (m) => (m.timestamp = '2024-01-01 00:00:00'), /RFC 3339/],
    ['grade without snaps', (m) => delete m.snaps, /"grade"|gadget/],
    ['missing timestamp', (m) => delete m.timestamp, /timestamp/],
    ['secured + prefer-encrypted', (m) => Object.assign(m, {grade: 'secured', 'storage-safety': 'prefer-encrypted'}), /secured/],
    ['series as number', (m) => (m.series = 16 as unknown as string), /series/],
    ['signed snap without id', (m) => delete (m.snaps as Record<string, string>[])[4].id, /"id" of snap "network-manager" is mandatory/],
    ['snaps plus gadget header', (m) => (m.gadget = 'pc'), /separate "gadget" header/],
    ['upper-case model', (m) => (m.model = 'ACME'), /upper-case/],
    ['two kernels', (m) => (m.snaps as Record<string, string>[]).push({id: 'pYVQrBcKmBa0mZ4CCN7ExT6jH8rY1hza', name: 'pc-kernel', type: 'kernel'}), /multiple kernel/],
    ['presence on an essential snap', (m) => ((m.snaps as Record<string, string>[])[0].presence = 'optional'), /essential/],
  ]
  for (const [name, mutate, expected] of cases) {
    it(`refuse: ${name}`, () => {
      const model = sample('model-uc22.json')
      mutate(model)
      assert.match(modelProblems(model).join('\n'), expected)
    })
  }

  it('refuse a UC18 model without a kernel', () => {
    const model = sample('model-uc18.json')
    delete model.kernel
    assert.match(modelProblems(model).join('\n'), /"kernel" header is mandatory/)
  })

  const input: ModelInput = {
    architecture: 'arm64',
    base: 'core24',
    brand: 'acme',
    extraSnaps: [{channel: '24/stable', id: 'RmBXKl6HO6YOC2DE4G2q1JzWImC04EUy', name: 'network-manager'}],
    gadget: {channel: 'latest/stable', id: 'AcmeGadgetSnapIdXXXXXXXXXXXXXXXX', name: 'acme-pi'},
    grade: 'signed',
    kernel: {channel: '24/stable', id: 'jeIuP6tfFrvAdic8DMWqHmoaoukAPNbJ', name: 'pi-kernel'},
    model: 'acme-pi-24',
    store: 'AcmeStore',
    timestamp: '2026-01-01T00:00:00Z',
  }

  it('builds the UC20+ form with the essential snaps and their well-known ids', () => {
    const model = buildModelJson(input)
    assert.deepEqual(modelProblems(model), [])
    assert.deepEqual(
      (model.snaps as Record<string, string>[]).map((s) => [s.name, s.type, s.id]),
      [
        ['acme-pi', 'gadget', 'AcmeGadgetSnapIdXXXXXXXXXXXXXXXX'],
        ['pi-kernel', 'kernel', 'jeIuP6tfFrvAdic8DMWqHmoaoukAPNbJ'],
        ['core24', 'base', 'dwTAh7MZZ01zyriOZErqd1JynQLiOGvM'],
        ['snapd', 'snapd', 'PMrrV4ml8uWuEUDBT8dSGnKUYbevVhc4'],
        ['network-manager', 'app', 'RmBXKl6HO6YOC2DE4G2q1JzWImC04EUy'],
      ],
    )
    assert.equal(model.store, 'AcmeStore')
  })

  it('builds the UC16/UC18 form: gadget=track, kernel=track, required-snaps', () => {
    const model = buildModelJson({...input, legacy: true})
    assert.deepEqual(modelProblems(model), [])
    assert.equal(model.gadget, 'acme-pi')
    assert.equal(model.kernel, 'pi-kernel=24')
    assert.deepEqual(model['required-snaps'], ['network-manager'])
    assert.equal(model.grade, undefined)
  })

  it('a signed model without snap ids is one usage error that lists every problem', () => {
    const model = buildModelJson({...input, gadget: {name: 'acme-pi'}, kernel: {name: 'pi-kernel'}})
    assert.throws(
      () => checkModelJson(model),
      (error: unknown) => error instanceof UserError && error.code === 'E_INIT_MODEL' && /"acme-pi" is mandatory/.test(error.message) && /"pi-kernel" is mandatory/.test(error.message),
    )
  })
})
