/**
 * The one line index of the project: where lines start in a text, and offset ↔ line:column.
 * Lines break at LF, CRLF and a lone CR, as libyaml and editors count them; lines and columns
 * are 1-based, columns count UTF-16 code units (JavaScript string offsets). Formats read as bytes
 * index them with `lineStartsOfBytes` instead, and their columns count bytes.
 */

const LF = 0x0a

export interface LinePosition {
  column: number
  line: number
}

/** The offsets where the lines of `text` start; the first is 0. */
export function lineStarts(text: string): number[] {
  const starts = [0]
  // Without CRs (the usual file), native searches for LF find the lines faster than a character loop.
  if (!text.includes('\r')) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
    return starts
  }

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) starts.push(i + 1)
  }

  return starts
}

/**
 * The offsets where the lines of `bytes` start, the first 0, breaking at LF only: for formats
 * where a CR is an error of its own rather than a line break (snapd assertions). Offsets are byte
 * offsets, so `position` over these starts gives columns in bytes, not characters.
 */
export function lineStartsOfBytes(bytes: Uint8Array): number[] {
  const starts = [0]
  for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, i + 1)) starts.push(i + 1)
  return starts
}

/** The line and column of `offset`, given the text's `lineStarts` (or `lineStartsOfBytes`). */
export function position(starts: readonly number[], offset: number): LinePosition {
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid] <= offset) lo = mid
    else hi = mid - 1
  }

  return {column: offset - starts[lo] + 1, line: lo + 1}
}

/** The offset of `line`:`column`, given the text's `lineStarts`: the inverse of `position` within a line. */
export function offsetAt(starts: readonly number[], {column, line}: LinePosition): number {
  return starts[Math.min(Math.max(line, 1), starts.length) - 1] + column - 1
}
