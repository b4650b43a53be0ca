// Benchmark of `snap-gadget init`: a whole gadget written by a non-interactive run into a new
// directory, against `node -e 0`, in alternating rounds; the median of the per-round ratios is the
// figure. It has no target: init runs once per project, through oclif, and compiles its templates
// on the way (its fast entry and precompiled templates, at about 2×, were removed as not worth
// their machinery). The target directory is removed between rounds, outside the timing.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {fmt, median, medianRatio} from './lib.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = join(root, 'bin', 'run.js')
const work = mkdtempSync(join(tmpdir(), 'snap-gadget-bench-init-'))
const target = join(work, 'gadget')
const commands = [
  ['node', ['-e', '0']],
  ['node', [run, 'init', '--board', 'pc-amd64', '--brand', 'acme', '--timestamp', '2026-01-01T00:00:00Z', target]],
]

const time = ([cmd, args]) => {
  rmSync(target, {force: true, recursive: true})
  const start = process.hrtime.bigint()
  const res = spawnSync(cmd, args, {stdio: ['ignore', 'ignore', 'pipe']})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (res.status !== 0) throw new Error(`${args.join(' ')} failed: ${res.stderr}`)
  return ms
}

try {
  const rounds = 30
  const times = [[], []]
  for (let r = -3; r < rounds; r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0]
    for (const i of order) {
      const ms = time(commands[i])
      if (r >= 0) times[i].push(ms)
    }
  }

  const ratio = medianRatio(times[1], times[0])
  console.log(`init: a pc-amd64 gadget into a new directory ${fmt(median(times[1]))} vs node -e 0 ${fmt(median(times[0]))}: median ratio ${ratio.toFixed(2)}× (no target: init runs once per project)`)
} finally {
  rmSync(work, {force: true, recursive: true})
}
