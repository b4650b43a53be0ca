/** snapd's own validator, through the shared oracle script (`snap pack --check-skeleton`). */
import {execFileSync, spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {shared} from './paths.js'

export interface OracleVerdict {
  file: string
  valid: boolean
  error: null | string
  stubs: number
  notes?: string[]
}

/** True when snapd's `snap` command and PyYAML are installed, so the oracle can run. */
export function oracleAvailable(): boolean {
  const snap = spawnSync('snap', ['pack', '--help'], {stdio: 'ignore'})
  const py = spawnSync('python3', ['-c', 'import yaml'], {stdio: 'ignore'})
  return snap.status === 0 && py.status === 0
}

/** CI must compare with the real snapd: there a missing oracle fails instead of skipping. */
export function oracleRequired(): boolean {
  return process.env.CI === 'true' || process.env.SNAP_GADGET_REQUIRE_ORACLE === '1'
}

export function runOracle(files: string[], options: {cwd?: string; args?: string[]} = {}): OracleVerdict[] {
  if (files.length === 0) return []
  const out = execFileSync(shared('tools', 'snapd-oracle.sh'), [...(options.args ?? []), '-j', '4'], {
    cwd: options.cwd,
    encoding: 'utf8',
    input: files.join('\n') + '\n',
    maxBuffer: 64 * 1024 * 1024,
  })
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as OracleVerdict)
}

/** Writes documents into `dir` as 00000.yaml, 00001.yaml, …, for the oracle; returns the files. */
export function writeDocuments(dir: string, docs: ReadonlyArray<string | Uint8Array>): string[] {
  return docs.map((doc, i) => {
    const file = join(dir, `${String(i).padStart(5, '0')}.yaml`)
    writeFileSync(file, doc)
    return file
  })
}
