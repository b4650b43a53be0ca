// Shared benchmark helpers: commands timed in alternation (so machine noise hits all of them
// alike) and compared by the median of their per-round ratios.
import {spawnSync} from 'node:child_process'
import {sign} from 'node:crypto'

/**
 * Variables that make every Node start do extra work, whatever it runs: NODE_EXTRA_CA_CERTS makes
 * Node read and parse that CA file before any code runs (with a distribution's bundle, about 80 ms
 * here, twice `node -e 0` itself), NODE_OPTIONS can add flags and preloads. A hook snapd runs has
 * none of them, nor does a typical shell, so every timed command, and `node -e 0` with it, runs
 * without them: otherwise a fixed cost on both sides would shrink every ratio.
 */
export const NODE_STARTUP_VARIABLES = ['NODE_COMPILE_CACHE', 'NODE_DEBUG', 'NODE_DEBUG_NATIVE', 'NODE_EXTRA_CA_CERTS', 'NODE_ICU_DATA', 'NODE_OPTIONS', 'NODE_V8_COVERAGE']
/** Those this benchmark removed from its environment (and so from every command it runs). */
export const removedVariables = NODE_STARTUP_VARIABLES.filter((name) => process.env[name] !== undefined)
for (const name of removedVariables) delete process.env[name]

/** Runs each command once per round, in rotating order; returns wall times in ms per command. */
export function alternate(commands, {rounds = 30, warmup = 3, cwd} = {}) {
  const times = commands.map(() => [])
  for (let r = -warmup; r < rounds; r++) {
    for (let k = 0; k < commands.length; k++) {
      const i = (((r + k) % commands.length) + commands.length) % commands.length
      const [cmd, ...args] = commands[i]
      const start = process.hrtime.bigint()
      const res = spawnSync(cmd, args, {cwd, stdio: 'ignore'})
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (res.error) throw res.error
      if (r >= 0) times[i].push(ms)
    }
  }

  return times
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

/** Median over rounds of times[a][round] / times[b][round]. */
export function medianRatio(a, b) {
  return median(a.map((t, i) => t / b[i]))
}

export const fmt = (ms) => `${ms.toFixed(1)} ms`

/**
 * RSA signatures per second of `privateKey` over `content` on one core, after a short warm-up:
 * the limit a device service cannot pass, measured in the same run as the service.
 */
export function signingLimit(privateKey, content, {seconds = 3} = {}) {
  for (let i = 0; i < 20; i++) sign('sha512', content, privateKey)
  let signatures = 0
  const start = performance.now()
  while (performance.now() - start < seconds * 1000) {
    sign('sha512', content, privateKey)
    signatures++
  }

  return signatures / ((performance.now() - start) / 1000)
}
