#!/usr/bin/env node
// Build step: runs each fast CLI entry once on representative input and saves V8's code cache
// (dist/fast/<name>.cache), so `snap-gadget validate` and `layout` start without compiling its bundle.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {warmFastEntry} from '../dist/cli/fast/launch.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = mkdtempSync(join(tmpdir(), 'snap-gadget-warm-'))
try {
  // A gadget with typical findings, so the code paths of a real run (errors, frames, hints) are hot,
  // and the shapes real boards have: a key snapd never reads, a second volume of raw images at
  // offsets (a board's boot firmware), comments. (Warmed on the largest corpus gadget instead of a
  // one-volume pc, layout's cold start on it is 3–5 % shorter.)
  const gadget = join(dir, 'gadget.yaml')
  writeFileSync(
    gadget,
    [
      'device-tree-origin: kernel',
      'volumes:',
      '  pc:',
      '    bootloader: grub',
      '    structure:',
      '      - name: mbr',
      '        type: mbr',
      '        size: 440',
      '      - name: ubuntu-seed',
      '        role: system-seed',
      '        filesystem: vfat',
      '        filesytem-label: ubuntu-seed',
      '        type: EF,C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
      '        size: 1200M',
      '        content:',
      '          - source: grubx64.efi',
      '            target: EFI/boot/grubx64.efi',
      '      - name: ubuntu-boot',
      '        role: system-boot',
      '        filesystem: ext4',
      '        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4',
      '        size: 32K',
      '      - name: ubuntu-data',
      '        role: system-data',
      '        filesystem: ext4',
      '        type: 83,0FC63DAF-8483-4772-8E79-3D69D8477DE4',
      '        size: 1G',
      '  boot:',
      '    schema: gpt',
      '    structure:',
      '      - name: xbl_a',
      '        offset: 24576  # 6 sectors of 4096 bytes',
      '        size: 3670016',
      '        type: DEA0BA2C-CBDD-4805-B4F9-F428251C3E98',
      '        content:',
      '          - image: blobs/xbl.elf',
      '      - name: tz_a',
      '        size: 2M',
      '        type: A053AA7F-40B8-4B1C-BA08-2F68AC71A4F4',
      '        content:',
      '          - image: blobs/tz.mbn',
      '',
    ].join('\n'),
  )
  const inputs = [
    {argv: [gadget], flags: {snapd: 'latest'}},
    {argv: [gadget], flags: {snapd: '2.57'}},
    {argv: [gadget], flags: {json: true, snapd: 'latest'}},
  ]
  await warmFastEntry(root, 'validate', inputs)
  await warmFastEntry(root, 'layout', [
    {argv: [gadget], flags: {'sector-size': '512'}},
    {argv: [gadget], flags: {format: 'json', 'sector-size': '4096'}},
  ])
} finally {
  rmSync(dir, {force: true, recursive: true})
}
