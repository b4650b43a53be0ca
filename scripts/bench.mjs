#!/usr/bin/env node
// Runs every benchmark in bench/ (or the ones named), one after another, on the built package.
// Each benchmark measures ratios side by side in one run (this machine is shared and noisy)
// and prints a summary line per figure.
//   npm run bench                 all
//   npm run bench -- serial       bench/serial.bench.mjs only
import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {removedVariables} from '../bench/lib.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (!existsSync(join(root, 'dist')) || process.argv.includes('--build')) execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {stdio: 'inherit'})
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const benches = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort()
// Importing lib.mjs removed the variables that add work to every Node start (see there).
if (removedVariables.length > 0)
  console.log(`timed commands run without ${removedVariables.join(', ')}: set in this shell, ${removedVariables.length > 1 ? 'they add' : 'it adds'} work to every Node start, and a hook has none of them`)
for (const bench of benches) {
  console.log(`\n## ${bench.replace('.bench.mjs', '')}`)
  execFileSync(process.execPath, ['--expose-gc', join(root, 'bench', bench)], {cwd: root, stdio: 'inherit'})
}
