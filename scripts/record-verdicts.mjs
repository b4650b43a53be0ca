#!/usr/bin/env node
// Records snapd's own verdict on every conformance case of test/fixtures/gadget/cases into
// verdicts-snapd-2.57.6.jsonl, one line per case, sorted by case name: {"case", "valid", "error"}.
//
//   node scripts/record-verdicts.mjs            rewrite the verdicts file
//   node scripts/record-verdicts.mjs --stdout   print the verdicts instead
//
// A case is either <name>.yaml, judged alone (the oracle creates empty placeholders for the
// content it names), or a directory <name>/ holding gadget.yaml and its content files, judged
// with exactly those files (--content-dir <name> --no-stub). Needs snapd's `snap` command and
// python3-yaml (apt-get install -y snapd python3-yaml); the oracle is ../shared/tools/snapd-oracle.sh.
import {execFile} from 'node:child_process'
import {existsSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

const run = promisify(execFile)
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const casesDir = join(root, 'test', 'fixtures', 'gadget', 'cases')
const oracle = process.env.SNAPD_ORACLE ?? join(root, '..', 'shared', 'tools', 'snapd-oracle.sh')
const out = join(casesDir, 'verdicts-snapd-2.57.6.jsonl')
const jobs = String(Math.max(2, availableParallelism()))

if (!existsSync(oracle)) {
  console.error(`record-verdicts: the snapd oracle was not found at ${oracle} (set SNAPD_ORACLE)`)
  process.exit(2)
}

const files = []
const dirs = []
for (const entry of readdirSync(casesDir).sort()) {
  const p = join(casesDir, entry)
  if (statSync(p).isDirectory()) {
    if (existsSync(join(p, 'gadget.yaml'))) dirs.push(entry)
  } else if (entry.endsWith('.yaml')) {
    files.push(entry)
  }
}

async function oracleRun(names, args = []) {
  const child = run(oracle, [...args, '-j', jobs, ...names], {cwd: casesDir, maxBuffer: 64 * 1024 * 1024})
  const {stdout} = await child
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
}

const verdicts = []
const [single, ...perDir] = await Promise.all([oracleRun(files), ...dirs.map((d) => oracleRun([join(d, 'gadget.yaml')], ['--content-dir', d, '--no-stub']))])
single.forEach((v, i) => verdicts.push({case: files[i].replace(/\.yaml$/, ''), valid: v.valid, error: v.error}))
perDir.forEach(([v], i) => verdicts.push({case: dirs[i], valid: v.valid, error: v.error}))
verdicts.sort((a, b) => (a.case < b.case ? -1 : a.case > b.case ? 1 : 0))

const text = verdicts.map((v) => JSON.stringify(v)).join('\n') + '\n'
if (process.argv.includes('--stdout')) {
  process.stdout.write(text)
} else {
  writeFileSync(out, text)
  const valid = verdicts.filter((v) => v.valid).length
  console.log(`${verdicts.length} cases (${files.length} files, ${dirs.length} directories): ${valid} valid, ${verdicts.length - valid} invalid`)
}
