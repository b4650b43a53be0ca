/**
 * The faults a hostile device, or a hostile user of a captured tree, can put in the hook's way, on
 * every engine (Node, QuickJS 2025, QuickJS as 2021.03.27), with the built bundle run as the hook
 * runs it. Each test fails without its protection: a snapctl that ignores SIGTERM would hold the
 * hook until snapd's own 10-minute limit (here, until the runner's 60 s timeout); a FIFO or
 * /dev/zero would block or never end; a link out of the root would read this machine; the AMI
 * default UUID would become the serial; a key file of another user or of any size would be
 * trusted; snapctl's echo would print the api-key.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {chownSync, mkdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {setTimeout as delay} from 'node:timers/promises'

import {HOOK_SNAPCTL_BUDGET_MS, SNAPCTL_GRACE_MS, SNAPCTL_TIMEOUT_MS} from '../../src/device/snapctl.js'
import {MAX_SOURCE_BYTES} from '../../src/serial/sources/context.js'
import {scratchDir} from '../helpers/scratch.js'
import {readSnapctlLog, writeRecordingSnapctl} from '../helpers/snapctl.js'
import {API_KEY, caseNamed, KEY} from './cases.js'
import {ALL_ENGINES, fileRoots, hookEnv, hookRunDir, requireBundle, runBundle} from './helpers.js'

const work = scratchDir('snap-gadget-faults-')
const root = fileRoots()
const writers: (() => void)[] = []
after(() => {
  for (const stop of writers) stop()
})

const bin = join(work, 'bin')
before(() => {
  requireBundle()
  writeRecordingSnapctl(bin)
})

const runDir = () => hookRunDir(work, KEY)

/** A config whose whole chain is one `file` source reading `path`. */
function fileConfig(dir: string, path: string): string {
  const file = join(dir, 'registration.json')
  writeFileSync(file, JSON.stringify({deviceService: {preset: 'serial-vault'}, identity: false, serial: {chain: [{options: {path}, source: 'file'}]}}))
  return file
}

/** Whether a process (or, with a negative id, a process group) still exists; zombies are given a moment to be reaped. */
async function gone(id: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(id, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true
      throw error
    }

    await delay(100)
  }

  return false
}

/**
 * Starts `sh -c script` that writes for ever, in a process group of its own; returns what stops the
 * whole group. Bounded: stopped after the test, or after 60 s at the latest.
 */
function startWriter(script: string): () => void {
  const writer = spawn('sh', ['-c', script], {detached: true, stdio: 'ignore'})
  const stop = () => {
    try {
      process.kill(-writer.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
  }

  setTimeout(stop, 60_000).unref()
  writers.push(stop)
  return stop
}

for (const engine of ALL_ENGINES) {
  const runOn = (args: readonly string[], env: NodeJS.ProcessEnv) => runBundle(args, {engine, env})
  const pi = caseNamed('Raspberry Pi')

  describe(`on ${engine}`, () => {
    describe('snapctl', () => {
      it('one that hangs and ignores SIGTERM: the hook ends within the limit, says why, and leaves nothing of it running', async () => {
        const run = runDir()
        const pids = join(run.dir, 'pids')
        // The hanging call and a child of it both ignore SIGTERM; only SIGKILL to the group ends them.
        const hanging = join(run.dir, 'bin')
        writeRecordingSnapctl(hanging, {onSet: `    trap '' TERM\n    sleep 300 &\n    echo "$$ $!" > ${JSON.stringify(pids)}\n    wait $!\n    sleep 300`})
        const started = Date.now()
        const result = await runOn(
          ['--config', pi.config, '--root', await root(pi.tree())],
          hookEnv(hanging, {MODEL_APIKEY: API_KEY, SNAP_DATA: run.snapData, SNAP_NAME: 'acme-gadget', SNAPCTL_CONNECTED: '*', SNAPCTL_LOG: run.log}),
        )
        const elapsed = Date.now() - started
        assert.equal(result.code, 1, result.stderr)
        assert.match(result.stderr, /^prepare-device: snapctl set failed: snapctl did not answer in time \(stopped with SIGKILL; each call may take 20 s, all calls of a run 60 s\)/)
        assert.ok(elapsed >= SNAPCTL_TIMEOUT_MS + SNAPCTL_GRACE_MS - 500, `ended after ${elapsed} ms: before the grace period was over`)
        assert.ok(elapsed < SNAPCTL_TIMEOUT_MS + SNAPCTL_GRACE_MS + 10_000, `ended after ${elapsed} ms`)
        const [shell, child] = readFileSync(pids, 'utf8').trim().split(' ').map(Number)
        // setsid(1) on QuickJS and detached spawn on Node: the call leads its own process group.
        assert.ok(await gone(-shell), `process group ${shell} is still there`)
        assert.ok(await gone(shell), `snapctl ${shell} is still running`)
        assert.ok(await gone(child), `its child ${child} is still running`)
      })

      it("the limits are far below snapd's 10-minute hook timeout", () => {
        assert.ok(HOOK_SNAPCTL_BUDGET_MS + SNAPCTL_GRACE_MS <= 2 * 60_000)
      })

      it('one that echoes its arguments on failure: the api-key is masked in every output', async () => {
        const run = runDir()
        const echoing = join(run.dir, 'bin')
        writeRecordingSnapctl(echoing, {onSet: `    echo "error: cannot set $*" >&2\n    echo "set $*"\n    exit 1`})
        const env = hookEnv(echoing, {MODEL_APIKEY: API_KEY, SNAP_DATA: run.snapData, SNAP_NAME: 'acme-gadget', SNAPCTL_CONNECTED: '*', SNAPCTL_LOG: run.log})
        for (const extra of [[], ['--json']]) {
          const result = await runOn(['--config', pi.config, '--root', await root(pi.tree()), ...extra], env)
          assert.equal(result.code, 1, result.stderr)
          assert.match(result.stderr, /snapctl set failed: snapctl exited 1: error: cannot set set device-service\.url=/)
          assert.match(result.stderr, /device-service\.headers=\{"api-key":"<\$MODEL_APIKEY>"\}/)
          assert.ok(!`${result.stdout}${result.stderr}`.includes(API_KEY), `${result.stdout}${result.stderr}`)
        }

        // snapctl did get the real value: the mask is only in what the hook prints.
        assert.ok(readSnapctlLog(run.log).some((argv) => argv[0] === 'set' && argv.includes(`device-service.headers={"api-key":"${API_KEY}"}`)))
      })
    })

    describe('hardware reads', () => {
      const refused = async (config: string, rootDir: string | undefined, reason: RegExp, must = 10_000) => {
        const run = runDir()
        const started = Date.now()
        const result = await runOn(['--config', config, ...(rootDir ? ['--root', rootDir] : [])], hookEnv(bin, {SNAP_DATA: run.snapData, SNAP_NAME: 'acme-gadget', SNAPCTL_CONNECTED: '*', SNAPCTL_LOG: run.log}))
        assert.equal(result.code, 1, result.stderr)
        assert.match(result.stderr, /^prepare-device: no usable serial: [^\n]+\n$/)
        assert.match(result.stderr, reason)
        assert.ok(Date.now() - started < must, `took ${Date.now() - started} ms`)
        assert.deepEqual(
          readSnapctlLog(run.log).filter((argv) => argv[0] !== 'is-connected'),
          [],
        )
        return result
      }

      it('a FIFO nobody writes is refused, not opened', async () => {
        const dir = await root({})
        spawnSyncOk('mkfifo', [join(dir, 'serial')])
        await refused(fileConfig(work, '/serial'), dir, /\/serial is not a regular file \(a FIFO, a device or a socket\); refusing to read it/)
      })

      it('a FIFO whose writer never stops is refused', async () => {
        const dir = await root({})
        const fifo = join(dir, 'serial')
        spawnSyncOk('mkfifo', [fifo])
        const stop = startWriter(`yes 1234567890 > '${fifo}'`)
        await refused(fileConfig(work, '/serial'), dir, /\/serial is not a regular file/)
        stop()
      })

      it('/dev/zero (a character device that never ends) is refused', async () => {
        await refused(fileConfig(work, '/dev/zero'), undefined, /\/dev\/zero is not a regular file \(a FIFO, a device or a socket\); refusing to read it/)
      })

      it('a regular file that keeps growing is read to the cap and refused', async () => {
        const dir = await root({})
        const file = join(dir, 'serial')
        writeFileSync(file, '')
        const stop = startWriter(`yes 1234567890 >> '${file}'`)
        while (statSync(file).size <= MAX_SOURCE_BYTES) await delay(20)
        await refused(fileConfig(work, '/serial'), dir, new RegExp(`/serial is larger than ${MAX_SOURCE_BYTES} bytes; refusing to read it`))
        stop()
      })

      it('a sparse file of 1 GiB is refused without reading it all', async () => {
        const dir = await root({})
        writeFileSync(join(dir, 'serial'), '')
        truncateSync(join(dir, 'serial'), 1024 ** 3)
        await refused(fileConfig(work, '/serial'), dir, new RegExp(`/serial is larger than ${MAX_SOURCE_BYTES} bytes`))
      })

      it('symbolic links out of the root are resolved inside it: nothing of this machine is read', async () => {
        const outside = join(work, `outside-${engine}`)
        mkdirSync(outside, {recursive: true})
        writeFileSync(join(outside, 'serial'), 'OUTSIDE-THE-ROOT-1234\n')
        for (const target of [join(outside, 'serial'), `../../../../../../../..${join(outside, 'serial')}`]) {
          const dir = await root({})
          symlinkSync(target, join(dir, 'serial'))
          const result = await refused(fileConfig(work, '/serial'), dir, /file\[\/serial\]: absent: \/serial does not exist/)
          assert.ok(!result.stderr.includes('OUTSIDE-THE-ROOT'), result.stderr)
        }

        // Control: the same file inside the root is read.
        const inside = await root({'/serial': 'INSIDE-THE-ROOT-1234\n'})
        const run = runDir()
        const ok = await runOn(['--config', fileConfig(work, '/serial'), '--root', inside, '--dry-run'], hookEnv(bin, {SNAP_DATA: run.snapData, SNAP_NAME: 'acme-gadget'}))
        assert.equal(ok.code, 0, ok.stderr)
        assert.match(ok.stdout, /registration\.proposed-serial="INSIDE-THE-ROOT-1234"/)
      })
    })

    describe('placeholders', () => {
      const AMI_UUID = '03000200-0400-0500-0006-000700080009'

      it(`the AMI default UUID in DMI product_serial is refused, as from any other source`, async () => {
        const x86 = caseNamed('x86')
        const dmi = await root({'/sys/class/dmi/id/product_serial': `${AMI_UUID}\n`})
        const run = runDir()
        const result = await runOn(['--config', x86.config, '--root', dmi], hookEnv(bin, {MODEL_APIKEY: API_KEY, SNAP_DATA: run.snapData, SNAP_NAME: 'acme-gadget', SNAPCTL_CONNECTED: '*', SNAPCTL_LOG: run.log}))
        assert.equal(result.code, 1, result.stderr)
        assert.match(result.stderr, new RegExp(`dmi\\[product_serial\\]: refused: placeholder UUID ${AMI_UUID}`))
        assert.ok(!readSnapctlLog(run.log).some((argv) => argv[0] === 'set'))

        const file = await root({'/etc/board-id': `${AMI_UUID}\n`})
        const fromFile = await runOn(['--config', fileConfig(run.dir, '/etc/board-id'), '--root', file], hookEnv(bin, {SNAP_DATA: run.snapData, SNAP_NAME: 'acme-gadget', SNAPCTL_CONNECTED: '*', SNAPCTL_LOG: run.log}))
        assert.equal(fromFile.code, 1, fromFile.stderr)
        assert.match(fromFile.stderr, new RegExp(`file\\[/etc/board-id\\]: refused: placeholder UUID ${AMI_UUID}`))
      })
    })

    describe('the identity key file', () => {
      const keyRun = async (prepare: (key: string) => void) => {
        const run = runDir()
        prepare(join(run.snapData, 'device-identity.key'))
        const result = await runOn(
          ['--config', pi.config, '--root', await root(pi.tree())],
          hookEnv(bin, {MODEL_APIKEY: API_KEY, SNAP_DATA: run.snapData, SNAP_NAME: 'acme-gadget', SNAPCTL_CONNECTED: '*', SNAPCTL_LOG: run.log}),
        )
        assert.equal(result.code, 1, result.stderr)
        assert.match(result.stderr, /^prepare-device: [^\n]+\n$/)
        assert.ok(!readSnapctlLog(run.log).some((argv) => argv[0] === 'set'))
        return result.stderr
      }

      it('one owned by another user is refused, saying what to do', async () => {
        const stderr = await keyRun((key) => chownSync(key, 12_345, 12_345))
        assert.match(
          stderr,
          /the identity key .*device-identity\.key belongs to user 12345, not to user \d+ who runs the hook; refusing to use it \(fix: if nobody else could have written it, chown \d+ it; otherwise delete it/,
        )
      })

      it('one of an insane size is refused without being read', async () => {
        const stderr = await keyRun((key) => truncateSync(key, 64 * 1024 * 1024))
        assert.match(stderr, /the identity key .*device-identity\.key is 67108864 bytes; a key file is under 4096, so this is not one \(fix: delete it so a new key is made/)
      })
    })
  })
}

function spawnSyncOk(command: string, args: string[]): void {
  const result = spawnSync(command, args, {encoding: 'utf8'})
  assert.equal(result.status, 0, result.stderr)
}
