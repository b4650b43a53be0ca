/**
 * Output written straight to a file descriptor with writeSync. Node builds process.stdout and
 * process.stderr on first use, and for a pipe that is a net.Socket: loading net and the stream
 * modules costs a few milliseconds of every start, more than some whole commands take. The
 * on-device runtime and the fast CLI entries write through these instead; the text is out before
 * the process exits, in order, however the output is redirected.
 */
import {writeSync} from 'node:fs'

/** What Atomics.wait sleeps on while a full pipe drains. */
const pause = new Int32Array(new SharedArrayBuffer(4))

export interface TextSink {
  write(text: string): boolean
}

/** Somewhere text goes: process.stdout, a descriptor sink (terminal.ts), a test's buffer. */
export interface OutputSink {
  write(text: string): unknown
  readonly isTTY?: boolean
}

/** A sink for an open descriptor (1: stdout, 2: stderr). */
export function descriptorSink(fd: number): TextSink {
  let closed = false
  return {
    write(text) {
      if (closed) return false
      const bytes = Buffer.from(text, 'utf8')
      let written = 0
      while (written < bytes.length) {
        try {
          written += writeSync(fd, bytes, written)
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code
          // A non-blocking pipe that is full: wait a moment for the reader, as Node's own stream would.
          if (code === 'EAGAIN') {
            Atomics.wait(pause, 0, 0, 1)
            continue
          }

          // Nobody reads any more (EPIPE), or there is nowhere to write: the exit status still tells.
          closed = true
          return false
        }
      }

      return true
    },
  }
}
