/**
 * The hook's output, written straight to its file descriptors. The runtime prints one line; doing
 * it with writeSync spares the start-up the stream objects Node builds for process.stdout and
 * process.stderr (for a pipe, a net.Socket), and the line is out before the process exits.
 */
import {writeSync} from 'node:fs'

/** What Atomics.wait sleeps on while a full pipe drains. */
const pause = new Int32Array(new SharedArrayBuffer(4))

export interface TextSink {
  write(text: string): boolean
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

          // Nobody reads any more (EPIPE), or there is nowhere to write: the exit status still tells snapd.
          closed = true
          return false
        }
      }

      return true
    },
  }
}

