/**
 * The pictures, looked at in a real browser (Debian's chromium, headless): the SVG and the HTML
 * of a PC gadget, a Raspberry Pi, a board with a GPT volume and eMMC boot partitions, and a gadget
 * with an overlap. A script in the page measures what the browser drew: every label of a
 * structure inside its box, and no text over another. The screenshots are kept in
 * test-artifacts/layout/ for a person to look at.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {layOutGadget, renderLayout} from '../../src/layout/index.js'
import {fixtures, projectRoot} from '../helpers/paths.js'
import {freshDir, scratchDir} from '../helpers/scratch.js'

const chromium = ['chromium', 'chromium-browser'].find((name) => spawnSync(name, ['--version'], {encoding: 'utf8'}).status === 0)
if (!chromium && process.env.CI === 'true') throw new Error('chromium is required in CI (scripts/system-deps.sh installs it)')
const work = scratchDir('layout-browser-')
const artifacts = join(projectRoot, 'test-artifacts', 'layout')

const gadgets: Array<[string, string]> = [
  ['pc', join(projectRoot, 'examples', 'pc-amd64-core24')],
  ['raspberry-pi', join(projectRoot, 'examples', 'raspberry-pi-core24')],
  ['emmc-board', fixtures('layout', 'emmc-board')],
  ['overlap', fixtures('layout', 'overlap')],
]

/** Runs in the page once it is drawn: what overlaps what, as JSON in <pre id="layout-check">. */
const CHECK = `<script>
window.addEventListener('load', () => {
  const rect = (e) => e.getBoundingClientRect()
  const problems = []
  let labels = 0
  for (const g of document.querySelectorAll('g.segment')) {
    const box = g.querySelector('rect.box')
    if (!box) continue
    const b = rect(box)
    for (const t of g.querySelectorAll('text')) {
      labels++
      const r = rect(t)
      if (r.left < b.left - 0.5 || r.right > b.right + 0.5 || r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5) problems.push('label "' + t.textContent + '" leaves its box')
    }
  }
  const texts = [...document.querySelectorAll('svg text')].map((t) => ({text: t.textContent, r: rect(t)})).filter((x) => x.r.width > 0)
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++) {
      const a = texts[i].r, c = texts[j].r
      const w = Math.min(a.right, c.right) - Math.max(a.left, c.left)
      const h = Math.min(a.bottom, c.bottom) - Math.max(a.top, c.top)
      if (w > 0.5 && h > 0.5) problems.push('"' + texts[i].text + '" overlaps "' + texts[j].text + '"')
    }
  }
  const out = document.createElement('pre')
  out.id = 'layout-check'
  out.textContent = JSON.stringify({labels, problems, texts: texts.length})
  document.body.appendChild(out)
})
</script>`

function chrome(args: string[]): string {
  const profile = freshDir('layout-browser-profile-')
  const result = spawnSync(
    chromium!,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--hide-scrollbars',
      ...args,
    ],
    {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000},
  )
  assert.equal(result.status, 0, result.stderr)
  return result.stdout
}

describe('the pictures in a browser', {skip: chromium ? false : 'needs Debian chromium (apt-get install chromium)'}, () => {
  for (const [name, gadget] of gadgets) {
    for (const format of ['svg', 'html'] as const) {
      test(`${name}, ${format}: every label inside its box, no text over another; a screenshot kept`, () => {
        const rendered = renderLayout(layOutGadget(gadget), format)
        const page = format === 'svg' ? `<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0">${rendered}${CHECK}</body></html>` : rendered.replace('</body>', `${CHECK}</body>`)
        const file = join(work, `${name}.${format}.html`)
        writeFileSync(file, page)
        const dom = chrome(['--virtual-time-budget=5000', '--dump-dom', `file://${file}`])
        const found = /<pre id="layout-check">([^<]*)<\/pre>/.exec(dom)?.[1]
        assert.ok(found, 'the check ran in the page')
        const check = JSON.parse(found.replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')) as {labels: number; problems: string[]; texts: number}
        assert.ok(check.labels > 0 && check.texts > 0, JSON.stringify(check))
        assert.deepEqual(check.problems, [])

        mkdirSync(artifacts, {recursive: true})
        const shot = join(artifacts, `${name}.${format}.png`)
        chrome([`--screenshot=${shot}`, '--window-size=1100,1400', `file://${file}`])
      })
    }
  }
})
