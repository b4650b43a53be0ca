// Benchmarks of `snap-gadget layout` (issue 21), measured side by side in one run:
//  1. cold start on the largest gadget.yaml of the corpus against `node -e 0` (target: median
//     ratio ≤ 1.6×; it rides validate's fast start, dist/fast/layout.cjs);
//  2. the size of its SVG and HTML pictures.
import {spawnSync} from 'node:child_process'
import {readdirSync, statSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {alternate, fmt, median, medianRatio} from './lib.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const corpusDir = join(root, '..', 'shared', 'corpus', 'gadget-yaml', 'real')
const largest = readdirSync(corpusDir)
  .map((f) => join(corpusDir, f))
  .sort((a, b) => statSync(b).size - statSync(a).size)[0]
const run = join(root, 'bin', 'run.js')
const name = largest.slice(corpusDir.length + 1)

{
  const times = alternate(
    [
      ['node', '-e', '0'],
      ['node', run, 'layout', largest],
    ],
    {rounds: 40, warmup: 5},
  )
  const ratio = medianRatio(times[1], times[0])
  console.log(`cold start: layout ${name} (${statSync(largest).size} bytes) ${fmt(median(times[1]))} vs node -e 0 ${fmt(median(times[0]))}: median ratio ${ratio.toFixed(2)}× (target ≤ 1.6×)`)
}

for (const format of ['svg', 'html']) {
  const out = spawnSync('node', [run, 'layout', largest, '--format', format], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  console.log(`${format} of ${name}: ${Buffer.byteLength(out.stdout)} bytes (exit ${out.status})`)
}
