/**
 * `--ssh`: the commands doctor may run, how each word reaches the remote shell, and how `snap`'s
 * output is read. The outputs here are what snapd 2.57.6's `snap` printed on a real daemon (an
 * "Initialize device" change that failed on DNS). readSsh runs against a stand-in for ssh that
 * hands the quoted words to /bin/sh, as sshd hands them to the login shell, with stand-ins for
 * `snap` and `date` on its PATH (the live test in ssh-live.test.ts uses a real sshd and snapd).
 */
import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {parseChangesTable, parseTasksOutput, readSsh, SSH_COMMANDS, sshArgv, sshCommand} from '../../src/doctor/ssh.js'
import {UserError} from '../../src/errors.js'
import {diagnose} from '../../src/doctor/diagnose.js'
import {freshDir} from '../helpers/scratch.js'

const CHANGES = `ID   Status  Spawn                 Ready                 Summary
1    Done    2026-12-07T07:37:27Z  2026-12-07T07:37:28Z  Initialize system state
2    Error   2026-12-07T07:38:06Z  2026-12-07T07:38:06Z  Install "dr-tiny" snap from file "/tmp/dr-tiny_1_all.snap"
3    Error   2026-12-07T07:38:06Z  2026-12-07T07:38:12Z  Initialize device

`
const TASKS = `Status  Spawn                 Ready                 Summary
Done    2026-12-07T07:38:06Z  2026-12-07T07:38:12Z  Generate device key
Error   2026-12-07T07:38:06Z  2026-12-07T07:38:12Z  Request device serial

......................................................................
Request device serial

2026-12-07T07:38:12Z ERROR cannot retrieve request-id for making a request for a serial: Post "https://api.snapcraft.io/api/v1/snaps/auth/request-id": dial tcp: lookup api.snapcraft.io on 10.255.255.53:53: no such host

`
const MODEL = `type: model
authority-id: generic
series: 16
brand-id: generic
model: generic-classic
classic: true
timestamp: 2017-07-27T00:00:00.0Z
sign-key-sha3-384: d-JcZF9nD9eBw7bwMnH61x-bklnQOhQud1Is6o_cn2wTj8EYDi9musrIT9z2MdAa

AcLBXAQAAQoABgUCWYuXiAAKCRAdLQyY+/mCiST0D/0XGQauzV2bbTEy6DkrR1jlNbI6x8vfIdS8
`

describe('the commands and their words', () => {
  it('every command is read-only snap (or date), and each word is quoted for the remote shell', () => {
    for (const argv of Object.values(SSH_COMMANDS)) {
      assert.ok(argv[0] === 'snap' || argv[0] === 'date', argv.join(' '))
      assert.ok(!argv.some((w) => /^(set|unset|install|remove|refresh|restart|start|stop|ack|connect|disconnect)$/.test(w)), argv.join(' '))
    }

    const argv = sshArgv({destination: 'ubuntu@device', options: ['Port=2222', 'IdentityFile=/home/me/.ssh/id factory']}, ['snap', 'tasks', '--abs-time', '12'])
    assert.deepEqual(argv, [
      '-T',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'LogLevel=ERROR',
      '-o',
      'Port=2222',
      '-o',
      'IdentityFile=/home/me/.ssh/id factory',
      '--',
      'ubuntu@device',
      'env',
      'LC_ALL=C',
      'snap',
      'tasks',
      '--abs-time',
      '12',
    ])
    assert.equal(sshArgv({destination: 'd'}, ['date', '-u', '+%Y-%m-%dT%H:%M:%SZ']).at(-1), '+%Y-%m-%dT%H:%M:%SZ')
  })

  it('refuses what could become an option or a second command', () => {
    for (const destination of ['-oProxyCommand=touch /tmp/x', '', 'user@host evil', 'host\n']) {
      assert.throws(
        () => sshArgv({destination}, ['snap', 'version']),
        (e: unknown) => e instanceof UserError && e.code === 'E_DOCTOR_SSH',
      )
    }

    assert.throws(() => sshArgv({destination: 'd', options: ['-oProxyCommand=x']}, ['snap']), /not NAME=VALUE/)
    assert.throws(() => sshArgv({destination: 'd', options: ['Port=22\nProxyCommand=x']}, ['snap']), /not NAME=VALUE/)
    assert.throws(() => sshCommand('gadgetConfig', {gadget: 'pc; touch /tmp/x'}), /not a snap name/)
    assert.throws(() => sshCommand('tasks', {changeId: '1 2'}), /not a number/)
    assert.deepEqual(sshCommand('gadgetConfig', {gadget: 'gw-100-gadget'}), ['snap', 'get', '-d', 'gw-100-gadget'])
  })
})

describe("snap's output", () => {
  it('snap changes --abs-time', () => {
    const rows = parseChangesTable(CHANGES)
    assert.deepEqual(
      rows.map((r) => [r.id, r.status, r.summary]),
      [
        ['1', 'Done', 'Initialize system state'],
        ['2', 'Error', 'Install "dr-tiny" snap from file "/tmp/dr-tiny_1_all.snap"'],
        ['3', 'Error', 'Initialize device'],
      ],
    )
    assert.equal(rows[2].ready, '2026-12-07T07:38:12Z')
  })

  it('snap tasks --abs-time: the tasks, their status and logs; an entry of several lines stays one', () => {
    const tasks = parseTasksOutput(TASKS)
    assert.deepEqual(
      tasks.map((t) => [t.kind, t.status, t.log.length]),
      [
        ['generate-device-key', 'Done', 0],
        ['request-serial', 'Error', 1],
      ],
    )
    assert.match(tasks[1].log[0].text, /no such host$/)
    const twoLines = TASKS.replace('no such host\n', 'no such host\n - and a second line\n')
    assert.equal(parseTasksOutput(twoLines)[1].log[0].text.split('\n')[1], ' - and a second line')
  })
})

describe('readSsh against a stand-in for ssh', () => {
  /** A device: `snap` and `date` answering from files; an "ssh" that runs the words in /bin/sh. */
  function device(answers: Record<string, string>): {ssh: string; log: string} {
    const dir = freshDir('snap-gadget-doctor-ssh-device-')
    const bin = join(dir, 'bin')
    mkdirSync(bin)
    const log = join(dir, 'commands.log')
    // snap: answers from a file named after its arguments; NAME.err is stderr and exit 1.
    const answersDir = join(dir, 'answers')
    mkdirSync(answersDir)
    const fileOf = (key: string) => join(answersDir, key.replaceAll(/[^\w.-]/g, '_'))
    for (const [key, answer] of Object.entries(answers)) writeFileSync(answer.startsWith('!') ? `${fileOf(key)}.err` : fileOf(key), answer.replace(/^!/, ''))
    writeFileSync(
      join(bin, 'snap'),
      `#!/bin/sh
printf '%s\\n' "snap $*" >> ${JSON.stringify(log)}
f=${JSON.stringify(answersDir)}/$(printf '%s' "$*" | tr -c 'A-Za-z0-9_.\\n-' '_')
if [ -f "$f.err" ]; then cat "$f.err" >&2; exit 1; fi
if [ -f "$f" ]; then cat "$f"; exit 0; fi
echo "error: unknown command $*" >&2; exit 1
`,
    )
    writeFileSync(join(bin, 'date'), '#!/bin/sh\necho 2026-12-07T07:40:00Z\n')
    // ssh: skip its options up to "--" and the destination, then hand the words to a shell.
    const ssh = join(dir, 'ssh')
    writeFileSync(ssh, `#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done\nshift 2\nPATH=${bin}:/usr/bin:/bin exec /bin/sh -c "$*"\n`)
    for (const file of [join(bin, 'snap'), join(bin, 'date'), ssh]) chmodSync(file, 0o755)
    return {log, ssh}
  }

  it('reads a real 2.57.6 device whose registration failed on DNS, and doctor names the cause', async () => {
    const {log, ssh} = device({
      changes: '',
      'changes --abs-time': CHANGES,
      'get -d system proxy': '!error: snap "core" has no "proxy" configuration option\n',
      'get -d system store.access': '!error: snap "core" has no "store.access" configuration option\n',
      list: "No snaps are installed yet. Try 'snap install hello-world'.\n",
      'model --assertion': MODEL,
      'model --serial --assertion': '!error: device not registered yet (no serial assertion found)\n',
      'tasks --abs-time 3': TASKS,
      version: 'snap    2.57.6-1+deb12u1+b2\nsnapd   2.57.6-1+deb12u1+b2\nseries  16\n',
    })
    const view = await readSsh({destination: 'root@device', ssh})
    assert.equal(view.snapdVersion?.version, '2.57.6-1+deb12u1+b2')
    assert.equal(view.deviceTime?.time.toISOString(), '2026-12-07T07:40:00.000Z')
    assert.equal(view.brand, 'generic')
    assert.equal(view.model, 'generic-classic')
    assert.equal(view.hasModel, true)
    assert.equal(view.serial, undefined)
    assert.equal(view.seeded, true)
    assert.equal(view.snapCount, 0)
    assert.deepEqual(
      view.changes.map((c) => [c.id, c.status, c.tasks.length]),
      [['3', 'Error', 2]],
    )
    const diagnosis = diagnose({view})
    assert.equal(diagnosis.cause?.code, 'dns')
    assert.match(diagnosis.cause!.evidence[0].from, /snap CLI task \(Request device serial, Error\)/)
    // Only the listed commands ran, each word as one argument.
    const ran = readFileSync(log, 'utf8').trim().split('\n')
    const allowed = Object.values(SSH_COMMANDS).map((argv) => argv.join(' '))
    for (const line of ran) assert.ok(allowed.includes(line.replace(/ 3$/, ' <change-id>')), line)
    assert.equal(ran.length, 8)
  })

  it('a device naming its gadget with shell words: the name is refused, nothing else runs', async () => {
    const {log, ssh} = device({
      'changes --abs-time': CHANGES,
      list: '',
      'model --assertion': MODEL.replace('classic: true\n', 'gadget: pc;touch${IFS}/tmp/doctor-pwned\n'),
      'model --serial --assertion': '!error: device not registered yet\n',
      'tasks --abs-time 3': TASKS,
      version: 'snapd   2.57.6\n',
    })
    await assert.rejects(readSsh({destination: 'd', ssh}), /not a snap name/)
    assert.ok(!readFileSync(log, 'utf8').includes('touch'))
  })

  it('an ssh that cannot log in fails at once, saying why', async () => {
    const dir = freshDir('snap-gadget-doctor-ssh-refused-')
    const ssh = join(dir, 'ssh')
    writeFileSync(ssh, '#!/bin/sh\necho "root@device: Permission denied (publickey)." >&2\nexit 255\n')
    chmodSync(ssh, 0o755)
    await assert.rejects(readSsh({destination: 'root@device', ssh}), (e: unknown) => e instanceof UserError && e.code === 'E_DOCTOR_SSH' && /Permission denied/.test(e.message) && e.exitCode === 2)
  })

  it('a command that does not answer is cut at its time limit', async () => {
    const dir = freshDir('snap-gadget-doctor-ssh-slow-')
    const ssh = join(dir, 'ssh')
    writeFileSync(ssh, '#!/bin/sh\nexec sleep 30\n')
    chmodSync(ssh, 0o755)
    const started = Date.now()
    await assert.rejects(readSsh({destination: 'd', ssh, timeoutMs: 300}), /no answer within 0.3 s/)
    assert.ok(Date.now() - started < 5000)
  })
})
