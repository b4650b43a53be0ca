/**
 * At most `limit` tasks at a time; the others wait in arrival order. The device service signs
 * through one, so signatures never fill libuv's thread pool, which the WAL's fsync and the
 * database driver's name lookups need too.
 */
export class ConcurrencyLimiter {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a concurrency limit is a whole number from 1, not ${limit}`)
  }

  /** Runs `task` once fewer than `limit` others run; its result or error is the caller's. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.running++
    try {
      return await task()
    } finally {
      // The slot passes straight to the next in line, so a newcomer cannot take it first.
      const next = this.waiting.shift()
      if (next) next()
      else this.running--
    }
  }
}
