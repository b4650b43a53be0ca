/**
 * A recording `snapctl` to put first on a hook's PATH: it appends its exact argv as one JSON line
 * to $SNAPCTL_LOG and answers from the environment the hook runs with.
 *
 * - `is-connected P` exits 0 when P is listed in $SNAPCTL_CONNECTED (comma-separated, or `*`), 1
 *   otherwise; for a plug listed in $SNAPCTL_UNDECLARED it fails as snapd does for a plug the snap
 *   does not have.
 * - `get KEY` prints $SNAPCTL_GET_<KEY> (KEY with every other character than letters and digits
 *   as _, so `api-key` is $SNAPCTL_GET_api_key) and a newline, as snapctl prints a string option.
 *   For an option with no value it fails with snapd's "has no … configuration option", or, with
 *   `unset: 'empty'`, prints an empty line and exits 0, as snapd's ctlcmd answers an untyped get.
 * - $SNAPCTL_FAIL names a subcommand (set, unset) that fails with snapd's error text.
 * - `onSet` replaces what `set` does (after it is recorded) with shell commands: the snapctl is then
 *   a /bin/sh script that runs them itself, so `$$` is the snapctl the hook started and `$*` its
 *   arguments; they end with `exit 0` unless they exit first.
 */
import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

export interface RecordingSnapctlOptions {
  /** What `get` does for an option with no value: fail as snapd's "has no … configuration option" (the default), or print an empty line. */
  unset?: 'empty' | 'error'
  /** Shell commands that replace what `set` does, run by the snapctl's own shell process. */
  onSet?: string
}

const recorder = (unset: 'empty' | 'error') => `
const {appendFileSync} = require('node:fs')
const args = process.argv.slice(2)
appendFileSync(process.env.SNAPCTL_LOG, JSON.stringify(args) + '\\n')
if (process.env.SNAPCTL_ONLY_RECORD) process.exit(0)
const list = (name) => (process.env[name] || '').split(',').filter(Boolean)
if (args[0] === 'is-connected') {
  if (list('SNAPCTL_UNDECLARED').includes(args[1])) {
    process.stderr.write('error: error running snapctl: snap "pi" has no plug or slot named "' + args[1] + '"\\n')
    process.exit(1)
  }
  const connected = list('SNAPCTL_CONNECTED')
  process.exit(connected.includes('*') || connected.includes(args[1]) ? 0 : 1)
}
if (args[0] === 'get') {
  const value = process.env['SNAPCTL_GET_' + args[1].replace(/[^A-Za-z0-9]/g, '_')]
  if (value === undefined && ${JSON.stringify(unset)} === 'error') {
    process.stderr.write('error: error running snapctl: snap "pi" has no "' + args[1] + '" configuration option\\n')
    process.exit(1)
  }
  process.stdout.write((value ?? '') + '\\n')
  process.exit(0)
}
if (args[0] === process.env.SNAPCTL_FAIL) {
  process.stderr.write('error: error running snapctl: cannot communicate with server: connection refused\\n')
  process.exit(1)
}
`

/** Writes the recording snapctl into `dir` (which then goes first on PATH); returns its path. */
export function writeRecordingSnapctl(dir: string, options: RecordingSnapctlOptions = {}): string {
  mkdirSync(dir, {recursive: true})
  const file = join(dir, 'snapctl')
  // An absolute interpreter: no PATH lookup, and the same Node whatever PATH the test sets.
  const script = `#!${process.execPath}\n${recorder(options.unset ?? 'error')}`
  if (options.onSet === undefined) {
    writeFileSync(file, script)
  } else {
    const js = join(dir, 'snapctl.cjs')
    writeFileSync(js, script)
    const node = JSON.stringify(process.execPath)
    writeFileSync(file, `#!/bin/sh\nif [ "$1" = set ]; then\n  SNAPCTL_ONLY_RECORD=1 ${node} ${JSON.stringify(js)} "$@" || exit 1\n${options.onSet}\n  exit 0\nfi\nexec ${node} ${JSON.stringify(js)} "$@"\n`)
  }

  chmodSync(file, 0o755)
  return file
}

/** The argv of every snapctl call recorded in `log`, in order. */
export function readSnapctlLog(log: string): string[][] {
  if (!existsSync(log)) return []
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as string[])
}
