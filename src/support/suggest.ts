/** "Did you mean …?" for names people mistype: the nearest known name by edit distance. */

/**
 * Edit distance between two strings, counting a swap of two neighbouring characters as one edit
 * (optimal string alignment): the commonest typo (modle, stirct) is one slip, not two.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0
  // Three rows: the one before the previous is needed for a swap.
  let before = Array.from({length: b.length + 1}, () => 0)
  let previous = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2] + 1)
      current.push(d)
    }

    before = previous
    previous = current
  }

  return previous[b.length]
}

/**
 * The known name closest to `value` (ignoring case), when it is close enough to be a likely typo:
 * a case-only difference, or by default at most a third of the characters off (one for short names).
 */
export function didYouMean(value: string, known: Iterable<string>, maxDistance = Math.max(1, Math.floor(value.length / 3))): string | undefined {
  const lower = value.toLowerCase()
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    const d = editDistance(lower, candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }

  return bestDistance <= maxDistance ? best : undefined
}
