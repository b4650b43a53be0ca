/**
 * The layout as a terminal picture: for each volume a bar, each structure a segment proportional
 * to its size (but wide enough to be seen and numbered), then a table of every structure, gap and
 * partition-table range with its start, end and size, and what validate found, where it is.
 * Colour only when asked for (a terminal, no NO_COLOR); every text from gadget.yaml is escaped.
 */
import {terminalSafe} from '../support/echo.js'
import {painter, type Paint, type Style} from '../support/paint.js'
import type {DiskLayout, LaidOutStructure, LaidOutVolume, LayoutMark} from './model.js'
import {humanSize, placedByHardware, type Segment, segmentsOf} from './segments.js'

interface TextLayoutOptions {
  color: boolean
  /** Columns of the terminal (at least 40). */
  width: number
}

export function formatLayoutText(layout: DiskLayout, options: TextLayoutOptions): string {
  const paint = painter(options.color)
  const width = Math.max(40, options.width)
  const parts: string[] = [
    wrap(
      `${paint('bold', terminalSafe(layout.file))}: judged as snapd ${layout.snapd}, ${layout.sectorSize}-byte sectors${layout.verdict.valid ? '' : `; ${paint('red', 'snapd refuses it')}: ${terminalSafe(layout.verdict.error ?? '')}`}`,
      width,
    ).join('\n'),
  ]
  if (layout.volumes.length === 0) parts.push('no volumes')
  for (const volume of layout.volumes) parts.push(volumeText(volume, paint, width))
  return `${parts.join('\n\n')}\n`
}

function volumeText(volume: LaidOutVolume, paint: Paint, width: number): string {
  const lines = wrap(`${paint('bold', `volume ${terminalSafe(volume.name)}`)}: ${terminalSafe(volumeSummary(volume))}`, width)
  const segments = segmentsOf(volume)
  if (segments.length > 0) {
    const inner = width
    const widths = proportionalWidths(
      segments.map((s) => Number(s.size === 0n ? 1n : s.size)),
      inner,
      3,
    )
    let bar = ''
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]
      const w = widths[i]
      const label = fitted(
        segment.kind === 'structure' ? `${segment.structure.index} ${segment.structure.name}` : segment.kind === 'gap' ? '' : 'T',
        segment.kind === 'structure' ? String(segment.structure.index) : '',
        w - 2,
      )
      const fill = segment.kind === 'gap' ? '·' : segment.kind === 'table' ? '▒' : ' '
      const body = `${label}${fill.repeat(Math.max(0, w - 2 - label.length))}`
      const style: Style = segment.kind === 'table' ? 'dim' : segment.kind === 'gap' ? 'dim' : segment.structure.marks.some((m) => m.severity === 'error') ? 'red' : roleStyle(segment.structure)
      bar += paint(style, `[${terminalSafe(body)}]`)
    }

    lines.push(bar)
  }

  lines.push(tableText(volume, segments, paint, width))
  return lines.join('\n')
}

/** "gpt, grub; 6 structures, 2.94 GiB to the end of the last"; eMMC boot partitions have no offsets to add up. */
export function volumeSummary(volume: LaidOutVolume): string {
  const head = `${volume.schema || 'no schema'}${volume.bootloader ? `, ${volume.bootloader}` : ''}`
  if (volume.schema === 'emmc') return `${head}; ${volume.structures.length} eMMC hardware partitions, placed by the hardware rather than at offsets`
  return `${head}; ${volume.structures.length} structures, ${humanSize(volume.end)} to the end of the last`
}

function tableText(volume: LaidOutVolume, segments: readonly Segment[], paint: Paint, width: number): string {
  const rows: string[][] = [['#', 'name', 'role', 'type', 'start', 'end', 'size', 'filesystem / content']]
  const rowStyles: Array<Style | undefined> = [undefined]
  const notes: string[] = []
  const note = (where: string, marks: readonly LayoutMark[]) => {
    for (const m of marks) notes.push(`${paint(m.severity === 'error' ? 'red' : 'yellow', `${m.severity} ${m.rule}`)} ${where}: ${terminalSafe(m.message)}`)
  }

  for (const segment of segments) {
    if (segment.kind === 'table') {
      rows.push(['T', '(table)', '', '', String(segment.start), String(segment.start + segment.size), humanSize(segment.size), segment.what])
      rowStyles.push('dim')
    } else if (segment.kind === 'gap') {
      rows.push(['', '(gap)', '', '', String(segment.start), String(segment.start + segment.size), humanSize(segment.size), ''])
      rowStyles.push('dim')
    } else {
      const s = segment.structure
      const fs =
        s.filesystem && s.filesystem !== 'none'
          ? `${s.filesystem}${s.label ? ` "${s.label}"` : ''}${s.files.length > 0 ? `, ${s.files.length} file${s.files.length === 1 ? '' : 's'}` : ''}`
          : s.images.map((i) => `${i.image}@${i.start - s.start}`).join(', ')
      const place = placedByHardware(volume) ? ['-', '-', 'hardware'] : [String(s.start), String(s.end), `${humanSize(s.size)}${s.minSize === undefined ? '' : ` (min ${humanSize(s.minSize)})`}`]
      rows.push([String(s.index), s.name || '-', s.role || '-', s.typeName, ...place, fs])
      rowStyles.push(s.marks.some((m) => m.severity === 'error') ? 'red' : s.marks.length > 0 ? 'yellow' : undefined)
      note(`#${s.index}${s.name ? ` ${s.name}` : ''}`, s.marks)
      for (const image of s.images) note(`#${s.index} ${image.image}`, image.marks)
    }
  }

  note(`volume ${volume.name}`, volume.marks)
  // Widths once, each cell escaped once; no column copies. (Layout's cold start is a benchmark
  // target, and this table was the largest share of the text picture's allocations.)
  const safe: string[][] = []
  const widths: number[] = []
  for (const row of rows) {
    const cells: string[] = []
    for (let c = 0; c < row.length; c++) {
      const cell = terminalSafe(row[c])
      cells.push(cell)
      const cellWidth = codePoints(cell)
      if (widths[c] === undefined || cellWidth > widths[c]) widths[c] = cellWidth
    }

    safe.push(cells)
  }

  // Narrow terminals lose the end column first (start and size say it), then the type (the JSON,
  // SVG and HTML have it); what still does not fit is cut.
  const shown = safe[0].map(() => true)
  let total = widths.reduce((a, b) => a + b + 2, 0)
  for (const header of ['end', 'type']) {
    if (total <= width) break
    const column = safe[0].indexOf(header)
    shown[column] = false
    total -= widths[column] + 2
  }

  const last = shown.lastIndexOf(true)
  const text: string[] = []
  for (let r = 0; r < safe.length; r++) {
    let line = ''
    let first = true
    for (let c = 0; c <= last; c++) {
      if (!shown[c]) continue
      if (!first) line += '  '
      first = false
      line += c === last ? safe[r][c] : safe[r][c].padEnd(widths[c])
    }

    line = cut(line.trimEnd(), width)
    const style = r === 0 ? 'bold' : rowStyles[r]
    text.push(style ? paint(style, line) : line)
  }

  return [...text, ...notes.flatMap((n) => wrap(n, width))].join('\n')
}

// Counted by code point, as [...text].length counts, without building the array: layout's start
// is a benchmark target, and the table and its notes were most of the text picture's allocations.

const isHighSurrogate = (unit: number) => unit >= 0xd8_00 && unit <= 0xdb_ff
const isLowSurrogate = (unit: number) => unit >= 0xdc_00 && unit <= 0xdf_ff

/** The UTF-16 index just past the first `count` code points of `text`. */
function codePointEnd(text: string, count: number): number {
  let at = 0
  for (let k = 0; k < count && at < text.length; k++) at += isHighSurrogate(text.charCodeAt(at)) && isLowSurrogate(text.charCodeAt(at + 1)) ? 2 : 1
  return at
}

function codePoints(text: string): number {
  let pairs = 0
  for (let i = 0; i < text.length - 1; i++) {
    if (isHighSurrogate(text.charCodeAt(i)) && isLowSurrogate(text.charCodeAt(i + 1))) {
      pairs++
      i++
    }
  }

  return text.length - pairs
}

const ANSI_STYLE = /\u001B\[\d+m/g

/** Characters a terminal shows of `text`: ANSI styles not counted. */
function visible(text: string): number {
  return codePoints(text.includes('\u001B') ? text.replaceAll(ANSI_STYLE, '') : text)
}

/** A line cut to `width` characters, with an ellipsis. */
function cut(line: string, width: number): string {
  return codePoints(line) <= width ? line : `${line.slice(0, codePointEnd(line, width - 1))}…`
}

/** Words to lines of at most `width` characters (ANSI styles not counted), continuation lines indented. */
function wrap(line: string, width: number): string[] {
  const out: string[] = []
  let current = ''
  // visible(current), kept as words are added: a style never spans a space, so widths add up.
  let shown = 0
  for (const word of line.split(' ')) {
    const size = visible(word)
    if (current === '') {
      current = word
      shown = size
    } else if (shown + 1 + size <= width) {
      current = `${current} ${word}`
      shown += 1 + size
    } else {
      out.push(current)
      current = `    ${word}`
      shown = 4 + size
    }
  }

  out.push(current)
  return out.map((l) => (visible(l) > width ? cut(l, width) : l))
}

function roleStyle(s: LaidOutStructure): Style {
  if (s.role === 'system-data') return 'green'
  if (s.role.startsWith('system-')) return 'cyan'
  return 'bold'
}

/** `wanted` if it fits in `room`, else `short`, else nothing. */
function fitted(wanted: string, short: string, room: number): string {
  if (codePoints(wanted) <= room) return wanted
  if (codePoints(short) <= room) return short
  return ''
}

/**
 * Widths that add up to `total`, each at least `min`, the rest shared in proportion to `weights`:
 * a 440-byte boot sector and a 30 GB data partition both stay visible.
 */
export function proportionalWidths(weights: readonly number[], total: number, min: number): number[] {
  const n = weights.length
  if (n === 0) return []
  if (n * min >= total) return weights.map(() => Math.max(1, Math.floor(total / n)))
  const fixed = new Array<boolean>(n).fill(false)
  let widths = new Array<number>(n).fill(min)
  // Those too small for their share get the minimum; the rest share what is left, until stable.
  for (;;) {
    const free = total - widths.reduce((sum, w, i) => sum + (fixed[i] ? w : 0), 0)
    const weight = weights.reduce((sum, w, i) => sum + (fixed[i] ? 0 : w), 0)
    let changed = false
    widths = widths.map((w, i) => {
      if (fixed[i]) return w
      const share = weight === 0 ? free / n : (free * weights[i]) / weight
      if (share < min) {
        fixed[i] = true
        changed = true
        return min
      }

      return share
    })
    if (!changed) break
  }

  // Whole columns, the rounding left to the widest.
  const whole = widths.map((w) => Math.floor(w))
  const left = total - whole.reduce((a, b) => a + b, 0)
  whole[whole.indexOf(Math.max(...whole))] += left
  return whole
}
