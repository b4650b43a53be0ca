/**
 * `--ssh USER@HOST`: the device read with the `snap` command over ssh, nothing installed there.
 * Only the read-only commands of SSH_COMMANDS run, each as its own ssh invocation: ssh hands the
 * remote login shell one command line, in which every word is quoted (so a gadget name or a change
 * id is one word and nothing else); a change id must be digits and a snap name a snap name before
 * it is used. Each command is bounded in time and in output; ssh runs in batch mode (no password
 * prompt), so an ssh that cannot log in fails at once and says why.
 */
import {spawn} from 'node:child_process'

import {UserError} from '../errors.js'
import {shellQuote} from '../support/shell-quote.js'
import {type ChangeView, type DeviceView, type LogLine, parseLogLine, statusName, taskKindFromSummary, taskStatusName, type TaskView} from './device-view.js'

/** Every command doctor may run on the device, as argv; `<…>` is a checked value. Shown in --help. */
export const SSH_COMMANDS = {
  changes: ['snap', 'changes', '--abs-time'],
  date: ['date', '-u', '+%Y-%m-%dT%H:%M:%SZ'],
  gadgetConfig: ['snap', 'get', '-d', '<gadget>'],
  list: ['snap', 'list'],
  model: ['snap', 'model', '--assertion'],
  proxy: ['snap', 'get', '-d', 'system', 'proxy'],
  serial: ['snap', 'model', '--serial', '--assertion'],
  storeAccess: ['snap', 'get', '-d', 'system', 'store.access'],
  tasks: ['snap', 'tasks', '--abs-time', '<change-id>'],
  version: ['snap', 'version'],
} as const satisfies Record<string, readonly string[]>

type SshCommand = keyof typeof SSH_COMMANDS

export interface SshOptions {
  /** `[USER@]HOST`, or `ssh://[USER@]HOST[:PORT]`. */
  destination: string
  /** `-o NAME=VALUE` options for ssh (Port=2222, IdentityFile=…, UserKnownHostsFile=…). */
  options?: string[]
  /** Read the gadget's config with `sudo -n` (snapd gives it to root only). */
  sudo?: boolean
  /** Each command's limit (default 30 s). */
  timeoutMs?: number
  /** The ssh program (default: ssh from PATH). */
  ssh?: string
}

interface SshResult {
  code: number | null
  stdout: string
  stderr: string
}

const DEFAULT_TIMEOUT_MS = 30_000
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024
const SNAP_NAME = /^[a-z0-9](?:-?[a-z0-9])*$/
const CHANGE_ID = /^\d{1,12}$/
const SSH_OPTION = /^[A-Za-z][A-Za-z0-9]*=[^\u0000-\u001F\u007F]*$/
const DOTS = '......................................................................'

/** The argv of a command, its `<…>` filled with checked values. */
export function sshCommand(name: SshCommand, values: {gadget?: string; changeId?: string} = {}): string[] {
  return SSH_COMMANDS[name].map((word) => {
    if (word === '<gadget>') {
      if (!values.gadget || !SNAP_NAME.test(values.gadget) || values.gadget.length > 40)
        throw new UserError('E_DOCTOR_SSH', `the device names its gadget ${JSON.stringify(values.gadget)}, which is not a snap name`, {kind: 'failed'})
      return values.gadget
    }

    if (word === '<change-id>') {
      if (!values.changeId || !CHANGE_ID.test(values.changeId)) throw new UserError('E_DOCTOR_SSH', `the device lists a change id ${JSON.stringify(values.changeId)}, which is not a number`, {kind: 'failed'})
      return values.changeId
    }

    return word
  })
}

/** ssh's own argv for one remote command: batch mode, a connect timeout, the user's options, then the quoted words. */
export function sshArgv(options: SshOptions, remote: readonly string[]): string[] {
  const destination = options.destination
  if (destination === '' || destination.startsWith('-') || /[\s\u0000-\u001F\u007F]/.test(destination)) {
    throw new UserError('E_DOCTOR_SSH', `--ssh ${JSON.stringify(destination)} is not an ssh destination`, {hint: 'give USER@HOST (or ssh://USER@HOST:PORT)'})
  }

  const args = ['-T', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR']
  for (const option of options.options ?? []) {
    if (!SSH_OPTION.test(option)) throw new UserError('E_DOCTOR_SSH', `--ssh-option ${JSON.stringify(option)} is not NAME=VALUE`, {hint: 'e.g. --ssh-option Port=2222 --ssh-option IdentityFile=~/.ssh/factory'})
    args.push('-o', option)
  }

  // `env LC_ALL=C`: snap's table headings and messages untranslated, whatever the device's locale.
  return [...args, '--', destination, ...['env', 'LC_ALL=C', ...remote].map((word) => shellQuote(word))]
}

export async function readSsh(options: SshOptions): Promise<DeviceView> {
  const run = (argv: string[]) => runSsh(options, argv)
  const view: DeviceView = {changes: [], gaps: [], source: {kind: 'ssh', where: options.destination}}

  // The first command tells whether ssh logs in and the device has snap at all.
  const version = await run(sshCommand('version'))
  if (version.code !== 0) {
    const hint =
      version.code === 255
        ? 'check that `ssh USER@HOST` logs in without a password prompt (a key in the agent, or --ssh-option IdentityFile=…)'
        : version.code === null
          ? 'the device or the network is slow: raise --timeout'
          : 'the device has no snap command, or it failed: is it an Ubuntu Core or snapd device?'
    throw new UserError('E_DOCTOR_SSH', `ssh ${options.destination} \`snap version\` failed: ${firstLine(version.stderr) || `exit ${version.code}`}`, {hint, kind: 'io'})
  }

  const snapd = /^snapd\s+(\S+)/m.exec(version.stdout)
  if (snapd) view.snapdVersion = {from: '`snap version` over ssh', version: snapd[1]}

  const date = await run(sshCommand('date'))
  const time = new Date(date.stdout.trim())
  if (date.code === 0 && Number.isFinite(time.getTime())) view.deviceTime = {from: '`date -u` on the device', time}

  const model = await run(sshCommand('model'))
  if (model.code === 0) {
    const headers = assertionHeaders(model.stdout)
    view.hasModel = headers.type === 'model'
    view.brand = headers['brand-id']
    view.model = headers.model
    view.gadget = headers.gadget
  } else if (/no assertions found|no model/i.test(model.stderr)) view.hasModel = false
  else view.gaps.push(`\`snap model --assertion\` failed: ${firstLine(model.stderr)}`)

  const serial = await run(sshCommand('serial'))
  if (serial.code === 0) {
    const headers = assertionHeaders(serial.stdout)
    view.serial = headers.serial
    view.keyId = headers['device-key-sha3-384']
  }

  const changes = await run(sshCommand('changes'))
  if (changes.code === 0) {
    const rows = parseChangesTable(changes.stdout)
    const seed = rows.filter((r) => r.summary === 'Initialize system state').at(-1)
    if (seed) {
      view.seeded = seed.status === 'Done'
      if (seed.status !== 'Done') view.seeding = {id: seed.id, status: seed.status}
    }

    const registrations = rows.filter((r) => r.summary === 'Initialize device').slice(-20)
    for (const [i, row] of registrations.entries()) {
      const change: ChangeView = {id: row.id, readyTime: row.ready, spawnTime: row.spawn, status: row.status, tasks: []}
      // The tasks of the newest attempt are what is judged; the others are counted.
      if (i === registrations.length - 1) {
        const tasks = await run(sshCommand('tasks', {changeId: row.id}))
        if (tasks.code === 0) change.tasks = parseTasksOutput(tasks.stdout)
        else view.gaps.push(`\`snap tasks ${row.id}\` failed: ${firstLine(tasks.stderr)}`)
      }

      view.changes.push(change)
    }
  } else if (/no changes found/i.test(changes.stderr + changes.stdout)) {
    view.changes = []
  } else view.gaps.push(`\`snap changes\` failed: ${firstLine(changes.stderr)}`)

  const list = await run(sshCommand('list'))
  if (list.code === 0) view.snapCount = /No snaps are installed yet/.test(list.stdout + list.stderr) ? 0 : Math.max(0, list.stdout.trim().split('\n').length - 1)

  if (view.gadget) {
    const argv = sshCommand('gadgetConfig', {gadget: view.gadget})
    const conf = await run(options.sudo ? ['sudo', '-n', ...argv] : argv)
    const parsed = conf.code === 0 ? parseJsonObject(conf.stdout) : undefined
    if (parsed) view.gadgetConfig = parsed
    else if (/has no configuration|has no .* configuration option/i.test(conf.stderr)) view.gadgetConfig = {}
    else view.gaps.push(`\`snap get -d ${view.gadget}\` failed${options.sudo ? '' : " (snapd gives the gadget's config to root: try --ssh-sudo)"}: ${firstLine(conf.stderr)}`)
  }

  const system: Record<string, unknown> = {}
  const proxy = await run(sshCommand('proxy'))
  if (proxy.code === 0) Object.assign(system, parseJsonObject(proxy.stdout) ?? {})
  const store = await run(sshCommand('storeAccess'))
  if (store.code === 0) {
    const parsed = parseJsonObject(store.stdout)
    const nested = parsed?.store && typeof parsed.store === 'object' ? (parsed.store as Record<string, unknown>).access : undefined
    const value = parsed?.['store.access'] ?? nested
    if (typeof value === 'string') system.store = {access: value}
  }

  view.systemConfig = system
  return view
}

/** Runs one remote command; the output is cut at MAX_OUTPUT_BYTES and the command killed after the time limit. */
function runSsh(options: SshOptions, remote: readonly string[]): Promise<SshResult> {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const argv = sshArgv(options, remote)
  return new Promise((resolve, reject) => {
    const child = spawn(options.ssh ?? 'ssh', argv, {stdio: ['ignore', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    let size = 0
    let timedOut = false
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_OUTPUT_BYTES) child.kill('SIGKILL')
      else into.push(chunk)
    }

    child.stdout.on('data', collect(out))
    child.stderr.on('data', collect(err))
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeout)
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(
        new UserError('E_DOCTOR_SSH', error.code === 'ENOENT' ? 'ssh is not installed here' : `cannot run ssh: ${error.message}`, {
          hint: 'install the OpenSSH client (apt-get install openssh-client)',
          kind: 'io',
        }),
      )
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      const stderr = Buffer.concat(err).toString('utf8')
      resolve({code: timedOut ? null : code, stderr: timedOut ? `no answer within ${timeout / 1000} s${stderr ? `; ${stderr}` : ''}` : stderr, stdout: Buffer.concat(out).toString('utf8')})
    })
  })
}

/** The top-level one-line headers of the first assertion in `text`. */
function assertionHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const line of text.split('\n')) {
    if (line === '') break
    const match = /^([a-z][a-z0-9-]*):\s?(.*)$/.exec(line)
    if (match && !Object.hasOwn(headers, match[1])) headers[match[1]] = match[2]
  }

  return headers
}

interface ChangeRow {
  id: string
  status: ChangeView['status']
  spawn?: string
  ready?: string
  summary: string
}

/** `snap changes --abs-time`: ID, Status, Spawn, Ready (or -), Summary. */
export function parseChangesTable(output: string): ChangeRow[] {
  const rows: ChangeRow[] = []
  for (const line of output.split('\n')) {
    const match = /^(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+?)\s*$/.exec(line)
    if (!match) continue
    rows.push({id: match[1], ready: match[4] === '-' ? undefined : match[4], spawn: match[3], status: statusName(match[2]), summary: match[5]})
  }

  return rows
}

/** `snap tasks --abs-time <id>`: the table of tasks, then each task's log after a line of dots and its summary. */
export function parseTasksOutput(output: string): TaskView[] {
  const lines = output.split('\n')
  const tasks: TaskView[] = []
  let i = 0
  while (i < lines.length && !/^Status\s+Spawn\s+Ready\s+Summary/.test(lines[i])) i++
  for (i++; i < lines.length && lines[i].trim() !== ''; i++) {
    const match = /^(\S+)\s+(\S+)\s+(\S+)\s+(.+?)\s*$/.exec(lines[i])
    if (!match) continue
    const summary = match[4].replace(/ \(\d+\.\d\d%\)$/, '')
    tasks.push({kind: taskKindFromSummary(summary), log: [], readyTime: match[3] === '-' ? undefined : match[3], spawnTime: match[2], status: taskStatusName(match[1]), summary})
  }

  // Logs: "....", the summary, a blank line, then entries; a line without a timestamp continues the entry before it.
  while (i < lines.length) {
    if (lines[i] !== DOTS) {
      i++
      continue
    }

    const summary = lines[i + 1] ?? ''
    const log: LogLine[] = []
    for (i += 3; i < lines.length && lines[i] !== DOTS; i++) {
      const line = lines[i]
      if (/^\d{4}-\d\d-\d\dT\S+ (INFO|ERROR) /.test(line)) log.push(parseLogLine(line))
      else if (log.length > 0 && line !== '') log[log.length - 1].text += `\n${line}`
    }

    const task = tasks.find((t) => t.summary === summary && t.log.length === 0)
    if (task) task.log = log.slice(-50)
  }

  return tasks
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 300) ?? ''
}
