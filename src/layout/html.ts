/**
 * The layout as one self-contained HTML page (no script, no external file): the SVG picture, then
 * per volume a table of every structure, gap and partition-table range with its content, then
 * what validate found, with rule ids and places.
 */
import type {DiskLayout, LaidOutVolume} from './model.js'
import {humanSize, placedByHardware, segmentsOf} from './segments.js'
import {formatLayoutSvg, xml} from './svg.js'
import {volumeSummary} from './text.js'

export function formatLayoutHtml(layout: DiskLayout): string {
  const findings = layout.findings.map(
    (f) =>
      `<li class="${f.severity}"><span class="rule">${xml(f.severity)} ${xml(f.rule)}</span> ${f.start ? `${xml(layout.file)}:${f.start.line}:${f.start.column}` : xml(layout.file)}: ${xml(f.message)}${f.hint ? `<br><span class="hint">hint: ${xml(f.hint)}</span>` : ''}</li>`,
  )
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${xml(`Disk layout of ${layout.file}`)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #111; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; font-family: monospace; }
tr.gap td, tr.table td { color: #666; }
tr.error td { background: #fde8ea; }
tr.warning td { background: #fff4e0; }
li.error .rule { color: #b00020; font-weight: bold; }
li.warning .rule { color: #8a5a00; font-weight: bold; }
.hint { color: #555; }
figure { margin: 0; overflow-x: auto; }
</style>
</head>
<body>
<h1>Disk layout of ${xml(layout.file)}</h1>
<p>As snapd ${xml(layout.snapd)} lays it out, on a disk with ${layout.sectorSize}-byte sectors. ${layout.verdict.valid ? 'snapd accepts this gadget.' : `snapd refuses this gadget: ${xml(layout.verdict.error ?? '')}`}</p>
<figure>
${formatLayoutSvg(layout, {idPrefix: 'layout'}).trimEnd()}
</figure>
${layout.volumes.map((v) => volumeTable(v)).join('\n')}
<h2>Findings</h2>
${findings.length > 0 ? `<ul>\n${findings.join('\n')}\n</ul>` : '<p>None.</p>'}
</body>
</html>
`
}

function volumeTable(volume: LaidOutVolume): string {
  const rows = segmentsOf(volume).map((segment) => {
    const range = placedByHardware(volume)
      ? '<td class="n">-</td><td class="n">-</td><td class="n">hardware</td>'
      : `<td class="n">${segment.start}</td><td class="n">${segment.start + segment.size}</td><td class="n">${segment.size} (${xml(humanSize(segment.size))})</td>`
    if (segment.kind === 'table') return `<tr class="table"><td>T</td><td colspan="3">partition table: ${xml(segment.what)}</td>${range}<td></td><td></td></tr>`
    if (segment.kind === 'gap') return `<tr class="gap"><td></td><td colspan="3">gap</td>${range}<td></td><td></td></tr>`
    const s = segment.structure
    const marks = [...s.marks, ...s.images.flatMap((i) => i.marks)]
    const level = marks.some((m) => m.severity === 'error') ? 'error' : marks.length > 0 ? 'warning' : ''
    const content = [...s.images.map((i) => `${xml(i.image)} at ${i.start - s.start}${i.size === undefined ? '' : `, ${i.size} bytes`}`), ...s.files.map((f) => `${xml(f.source)} → ${xml(f.target)}`)].join('<br>')
    const problems = marks.map((m) => `<b>${xml(m.rule)}</b> ${xml(m.message)}`).join('<br>')
    return `<tr class="${level}"><td>${s.index}</td><td>${xml(s.name)}</td><td>${xml(s.role)}</td><td>${xml(s.typeName)}<br><code>${xml(s.type)}</code></td>${range}<td>${xml(s.filesystem)}${s.label ? ` "${xml(s.label)}"` : ''}${content ? `<br>${content}` : ''}</td><td>${problems}</td></tr>`
  })
  return `<h2>Volume ${xml(volume.name)}</h2>
<p>${xml(volumeSummary(volume))}.</p>
<table>
<thead><tr><th>#</th><th>name</th><th>role</th><th>type</th><th>start</th><th>end</th><th>size</th><th>filesystem, content</th><th>problems</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`
}
