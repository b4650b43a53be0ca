// The on-device prepare-device runtime (issue 4), on the built bundle, each figure measured side by
// side with `node -e 0` in one run:
//  1. wall time of a hook run (Raspberry Pi tree, recording snapctl, identity key already made, as
//     on every retry; the V8 code cache beside the bundle, as a gadget build makes it) against
//     `node -e 0`: median of per-round ratios, target <= 1.3x; the same without the identity, and
//     without the code cache, to show their shares;
//  2. bundle size: target <= 150 KB;
//  3. peak memory (max RSS from /usr/bin/time -f %M) against `node -e 0`;
//  4. child processes other than snapctl (execve under strace -f): target 0.
//
//   npm run bench -- runtime
import {spawnSync} from 'node:child_process'
import {chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {alternate, fmt, median, medianRatio} from './lib.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bundle = join(root, 'dist', 'runtime', 'prepare-device.cjs')
if (!existsSync(bundle)) {
  console.error(`${bundle} is missing: run node scripts/build.mjs first`)
  process.exit(1)
}

// tsc writes an unbundled file at the same path before esbuild replaces it: measure only a bundle.
if (/\bfrom\s*["']\.\.?\//.test(readFileSync(bundle, 'utf8'))) {
  console.error(`${bundle} imports relative modules: it is not the bundle (is a build running?)`)
  process.exit(1)
}

const ROUNDS = Number(process.env.SNAP_GADGET_BENCH_ROUNDS ?? 30)
const work = mkdtempSync(join(tmpdir(), 'snap-gadget-runtime-bench-'))
process.on('exit', () => rmSync(work, {force: true, recursive: true}))
// A copy, so that a build started meanwhile (others share dist/) cannot swap files under the runs.
// With it, the V8 code cache the build made with this Node, as a gadget build makes one with the
// Node it ships; and a second copy without one, as a cross-built gadget has.
const runtime = join(work, 'prepare-device.cjs')
copyFileSync(bundle, runtime)
const cache = bundle.replace(/\.cjs$/, '.code-cache')
if (!existsSync(cache)) {
  console.error(`${cache} is missing: run node scripts/build.mjs first`)
  process.exit(1)
}
copyFileSync(cache, join(work, 'prepare-device.code-cache'))
mkdirSync(join(work, 'no-cache'))
const uncached = join(work, 'no-cache', 'prepare-device.cjs')
copyFileSync(bundle, uncached)

// --- the hook's world: a Pi tree, its config, a snapctl that only records, the key of an earlier run ---
const capture = join(root, '..', 'shared', 'fixtures', 'hardware', 'raspberry-pi-4b', 'cpuinfo.arm64-no-hardware-line')
const tree = join(work, 'root')
const files = {
  '/proc/cpuinfo': existsSync(capture) ? readFileSync(capture) : 'processor\t: 0\nRevision\t: d03115\nSerial\t\t: 100000000fe69593\n',
  '/sys/firmware/devicetree/base/compatible': 'raspberrypi,4-model-b\0brcm,bcm2711\0',
  '/sys/firmware/devicetree/base/model': 'Raspberry Pi 4 Model B Rev 1.5\0',
}
for (const [path, data] of Object.entries(files)) {
  mkdirSync(dirname(join(tree, path)), {recursive: true})
  writeFileSync(join(tree, path), data)
}

const config = (identity) => {
  const file = join(work, `registration-${identity ? 'identity' : 'plain'}.json`)
  writeFileSync(
    file,
    JSON.stringify({
      body: {facts: ['board-model', 'board-revision', 'serial-source']},
      deviceService: {preset: 'serial-vault'},
      headers: {'api-key': {env: 'MODEL_APIKEY'}},
      identity: {enabled: identity},
      serial: {board: 'raspberry-pi'},
    }),
  )
  return file
}

const withIdentity = config(true)
const withoutIdentity = config(false)

const bin = join(work, 'bin')
mkdirSync(bin)
// A shell script: it starts in about a millisecond and runs nothing else (printf is a builtin).
writeFileSync(join(bin, 'snapctl'), '#!/bin/sh\nprintf "%s\\n" "$*" >> "$SNAPCTL_LOG"\nexit 0\n')
chmodSync(join(bin, 'snapctl'), 0o755)

const snapData = join(work, 'data')
mkdirSync(snapData)
// alternate() runs its commands with this process's environment.
Object.assign(process.env, {MODEL_APIKEY: 'bench-api-key', PATH: `${bin}:${process.env.PATH}`, SNAP_DATA: snapData, SNAP_NAME: 'pi', SNAPCTL_LOG: join(work, 'snapctl.log')})
delete process.env.SNAP_SAVE_DATA

const hook = (file, bundleCopy = runtime) => [process.execPath, bundleCopy, '--config', file, '--root', tree]
const baseline = [process.execPath, '-e', '0']

// The floor: only what any Node hook doing this job must do, with nothing of ours in it: load
// node:child_process and node:crypto, read the hardware file and the identity key, make one
// Ed25519 signature, and run the same two snapctl commands the runtime runs on this tree
// (is-connected for its plug, then set). No runtime can be faster than this on this machine.
const floor = join(work, 'floor.cjs')
writeFileSync(
  floor,
  `const {spawnSync} = require('node:child_process')
const {createPrivateKey, sign} = require('node:crypto')
const {readFileSync} = require('node:fs')
const cpuinfo = readFileSync(${JSON.stringify(join(tree, 'proc', 'cpuinfo'))})
const {seed} = JSON.parse(readFileSync(${JSON.stringify(join(snapData, 'device-identity.key'))}, 'utf8'))
const key = createPrivateKey({format: 'jwk', key: {crv: 'Ed25519', d: seed, kty: 'OKP', x: ''}})
const signature = sign(null, cpuinfo, key).toString('base64url')
for (const args of [['is-connected', 'hardware-observe'], ['set', 'registration.body=' + JSON.stringify(signature)]]) {
  if (spawnSync('snapctl', args, {stdio: ['ignore', 'pipe', 'pipe']}).status !== 0) process.exit(1)
}
`,
)
const floorRun = [process.execPath, floor]
{
  const status = spawnSync(process.execPath, [runtime, '--code-cache-status'], {encoding: 'utf8'}).stdout.trim()
  if (status !== 'accepted') {
    console.error(`this Node ${status === 'rejected' ? 'rejects' : 'did not find'} the build's code cache: rebuild with this Node (node scripts/build.mjs)`)
    process.exit(1)
  }
}

// One run first: it makes the identity key (the first boot), proves the setup works, and is what
// every later run (a retry) reuses.
{
  const first = spawnSync(hook(withIdentity)[0], hook(withIdentity).slice(1), {encoding: 'utf8'})
  if (first.status !== 0) {
    console.error(`the runtime failed: ${first.stderr}`)
    process.exit(1)
  }
}

// 1. Wall time.
{
  if (spawnSync(floorRun[0], floorRun.slice(1)).status !== 0) {
    console.error('the floor script failed')
    process.exit(1)
  }

  const times = alternate([hook(withIdentity), hook(withoutIdentity), hook(withIdentity, uncached), floorRun, baseline], {rounds: ROUNDS, warmup: 3})
  const [identity, plain, cold, least, node] = times
  const ratio = medianRatio(identity, node)
  console.log(`runtime wall time: ${fmt(median(identity))} vs node -e 0 ${fmt(median(node))}: median ratio ${ratio.toFixed(2)}× (target ≤ 1.3×) ${ratio <= 1.3 ? 'ok' : 'OVER TARGET'}`)
  console.log(
    `the floor (child_process and crypto loaded, two files read, one Ed25519 signature, the same two snapctl runs; none of our code): ${fmt(median(least))}: median ratio ${medianRatio(least, node).toFixed(2)}×; the runtime costs ${fmt(median(identity.map((t, i) => t - least[i])))} more (median per round)`,
  )
  console.log(`runtime wall time without the identity: ${fmt(median(plain))}: median ratio ${medianRatio(plain, node).toFixed(2)}× (the Ed25519 key load and signature cost ${fmt(median(identity) - median(plain))})`)
  console.log(`runtime wall time without a code cache (a cross-built gadget): ${fmt(median(cold))}: median ratio ${medianRatio(cold, node).toFixed(2)}× (the cache saves ${fmt(median(cold) - median(identity))})`)
}

// 2. Bundle size.
{
  const kb = statSync(runtime).size / 1024
  console.log(`bundle size: ${kb.toFixed(1)} KB (target ≤ 150 KB) ${kb <= 150 ? 'ok' : 'OVER TARGET'}`)
}

// 3. Peak memory.
{
  const maxRss = (argv) => {
    const result = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], {encoding: 'utf8'})
    if (result.error || result.status !== 0) return undefined
    return Number(result.stderr.trim().split('\n').at(-1))
  }

  if (maxRss(baseline) === undefined) {
    console.log('peak memory: skipped (/usr/bin/time is missing: apt-get install time)')
  } else {
    const runs = 10
    const hookKb = []
    const nodeKb = []
    for (let i = 0; i < runs; i++) {
      hookKb.push(maxRss(hook(withIdentity)))
      nodeKb.push(maxRss(baseline))
    }

    const [h, n] = [median(hookKb) / 1024, median(nodeKb) / 1024]
    console.log(`peak memory: ${h.toFixed(1)} MB vs node -e 0 ${n.toFixed(1)} MB: +${(h - n).toFixed(1)} MB, ratio ${(h / n).toFixed(2)}× (median max RSS of ${runs} runs)`)
  }
}

// 4. Child processes other than snapctl.
{
  const probe = spawnSync('strace', ['-V'], {stdio: 'ignore'})
  if (probe.error || probe.status !== 0) {
    console.log('child processes other than snapctl: skipped (strace is missing: apt-get install strace)')
  } else {
    const trace = join(work, 'execve.trace')
    const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-o', trace, ...hook(withIdentity)], {encoding: 'utf8'})
    if (result.status !== 0) {
      console.log(`child processes other than snapctl: skipped (strace failed: ${result.stderr.trim().split('\n')[0]})`)
    } else {
      // Successful execve calls only (PATH lookups that miss return ENOENT); the first is node itself.
      const programs = readFileSync(trace, 'utf8')
        .split('\n')
        .filter((line) => /\bexecve\(/.test(line) && /= 0$/.test(line))
        .map((line) => /execve\("([^"]+)"/.exec(line)?.[1] ?? '?')
      const children = programs.slice(1)
      const snapctl = children.filter((p) => basename(p) === 'snapctl').length
      const others = children.filter((p) => basename(p) !== 'snapctl')
      console.log(`child processes other than snapctl: ${others.length} (target 0) ${others.length === 0 ? 'ok' : `OVER TARGET: ${others.join(', ')}`}; snapctl runs: ${snapctl}`)
    }
  }
}
