/**
 * A log a long-running process writes line by line (serve's request log on stderr), which must
 * never take the process down: a write that fails (a full disk, a reader that went away) does not
 * throw or emit an unhandled error; lines that could not be written are counted, and the first
 * failure is reported once. A reader slower than the writer does not grow memory without bound:
 * past `maxPendingBytes` waiting to be written, lines are dropped and counted too.
 */
interface LineLogStream {
  write(text: string, callback: (error?: Error | null) => void): boolean
  on(event: 'error', listener: (error: Error) => void): unknown
  readonly writableLength: number
  readonly destroyed: boolean
}

interface LineLogOptions {
  /** Bytes waiting for a slow reader before lines are dropped (1 MiB by default). */
  maxPendingBytes?: number
  /** Called once, with the first failure: the process says so somewhere else. */
  onFirstFailure?: (reason: string) => void
}

export class LineLog {
  private lost = 0
  private failed = false
  private readonly maxPendingBytes: number

  constructor(
    private readonly stream: LineLogStream,
    private readonly options: LineLogOptions = {},
  ) {
    this.maxPendingBytes = options.maxPendingBytes ?? 1024 * 1024
    // Without a listener a stream's error ends the process ("Unhandled 'error' event").
    stream.on('error', (error) => this.fail(error))
  }

  /** Lines that were not written: failed writes and lines dropped for a slow reader. */
  get linesLost(): number {
    return this.lost
  }

  write(line: string): void {
    if (this.stream.destroyed || this.stream.writableLength > this.maxPendingBytes) {
      this.lost++
      if (!this.stream.destroyed) this.fail(new Error(`the reader is slower than the log: more than ${this.maxPendingBytes} bytes wait`))
      return
    }

    try {
      this.stream.write(`${line}\n`, (error) => {
        if (error) {
          this.lost++
          this.fail(error)
        }
      })
    } catch (error) {
      this.lost++
      this.fail(error as Error)
    }
  }

  private fail(error: Error): void {
    if (this.failed) return
    this.failed = true
    const code = (error as NodeJS.ErrnoException).code
    this.options.onFirstFailure?.(code ? `${code}: ${error.message.replace(`${code}: `, '')}` : error.message)
  }
}
