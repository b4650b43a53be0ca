/**
 * doctor against a real snapd: Debian 12's snapd 2.57.6 started as root in classic mode on its
 * own sockets (systemd-socket-activate, with SNAPD_STANDBY_WAIT so it does not go to standby), where
 * it seeds itself with the generic model and answers its REST API and the real `snap` command.
 *
 * 1. Seeded, nothing installed: a classic system with the generic model does not register yet;
 *    `doctor --socket` says why.
 * 2. A snap install starts registration; snapd's HTTPS proxy (its environment) points at a closed
 *    port, so the request-id cannot leave the machine: `doctor --socket`, `doctor --state` on a
 *    copy of snapd's state.json, and `doctor --ssh` through an sshd this test starts on a loopback
 *    port (a throwaway host key and an authorized key in a temporary directory) reaching the same
 *    daemon with the real `snap` command all name the same cause.
 *
 * The test leaves /var/lib/snapd, /var/cache/snapd and /snap as it found them (copies taken first
 * and put back, then compared), stops what it started by its process ids, and takes a lock so two
 * runs never share the daemon. It needs root: it skips, saying why, elsewhere, and fails in CI.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {request} from 'node:http'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {scratchDir} from '../helpers/scratch.js'
import {runCli} from '../helpers/cli.js'

const SNAPD = '/usr/lib/snapd/snapd'
const SOCKET = '/run/snapd.socket'
const SNAP_SOCKET = '/run/snapd-snap.socket'
const LOCK = '/run/lock/snap-gadget-snapd-live'
const KEPT = ['/var/lib/snapd', '/var/cache/snapd', '/snap']

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'snapd runs as root: run the tests as root (as CI does)'
  for (const [file, pkg] of [
    [SNAPD, 'snapd'],
    ['/usr/bin/snap', 'snapd'],
    ['/usr/sbin/sshd', 'openssh-server'],
    ['/usr/bin/ssh', 'openssh-client'],
    ['/usr/bin/ssh-keygen', 'openssh-client'],
    ['/usr/bin/mksquashfs', 'squashfs-tools'],
  ]) {
    if (!existsSync(file)) return `${file} is missing (apt-get install ${pkg}; scripts/system-deps.sh does)`
  }

  if (spawnSync('systemd-socket-activate', ['--help'], {stdio: 'ignore'}).error) return 'systemd-socket-activate is missing (apt-get install systemd)'
  if (existsSync(SOCKET)) return `${SOCKET} exists: a snapd already runs on this machine, and this test does not touch it`
  return undefined
}

const reason = unavailable()
if (reason !== undefined && process.env.CI === 'true') throw new Error(`doctor's live test must run in CI: ${reason}`)

const work = scratchDir('snap-gadget-doctor-live-')
let snapd: ChildProcess | undefined
let sshd: ChildProcess | undefined
let locked = false
let createdRunSshd = false
const saved = new Map<string, string | undefined>()
const listings = new Map<string, string>()

describe('doctor against a real snapd 2.57.6', {skip: reason}, () => {
  before(async () => {
    takeLock()
    // What snapd will write to: copied first, put back after.
    for (const dir of KEPT) {
      listings.set(dir, listing(dir))
      if (existsSync(dir)) {
        const copy = join(work, 'kept', dir.replaceAll('/', '_'))
        mkdirSync(join(work, 'kept'), {recursive: true})
        execFileSync('cp', ['-a', dir, copy])
        saved.set(dir, copy)
      } else saved.set(dir, undefined)
    }

    // The request-id goes through snapd's HTTPS proxy, which listens nowhere.
    const proxy = `http://127.0.0.1:${await closedPort()}`
    snapd = spawn('systemd-socket-activate', ['-E', 'SNAPD_STANDBY_WAIT=10h', '-E', `HTTPS_PROXY=${proxy}`, '-E', 'NO_PROXY=', '-l', SOCKET, '-l', SNAP_SOCKET, SNAPD], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    snapd.stderr!.on('data', () => {})
    await waitFor('snapd to seed', 60_000, async () => {
      const changes = await api('/v2/changes?select=all')
      return Array.isArray(changes) && changes.some((c: {kind: string; status: string}) => c.kind === 'seed' && c.status === 'Done')
    })
  })

  after(async () => {
    try {
      await stop(sshd)
      await stop(snapd)
      for (const file of [SOCKET, SNAP_SOCKET]) rmSync(file, {force: true})
      for (const [dir, copy] of saved) {
        rmSync(dir, {force: true, recursive: true})
        if (copy) execFileSync('cp', ['-a', copy, dir])
      }

      if (createdRunSshd) rmSync('/run/sshd', {force: true, recursive: true})
      for (const [dir, before] of listings) assert.equal(listing(dir), before, `${dir} is not as the test found it`)
    } finally {
      if (locked) rmSync(LOCK, {force: true, recursive: true})
    }
  })

  it('seeded, no snap installed: the generic classic model waits for a snap (--socket)', async () => {
    const run = await runCli(['doctor', '--socket', SOCKET, '--json'])
    assert.equal(run.code, 1, run.stderr)
    const report = (JSON.parse(run.stdout) as {error: {details: Report}}).error.details
    assert.equal(report.registered, false)
    assert.deepEqual([report.device.brand, report.device.model], ['generic', 'generic-classic'])
    assert.match(report.snapd?.version ?? '', /^2\.57\.6/)
    assert.equal(report.cause.code, 'classic-no-snaps')
    assert.equal(report.cause.step, 'model')
  })

  describe('an install starts registration, and the request-id cannot reach the store', () => {
    before(async () => {
      const dir = join(work, 'tiny')
      mkdirSync(join(dir, 'meta'), {recursive: true})
      writeFileSync(join(dir, 'meta', 'snap.yaml'), 'name: doctor-live-tiny\nversion: "1"\nsummary: t\ndescription: t\nconfinement: devmode\ngrade: devel\n')
      execFileSync('snap', ['pack', dir, work], {stdio: 'ignore', timeout: 120_000})
      const file = readdirSync(work).find((f) => f.endsWith('.snap'))!
      // It fails (no core snap, no store): while it is under way, snapd starts registering.
      spawnSync('snap', ['install', '--dangerous', '--devmode', join(work, file)], {stdio: 'ignore', timeout: 120_000})
      await waitFor('the "Initialize device" change to log the proxy error', 120_000, async () => {
        const changes = (await api('/v2/changes?select=all')) as {kind: string; tasks?: {log?: string[]}[]}[]
        return changes.some((c) => c.kind === 'become-operational' && (c.tasks ?? []).some((t) => (t.log ?? []).some((l) => l.includes('proxyconnect'))))
      })
    })

    it('--socket: its model, its changes, the cause', async () => {
      const run = await runCli(['doctor', '--socket', SOCKET])
      assert.equal(run.code, 1, run.stderr)
      assert.match(run.stdout, /^not registered: model generic\/generic-classic, snapd 2\.57\.6/)
      // A proxy that refuses is no error snapd retries: the attempt fails, the next follows its back-off.
      assert.match(run.stdout, /\n {2}- prepare-device hook +skipped: the gadget has no prepare-device hook\n {2}✓ device key\n {2}✗ request-id\n/)
      assert.match(run.stdout, /\ncause: proxy unreachable \(proxy-unreachable, at request-id\)\n/)
      assert.match(
        run.stdout,
        /ERROR cannot retrieve request-id for making a request for a serial: Post "https:\/\/api\.snapcraft\.io\/api\/v1\/snaps\/auth\/request-id": proxyconnect tcp: dial tcp 127\.0\.0\.1:\d+: connect: connection refused/,
      )
    })

    it("--state: a copy of snapd's state.json says the same", async () => {
      const copy = join(work, 'state.json')
      copyFileSync('/var/lib/snapd/state.json', copy)
      const run = await runCli(['doctor', '--state', copy, '--json'])
      assert.equal(run.code, 1, run.stderr)
      const report = (JSON.parse(run.stdout) as {error: {details: Report}}).error.details
      assert.equal(report.cause.code, 'proxy-unreachable')
      assert.deepEqual([report.device.brand, report.device.model], ['generic', 'generic-classic'])
      // A state that never saw a snapd refresh does not name snapd's version.
      assert.equal(report.snapd, undefined)
    })

    it('--ssh: an sshd on a loopback port, the real snap command reaching the same daemon', async () => {
      const ssh = await startSshd()
      const run = await runCli(['doctor', '--ssh', 'root@127.0.0.1', ...ssh.options.flatMap((o) => ['--ssh-option', o]), '--json'], {timeoutMs: 180_000})
      assert.equal(run.code, 1, run.stderr)
      const report = (JSON.parse(run.stdout) as {error: {details: Report}}).error.details
      assert.deepEqual(report.inputs, [{kind: 'ssh', where: 'root@127.0.0.1'}])
      assert.deepEqual([report.device.brand, report.device.model], ['generic', 'generic-classic'])
      assert.match(report.snapd?.version ?? '', /^2\.57\.6/)
      assert.equal(report.cause.code, 'proxy-unreachable')
      assert.match(report.cause.evidence[0].from, /^snap CLI task \(Request device serial, Error\)/)
      // What sshd ran: only the listed commands.
      const log = readFileSync(ssh.log, 'utf8')
      assert.match(log, /env LC_ALL=C snap changes --abs-time/)
      assert.doesNotMatch(log, /snap (install|remove|set|unset|refresh)/)
    })
  })
})

interface Report {
  registered: boolean
  device: {brand?: string; model?: string}
  snapd?: {version: string}
  cause: {code: string; step: string; evidence: {from: string; text: string}[]}
  inputs: {kind: string; where: string}[]
}

// -- the daemon ----------------------------------------------------------------------------------

function api(path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({path, socketPath: SOCKET, timeout: 10_000}, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => {
        try {
          resolve((JSON.parse(body) as {result: unknown}).result)
        } catch (error) {
          reject(error)
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer`)))
    req.on('error', reject)
    req.end()
  })
}

async function waitFor(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms
  let last: unknown
  while (Date.now() < deadline) {
    try {
      if (await check()) return
    } catch (error) {
      last = error
    }

    await new Promise((resolve) => setTimeout(resolve, 500))
  }

  throw new Error(`waited ${ms / 1000} s for ${what}${last ? ` (${String(last)})` : ''}`)
}

/** SIGTERM to the process this test started (snapd runs in its place), SIGKILL after 20 s. */
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  await exited
  clearTimeout(timer)
}

/** The lock two runs of this test share: a directory made atomically, holding its owner's pid. */
function takeLock(): void {
  mkdirSync('/run/lock', {recursive: true})
  try {
    mkdirSync(LOCK)
  } catch {
    const owner = Number(readFileSync(join(LOCK, 'pid'), 'utf8'))
    let alive = true
    try {
      process.kill(owner, 0)
    } catch {
      alive = false
    }

    if (alive) throw new Error(`another run of doctor's live test (pid ${owner}) has snapd`)
    rmSync(LOCK, {force: true, recursive: true})
    mkdirSync(LOCK)
  }

  writeFileSync(join(LOCK, 'pid'), String(process.pid))
  locked = true
}

/** Names, types, sizes and modes of everything under `dir`: what "as the test found it" means. */
function listing(dir: string): string {
  if (!existsSync(dir)) return '(absent)'
  const lines: string[] = []
  const walk = (path: string) => {
    const stat = statSync(path)
    lines.push(`${path} ${stat.isDirectory() ? 'd' : stat.size} ${(stat.mode & 0o7777).toString(8)}`)
    if (stat.isDirectory() && (stat.mode & 0o444) !== 0) for (const entry of readdirSync(path).sort()) walk(join(path, entry))
  }

  walk(dir)
  return lines.join('\n')
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

// -- sshd ----------------------------------------------------------------------------------------

/** sshd on 127.0.0.1:<free port>, a throwaway host key, root's key authorized in a temporary file; every command it runs is logged. */
async function startSshd(): Promise<{options: string[]; log: string}> {
  const dir = join(work, 'sshd')
  mkdirSync(dir, {mode: 0o700})
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'doctor-live', '-f', file], {stdio: 'ignore'})
  keygen(join(dir, 'host_key'))
  keygen(join(dir, 'client_key'))
  copyFileSync(join(dir, 'client_key.pub'), join(dir, 'authorized_keys'))
  const port = await closedPort()
  const log = join(dir, 'commands.log')
  // ForceCommand logs what the client asked for, then runs it as sshd would have.
  writeFileSync(join(dir, 'run.sh'), `#!/bin/sh\nprintf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> ${log}\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`, {mode: 0o755})
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      `ForceCommand ${join(dir, 'run.sh')}`,
      '',
    ].join('\n'),
  )
  if (!existsSync('/run/sshd')) {
    // sshd's privilege separation directory; taken away again after.
    mkdirSync('/run/sshd', {mode: 0o755})
    createdRunSshd = true
  }

  sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  sshd.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ')
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`)
  const options = [`Port=${port}`, `IdentityFile=${join(dir, 'client_key')}`, 'IdentitiesOnly=yes', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, 'StrictHostKeyChecking=yes']
  await waitFor('sshd to accept a login', 30_000, async () => {
    if (sshd!.exitCode !== null) throw new Error(`sshd exited: ${stderr}`)
    const probe = spawnSync('ssh', ['-o', 'BatchMode=yes', ...options.flatMap((o) => ['-o', o]), 'root@127.0.0.1', 'true'], {timeout: 10_000})
    return probe.status === 0
  })
  return {log, options}
}
