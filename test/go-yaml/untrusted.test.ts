/**
 * Untrusted YAML: hostile documents (deep nesting, alias bombs, self-referring aliases, huge
 * inputs) are refused with a clear reason and never throw, one after another in one process; and
 * benign documents read as YAML 1.2's core schema (eemeli/yaml's reading) or as YAML 1.1 (go-yaml).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {parse} from 'yaml'

import {readUntrustedYaml} from '../../src/go-yaml/untrusted.js'

const deep = (n: number): string => `serial: x\nnested: ${'['.repeat(n)}${']'.repeat(n)}\n`
const laughs = (levels: number): string => {
  let text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
  for (let i = 1; i < levels; i++) text += `a${i}: &a${i} [${Array.from({length: 9}, () => `*a${i - 1}`).join(', ')}]\n`
  return text
}

test('hostile documents are refused with a reason, and the next parse in the same process still works', () => {
  for (let round = 0; round < 20; round++) {
    const nested = readUntrustedYaml(deep(1000))
    assert.equal(nested.ok, false)
    assert.ok(!nested.ok && nested.kind === 'limit' && /nests more than 32 levels deep/.test(nested.message))
    assert.equal(!nested.ok && nested.line, 2)

    const deeper = readUntrustedYaml(deep(20_000))
    assert.ok(!deeper.ok && deeper.kind === 'syntax' && /exceeded max depth of 10000/.test(deeper.message))

    const bomb = readUntrustedYaml(laughs(9))
    assert.ok(!bomb.ok && bomb.kind === 'limit' && /more than 20000 values once its aliases are expanded/.test(bomb.message))

    const indented = readUntrustedYaml(Array.from({length: 200}, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'))
    assert.ok(!indented.ok && indented.kind === 'limit')
  }

  assert.deepEqual(readUntrustedYaml('serial: ACME-1\n'), {ok: true, value: {serial: 'ACME-1'}})
})

test('an alias to a collection that holds it, a key given twice and a merge key are refused', () => {
  const selfish = readUntrustedYaml('a: &a [1, *a]\n')
  assert.ok(!selfish.ok, 'an alias inside its own anchor')
  const twice = readUntrustedYaml('serial: a\nserial: b\n')
  assert.ok(!twice.ok && twice.kind === 'shape' && /"serial" is given twice/.test(twice.message) && twice.line === 2)
  const merged = readUntrustedYaml('base: &b {x: 1}\nthing: {<<: *b}\n')
  assert.ok(!merged.ok && merged.kind === 'shape')
  const complex = readUntrustedYaml('? [a, b]\n: c\n')
  assert.ok(!complex.ok && complex.kind === 'shape')
})

test('the size limit is checked before reading, in UTF-8 bytes', () => {
  const big = readUntrustedYaml(`serial: "${'é'.repeat(600)}"\n`, {maxBytes: 1000})
  assert.ok(!big.ok && big.kind === 'limit' && /1211 bytes, more than the 1000 allowed/.test(big.message))
  assert.ok(readUntrustedYaml(`serial: "${'é'.repeat(400)}"\n`, {maxBytes: 1000}).ok)
})

test('a key named __proto__ is a key, not the prototype', () => {
  const result = readUntrustedYaml('__proto__: {polluted: yes}\nserial: x\n')
  assert.ok(result.ok)
  const value = result.value as Record<string, unknown>
  assert.equal(Object.getPrototypeOf(value), Object.prototype)
  assert.deepEqual(Object.keys(value), ['__proto__', 'serial'])
  assert.equal(({} as Record<string, unknown>).polluted, undefined)
})

test('a few aliases within the limits are expanded', () => {
  const result = readUntrustedYaml('mac: &m "00:11:22:33:44:55"\nmacs: [*m, *m]\n')
  assert.ok(result.ok)
  assert.deepEqual(JSON.parse(JSON.stringify(result.value)), {mac: '00:11:22:33:44:55', macs: ['00:11:22:33:44:55', '00:11:22:33:44:55']})
})

test('scalars: YAML 1.2 core schema by default, as eemeli/yaml reads it; YAML 1.1 as go-yaml reads it', () => {
  const text = [
    'a: yes',
    'b: 017',
    'c: 0x1F',
    'd: true',
    'e: ~',
    'f: 1.5e3',
    'g: "quoted 017"',
    "h: 'single'",
    'i: 1_000',
    'j: |',
    '  block',
    '  text',
    'k: [1, two, {three: 3}]',
    'l: 12:30',
    'm: .inf',
    'n: off',
    '',
  ].join('\n')
  const v12 = readUntrustedYaml(text)
  assert.ok(v12.ok)
  assert.deepEqual(JSON.parse(JSON.stringify(v12.value)), JSON.parse(JSON.stringify(parse(text))))
  const v11 = readUntrustedYaml(text, {schema: 'yaml-1.1'})
  assert.ok(v11.ok)
  const value = v11.value as Record<string, unknown>
  assert.equal(value.a, true)
  assert.equal(value.b, 15)
  assert.equal(value.c, 31)
  assert.equal(value.i, 1000)
  assert.equal(value.n, false)
  assert.equal(value.g, 'quoted 017')
})

test('a syntax error says where, in libyaml words', () => {
  const result = readUntrustedYaml('serial: a\n  bad: [\n')
  assert.ok(!result.ok && result.kind === 'syntax')
  assert.ok(!result.ok && typeof result.line === 'number' && result.line >= 2)
  assert.deepEqual(readUntrustedYaml(''), {ok: true, value: undefined})
})
