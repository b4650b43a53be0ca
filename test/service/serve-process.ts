/**
 * `snap-gadget serve` as a process, started the way an operator starts it (bin/run.js), for the
 * tests that need the whole process: its exit, its output streams, its memory. Every wait is
 * bounded.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'

import {binRun} from '../helpers/paths.js'
import {API_KEY} from './helpers.js'

export interface ServeProcess {
  child: ChildProcess
  /** The first line on stdout: "listening on URL", or with --json {"url": URL}. */
  firstLine: string
  /** The service's URL, ending in /v1/. */
  url: string
  stdout(): string
  /** What was read of stderr ('' when stderr was not a pipe). */
  stderr(): string
  exit: Promise<{code: number | null; signal: NodeJS.Signals | null}>
  /** Resident memory now, in bytes (Linux /proc). */
  rss(): number
  /** SIGTERM, then SIGKILL after 15 s; resolves when it has exited. */
  stop(): Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

export interface ServeProcessOptions {
  args?: string[]
  env?: NodeJS.ProcessEnv
  /** Where stderr goes: a pipe the test reads (default) or an open descriptor. */
  stderr?: number | 'pipe'
  /** How long to wait for the first line (20 s by default). */
  startMs?: number
  /** Run as this user and group (a root test playing an unprivileged operator). */
  user?: {uid: number; gid: number}
}

export function startServe(config: string, options: ServeProcessOptions = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [binRun, 'serve', '--config', config, ...(options.args ?? [])], {
    env: {...process.env, LAB_API_KEY: API_KEY, NO_COLOR: '1', ...options.env},
    stdio: ['ignore', 'pipe', options.stderr ?? 'pipe'],
    ...options.user,
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
  child.stderr?.on('error', () => {})
  const exit = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.once('exit', (code, signal) => resolve({code, signal})))
  const stop = async (): Promise<{code: number | null; signal: NodeJS.Signals | null}> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    const result = await exit
    clearTimeout(killer)
    return result
  }

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`serve printed no line within ${options.startMs ?? 20_000} ms; stderr: ${stderr}`))
    }, options.startMs ?? 20_000)
    void exit.then(({code, signal}) => {
      clearTimeout(timer)
      // After the first line this changes nothing: the promise is settled.
      reject(new Error(`serve exited (${code ?? signal}) before printing its first line; stderr: ${stderr}`))
    })
    const onData = (): void => {
      const newline = stdout.indexOf('\n')
      if (newline === -1) return
      clearTimeout(timer)
      child.stdout!.off('data', onData)
      const firstLine = stdout.slice(0, newline)
      const url = firstLine.startsWith('{') ? ((JSON.parse(firstLine) as {url?: string}).url ?? '') : firstLine.replace(/^listening on /, '')
      resolve({
        child,
        exit,
        firstLine,
        rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024,
        stderr: () => stderr,
        stdout: () => stdout,
        stop,
        url,
      })
    }

    child.stdout!.on('data', onData)
    void exit.then(({code}) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code} before its first line: ${stderr}`))
    })
  })
}
