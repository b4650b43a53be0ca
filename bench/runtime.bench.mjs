// The on-device prepare-device runtime on the engine gadgets ship (QuickJS) against Node, on the
// built bundle, in one run:
//  1. what engine + runtime add to a gadget snap, per architecture: QuickJS's Debian trixie
//     package (.deb size, and the qjs binary it installs), the bundle, and both squashed as snapcraft
//     squashes a snap (xz); target <= 2 MB. Ubuntu's archive, where a core24 gadget's quickjs
//     comes from, cannot be reached here: trixie's packages of the same engine are the measurable
//     stand-in. For scale, this machine's node binary squashed the same way;
//  2. peak memory of a hook run (max RSS from /usr/bin/time -f %M) on QuickJS and on Node;
//  3. wall time of a hook run on QuickJS and on Node, side by side with `node -e 0`, also without
//     the identity signature (tweetnacl on QuickJS, node:crypto on Node);
//  4. the runtimes' sizes, one per onboarding mode (this bench runs the api-key one): target <= 190 KB.
// A hook run: Raspberry Pi tree, a snapctl that only records, the identity key of an earlier run
// (as on every retry). QuickJS runs through trixie's own dynamic loader (scripts/quickjs.sh).
//
//   npm run bench -- runtime
import {spawnSync} from 'node:child_process'
import {chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
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
const ARCHES = [
  ['amd64', 'x86_64-linux-gnu'],
  ['arm64', 'aarch64-linux-gnu'],
  ['armhf', 'arm-linux-gnueabihf'],
]
const quickjsScript = join(root, 'scripts', 'quickjs.sh')
const cache = join(root, '.cache', 'quickjs')
for (const [arch] of ARCHES) {
  const prepared = spawnSync('bash', [quickjsScript, 'prepare', arch], {encoding: 'utf8'})
  if (prepared.status !== 0) {
    console.error(`scripts/quickjs.sh prepare ${arch} failed: ${prepared.stderr.trim()}`)
    process.exit(1)
  }
}

const work = mkdtempSync(join(tmpdir(), 'snap-gadget-runtime-bench-'))
process.on('exit', () => rmSync(work, {force: true, recursive: true}))
// A copy, so that a build started meanwhile (others share dist/) cannot swap the file under the runs.
const runtime = join(work, 'prepare-device.cjs')
copyFileSync(bundle, runtime)

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

const config = join(work, 'registration.json')
writeFileSync(
  config,
  JSON.stringify({
    body: {facts: ['board-model', 'board-revision', 'serial-source']},
    deviceService: {preset: 'serial-vault'},
    headers: {'api-key': {env: 'MODEL_APIKEY'}},
    serial: {board: 'raspberry-pi'},
  }),
)

// The same without the identity (no Ed25519 signature), to show the signature's share of a run.
const plainConfig = join(work, 'registration-plain.json')
writeFileSync(plainConfig, JSON.stringify({...JSON.parse(readFileSync(config, 'utf8')), identity: false}))

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

const amd64Lib = join(cache, 'amd64', 'sysroot', 'usr', 'lib', 'x86_64-linux-gnu')
const qjs = [join(amd64Lib, 'ld-linux-x86-64.so.2'), '--library-path', amd64Lib, join(cache, 'amd64', 'root', 'usr', 'bin', 'qjs'), '--std']
const args = [runtime, '--config', config, '--root', tree]
const onQuickJs = [...qjs, ...args]
const onNode = [process.execPath, ...args]
const plainArgs = [runtime, '--config', plainConfig, '--root', tree]
const plainOnQuickJs = [...qjs, ...plainArgs]
const plainOnNode = [process.execPath, ...plainArgs]
const baseline = [process.execPath, '-e', '0']

// One run on each engine first: the first makes the identity key (the first boot), and both prove
// the setup works and agree on what they set.
{
  const calls = []
  for (const argv of [onNode, onQuickJs]) {
    rmSync(process.env.SNAPCTL_LOG, {force: true})
    const run = spawnSync(argv[0], argv.slice(1), {encoding: 'utf8'})
    if (run.status !== 0) {
      console.error(`the runtime failed on ${argv === onNode ? 'Node' : 'QuickJS'}: ${run.stderr}`)
      process.exit(1)
    }

    calls.push(readFileSync(process.env.SNAPCTL_LOG, 'utf8'))
  }

  if (calls[0] !== calls[1]) {
    console.error(`Node and QuickJS made different snapctl calls:\n${calls.join('\n---\n')}`)
    process.exit(1)
  }
}

const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`

/** The size of `entries` ([path in the snap, file]) squashed as snapcraft packs a snap; undefined without mksquashfs. */
function squashed(entries, name) {
  const dir = join(work, `squash-${name}`)
  for (const [path, file] of entries) {
    mkdirSync(dirname(join(dir, path)), {recursive: true})
    copyFileSync(file, join(dir, path))
  }

  const image = join(work, `${name}.squashfs`)
  const made = spawnSync('mksquashfs', [dir, image, '-noappend', '-comp', 'xz', '-all-root', '-no-xattrs', '-no-fragments', '-quiet'], {encoding: 'utf8'})
  rmSync(dir, {force: true, recursive: true})
  if (made.error || made.status !== 0) return undefined
  const size = statSync(image).size
  rmSync(image)
  return size
}

// 1. Size added to the snap.
{
  const hasSquashfs = !spawnSync('mksquashfs', ['-version'], {stdio: 'ignore'}).error
  for (const [arch] of ARCHES) {
    const debs = join(cache, arch, 'debs')
    const deb = readdirSync(debs).find((f) => f.startsWith('quickjs_'))
    const binary = join(cache, arch, 'root', 'usr', 'bin', 'qjs')
    const installed = statSync(binary).size + statSync(runtime).size
    const inSnap = hasSquashfs
      ? squashed(
          [
            ['usr/bin/qjs', binary],
            ['runtime/prepare-device.cjs', runtime],
            ['runtime/registration.json', config],
          ],
          arch,
        )
      : undefined
    const target = inSnap ?? installed
    console.log(
      `snap size added by engine + runtime, ${arch}: qjs ${kib(statSync(binary).size)} + runtime ${kib(statSync(runtime).size)} = ${mib(installed)} unpacked; ${inSnap === undefined ? 'squashed: skipped (mksquashfs is missing: apt-get install squashfs-tools)' : `${mib(inSnap)} squashed (xz)`} (target ≤ 2 MB) ${target <= 2 * 1024 * 1024 ? 'ok' : 'OVER TARGET'}; trixie's ${deb} is ${kib(statSync(join(debs, deb)).size)}`,
    )
  }

  if (hasSquashfs) {
    const node = squashed([['node', process.execPath]], 'node')
    if (node !== undefined) console.log(`for scale, this machine's node binary (${process.version}, ${mib(statSync(process.execPath).size)}) squashed the same way: ${mib(node)}`)
  }
}

// 2. Peak memory.
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
    const [quickjsKb, nodeKb, baseKb] = [[], [], []]
    for (let i = 0; i < runs; i++) {
      quickjsKb.push(maxRss(onQuickJs))
      nodeKb.push(maxRss(onNode))
      baseKb.push(maxRss(baseline))
    }

    const [q, n, b] = [median(quickjsKb) / 1024, median(nodeKb) / 1024, median(baseKb) / 1024]
    console.log(`peak memory of a hook run: QuickJS ${q.toFixed(1)} MB, Node ${n.toFixed(1)} MB (node -e 0: ${b.toFixed(1)} MB): QuickJS uses ${(n / q).toFixed(1)}× less (median max RSS of ${runs} runs)`)
  }
}

// 3. Wall time.
{
  const [quickjs, node, floor, quickjsPlain, nodePlain] = alternate([onQuickJs, onNode, baseline, plainOnQuickJs, plainOnNode], {rounds: ROUNDS, warmup: 3})
  console.log(`hook wall time: QuickJS ${fmt(median(quickjs))}, Node ${fmt(median(node))} (node -e 0: ${fmt(median(floor))}): median ratio QuickJS/Node ${medianRatio(quickjs, node).toFixed(2)}× over ${ROUNDS} rounds`)
  console.log(
    `hook wall time without the identity signature: QuickJS ${fmt(median(quickjsPlain))}, Node ${fmt(median(nodePlain))} (Ed25519 in pure JavaScript on QuickJS costs ${fmt(median(quickjs) - median(quickjsPlain))}, node:crypto ${fmt(median(node) - median(nodePlain))})`,
  )
}

// 4. The runtimes' sizes.
for (const [mode, file] of [
  ['api-key', runtime],
  ['hardware-identity', join(root, 'dist', 'runtime', 'prepare-device-hardware-identity.cjs')],
]) {
  const bytes = statSync(file).size
  console.log(`${mode} runtime size: ${bytes} bytes = ${(bytes / 1000).toFixed(1)} kB, ${(bytes / 1024).toFixed(1)} KiB (target ≤ 190 KB) ${bytes <= 190_000 ? 'ok' : 'OVER TARGET'}`)
}
