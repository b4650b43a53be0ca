/** `snap-gadget boards` end to end: the shipped profiles, as text and JSON, and --board-dir. */
import assert from 'node:assert/strict'
import {cpSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {runCli} from '../helpers/cli.js'
import {projectRoot} from '../helpers/paths.js'
import {scratchDir} from '../helpers/scratch.js'

const work = scratchDir('snap-gadget-boards-cli-')

interface BoardJson {
  id: string
  architectures: string[]
  bases: string[]
  bootloader: string
  serialBoard: string
  interfaces: string[]
  volumes: string[]
  kernel: null | {name: string}
  origin: string
}

describe('snap-gadget boards', () => {
  it('lists the profiles as text', async () => {
    const r = await runCli(['boards'])
    assert.equal(r.code, 0, r.stderr)
    for (const id of ['beaglebone', 'generic-uboot', 'pc-amd64', 'raspberry-pi']) assert.match(r.stdout, new RegExp(`^${id} {2}`, 'm'))
    assert.match(r.stdout, /^ {2}arm64, armhf; core22, core24; bootloader piboot; volumes pi$/m)
    assert.match(r.stdout, /^ {2}serial: the x86 chain, the hook plugs hardware-observe; kernel pc-kernel$/m)
  })

  it('--json gives every profile as data', async () => {
    const r = await runCli(['boards', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const boards = JSON.parse(r.stdout) as BoardJson[]
    assert.deepEqual(
      boards.map((b) => [b.id, b.architectures, b.bootloader, b.serialBoard, b.interfaces, b.volumes, b.kernel?.name ?? null]),
      [
        ['beaglebone', ['armhf'], 'u-boot', 'beaglebone', ['hardware-observe', 'network-observe'], ['beaglebone'], null],
        ['generic-uboot', ['arm64'], 'u-boot', 'generic-arm', ['hardware-observe'], ['disk'], null],
        ['pc-amd64', ['amd64'], 'grub', 'x86', ['hardware-observe'], ['pc'], 'pc-kernel'],
        ['raspberry-pi', ['arm64', 'armhf'], 'piboot', 'raspberry-pi', ['hardware-observe'], ['pi'], 'pi-kernel'],
      ],
    )
    assert.ok(boards.every((b) => b.origin === 'built-in' && b.bases.join() === 'core22,core24'))
  })

  it('--board-dir adds a vendor profile', async () => {
    const dir = join(work, 'acme-imx8')
    cpSync(join(projectRoot, 'templates', 'boards', 'generic-uboot'), dir, {recursive: true})
    const profile = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8')) as Record<string, unknown>
    writeFileSync(join(dir, 'profile.json'), JSON.stringify({...profile, id: 'acme-imx8', serialBoard: 'nxp-imx', title: 'ACME i.MX8M Plus carrier'}))
    const r = await runCli(['boards', '--json', '--board-dir', dir])
    assert.equal(r.code, 0, r.stderr)
    const vendor = (JSON.parse(r.stdout) as BoardJson[]).find((b) => b.id === 'acme-imx8')
    assert.equal(vendor?.serialBoard, 'nxp-imx')
    assert.equal(vendor?.origin, dir)
  })

  it('a --board-dir without profiles is a usage error', async () => {
    const empty = join(work, 'empty')
    mkdirSync(empty)
    const r = await runCli(['boards', '--board-dir', empty])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /holds no board profile/)
  })
})
