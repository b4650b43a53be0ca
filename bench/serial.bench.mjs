// Serial derivation in process: a board's default chain on a fixture root, target <= 5 ms per
// derivation (median and p95 over many runs). Side by side in the same run: the descriptive facts
// read directly, and the same facts through systeminformation (which spawns shells).
//
//   npm run bench -- serial                        on the built package (dist/)
//   SNAP_GADGET_BENCH_FROM=src node --import tsx bench/serial.bench.mjs    on src/, without a build
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const fromSource = process.env.SNAP_GADGET_BENCH_FROM === 'src'
const sdk = await import(fromSource ? '../src/serial/index.ts' : '../dist/serial/index.js')
const {createSourceContext, deriveSerial, readDeviceFacts} = sdk

const TARGET_MS = 5
const RUNS = Number(process.env.SNAP_GADGET_BENCH_RUNS ?? 1000)
const SI_RUNS = Number(process.env.SNAP_GADGET_BENCH_SI_RUNS ?? 10)

// --- fixture roots (real captures from ../shared when present, else equivalent synthetic files) ---
const hardware = join(here, '..', '..', 'shared', 'fixtures', 'hardware')
const capture = (file, fallback) => (existsSync(join(hardware, file)) ? readFileSync(join(hardware, file)) : fallback)

function bbbEeprom() {
  const bytes = Buffer.alloc(256, 0xff)
  Buffer.from([0xaa, 0x55, 0x33, 0xee]).copy(bytes, 0)
  bytes.write('A335BNLT0A5B2313BBBK0099', 4, 'latin1')
  return bytes
}

const base = mkdtempSync(join(tmpdir(), 'snap-gadget-bench-'))
process.on('exit', () => rmSync(base, {force: true, recursive: true}))

function root(name, files) {
  const dir = join(base, name)
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), {recursive: true})
    writeFileSync(join(dir, path), data)
  }

  return dir
}

const cases = [
  {
    board: 'raspberry-pi',
    // Pi 5 on a mainline-style kernel: no DT serial, so the chain reads three sources.
    root: root('pi5', {'/proc/cpuinfo': capture('raspberry-pi-5/cpuinfo.hrw-arm-socs-table', 'processor\t: 0\nSerial\t\t: 48343bbbe3ae743b\n')}),
  },
  {
    board: 'raspberry-pi',
    label: 'raspberry-pi (device tree)',
    root: root('pi5-dt', {'/sys/firmware/devicetree/base/serial-number': '48343bbbe3ae743b\0'}),
  },
  {board: 'beaglebone', root: root('bbb', {'/sys/bus/i2c/devices/0-0050/eeprom': capture('beaglebone-black/eeprom-0-0050.bin', bbbEeprom())})},
  {
    board: 'x86',
    root: root('x86', {
      '/sys/class/dmi/id/board_serial': 'M80-B7007400024\n',
      '/sys/class/dmi/id/product_serial': 'To Be Filled By O.E.M.\n',
      '/sys/class/dmi/id/sys_vendor': 'To Be Filled By O.E.M.\n',
    }),
  },
]

// --- measurement ---
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
const fmt = (ms) => (ms < 10 ? ms.toFixed(3) : ms.toFixed(1))

async function measure(runs, fn) {
  const times = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    times.push(performance.now() - start)
  }

  times.sort((a, b) => a - b)
  return {median: percentile(times, 50), p95: percentile(times, 95), runs}
}

globalThis.gc?.()
console.log(`serial derivation, in process (${fromSource ? 'src via tsx' : 'dist'}; ${RUNS} runs each after warm-up; target <= ${TARGET_MS} ms)`)
const summary = []
for (const c of cases) {
  const first = await deriveSerial({board: c.board, root: c.root})
  for (let i = 0; i < 50; i++) await deriveSerial({board: c.board, root: c.root})
  const m = await measure(RUNS, () => deriveSerial({board: c.board, root: c.root}))
  const verdict = m.p95 <= TARGET_MS ? 'ok' : m.median <= TARGET_MS ? 'ok (median), p95 over' : 'OVER TARGET'
  summary.push(m.median)
  console.log(`  ${(c.label ?? c.board).padEnd(28)} ${first.serial} from ${first.entry}: median ${fmt(m.median)} ms, p95 ${fmt(m.p95)} ms — ${verdict}`)
}

// --- descriptive facts: direct reads vs systeminformation, same run ---
globalThis.gc?.()
const context = () => createSourceContext({root: '/'})
await readDeviceFacts(context())
const direct = await measure(100, () => readDeviceFacts(context()))

const importStart = performance.now()
const loaded = await import('systeminformation')
const si = loaded.default ?? loaded
const importMs = performance.now() - importStart
const siFacts = () => Promise.all([si.system(), si.baseboard(), si.cpu()])
const coldStart = performance.now()
await siFacts()
const coldMs = performance.now() - coldStart
const warm = await measure(SI_RUNS, siFacts)

console.log('descriptive facts (manufacturer, model, board, CPU) of this machine')
console.log(`  direct reads (readDeviceFacts):            median ${fmt(direct.median)} ms, p95 ${fmt(direct.p95)} ms over ${direct.runs} runs, no child processes`)
console.log(`  systeminformation system+baseboard+cpu:    import ${fmt(importMs)} ms, first call ${fmt(coldMs)} ms, then median ${fmt(warm.median)} ms, p95 ${fmt(warm.p95)} ms over ${warm.runs} runs`)
console.log(
  `summary: serial derivation median ${fmt(Math.max(...summary))} ms at worst (target ${TARGET_MS} ms); systeminformation facts take ${Math.round(warm.median / direct.median)}x the direct reads (warm), ${Math.round((importMs + coldMs) / direct.median)}x cold`,
)
