/** "Did you mean …?" for names people mistype: the nearest known name by edit distance. */

/** Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = saved
    }
  }

  return row[b.length]
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
