// readYaml (the libyaml-exact reader) against eemeli/yaml's parseDocument (failsafe schema,
// YAML 1.1) on the 107 real gadget.yaml files, in one process. The two are timed in alternating
// rounds so machine noise hits both alike; the figures are files per second, best round and
// median round, and the median of the per-round ratios.
//   node bench/yaml-reader.bench.mjs [rounds=30]
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseDocument} from 'yaml'

import {readYaml} from '../dist/go-yaml/read/parser.js'
import {median} from './lib.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const corpus = join(root, '..', 'shared', 'corpus', 'gadget-yaml', 'real')
const names = readdirSync(corpus).sort()
const bytes = names.map((name) => readFileSync(join(corpus, name)))
const texts = bytes.map((b) => b.toString('utf8'))
const rounds = Number(process.argv[2] ?? 30)

const contenders = [
  {name: 'readYaml (text)', run: () => texts.forEach((t) => readYaml(t)), passes: 20},
  {name: 'readYaml (bytes)', run: () => bytes.forEach((b) => readYaml(b)), passes: 20},
  {name: 'eemeli parseDocument', run: () => texts.forEach((t) => parseDocument(t, {schema: 'failsafe', version: '1.1'})), passes: 1},
]

// Warm up (JIT), then alternate.
for (const c of contenders) for (let i = 0; i < 10 * c.passes; i++) c.run()
const rates = contenders.map(() => [])
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < contenders.length; k++) {
    const i = (r + k) % contenders.length
    const c = contenders[i]
    globalThis.gc?.()
    const start = process.hrtime.bigint()
    for (let p = 0; p < c.passes; p++) c.run()
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    rates[i].push((c.passes * names.length) / seconds)
  }
}

const eemeli = rates.at(-1)
console.log(`${names.length} files, avg ${Math.round(bytes.reduce((n, b) => n + b.length, 0) / names.length)} bytes, ${rounds} rounds`)
for (const [i, c] of contenders.entries()) {
  const ratios = rates[i].map((rate, round) => rate / eemeli[round])
  console.log(`${c.name.padEnd(22)} best ${String(Math.round(Math.max(...rates[i]))).padStart(7)} files/s   median ${String(Math.round(median(rates[i]))).padStart(7)} files/s   ${median(ratios).toFixed(1)}x eemeli`)
}
