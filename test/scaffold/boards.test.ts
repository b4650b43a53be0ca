/**
 * Board profiles: the shipped ones (layouts as the upstream pc and pi gadgets have them, serial
 * boards by reference, sizes in bytes or M), a vendor's own through --board-dir, and the mistakes
 * a profile can have, each refused with the file and the key.
 */
import assert from 'node:assert/strict'
import {cpSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {parse} from 'yaml'

import {scratchDir} from '../helpers/scratch.js'
import {UserError} from '../../src/errors.js'
import {boardProfileIds, BUILTIN_BOARDS_DIR, listBoardProfiles, loadBoardProfile, selectFor} from '../../src/scaffold/boards.js'
import {planScaffold} from '../../src/scaffold/plan.js'
import {loadBoard} from '../../src/serial/boards.js'
import {shared} from '../helpers/paths.js'
import {BOARDS, TIMESTAMP} from './helpers.js'

const work = scratchDir('snap-gadget-boards-')

describe('the shipped board profiles', () => {
  it('are the four boards, for core22 and core24', () => {
    assert.deepEqual(boardProfileIds(), [...BOARDS].sort())
    for (const board of listBoardProfiles()) assert.deepEqual([...board.bases], ['core22', 'core24'], board.id)
  })

  it('name a serial board profile and take its interfaces from it, never a copy of its chain', () => {
    for (const board of listBoardProfiles()) {
      const serial = loadBoard(board.serialBoard)
      assert.deepEqual(board.interfaces, serial.interfaces, board.id)
      const raw = JSON.parse(readFileSync(join(BUILTIN_BOARDS_DIR, board.id, 'profile.json'), 'utf8')) as Record<string, unknown>
      assert.equal(raw.chain, undefined)
      assert.equal(raw.interfaces, undefined)
    }
  })

  it('write sizes and offsets in bytes or M, never K', () => {
    for (const board of BOARDS) {
      const text = readFileSync(join(BUILTIN_BOARDS_DIR, board, 'profile.json'), 'utf8')
      for (const [, value] of text.matchAll(/"(?:size|offset|min-size)": ("[^"]*"|\d+)/g)) assert.match(value, /^("\d+M"|\d+)$/, `${board}: ${value}`)
    }
  })

  it('pc-amd64 has the upstream pc gadget layout: mbr, BIOS Boot at 1M, seed, boot, save, data', () => {
    const upstream = parse(readFileSync(shared('corpus', 'gadget-yaml', 'real', 'canonical__pc-gadget@24__gadget__gadget-amd64.yaml'), 'utf8')) as {volumes: {pc: {structure: Record<string, unknown>[]}}}
    const ours = selectFor(loadBoardProfile('pc-amd64').volumes, {architecture: 'amd64', base: 'core24'}) as {pc: {bootloader: string; schema: string; structure: Record<string, unknown>[]}}
    assert.equal(ours.pc.bootloader, 'grub')
    assert.equal(ours.pc.schema, 'gpt')
    const layout = (s: Record<string, unknown>[]) => s.map((x) => [x.name, x.role ?? null, x.type, x.filesystem ?? null, String(x.offset ?? '')])
    assert.deepEqual(layout(ours.pc.structure), layout(upstream.volumes.pc.structure))
  })

  it('raspberry-pi has the upstream pi gadget layout with piboot, the kernel dtbs per architecture', () => {
    for (const architecture of ['arm64', 'armhf']) {
      const upstream = parse(readFileSync(shared('corpus', 'gadget-yaml', 'real', `canonical__pi-gadget@22-${architecture}__gadget.yaml`), 'utf8')) as {volumes: {pi: {structure: {content?: unknown[]}[]}}}
      const ours = selectFor(loadBoardProfile('raspberry-pi').volumes, {architecture, base: 'core22'}) as {pi: {bootloader: string; structure: {content?: unknown[]}[]}}
      assert.equal(ours.pi.bootloader, 'piboot')
      assert.deepEqual(ours.pi.structure[0].content, upstream.volumes.pi.structure[0].content, architecture)
      assert.deepEqual(
        ours.pi.structure.map((s) => (s as Record<string, unknown>).role),
        upstream.volumes.pi.structure.map((s) => (s as Record<string, unknown>).role),
      )
    }
  })

  it('the U-Boot boards put raw boot firmware at offsets before the partitions', () => {
    for (const board of ['generic-uboot', 'beaglebone']) {
      const profile = loadBoardProfile(board)
      const [volume] = Object.values(profile.volumes) as {bootloader: string; structure: {type: string; offset?: unknown}[]}[]
      assert.equal(volume.bootloader, 'u-boot')
      const bare = volume.structure.filter((s) => s.type === 'bare')
      assert.ok(bare.length >= 2 && bare.every((s) => s.offset !== undefined), board)
    }
  })
})

describe('a vendor board profile (--board-dir)', () => {
  const vendorProfile = (dir: string, id: string, change: (p: Record<string, unknown>) => void = () => {}) => {
    cpSync(join(BUILTIN_BOARDS_DIR, 'generic-uboot'), join(dir, id), {recursive: true})
    const file = join(dir, id, 'profile.json')
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    profile.id = id
    change(profile)
    writeFileSync(file, JSON.stringify(profile))
    return join(dir, id)
  }

  it('is listed and used like a shipped one, from a directory of profiles or the profile itself', async () => {
    const dir = join(work, 'vendor')
    mkdirSync(dir)
    vendorProfile(dir, 'acme-rk3568', (p) => (p.title = 'ACME RK3568 carrier'))
    for (const boardDirs of [[dir], [join(dir, 'acme-rk3568')]]) {
      const profile = loadBoardProfile('acme-rk3568', {boardDirs})
      assert.equal(profile.title, 'ACME RK3568 carrier')
      assert.ok(listBoardProfiles({boardDirs}).some((b) => b.id === 'acme-rk3568'))
    }

    const plan = await planScaffold({board: 'acme-rk3568', boardDirs: [dir], brand: 'acme', directory: join(work, 'vendor-gadget'), kernel: 'acme-kernel', timestamp: TIMESTAMP})
    assert.equal(plan.board.origin, dir)
    assert.ok(plan.files.some((f) => f.path === 'boot-assets/seed/boot.cmd'))
  })

  it("a vendor's template that prints a value without quoting it is refused", async () => {
    const dir = join(work, 'raw')
    mkdirSync(dir)
    const board = vendorProfile(dir, 'raw-board')
    writeFileSync(join(board, 'parts', 'boot-assets.sh.hbs'), 'echo {{name}}\n')
    await assert.rejects(
      planScaffold({board: 'raw-board', boardDirs: [dir], brand: 'acme', directory: join(work, 'raw-gadget'), kernel: 'acme-kernel', timestamp: TIMESTAMP}),
      (error: unknown) => error instanceof UserError && error.code === 'E_INIT_TEMPLATE',
    )
  })

  const mistakes: [string, (p: Record<string, unknown>) => void, RegExp][] = [
    ['an unknown key', (p) => (p.volumez = {}), /volumez: unknown key/],
    ['a size in K', (p) => ((p.volumes as {disk: {structure: Record<string, unknown>[]}}).disk.structure[2].size = '1024K'), /not a size in bytes or M/],
    ['an unknown serial board', (p) => (p.serialBoard = 'no-such-board'), /serialBoard: unknown board/],
    ['a serial board for other architectures', (p) => (p.serialBoard = 'beaglebone'), /serialBoard: the serial profile "beaglebone" is for armhf, not arm64/],
    ['an id that is not the directory name', (p) => (p.id = 'other'), /"other" is not the directory's name/],
    ['a part script outside the profile', (p) => ((p.parts as {'boot-assets': Record<string, unknown>})['boot-assets']['override-build'] = {file: '../../x.sh'}), /no file/],
    ['an unknown bootloader', (p) => (p.bootloader = 'lilo'), /bootloader: "lilo"/],
    ['a console with a quote', (p) => (p.console = 'ttyS0"; reboot'), /console/],
    ['a shared file outside the shared templates', (p) => (p.sharedFiles = {'x.cmd.hbs': '../../package.json'}), /no shared template/],
  ]
  for (const [name, change, expected] of mistakes) {
    it(`refuses ${name}, naming the file and the key`, () => {
      const dir = join(work, `bad-${name.replace(/\W+/g, '-')}`)
      mkdirSync(dir)
      vendorProfile(dir, 'bad-board', change)
      assert.throws(
        () => loadBoardProfile('bad-board', {boardDirs: [dir]}),
        (error: unknown) => error instanceof UserError && expected.test(error.message) && (error.file ?? '').endsWith('profile.json') && error.hint !== undefined,
      )
    })
  }

  it('an unknown board id suggests the near one', () => {
    assert.throws(
      () => loadBoardProfile('raspbery-pi'),
      (error: unknown) => error instanceof UserError && error.code === 'E_INIT_BOARD' && /did you mean "raspberry-pi"/.test(error.hint ?? ''),
    )
  })
})
