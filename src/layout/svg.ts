/**
 * The layout as one self-contained SVG (no script, no external font or image): readable in a
 * browser and in a pull request. Per volume, a bar whose segments are the partition table, the
 * structures and the gaps, each as wide as its share of the disk allows while staying wide enough
 * to be numbered; raw images as strips inside their structure; problems as a red (error) or
 * dashed amber (warning) outline, with their rule id in the list beneath. Text is monospace, so
 * its width is known and every label is cut to fit its box; the list beneath gives one line to
 * each segment and each problem, so no text overlaps another.
 */
import type {DiskLayout, LaidOutStructure, LaidOutVolume, LayoutMark} from './model.js'
import {humanSize, placedByHardware, type Segment, segmentsOf} from './segments.js'
import {proportionalWidths, volumeSummary} from './text.js'

const WIDTH = 1000
const MARGIN = 16
const BAR_HEIGHT = 64
const LINE = 18
const FONT = 12
/** The advance of one character of a 12px monospace font (0.602 em for DejaVu Sans Mono). */
const CHAR_WIDTH = 7.3
const MIN_SEGMENT = 30

const ROLE_FILL: Record<string, string> = {
  'system-boot': '#8ecae6',
  'system-data': '#90be6d',
  'system-save': '#f9c74f',
  'system-seed': '#b8c0ff',
  'system-seed-null': '#b8c0ff',
}

interface SvgOptions {
  /** Give the SVG an id prefix (several on one page). */
  idPrefix?: string
}

export function formatLayoutSvg(layout: DiskLayout, options: SvgOptions = {}): string {
  const id = options.idPrefix ?? 'layout'
  const body: string[] = []
  let y = MARGIN + FONT
  body.push(text(MARGIN, y, clip(`${layout.file}: snapd ${layout.snapd}, ${layout.sectorSize}-byte sectors${layout.verdict.valid ? '' : ' — snapd refuses it'}`, WIDTH - 2 * MARGIN), {class: 'title', weight: 'bold'}))
  y += LINE
  if (!layout.verdict.valid && layout.verdict.error) {
    body.push(text(MARGIN, y, clip(layout.verdict.error, WIDTH - 2 * MARGIN), {class: 'refusal', fill: '#b00020'}))
    y += LINE
  }

  for (const volume of layout.volumes) {
    y += LINE / 2
    const drawn = volumeSvg(volume, y, id)
    body.push(drawn.svg)
    y = drawn.bottom
  }

  const height = Math.ceil(y + MARGIN)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="${FONT}" role="img" aria-label="${attr(`disk layout of ${layout.file}`)}">
<defs><pattern id="${id}-gap" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c8c8c8" stroke-width="2"/></pattern></defs>
<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>
${body.join('\n')}
</svg>
`
}

function volumeSvg(volume: LaidOutVolume, top: number, id: string): {svg: string; bottom: number} {
  const parts: string[] = []
  let y = top + FONT
  parts.push(text(MARGIN, y, clip(`volume ${volume.name}: ${volumeSummary(volume)}`, WIDTH - 2 * MARGIN), {class: 'volume', weight: 'bold'}))
  y += LINE / 2
  const segments = segmentsOf(volume)
  const widths = proportionalWidths(
    segments.map((s) => Number(s.size === 0n ? 1n : s.size)),
    WIDTH - 2 * MARGIN,
    MIN_SEGMENT,
  )
  const barTop = y
  let x = MARGIN
  for (const [i, segment] of segments.entries()) {
    parts.push(segmentSvg(segment, x, barTop, widths[i], id, placedByHardware(volume)))
    x += widths[i]
  }

  y = barTop + BAR_HEIGHT + LINE
  // The list beneath: one line a segment, then one a problem.
  const columns = Math.floor((WIDTH - 2 * MARGIN) / CHAR_WIDTH)
  for (const segment of segments) {
    parts.push(text(MARGIN, y, clip(listLine(segment, placedByHardware(volume)), columns * CHAR_WIDTH), {class: 'row', fill: segment.kind === 'structure' ? '#000000' : '#666666'}))
    y += LINE
  }

  for (const [where, mark] of marksOf(volume)) {
    parts.push(text(MARGIN, y, clip(`${mark.severity} ${mark.rule} ${where}: ${mark.message}`, columns * CHAR_WIDTH), {class: 'problem', fill: mark.severity === 'error' ? '#b00020' : '#8a5a00'}))
    y += LINE
  }

  return {bottom: y, svg: `<g class="volume" data-volume="${attr(volume.name)}">\n${parts.join('\n')}\n</g>`}
}

function segmentSvg(segment: Segment, x: number, y: number, width: number, id: string, hardware: boolean): string {
  const tooltip = `<title>${xml(listLine(segment, hardware))}</title>`
  if (segment.kind === 'gap') return `<rect class="gap" x="${x}" y="${y}" width="${width}" height="${BAR_HEIGHT}" fill="url(#${id}-gap)" stroke="#999999">${tooltip}</rect>`
  if (segment.kind === 'table') {
    return `<g class="segment table"><rect class="box" x="${x}" y="${y}" width="${width}" height="${BAR_HEIGHT}" fill="#555555" stroke="#333333">${tooltip}</rect>${label(x, y, width, 'T', 'T', '#ffffff')}</g>`
  }

  const s = segment.structure
  const worst = worstOf(s)
  const stroke = worst === 'error' ? ' stroke="#b00020" stroke-width="3"' : worst === 'warning' ? ' stroke="#c77d00" stroke-width="3" stroke-dasharray="6 3"' : ' stroke="#333333"'
  const images = s.images
    .filter((image) => image.size !== undefined && s.size > 0n)
    .map((image) => {
      const from = Number(image.start - s.start) / Number(s.size)
      const to = Number(image.start - s.start + image.size!) / Number(s.size)
      const ix = x + 2 + Math.min(1, Math.max(0, from)) * (width - 4)
      const iw = Math.max(2, (Math.min(1, to) - Math.min(1, Math.max(0, from))) * (width - 4))
      const bad = image.marks.some((m) => m.severity === 'error')
      return `<rect class="image" x="${ix.toFixed(1)}" y="${y + BAR_HEIGHT - 12}" width="${iw.toFixed(1)}" height="8" fill="${bad ? '#b00020' : '#6d597a'}"><title>${xml(`${image.image}: ${image.start - s.start} to ${image.start - s.start + image.size!} of the structure`)}</title></rect>`
    })
  return `<g class="segment structure" data-index="${s.index}"><rect class="box" x="${x}" y="${y}" width="${width}" height="${BAR_HEIGHT}" fill="${ROLE_FILL[s.role] ?? '#e9ecef'}"${stroke}>${tooltip}</rect>${label(x, y, width, `${s.index} ${s.name || '(no name)'}`, String(s.index), '#000000')}${hardware ? '' : sizeLabel(x, y, width, humanSize(s.size))}${images.join('')}</g>`
}

/** The name (or only the number) in the box's top line, cut to the box. */
function label(x: number, y: number, width: number, full: string, short: string, fill: string): string {
  const room = Math.floor((width - 8) / CHAR_WIDTH)
  const shown = [...full].length <= room ? full : [...short].length <= room ? short : ''
  if (shown === '') return ''
  return text(x + 4, y + 4 + FONT, shown, {class: 'label', fill})
}

function sizeLabel(x: number, y: number, width: number, size: string): string {
  if ([...size].length > Math.floor((width - 8) / CHAR_WIDTH)) return ''
  return text(x + 4, y + 4 + FONT + LINE, size, {class: 'size', fill: '#333333'})
}

function listLine(segment: Segment, hardware: boolean): string {
  const range = hardware ? 'placed by the hardware' : `${segment.start}–${segment.start + segment.size} (${humanSize(segment.size)})`
  if (segment.kind === 'table') return `T  partition table: ${segment.what}, ${range}`
  if (segment.kind === 'gap') return `   gap, ${range}`
  const s = segment.structure
  const what = [s.role, s.typeName, s.filesystem && s.filesystem !== 'none' ? `${s.filesystem}${s.label ? ` "${s.label}"` : ''}` : '', ...s.images.map((i) => i.image)].filter(Boolean).join(', ')
  return `${String(s.index).padEnd(2)} ${s.name || '(no name)'}: ${range}${what ? `; ${what}` : ''}`
}

function marksOf(volume: LaidOutVolume): Array<[string, LayoutMark]> {
  const out: Array<[string, LayoutMark]> = []
  for (const s of volume.structures) {
    for (const m of s.marks) out.push([`#${s.index}${s.name ? ` ${s.name}` : ''}`, m])
    for (const image of s.images) for (const m of image.marks) out.push([`#${s.index} ${image.image}`, m])
  }

  for (const m of volume.marks) out.push([`volume ${volume.name}`, m])
  return out
}

function worstOf(s: LaidOutStructure): 'error' | 'warning' | undefined {
  const all = [...s.marks, ...s.images.flatMap((i) => i.marks)]
  if (all.some((m) => m.severity === 'error')) return 'error'
  if (all.some((m) => m.severity === 'warning')) return 'warning'
  return undefined
}

function text(x: number, y: number, content: string, options: {class: string; fill?: string; weight?: string}): string {
  return `<text class="${options.class}" x="${x.toFixed(1)}" y="${y.toFixed(1)}"${options.fill ? ` fill="${options.fill}"` : ''}${options.weight ? ` font-weight="${options.weight}"` : ''}>${xml(content)}</text>`
}

/** Cut to what `width` pixels of monospace hold, with an ellipsis. */
function clip(content: string, width: number): string {
  const room = Math.floor(width / CHAR_WIDTH)
  const chars = [...content]
  return chars.length <= room ? content : `${chars.slice(0, Math.max(0, room - 1)).join('')}…`
}

/** Text for XML: markup characters escaped, and what XML cannot hold (C0, DEL, C1, bidi) made visible. */
export function xml(content: string): string {
  return content
    .replaceAll(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]/g, '�')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}

function attr(content: string): string {
  return xml(content).replaceAll("'", '&#39;')
}
