// The device side of hardware-identity onboarding, on the built bundle, in one run:
//  1. ECDSA P-256 key generation and signing in pure JavaScript (@noble/curves, as the runtime's
//     QuickJS host does it) on QuickJS amd64 (native) and arm64 and armhf (under qemu-user:
//     EMULATED, slower than the boards themselves), against node:crypto on this machine. Times
//     inside the engine, without its start: "cold" is the first operation of a fresh process (it
//     builds noble's tables; the hook does one of each per run), "warm" the median of the next;
//  2. the prepare-serial-request hook's wall time on QuickJS amd64 (qjs start included, a
//     snapctl that answers `get` from a shell script): target <= 500 ms; Node beside it;
//  3. the runtime's size, the hardware-identity one a gadget of this mode ships (and the api-key
//     one beside it): target <= 190 KB.
//
//   npm run bench -- hardware-identity
import {spawnSync} from 'node:child_process'
import {generateKeyPairSync, sign} from 'node:crypto'
import {chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {build} from 'esbuild'

import {alternate, fmt, median} from './lib.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bundle = join(root, 'dist', 'runtime', 'prepare-device-hardware-identity.cjs')
if (!existsSync(bundle) || /\bfrom\s*["']\.\.?\//.test(readFileSync(bundle, 'utf8'))) {
  console.error(`${bundle} is missing or not the bundle: run node scripts/build.mjs first`)
  process.exit(1)
}

const ROUNDS = Number(process.env.SNAP_GADGET_BENCH_ROUNDS ?? 20)
const quickjsScript = join(root, 'scripts', 'quickjs.sh')
const work = mkdtempSync(join(tmpdir(), 'snap-gadget-hardware-bench-'))
process.on('exit', () => rmSync(work, {force: true, recursive: true}))
const runtime = join(work, 'prepare-device.cjs')
copyFileSync(bundle, runtime)

for (const arch of ['amd64', 'arm64', 'armhf']) {
  const prepared = spawnSync('bash', [quickjsScript, 'prepare', arch], {encoding: 'utf8'})
  if (prepared.status !== 0) {
    console.error(`scripts/quickjs.sh prepare ${arch} failed: ${prepared.stderr.trim()}`)
    process.exit(1)
  }
}

// 1. Key generation and signing inside the engine. The bench script is built as the runtime is
// (ES2020, async lowered, one CommonJS file) from the runtime's own modules; its random bytes come
// from Math.random, which is not what is measured (the runtime reads /dev/urandom).
const ENTRY = `
import '../src/runtime/hosts/engine-fixes.js'
import {ecSign, generateEcKey} from '../src/runtime/hosts/noble-keys.js'
const now = () => (typeof os === 'object' && typeof os.now === 'function' ? os.now() : typeof performance === 'object' ? performance.now() : Date.now())
const random = (n) => Uint8Array.from({length: n}, () => Math.floor(Math.random() * 256))
const rounds = Number((typeof scriptArgs === 'object' ? scriptArgs : process.argv.slice(1))[1])
const message = new Uint8Array(40).fill(65)
const keygen = []
const signing = []
let key
for (let i = 0; i <= rounds; i++) {
  let t = now()
  key = generateEcKey('ecdsa-p256', random)
  keygen.push(now() - t)
  t = now()
  ecSign(key, message, random)
  signing.push(now() - t)
}
const out = JSON.stringify({keygen, signing})
if (typeof std === 'object') std.out.puts(out + '\\n')
else console.log(out)
`
const benchScript = join(work, 'ecdsa-bench.cjs')
await build({
  bundle: true,
  format: 'cjs',
  legalComments: 'none',
  logLevel: 'warning',
  mainFields: ['module', 'main'],
  minify: true,
  outfile: benchScript,
  platform: 'neutral',
  stdin: {contents: ENTRY, loader: 'ts', resolveDir: join(root, 'bench'), sourcefile: 'ecdsa-bench.ts'},
  supported: {'async-await': false},
  target: 'es2020',
})

const summary = ({keygen, signing}) => {
  const [coldKeygen, ...warmKeygen] = keygen
  const [coldSign, ...warmSign] = signing
  return {coldKeygen, coldSign, warmKeygen: median(warmKeygen), warmSign: median(warmSign)}
}

const figures = []
for (const [arch, rounds] of [
  ['amd64', ROUNDS],
  ['arm64', 5],
  ['armhf', 5],
]) {
  const run = spawnSync('bash', [quickjsScript, 'run', arch, '--', '--std', benchScript, String(rounds)], {encoding: 'utf8', timeout: 600_000})
  if (run.status !== 0) {
    console.error(`the ECDSA bench failed on QuickJS ${arch}: ${run.stderr}`)
    process.exit(1)
  }

  figures.push([`QuickJS ${arch}${arch === 'amd64' ? ' (native)' : ' (EMULATED: qemu-user)'}`, summary(JSON.parse(run.stdout))])
}

{
  const times = {keygen: [], signing: []}
  const message = Buffer.alloc(40, 65)
  for (let i = 0; i <= ROUNDS; i++) {
    let t = performance.now()
    const {privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
    times.keygen.push(performance.now() - t)
    t = performance.now()
    sign('sha256', message, {dsaEncoding: 'der', key: privateKey})
    times.signing.push(performance.now() - t)
  }

  figures.push([`node:crypto (${process.version}, amd64)`, summary(times)])
}

for (const [where, f] of figures) {
  console.log(`ECDSA P-256 on ${where}: key generation ${fmt(f.coldKeygen)} cold, ${fmt(f.warmKeygen)} warm; signing ${fmt(f.coldSign)} cold, ${fmt(f.warmSign)} warm`)
}

// 2. The prepare-serial-request hook, as snapd runs it: the key prepare-device made, a request-id to sign.
{
  const save = join(work, 'save')
  mkdirSync(save)
  const {privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  writeFileSync(join(save, 'hardware-identity.key'), privateKey.export({format: 'pem', type: 'pkcs8'}), {mode: 0o600})
  const bin = join(work, 'bin')
  mkdirSync(bin)
  // A shell script: it starts in about a millisecond (printf is a builtin).
  writeFileSync(join(bin, 'snapctl'), '#!/bin/sh\nif [ "$1" = get ]; then printf "%s\\n" "REQID-BENCH-0123456789abcdef"; fi\nexit 0\n')
  chmodSync(join(bin, 'snapctl'), 0o755)
  Object.assign(process.env, {PATH: `${bin}:${process.env.PATH}`, SNAP_NAME: 'acme-gadget', SNAP_SAVE_DATA: save})
  const cache = join(root, '.cache', 'quickjs', 'amd64')
  const lib = join(cache, 'sysroot', 'usr', 'lib', 'x86_64-linux-gnu')
  const onQuickJs = [join(lib, 'ld-linux-x86-64.so.2'), '--library-path', lib, join(cache, 'root', 'usr', 'bin', 'qjs'), '--std', runtime, 'prepare-serial-request']
  const onNode = [process.execPath, runtime, 'prepare-serial-request']
  for (const argv of [onQuickJs, onNode]) {
    const check = spawnSync(argv[0], argv.slice(1), {encoding: 'utf8'})
    if (check.status !== 0) {
      console.error(`prepare-serial-request failed: ${check.stderr}`)
      process.exit(1)
    }
  }

  const [quickjs, node] = alternate([onQuickJs, onNode], {rounds: ROUNDS, warmup: 2})
  const q = median(quickjs)
  console.log(`prepare-serial-request hook wall time on QuickJS amd64: ${fmt(q)} (target ≤ 500 ms) ${q <= 500 ? 'ok' : 'OVER TARGET'}; on Node ${fmt(median(node))} (median of ${ROUNDS} rounds)`)
}

// 3. The runtimes' sizes (scripts/build.mjs makes one per onboarding mode).
for (const [mode, file] of [
  ['hardware-identity', runtime],
  ['api-key', join(root, 'dist', 'runtime', 'prepare-device.cjs')],
]) {
  const bytes = statSync(file).size
  console.log(`${mode} runtime: ${bytes} bytes = ${(bytes / 1000).toFixed(1)} kB, ${(bytes / 1024).toFixed(1)} KiB (target ≤ 190 KB) ${bytes <= 190_000 ? 'ok' : 'OVER TARGET'}`)
}
