/**
 * Conformance with snapd on the hand-written edge cases of test/fixtures/gadget/cases.
 *
 * Each case is `<rule>-<slug>.yaml`, judged alone (content it names counts as present, the way
 * the oracle stubs it), or a directory `<rule>-<slug>/` holding gadget.yaml and real content
 * files, judged as a snap tree. Every case opens with header comments:
 *
 *   # case: what it checks
 *   # rules: S1 P4        rule ids that must be among the findings ("none": nothing required).
 *                         An id is looked for in the 2.57 findings; a rule snapd 2.57 does not
 *                         have (a `since` in the catalog), or a case with a `latest:` line, may
 *                         instead have it in the findings for the newest snapd.
 *   # latest: valid       only where the newest snapd's verdict differs from 2.57's
 *   # at: S1 12:15        where that rule's finding must start (line:col), comma-separated
 *
 * The 2.57 verdicts are stored in verdicts-snapd-2.57.6.jsonl (scripts/record-verdicts.mjs
 * writes it) and re-checked against the real `snap pack --check-skeleton` when snapd is here.
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {promisify} from 'node:util'

import type {Finding} from '../../src/gadget/findings/finding.js'
import {type RuleId, rules} from '../../src/gadget/findings/rules.js'
import {directoryTree} from '../../src/gadget/checks/content-tree.js'
import type {GadgetValidation} from '../../src/gadget/validate.js'
import {oracleAvailable, oracleRequired, runOracle} from '../helpers/oracle.js'
import {validateAsOracle} from '../helpers/oracle-tree.js'
import {fixtures, shared} from '../helpers/paths.js'

const dir = fixtures('gadget', 'cases')
const VERDICTS = 'verdicts-snapd-2.57.6.jsonl'

/** snapd rules that need a model assertion or a kernel snap, which `snap pack` never has. */
const needsModelOrKernel = new Set<RuleId>(['V6'])

interface StoredVerdict {
  case: string
  valid: boolean
  error: null | string
}

interface Position {
  rule: RuleId
  line: number
  column: number
}

interface Case {
  name: string
  /** The gadget.yaml, relative to the cases directory. */
  file: string
  /** Set for directory cases: the snap tree holding the content. */
  tree?: string
  content: Buffer
  what: string
  rules: RuleId[]
  latest?: boolean
  at: Position[]
}

function loadCases(): Case[] {
  const cases: Case[] = []
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) {
      const file = join(entry, 'gadget.yaml')
      cases.push(parseCase(entry, file, readFileSync(join(dir, file)), path))
    } else if (entry.endsWith('.yaml')) {
      cases.push(parseCase(entry.slice(0, -'.yaml'.length), entry, readFileSync(path)))
    }
  }

  return cases.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

const catalogIds = new Set<string>(rules.map((r) => r.id))
const isRuleId = (id: string): id is RuleId => catalogIds.has(id)

/** A rule id from a case's headers, which must be one of the catalog's. */
function ruleId(caseName: string, id: string): RuleId {
  assert.ok(isRuleId(id), `${caseName}: unknown rule id ${id}`)
  return id
}

/** The text of a case file: UTF-8, or UTF-16 with a byte order mark. */
function text(content: Buffer): string {
  if (content[0] === 0xff && content[1] === 0xfe) return content.subarray(2).toString('utf16le')
  if (content[0] === 0xfe && content[1] === 0xff) return Buffer.from(content.subarray(2)).swap16().toString('utf16le')
  return content.toString('utf8').replace(/^\uFEFF/, '')
}

function parseCase(name: string, file: string, content: Buffer, tree?: string): Case {
  const headers = new Map<string, string>()
  for (const line of text(content).split(/\r?\n/)) {
    const m = /^# ([a-z]+): (.*)$/.exec(line)
    if (!m) break
    headers.set(m[1], m[2].trim())
  }

  const ruleIds = (headers.get('rules') ?? '')
    .split(/\s+/)
    .filter((r) => r && r !== 'none')
    .map((r) => ruleId(name, r))
  const latest = headers.get('latest')
  const at = (headers.get('at') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^([A-Z]\d+) (\d+):(\d+)$/.exec(s)
      assert.ok(m, `${name}: bad "# at:" entry "${s}"`)
      return {column: Number(m[3]), line: Number(m[2]), rule: ruleId(name, m[1])}
    })
  assert.ok(headers.has('case'), `${name}: no "# case:" header`)
  assert.ok(headers.has('rules'), `${name}: no "# rules:" header`)
  assert.ok(latest === undefined || latest === 'valid' || latest === 'invalid', `${name}: "# latest:" must be valid or invalid`)
  return {
    at,
    content,
    file,
    latest: latest === undefined ? undefined : latest === 'valid',
    name,
    rules: ruleIds,
    tree,
    what: headers.get('case') ?? '',
  }
}

const cases = loadCases()
const stored = readFileSync(join(dir, VERDICTS), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as StoredVerdict)
const storedByName = new Map(stored.map((v) => [v.case, v]))

const judged = new Map<string, GadgetValidation>()
function judge(c: Case, snapd: '2.57' | 'latest'): GadgetValidation {
  const key = `${snapd}\u0000${c.name}`
  let result = judged.get(key)
  if (!result) {
    // The cases' verdicts are the oracle's: gadget.yaml alone is judged with the oracle's placeholders.
    result = validateAsOracle({content: c.content, file: c.file}, {snapd, ...(c.tree ? {tree: directoryTree(c.tree, 'snap')} : {})})
    judged.set(key, result)
  }

  return result
}

const sinceOf = new Map(rules.map((r) => [r.id, r.since]))
/** The run in which a case's rule id is expected: 2.57, else (newer rules, section-D cases) latest. */
function findingsFor(c: Case, rule: RuleId): Finding[] {
  const old = judge(c, '2.57').findings.filter((f) => f.rule === rule)
  if (old.length > 0 || (sinceOf.get(rule) === undefined && c.latest === undefined)) return old
  return judge(c, 'latest').findings.filter((f) => f.rule === rule)
}

const show = (r: GadgetValidation) => (r.verdict.valid ? 'valid' : `invalid (${r.verdict.error?.replaceAll('\n', ' ')})`)
const where = (fs: Finding[]) => fs.map((f) => `${f.rule}@${f.start?.line}:${f.start?.column}`).join(' ') || 'no findings'

describe('conformance cases against snapd', () => {
  it('has at least 150 cases, each with a stored 2.57.6 verdict', () => {
    assert.ok(cases.length >= 150, `only ${cases.length} cases`)
    assert.deepEqual(
      cases.map((c) => c.name),
      stored.map((v) => v.case),
    )
  })

  it('agrees with snapd 2.57.6 on every case (--snapd 2.57)', () => {
    const disagreements: string[] = []
    for (const c of cases) {
      const want = storedByName.get(c.name)
      const result = judge(c, '2.57')
      if (want && result.verdict.valid !== want.valid) {
        disagreements.push(`${c.name}: snapd says ${want.valid ? 'valid' : `invalid (${want.error})`}, we say ${show(result)}`)
      }
    }

    assert.deepEqual(disagreements, [])
  })

  it('reports the rules each case names', () => {
    const missing: string[] = []
    for (const c of cases) {
      for (const rule of c.rules) {
        if (findingsFor(c, rule).length === 0) missing.push(`${c.name}: no ${rule} finding (we report ${where(judge(c, '2.57').findings)})`)
      }
    }

    assert.deepEqual(missing, [])
  })

  it('places findings where the cases say they start', () => {
    const misplaced: string[] = []
    for (const c of cases) {
      for (const at of c.at) {
        const found = findingsFor(c, at.rule)
        if (!found.some((f) => f.start?.line === at.line && f.start?.column === at.column)) {
          misplaced.push(`${c.name}: ${at.rule} expected at ${at.line}:${at.column}, found ${where(found)}`)
        }
      }
    }

    assert.deepEqual(misplaced, [])
  })

  it('judges the section-D cases as the newest snapd does (--snapd latest)', () => {
    const flipped = cases.filter((c) => c.latest !== undefined)
    assert.ok(flipped.length > 0)
    const disagreements: string[] = []
    for (const c of flipped) {
      const want = storedByName.get(c.name)
      assert.notEqual(c.latest, want?.valid, `${c.name}: a "# latest:" line must differ from the 2.57 verdict`)
      const result = judge(c, 'latest')
      if (result.verdict.valid !== c.latest) disagreements.push(`${c.name}: newest snapd says ${c.latest ? 'valid' : 'invalid'}, we say ${show(result)}`)
    }

    assert.deepEqual(disagreements, [])
  })

  it('keeps every other verdict under the newest snapd', () => {
    const disagreements: string[] = []
    for (const c of cases.filter((k) => k.latest === undefined)) {
      const want = storedByName.get(c.name)
      const result = judge(c, 'latest')
      if (want && result.verdict.valid !== want.valid) disagreements.push(`${c.name}: newest snapd says ${want.valid ? 'valid' : 'invalid'}, we say ${show(result)}`)
    }

    assert.deepEqual(disagreements, [])
  })

  it('covers every snapd rule of sections P, T, V, S, C, U, X, R and E', () => {
    const covered = new Set(cases.flatMap((c) => c.rules))
    const uncovered = rules
      .filter((r) => r.source === 'snapd' && /^[PTVSCUXRE]\d/.test(r.id) && !needsModelOrKernel.has(r.id))
      .map((r) => r.id)
      .filter((id) => !covered.has(id))
    assert.deepEqual(uncovered, [])
  })

  it('stored verdicts still match the real snapd', {skip: !oracleAvailable() && !oracleRequired() && 'snapd is not installed'}, async () => {
    assert.ok(oracleAvailable(), 'snapd (snap) and python3-yaml are required for this test in CI')
    const files = cases.filter((c) => !c.tree)
    const trees = cases.filter((c) => c.tree)
    // Directory cases need their own oracle run each (--content-dir); they run alongside the rest.
    const oracle = promisify(execFile)
    const treeRuns = trees.map(async (c) => {
      const {stdout} = await oracle(shared('tools', 'snapd-oracle.sh'), ['--content-dir', c.name, '--no-stub', c.file], {cwd: dir})
      return JSON.parse(stdout.trim()) as {valid: boolean}
    })
    const single = runOracle(
      files.map((c) => c.file),
      {cwd: dir},
    )
    const perTree = await Promise.all(treeRuns)
    const fresh = new Map<string, boolean>()
    single.forEach((v, i) => fresh.set(files[i].name, v.valid))
    perTree.forEach((v, i) => fresh.set(trees[i].name, v.valid))
    assert.deepEqual(
      stored.map((s) => [s.case, fresh.get(s.case)]),
      stored.map((s) => [s.case, s.valid]),
    )
  })
})
