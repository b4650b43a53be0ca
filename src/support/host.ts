/**
 * What the engine-neutral code (serial sources, the prepare-device logic, the device identity)
 * needs from the machine, as one interface with two implementations: Node (the CLI, the SDK, and
 * `node prepare-device.cjs`) and QuickJS (`qjs --std prepare-device.cjs`, what gadgets ship). Every
 * file read, spawn, random byte and digest of that code goes through `host()`.
 *
 * Errors from file operations carry the errno name as `code` (ENOENT, EACCES, …), as Node's do, so
 * callers judge them the same way on both engines.
 */
import {nodeHost} from './node-host.js'
import type {Host} from './host-types.js'

export type {Host, HostKeyType, HostStat, SpawnOptions, SpawnResult} from './host-types.js'

let current: Host = nodeHost

/** The host the engine-neutral code runs on: Node unless an entry installed another. */
export function host(): Host {
  return current
}

/** Installs the host (the runtime's entry does, once, before anything else runs). */
export function useHost(next: Host): void {
  current = next
}

/** An Error with an errno name as `code`, as file operations throw. */
export function hostError(code: string, message: string): Error & {code: string} {
  return Object.assign(new Error(`${code}: ${message}`), {code})
}

/**
 * A whole regular file of at most `maxBytes`, through the host. Anything else (a FIFO, a device, a
 * directory, a larger file) is refused with an errno-coded error before a byte is read, so a
 * hostile path cannot block the caller or grow its memory. The engine-neutral reader, for code
 * that runs on the device; the CLI reads user files with support/bounded-read.ts, which says in
 * its messages which file it is and how to fix it.
 */
export function readHostFile(path: string, maxBytes: number): Uint8Array {
  const stat = host().stat(path)
  if (stat.kind === 'directory') throw hostError('EISDIR', path)
  if (stat.kind !== 'file') throw hostError('ENOTREGULAR', `${path} is not a regular file`)
  const bytes = host().readBytes(path, 0, maxBytes + 1)
  if (bytes.length > maxBytes) throw hostError('EFBIG', `${path} is larger than ${maxBytes} bytes`)
  return bytes
}
