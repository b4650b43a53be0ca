/**
 * GnuPG and snap's client as the brand-key tests drive them: throwaway GnuPG homes, keys made the
 * way `snap create-key` makes them (asserts/gpgkeypairmgr.go: RSA, 4096 bits, Name-Real = the key
 * name, created 2016-01-01, SHA-512 preferred), and `snap` run on such a home (SNAP_GNUPG_HOME) or
 * on an external key manager (SNAPD_EXT_KEYMGR). Nothing here touches ~/.snap or ~/.gnupg.
 */
import assert from 'node:assert/strict'
import {spawnSync, type SpawnSyncReturns} from 'node:child_process'
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TestContext} from 'node:test'

/** The creation time snapd gives every key it makes (v1FixedTimestamp). */
export const SNAPD_KEY_CREATION = 1_451_606_400

/** Why `tool` cannot run here, or undefined when it can. */
function unavailable(tool: 'gpg' | 'script' | 'snap'): string | undefined {
  const args = tool === 'snap' ? ['sign', '--help'] : ['--version']
  const run = spawnSync(tool, args, {stdio: 'ignore', timeout: 30_000})
  if (run.status === 0) return undefined
  return {gpg: 'gpg is not installed (apt-get install gnupg)', script: 'script is not installed (apt-get install util-linux)', snap: 'snap is not installed (apt-get install snapd)'}[tool]
}

/** Skips the test without the tools (fails it in CI, where they must be there). */
export function requireTools(t: TestContext, ...tools: Array<'gpg' | 'script' | 'snap'>): boolean {
  for (const tool of tools) {
    const reason = unavailable(tool)
    if (reason === undefined) continue
    if (process.env.CI === 'true') throw new Error(`required in CI: ${reason}`)
    t.skip(reason)
    return false
  }

  return true
}

/** Whether every tool is there (for a before hook, which cannot skip; the tests then do). */
export function haveTools(...tools: Array<'gpg' | 'script' | 'snap'>): boolean {
  return tools.every((tool) => unavailable(tool) === undefined)
}

/** A throwaway GnuPG home (mode 0700). `remove` stops its agent and deletes it. */
export interface GnupgHome {
  dir: string
  /** Runs gpg on this home in batch mode; fails the test when gpg fails. */
  gpg(args: string[], input?: string | Uint8Array): Buffer
  /** What `gpg --export-secret-keys` prints for `name` (binary, or armoured). */
  exportSecret(name: string, options?: {armor?: boolean; passphrase?: string}): Buffer
  /** Makes a key as `snap create-key` does, without a terminal: RSA, Name-Real, 2016-01-01, SHA-512. */
  generate(name: string, options?: {bits?: number; passphrase?: string}): void
  /** `snap keys --json` on this home: name → key id. */
  snapKeys(): Record<string, string>
  /** Environment for `snap` on this home. */
  env(): NodeJS.ProcessEnv
  remove(): void
}

export function makeGnupgHome(prefix = 'snap-gadget-gnupg-'): GnupgHome {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(dir, 0o700)
  const env = (): NodeJS.ProcessEnv => ({HOME: dir, LANG: 'C.UTF-8', PATH: process.env.PATH, SNAP_GNUPG_HOME: dir})
  const gpg = (args: string[], input?: string | Uint8Array): Buffer => {
    const run = spawnSync('gpg', ['--homedir', dir, '--batch', '--quiet', ...args], {env: env(), input, maxBuffer: 16 * 1024 * 1024, timeout: 300_000})
    assert.equal(run.status, 0, `gpg ${args.join(' ')}: ${String(run.stderr)}`)
    return run.stdout
  }

  return {
    dir,
    env,
    exportSecret: (name, options = {}) =>
      gpg([...(options.passphrase === undefined ? [] : ['--pinentry-mode', 'loopback', '--passphrase', options.passphrase]), ...(options.armor ? ['--armor'] : []), '--export-secret-keys', name]),
    generate(name, options = {}) {
      const protection = options.passphrase === undefined ? '%no-protection' : `Passphrase: ${options.passphrase}`
      const params = ['Key-Type: RSA', `Key-Length: ${options.bits ?? 4096}`, `Name-Real: ${name}`, `Creation-Date: seconds=${SNAPD_KEY_CREATION}`, 'Preferences: SHA512', protection, '%commit', ''].join('\n')
      gpg(['--pinentry-mode', 'loopback', '--gen-key'], params)
    },
    gpg,
    remove() {
      spawnSync('gpgconf', ['--homedir', dir, '--kill', 'gpg-agent'], {stdio: 'ignore', timeout: 30_000})
      rmSync(dir, {force: true, recursive: true})
    },
    snapKeys() {
      const keys = JSON.parse(String(run('snap', ['keys', '--json'], env()).stdout)) as Array<{name: string; 'sha3-384': string}> | null
      return Object.fromEntries((keys ?? []).map((k) => [k.name, k['sha3-384']]))
    },
  }
}

/**
 * `snap create-key <name>` itself, with an empty passphrase, as a user who presses Enter at every
 * prompt: snap reads the passphrase from a terminal (script(1) gives it one), and GnuPG 2.2 then
 * asks its pinentry, which the home's gpg-agent.conf points at a script answering as that user
 * (an empty passphrase, confirmed).
 */
export function snapCreateKey(home: GnupgHome, name: string): void {
  const pinentry = join(home.dir, 'pinentry-enter')
  writeFileSync(
    pinentry,
    '#!/bin/sh\n# Assuan: every request answered OK; GETPIN with no data is an empty passphrase.\necho "OK ready"\nwhile read -r cmd rest; do\n  [ "$cmd" = BYE ] && { echo OK; exit 0; }\n  echo OK\ndone\n',
    {mode: 0o700},
  )
  writeFileSync(join(home.dir, 'gpg-agent.conf'), `pinentry-program ${pinentry}\n`)
  const created = run('script', ['-qec', `snap create-key ${name}`, '/dev/null'], home.env(), '\n\n')
  assert.match(String(created.stdout), /Confirm passphrase/, String(created.stdout))
}

/** Runs a tool to its end; fails the test on a non-zero exit, with its output. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string | Uint8Array): SpawnSyncReturns<Buffer> {
  const result = spawnSync(command, args, {env, input, maxBuffer: 16 * 1024 * 1024, timeout: 300_000})
  assert.equal(result.status, 0, `${command} ${args.join(' ')} exited ${String(result.status ?? result.signal)}: ${String(result.stderr)}${String(result.stdout).slice(0, 2000)}`)
  return result
}
