/**
 * Sizes and offsets exactly as snapd parses them (gadget/quantity, strutil.SplitUnit): decimal
 * digits optionally followed by exactly `M` (MiB) or `G` (GiB). Arithmetic wraps like Go's int64
 * and uint64 do, so overflowing values behave as they do in snapd ("size cannot be negative").
 */

export const MiB = 1n << 20n
export const GiB = 1n << 30n
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

/** Go int64 wrap-around. */
function toInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v)
}

/** Go uint64 wrap-around (quantity.Offset/Size are uint64). */
export function u64(v: bigint): bigint {
  return BigInt.asUintN(64, v)
}

export class QuantityError extends Error {}

/** strutil.SplitUnit followed by the M/G multiplication of quantity.parseSizeOrOffset. */
function parseSizeOrOffset(text: string): bigint {
  let nonDigit = -1
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if ((c < '0' || c > '9') && c !== '-') {
      nonDigit = i
      break
    }
  }

  if (nonDigit === 0) throw new QuantityError('no numerical prefix')
  const prefix = nonDigit === -1 ? text : text.slice(0, nonDigit)
  const unit = nonDigit === -1 ? '' : text.slice(nonDigit)
  if (!/^[+-]?\d+$/.test(prefix)) throw new QuantityError(`${goQuote(prefix)} is not a number`)
  // Up to 15 digits a double holds the number exactly, and BigInt converts it faster than it parses text.
  const number = prefix.length <= 15 ? BigInt(Number(prefix)) : BigInt(prefix)
  if (number < INT64_MIN || number > INT64_MAX) throw new QuantityError(`${goQuote(prefix)} is not a number`)
  switch (unit) {
    case '': {
      return number
    }

    case 'M': {
      return toInt64(number * MiB)
    }

    case 'G': {
      return toInt64(number * GiB)
    }

    default: {
      throw new QuantityError(`invalid suffix ${goQuote(unit)}`)
    }
  }
}

/** quantity.ParseSize. Throws QuantityError with snapd's wording. */
export function parseSize(text: string): bigint {
  const v = parseSizeOrOffset(text)
  if (v < 0n) throw new QuantityError('size cannot be negative')
  return v
}

/** quantity.ParseOffset. */
export function parseOffset(text: string): bigint {
  const v = parseSizeOrOffset(text)
  if (v < 0n) throw new QuantityError('offset cannot be negative')
  return v
}

export interface RelativeOffset {
  relativeTo: string
  offset: bigint
}

/** gadget.parseRelativeOffset: `[<structure-name>+]<offset>`, at most 4G. */
export function parseRelativeOffset(text: string): RelativeOffset {
  let relativeTo = ''
  let spec = text
  const plus = text.indexOf('+')
  if (plus !== -1) {
    relativeTo = text.slice(0, plus)
    spec = text.slice(plus + 1)
    if (relativeTo === '') throw new QuantityError('missing volume name')
  }

  if (spec === '') throw new QuantityError('missing offset')
  let offset: bigint
  try {
    offset = parseOffset(spec)
  } catch (error) {
    throw new QuantityError(`cannot parse offset ${goQuote(spec)}: ${(error as Error).message}`)
  }

  if (offset > 4n * GiB) throw new QuantityError('offset above 4G limit')
  return {offset, relativeTo}
}

/** Go's %q for the ASCII strings snapd quotes in its messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s)
}

/** quantity's IECString: "1 MiB", "1.50 GiB", "512 B". */
export function iecString(bytes: bigint): string {
  let r = Number(BigInt.asIntN(64, bytes))
  let unit = 'B'
  for (const next of ['KiB', 'MiB', 'GiB', 'TiB', 'PiB']) {
    if (r < 1023.5) break
    r /= 1024
    unit = next
  }

  return Math.floor(r) === r ? `${r} ${unit}` : `${r.toFixed(2)} ${unit}`
}

/** The most readable way to write `bytes` in gadget.yaml: `1200M`, `1G`, or plain bytes. */
export function formatQuantity(bytes: bigint): string {
  if (bytes !== 0n && bytes % GiB === 0n) return `${bytes / GiB}G`
  if (bytes !== 0n && bytes % MiB === 0n) return `${bytes / MiB}M`
  return String(bytes)
}

const units: Record<string, bigint> = {
  b: 1n,
  g: GiB,
  gb: 1_000_000_000n,
  gib: GiB,
  k: 1024n,
  kb: 1000n,
  kib: 1024n,
  m: MiB,
  mb: 1_000_000n,
  mib: MiB,
  t: 1n << 40n,
  tib: 1n << 40n,
}

/**
 * For a quantity snapd refuses, the value the author most likely meant, written the way snapd
 * accepts it (`32K` → 32768, `1MiB` → 1M, `0x100000` → 1M), or undefined.
 */
export function suggestQuantity(text: string): string | undefined {
  const t = text.trim().replaceAll('_', '')
  if (/^0x[0-9a-f]+$/i.test(t)) return formatQuantity(BigInt(t))
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(t)
  if (!m) return undefined
  const [, num, unitText] = m
  const unit = Object.hasOwn(units, unitText.toLowerCase()) ? units[unitText.toLowerCase()] : undefined
  if (unit === undefined) return undefined
  if (num.includes('.')) {
    const [int, frac] = num.split('.')
    const scale = 10n ** BigInt(frac.length)
    const exact = (BigInt(int) * scale + BigInt(frac)) * unit
    if (exact % scale !== 0n) return undefined
    return formatQuantity(exact / scale)
  }

  // MB/GB are ambiguous: people who write them almost always mean MiB/GiB.
  const mult = unitText.toLowerCase() === 'mb' ? MiB : unitText.toLowerCase() === 'gb' ? GiB : unit
  return formatQuantity(BigInt(num) * mult)
}
