// Benchmarks of `snap-gadget validate` (issue 2), each measured side by side in one run:
//  1. cold start on one gadget.yaml against `node -e 0` (target: median ratio ≤ 1.5);
//  2. the 107-file corpus in one validate call against 107 runs of snapd's
//     `snap pack --check-skeleton` (target: ≥ 20× faster);
//  3. in-process validateGadget throughput on the corpus (target: ≥ 5,000 files/s).
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {parse} from 'yaml'

import {validateGadget} from '../dist/index.js'
import {alternate, fmt, median, medianRatio} from './lib.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const corpusDir = join(root, '..', 'shared', 'corpus', 'gadget-yaml', 'real')
const corpus = readdirSync(corpusDir)
  .sort()
  .map((f) => join(corpusDir, f))
const one = corpus.find((f) => f.endsWith('canonical__pc-gadget__gadget.yaml')) ?? corpus[0]
const run = join(root, 'bin', 'run.js')

// 1. Cold start.
{
  const times = alternate(
    [
      ['node', '-e', '0'],
      ['node', run, 'validate', one],
    ],
    {rounds: 40, warmup: 5},
  )
  const ratio = medianRatio(times[1], times[0])
  console.log(`cold start: validate one gadget.yaml ${fmt(median(times[1]))} vs node -e 0 ${fmt(median(times[0]))}: median ratio ${ratio.toFixed(2)}× (target ≤ 1.5×)`)
}

// 2. The corpus in one call against snap pack --check-skeleton per file.
const snap = spawnSync('snap', ['pack', '--help'], {stdio: 'ignore'})
if (snap.status === 0) {
  const work = mkdtempSync(join(tmpdir(), 'snap-gadget-bench-'))
  try {
    const trees = corpus.map((file, i) => snapTree(work, i, file))
    const packAll = join(work, 'pack-all.sh')
    writeFileSync(packAll, trees.map((t) => `snap pack --check-skeleton ${t} >/dev/null 2>&1\n`).join(''))
    const times = alternate(
      [
        ['sh', packAll],
        ['node', run, 'validate', '--snapd', '2.57', ...corpus],
      ],
      {rounds: 10, warmup: 1},
    )
    const ratio = medianRatio(times[0], times[1])
    console.log(`corpus (${corpus.length} files): one validate call ${fmt(median(times[1]))} vs ${corpus.length} × snap pack --check-skeleton ${fmt(median(times[0]))}: ${ratio.toFixed(1)}× faster (target ≥ 20×)`)
  } finally {
    rmSync(work, {force: true, recursive: true})
  }
} else {
  console.log('corpus vs snap pack: skipped, snapd is not installed (apt-get install snapd)')
}

// 3. In-process throughput.
{
  const sources = corpus.map((file) => ({content: readFileSync(file), file}))
  // Steady state: a second of warm-up, so that no round pays for the JIT's first compilations.
  for (const until = performance.now() + 1000; performance.now() < until;) for (const s of sources) validateGadget(s)
  const rounds = []
  for (let r = 0; r < 5; r++) {
    const start = performance.now()
    let n = 0
    while (performance.now() - start < 1000) {
      for (const s of sources) validateGadget(s)
      n += sources.length
    }

    rounds.push(n / ((performance.now() - start) / 1000))
  }

  console.log(`in-process validateGadget: ${median(rounds).toFixed(0)} files/s (median of 5 one-second rounds; target ≥ 5,000)`)
}

/** A snap tree like the conformance oracle builds: meta/ plus empty content placeholders. */
function snapTree(work, i, file) {
  const dir = join(work, `g${i}`)
  mkdirSync(join(dir, 'meta'), {recursive: true})
  writeFileSync(join(dir, 'meta', 'snap.yaml'), "name: bench-gadget\nversion: '1'\ntype: gadget\n")
  const text = readFileSync(file)
  writeFileSync(join(dir, 'meta', 'gadget.yaml'), text)
  let doc
  try {
    doc = parse(text.toString('utf8'), {strict: false, uniqueKeys: false})
  } catch {
    return dir
  }

  for (const v of Object.values(doc?.volumes ?? {})) {
    for (const s of v?.structure ?? []) {
      for (const c of s?.content ?? []) {
        for (const p of [c?.source, c?.image]) {
          if (typeof p !== 'string' || p === '' || p.startsWith('$kernel:') || p.includes('..')) continue
          const full = join(dir, p)
          if (p.endsWith('/')) mkdirSync(full, {recursive: true})
          else {
            mkdirSync(dirname(full), {recursive: true})
            try {
              writeFileSync(full, '', {flag: 'wx'})
            } catch {}
          }
        }
      }
    }
  }

  return dir
}
