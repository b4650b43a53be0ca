import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {ConcurrencyLimiter} from '../../src/support/limiter.js'

/** A task that ends when the test says so, recording that it started. */
function gate(started: number[], n: number): {task: () => Promise<number>; open: () => void} {
  let open!: () => void
  const done = new Promise<void>((resolve) => (open = resolve))
  return {
    open,
    task: async () => {
      started.push(n)
      await done
      return n
    },
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('ConcurrencyLimiter', () => {
  test('runs at most `limit` tasks at a time, the rest in arrival order as slots free', async () => {
    const limiter = new ConcurrencyLimiter(2)
    const started: number[] = []
    const gates = [1, 2, 3, 4].map((n) => gate(started, n))
    const results = gates.map((g) => limiter.run(g.task))
    await settle()
    assert.deepEqual(started, [1, 2])
    gates[1].open()
    await settle()
    assert.deepEqual(started, [1, 2, 3])
    gates[0].open()
    await settle()
    assert.deepEqual(started, [1, 2, 3, 4])
    gates[2].open()
    gates[3].open()
    assert.deepEqual(await Promise.all(results), [1, 2, 3, 4])
  })

  test("a failing task frees its slot, and its error is the caller's", async () => {
    const limiter = new ConcurrencyLimiter(1)
    await assert.rejects(
      limiter.run(async () => {
        throw new Error('the key is gone')
      }),
      /the key is gone/,
    )
    assert.equal(await limiter.run(async () => 'next'), 'next')
  })

  test('a newcomer does not overtake a waiting task when a slot frees', async () => {
    const limiter = new ConcurrencyLimiter(1)
    const started: number[] = []
    const first = gate(started, 1)
    const second = gate(started, 2)
    const running = [limiter.run(first.task), limiter.run(second.task)]
    await settle()
    first.open()
    const third = gate(started, 3)
    running.push(limiter.run(third.task))
    await settle()
    assert.deepEqual(started, [1, 2])
    second.open()
    third.open()
    await Promise.all(running)
    assert.deepEqual(started, [1, 2, 3])
  })

  test('a limit below 1 or not whole is refused', () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) assert.throws(() => new ConcurrencyLimiter(limit), RangeError)
  })
})
