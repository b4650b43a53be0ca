/**
 * End-to-end runs of the CLI: spawns bin/run.js (the built package) the way a user does.
 * With SNAP_GADGET_CLI=dev it runs bin/dev.mjs (src/ through tsx) instead, for work in progress.
 */
import {spawn} from 'node:child_process'
import {join} from 'node:path'

import {projectRoot} from './paths.js'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  signal: NodeJS.Signals | null
}

export interface CliOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  input?: string | Uint8Array
  timeoutMs?: number
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const dev = process.env.SNAP_GADGET_CLI === 'dev'
  const bin = join(projectRoot, 'bin', dev ? 'dev.mjs' : 'run.js')
  const nodeArgs = dev ? ['--import', 'tsx', bin] : [bin]
  return runProcess(process.execPath, [...nodeArgs, ...args], {...options, env: {...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...options.env}})
}

/** Runs a command to its end without a shell, feeding it `input`; collects its output. */
export function runProcess(command: string, args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? projectRoot,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 60_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({code, signal, stderr, stdout}))
    // A child that exits or closes its standard input without reading it is no failure of ours.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(error)
    })
    child.stdin.end(options.input ?? '')
  })
}
