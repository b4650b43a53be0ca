/**
 * `snap-gadget layout`: the partition table per sector size (the MBR and GPT specifications'
 * numbers), problems drawn where they are (an overlap, a structure on the GPT entries of a
 * 4096-byte-sector disk, an image that does not fit), gaps, the JSON shape, the text picture at 80
 * and 200 columns, and the command's output rules.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {planFastRun} from '../../src/cli/fast/launch.js'
import {layOutGadget, partitionTableOf, partitionTypeName, renderLayout} from '../../src/layout/index.js'
import {runCli} from '../helpers/cli.js'
import {fixtures, projectRoot} from '../helpers/paths.js'
import {scratchDir} from '../helpers/scratch.js'

const work = scratchDir('layout-')
const example = (name: string) => join(projectRoot, 'examples', name)
const ansi = /\u001B\[/

describe('the partition table, as the specifications place it', () => {
  test('GPT: protective MBR, header, 16 KiB of entries, per sector size; MBR: the table in sector 0', () => {
    assert.deepEqual(
      partitionTableOf('gpt', 512).map((r) => [r.what, Number(r.start), Number(r.start + r.size)]),
      [
        ['protective MBR', 0, 512],
        ['GPT header', 512, 1024],
        ['GPT partition entries', 1024, 17_408],
      ],
    )
    assert.equal(Number(partitionTableOf('gpt', 4096).at(-1)!.start + partitionTableOf('gpt', 4096).at(-1)!.size), 24_576)
    assert.deepEqual(
      partitionTableOf('mbr', 512).map((r) => [Number(r.start), Number(r.size)]),
      [[446, 66]],
    )
    assert.deepEqual(partitionTableOf('emmc', 512), [])
  })

  test('well-known partition type names', () => {
    assert.equal(partitionTypeName('C12A7328-F81F-11D2-BA4B-00A0C93EC93B'), 'EFI System')
    assert.equal(partitionTypeName('0c'), 'FAT32 (LBA)')
    assert.equal(partitionTypeName('83,0FC63DAF-8483-4772-8E79-3D69D8477DE4'), 'Linux / Linux filesystem')
    assert.equal(partitionTypeName('bare'), 'bare (no partition)')
    assert.equal(partitionTypeName('mbr'), 'MBR boot code')
    assert.equal(partitionTypeName('DEA0BA2C-CBDD-4805-B4F9-F428251C3E98'), 'DEA0BA2C-CBDD-4805-B4F9-F428251C3E98')
  })
})

describe('a gadget with problems: each drawn where it is, with its rule id', () => {
  const overlap = fixtures('layout', 'overlap')

  test('the overlap on the structure that overlaps, the image that does not fit on the image; with 4096-byte sectors, the table', () => {
    const layout = layOutGadget(overlap, {sectorSize: 4096})
    assert.equal(layout.verdict.valid, false)
    const [volume] = layout.volumes
    const byName = new Map(volume.structures.map((s) => [s.name, s]))
    assert.ok(byName.get('ubuntu-boot')!.marks.some((m) => m.rule === 'X1' && m.severity === 'error'))
    assert.ok(byName.get('firmware')!.marks.some((m) => m.rule === 'X8'))
    assert.deepEqual(
      byName.get('firmware')!.images[0].marks.map((m) => m.rule),
      ['C5'],
    )
    assert.deepEqual(
      volume.gaps.map((g) => [Number(g.start), Number(g.size)]),
      [[86_016, 1_048_576 - 86_016]],
    )
    // With 512-byte sectors the entries end at 17408: the firmware at 20480 is clear of them.
    const small = layOutGadget(overlap, {sectorSize: 512}).volumes[0].structures.find((s) => s.name === 'firmware')!
    assert.ok(!small.marks.some((m) => /GPT partition entries of a disk with 512-byte sectors/.test(m.message)))
  })

  test('json: the numbers as integers, structures in disk order, the shape the README gives', () => {
    const json = JSON.parse(renderLayout(layOutGadget(overlap, {sectorSize: 4096}), 'json')) as {
      volumes: Array<{name: string; schema: string; bootloader: string; 'sector-size': number; structures: Array<Record<string, unknown>>; gaps: Array<{start: number; size: number}>}>
    }
    const [volume] = json.volumes
    assert.deepEqual([volume.name, volume.schema, volume.bootloader, volume['sector-size']], ['board', 'gpt', 'u-boot', 4096])
    const starts = volume.structures.map((s) => s.start as number)
    assert.deepEqual(
      starts,
      [...starts].sort((a, b) => a - b),
    )
    const firmware = volume.structures[0]
    for (const key of ['name', 'role', 'type', 'start', 'size', 'filesystem', 'label', 'content']) assert.ok(key in firmware, key)
    assert.deepEqual(firmware.content, [
      {image: 'firmware.bin', problems: [{message: 'firmware.bin ends at byte 98304 of its 65536-byte structure: writing the image fails', rule: 'C5', severity: 'error'}], size: 98_304, start: 20_480},
    ])
    assert.equal(typeof volume.gaps[0].size, 'number')
  })
})

describe('the text picture', () => {
  for (const width of [80, 200]) {
    test(`at ${width} columns: the bar fills the width, nothing is wider, no colour when asked for none`, () => {
      for (const gadget of [example('pc-amd64-core24'), example('raspberry-pi-core24'), fixtures('layout', 'emmc-board'), fixtures('layout', 'overlap')]) {
        const text = renderLayout(layOutGadget(gadget), 'text', {color: false, width})
        assert.doesNotMatch(text, ansi)
        const bars = text.split('\n').filter((line) => line.startsWith('['))
        assert.ok(bars.length > 0, gadget)
        for (const bar of bars) assert.equal([...bar].length, width, `${gadget}: ${bar}`)
        for (const line of text.split('\n')) assert.ok([...line].length <= width, `${width} columns: ${line}`)
      }
    })
  }

  test('a structure too narrow for its name shows its number; the table names it', () => {
    assert.match(renderLayout(layOutGadget(example('pc-amd64-core24')), 'text', {color: false, width: 80}), /\[0\]/)
    const wide = renderLayout(layOutGadget(example('pc-amd64-core24')), 'text', {color: false, width: 200})
    assert.match(wide, /^0 {2}mbr +mbr +MBR boot code +0 +440 +440 B +boot-assets\/mbr\.img@0$/m)
  })
})

describe('snap-gadget layout', () => {
  test('exit 0 for a gadget snapd accepts, 1 for one it refuses, with the picture either way', async () => {
    const good = await runCli(['layout', example('pc-amd64-core24')])
    assert.equal(good.code, 0, good.stderr)
    assert.match(good.stdout, /volume pc: gpt, grub; 6 structures/)
    assert.doesNotMatch(good.stdout, ansi, 'plain when not a terminal')
    const bad = await runCli(['layout', fixtures('layout', 'overlap'), '--format', 'json'])
    assert.equal(bad.code, 1)
    assert.equal((JSON.parse(bad.stdout) as {valid: boolean}).valid, false)
  })

  test('--output never writes over a file without --force', async () => {
    const file = join(work, 'layout.svg')
    writeFileSync(file, 'mine')
    const refused = await runCli(['layout', example('pc-amd64-core24'), '--format', 'svg', '--output', file])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /already exists/)
    assert.equal(readFileSync(file, 'utf8'), 'mine')
    const forced = await runCli(['layout', example('pc-amd64-core24'), '--format', 'svg', '--output', file, '--force'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.match(readFileSync(file, 'utf8'), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
    assert.deepEqual(
      readdirSync(work).filter((name) => name.endsWith('.tmp')),
      [],
      'no temporary file left',
    )
  })

  test('validate --layout-svg: one SVG for every gadget given, and their text pictures in the step summary', async () => {
    const svg = join(work, 'validate-layout.svg')
    const summary = join(work, 'summary.md')
    const r = await runCli(['validate', example('pc-amd64-core24'), fixtures('layout', 'overlap'), '--format', 'github', '--layout-svg', svg], {env: {GITHUB_STEP_SUMMARY: summary}})
    assert.equal(r.code, 1, r.stderr)
    const written = readFileSync(summary, 'utf8')
    assert.match(written, /^## snap-gadget validate/)
    assert.match(written, /### Disk layout of .*pc-amd64-core24.*\n\n```text\n[^`]*volume pc: gpt, grub; 6 structures/)
    assert.match(written, /### Disk layout of .*overlap[^`]*```text\n[^`]*snapd refuses it/)
    assert.match(written, /The picture as SVG: .*validate-layout\.svg \(2 gadgets, one after the other\)/)
    const picture = readFileSync(svg, 'utf8')
    assert.equal(picture.match(/<svg /g)?.length, 3, 'one outer picture holding one per gadget')
    assert.match(picture, /<svg y="0"[^]*data-volume="pc"[^]*<svg y="\d+"/)
    // Without --layout-svg validate draws nothing.
    rmSync(summary)
    await runCli(['validate', example('pc-amd64-core24'), '--format', 'github'], {env: {GITHUB_STEP_SUMMARY: summary}})
    assert.doesNotMatch(readFileSync(summary, 'utf8'), /Disk layout/)
  })

  test('the fast entry (dist/fast/layout.cjs) prints what oclif prints', async () => {
    const cases = [
      [example('pc-amd64-core24')],
      [fixtures('layout', 'overlap'), '--format', 'json', '--sector-size', '4096'],
      [fixtures('layout', 'emmc-board'), '--format', 'svg'],
      [example('pc-amd64-core24'), '--width', '120', '--snapd', '2.57'],
      [example('pc-amd64-core24'), '--width', '12'],
      [join(work, 'nope'), '--json'],
    ]
    for (const args of cases) {
      assert.ok(planFastRun(['layout', ...args], projectRoot), 'bin/run.js must take the fast path here: run "npm run manifest"')
      // SNAP_GADGET_CONTENT_TYPE sends a run through oclif (see src/cli/fast/launch.ts).
      const [fast, oclif] = await Promise.all([runCli(['layout', ...args]), runCli(['layout', ...args], {env: {SNAP_GADGET_CONTENT_TYPE: 'application/yaml'}})])
      assert.deepEqual({code: fast.code, stderr: fast.stderr, stdout: fast.stdout}, {code: oclif.code, stderr: oclif.stderr, stdout: oclif.stdout}, args.join(' '))
    }
  })

  test('a missing path is exit 2 with the path', async () => {
    const r = await runCli(['layout', join(work, 'nope')])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /nope/)
  })
})
