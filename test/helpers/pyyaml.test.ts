import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {describe, it} from 'node:test'

import fc from 'fast-check'

import type {YamlNode} from '../../src/go-yaml/read/ast.js'
import {parseYaml} from '../../src/go-yaml/read/index.js'
import {pyyamlLoads, pyyamlPathText} from './pyyaml.js'

interface Verdict {
  /** PyYAML's SafeLoader constructed the document. */
  loads: boolean
  /** str(doc['k']) for str, int and float values, as the conformance oracle creates placeholders. */
  text: null | string
}

/** PyYAML itself, as the oracle runs it (the C loader when there is one). */
function pyyaml(docs: string[]): Verdict[] {
  const script = `
import json, sys, yaml
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
out = []
for doc in json.load(sys.stdin):
    try:
        v = yaml.load(doc, Loader=Loader)
    except yaml.MarkedYAMLError as e:
        if e.__class__.__name__ in ("ScannerError", "ParserError"):
            out.append(None)  # libyaml does not read it: not a question for this module
            continue
        out.append({"loads": False, "text": None})
        continue
    except Exception:
        out.append({"loads": False, "text": None})
        continue
    k = v.get("k") if isinstance(v, dict) else None
    ok = isinstance(k, (str, int, float)) and not isinstance(k, bool)
    out.append({"loads": True, "text": str(k) if ok else None})
print(json.dumps(out))
`
  const r = spawnSync('python3', ['-c', script], {encoding: 'utf8', input: JSON.stringify(docs), maxBuffer: 64 * 1024 * 1024})
  assert.equal(r.status, 0, `python3 with PyYAML (python3-yaml) is required for this test in CI: ${r.stderr}`)
  return JSON.parse(r.stdout) as Verdict[]
}

/** Our answer for a document, in the same shape; undefined when our reader refuses it. */
function ours(doc: string): undefined | Verdict {
  const parsed = parseYaml(doc)
  if (parsed.problem || !parsed.singleDocument) return undefined
  const loads = pyyamlLoads(parsed.root)
  if (!loads) return {loads, text: null}
  const value = parsed.root && lookup(parsed.root, 'k')
  return {loads, text: value ? (pyyamlPathText(value) ?? null) : null}
}

/** A key's value in a mapping, merges included (a key of its own wins, then earlier merges). */
function lookup(node: YamlNode, key: string): undefined | YamlNode {
  const map = node.kind === 'alias' ? node.target : node
  if (map.kind !== 'map') return undefined
  const own = map.pairs.findLast((p) => p.key.kind === 'scalar' && p.key.value === key && p.key.value !== '<<')
  if (own) return own.value
  for (const p of map.pairs.filter((p) => p.key.kind === 'scalar' && p.key.value === '<<')) {
    const merged = p.value.kind === 'alias' ? p.value.target : p.value
    for (const source of merged.kind === 'seq' ? merged.items : [merged]) {
      const found = lookup(source, key)
      if (found) return found
    }
  }

  return undefined
}

function agree(docs: string[], minimum: number): void {
  const want = pyyaml(docs)
  let compared = 0
  docs.forEach((doc, i) => {
    const got = ours(doc)
    if (want[i] === null || got === undefined) return
    compared++
    assert.deepEqual(got, want[i], JSON.stringify(doc))
  })
  assert.ok(compared >= minimum, `only ${compared} documents were compared`)
}

const scalars = [
  'boot-assets/',
  'pc-core.img',
  'u-boot.bin',
  '$kernel:dtbs/dtbs/',
  'yes',
  'Yes',
  'y',
  'n',
  'No',
  'on',
  'OFF',
  'true',
  'False',
  'null',
  'Null',
  '~',
  '',
  '0x10',
  '0x_1f',
  '0x_',
  '0b101',
  '0b_',
  '017',
  '0o17',
  '08',
  '0_',
  '1_000',
  '+12',
  '-7',
  '-0',
  '1:30',
  '190:20:30',
  '1.5',
  '.5',
  '._',
  '1.',
  '1e3',
  '1.0e+3',
  '1.e+5',
  '-.inf',
  '.NaN',
  '6.8523015e+5',
  '1:30.5',
  '-1:0.5',
  '1e16',
  '12345678901234567.0',
  '0.00001',
  '-0.0',
  '1_0:30',
  '2001-12-14',
  '2001-12-14t21:59:43.10-05:00',
  '2002-12-14 21:59:43.10 -5',
  '2001-13-01',
  '2001-02-29',
  '2000-02-29',
  '0000-01-01',
  '2001-1-1 1:00:00',
  '2001-01-01 24:00:00',
  '2001-01-01 10:00:60',
  '2001-01-01 10:00:00 +24',
  '2001-01-01 10:00:00 +23:59',
  '2001-01-01 10:00:00Z',
  'abc',
  'files/a.bin',
  'zImage',
  'uEnv.txt',
  'extlinux/',
  '_x',
  '/abs/path',
  'wrong.',
  '=',
  '<<',
  '"0x10"',
  "'yes'",
  '"="',
]
const tagged = [
  '!!int 0x10',
  '!!int abc',
  '!!int " 12 "',
  '!!int 0b0b101',
  '!!int 0o17',
  '!!int -0b1',
  '!!int 1:2:3',
  '!!int ""',
  '!!float x',
  '!!float " 1e5 "',
  '!!float infinity',
  '!!float 1',
  '!!float -nan',
  '!!float 1:30',
  '!!bool maybe',
  '!!bool YES',
  '!!null x',
  '!!str 1',
  '! 0x10',
  '!foo x',
  '!<tag:yaml.org,2002:str> 1',
  '!!binary aGVsbG8=',
  '!!binary aGVsbG8',
  '!!binary a',
  '!!binary ab',
  '!!binary ===',
  '!!binary "aGV sbG8="',
  '!!binary "é"',
  '!!timestamp foo',
  '!!timestamp 2001-01-01',
  '!!merge x',
  '!!value x',
  '!!python/name:os.system x',
  '!!str [1]',
  '!!map [1]',
  '!!seq {a: 1}',
  '!!set {x}',
  '!!omap [1]',
  '!!omap [{a: 1}, {b: 2}]',
  '!!omap [{a: 1, b: 2}]',
  '!!pairs [{a: 1}, {a: 2}]',
  '!!set [x]',
]
const structures = [
  'k: &x 1\nb: &x 2\n',
  'k: &x 1\nb: *x\n',
  '= : 1\nk: a\n',
  '? [1]\n: x\nk: a\n',
  '? {a: 1}\n: x\n',
  '? !!set {a}\n: 1\n',
  '? !!binary YQ==\n: 1\nk: b\n',
  '<<: 1\nk: a\n',
  '<<: [1]\n',
  '<<: [{k: 1}]\n',
  '<<: {k: 0x10}\n',
  'base: &b {k: 0b11}\n<<: *b\n',
  'k: a\n<<: [*x]\n',
  '!!merge <<: {k: 1}\n',
  '"<<": 1\nk: 2\n',
  'k: [a, =]\n',
  'k: {a: !foo x}\n',
  'a: - 1\n',
  'k: *undefined\n',
]

describe('PyYAML, as the conformance oracle loads gadget.yaml', () => {
  it('constructs plain and quoted scalars as PyYAML does (the text of a content placeholder, or no document at all)', () => {
    agree(
      scalars.map((s) => `k: ${s}\n`),
      scalars.length - 2,
    )
  })

  it('constructs tagged scalars and collections as PyYAML does', () => {
    agree(
      tagged.map((s) => `k: ${s}\n`),
      tagged.length - 2,
    )
  })

  it("refuses what PyYAML refuses in the document's structure: duplicate anchors, unhashable keys, bad merges", () => {
    agree(structures, structures.length - 3)
  })

  it('agrees with PyYAML on generated scalars', () => {
    const char = fc.constantFrom(...'abfnotyYNOTFZMG0123456789_-+.:/eExX~= '.split(''))
    const text = fc.array(char, {maxLength: 12, minLength: 1}).map((c) => c.join(''))
    const tag = fc.constantFrom('', '', '', '!!int ', '!!float ', '!!bool ', '!!binary ', '!!timestamp ', '!!str ', '! ')
    const docs = fc.sample(
      fc.tuple(tag, text).map(([t, s]) => `k: ${t}${s}\n`),
      {numRuns: 3000, seed: 7},
    )
    agree(docs, 1500)
  })

  it('agrees with PyYAML on generated dates and times, valid or not', () => {
    const n = (max: number, width: number) => fc.integer({max, min: 0}).map((v) => String(v).padStart(width, '0'))
    const time = fc
      .tuple(fc.constantFrom('T', 't', ' ', '  '), n(30, 1), n(70, 2), n(70, 2), fc.constantFrom('', '.', '.5', '.123456789'), fc.constantFrom('', 'Z', ' Z', '+1', '-5', '+23:59', '-24', '+24:00', ' +09:30', '+99'))
      .map(([sep, h, m, sec, frac, tz]) => `${sep}${h}:${m}:${sec}${frac}${tz}`)
    const date = fc
      .tuple(n(2400, 4), fc.integer({max: 14, min: 0}), fc.integer({max: 32, min: 0}), fc.boolean(), fc.option(time, {nil: ''}))
      .map(([y, m, d, pad, t]) => `${y}-${pad ? String(m).padStart(2, '0') : m}-${pad ? String(d).padStart(2, '0') : d}${t}`)
    const docs = fc.sample(
      date.map((d) => `k: ${d}\n`),
      {numRuns: 3000, seed: 3},
    )
    agree(docs, 2900)
  })
})
