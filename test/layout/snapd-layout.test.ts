/**
 * The layout's numbers are snapd's: for every valid gadget.yaml of the corpus and every example,
 * `layOutGadget` (what `layout --format json` prints) equals snapd's own layout code, structure by
 * structure and image by image: 2.57.6's gadget.LayoutVolume (Debian 12's source) judged as 2.57,
 * and 2.77.1's OnDiskStructsFromGadget + LayoutVolume (sid's source) judged as latest. Each gadget
 * is laid out as a built snap tree (meta/gadget.yaml) whose raw images are stub files of their
 * declared size (one byte when none is declared), so both sides place the same bytes.
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {before, describe, test} from 'node:test'
import {promisify} from 'node:util'

import {parse} from 'yaml'

import {layOutGadget} from '../../src/layout/model.js'
import {projectRoot, shared} from '../helpers/paths.js'
import {buildGoTool, goUnavailable, newestSnapdGo} from '../runtime/helpers.js'
import {scratchDir} from '../helpers/scratch.js'

const work = scratchDir('layout-snapd-')

interface GoContent {
  image: string
  start: number
  size: number
}
interface GoStructure {
  name: string
  role: string
  type: string
  filesystem: string
  label: string
  start: number
  size: number
  content: GoContent[]
  'offset-write'?: number
}
interface GoLayout {
  error?: string
  volumes?: Array<{name: string; schema: string; bootloader: string; structures: GoStructure[]}>
}

/** A built snap tree for `gadgetYaml`: meta/gadget.yaml, stub raw images and stub content files. */
function snapTree(name: string, gadgetYaml: string): string {
  const root = join(work, name)
  mkdirSync(join(root, 'meta'), {recursive: true})
  writeFileSync(join(root, 'meta', 'gadget.yaml'), gadgetYaml)
  let document: {volumes?: Record<string, {structure?: Array<{content?: Array<{image?: unknown; size?: unknown; source?: unknown}>}>}>}
  try {
    document = (parse(gadgetYaml, {version: '1.1'}) ?? {}) as typeof document
  } catch {
    return root
  }

  for (const volume of Object.values(document.volumes ?? {})) {
    for (const structure of volume?.structure ?? []) {
      for (const content of structure?.content ?? []) {
        // Files for a filesystem: present, so that both sides judge the tree alike.
        if (typeof content?.source === 'string' && content.source !== '' && !content.source.startsWith('$')) {
          const path = join(root, content.source)
          if (path.startsWith(root) && !existsSync(path)) {
            if (content.source.endsWith('/')) mkdirSync(path, {recursive: true})
            else {
              mkdirSync(dirname(path), {recursive: true})
              writeFileSync(path, '')
            }
          }
        }

        if (typeof content?.image !== 'string' || content.image === '') continue
        const file = join(root, content.image)
        if (existsSync(file) || !file.startsWith(root)) continue
        mkdirSync(dirname(file), {recursive: true})
        // As large as declared, else small enough to fit any structure that holds images.
        const declared = typeof content.size === 'number' ? content.size : /^\d+$/.test(String(content.size ?? '')) ? Number(content.size) : 1
        writeFileSync(file, Buffer.alloc(Math.min(declared, 8 * 1024 * 1024)))
      }
    }
  }

  return root
}

function comparable(layout: ReturnType<typeof layOutGadget>, release: string): GoLayout['volumes'] {
  return layout.volumes.map((v) => ({
    bootloader: v.bootloader,
    name: v.name,
    schema: v.schema,
    structures: v.structures.map((s) => ({
      content: s.images.map((c) => ({image: c.image, size: Number(c.size ?? 0n), start: Number(c.start)})),
      filesystem: s.filesystem,
      label: s.label,
      name: s.name,
      role: s.role,
      size: Number(s.size),
      start: Number(s.start),
      type: s.type,
      // 2.57's LayoutVolume resolves offset-write; 2.77's leaves it to the image writers.
      ...(release === '2.57' && s.offsetWrite !== undefined ? {'offset-write': Number(s.offsetWrite)} : {}),
    })),
  }))
}

const inputs: Array<{name: string; yaml: string}> = [
  ...readdirSync(shared('corpus', 'gadget-yaml', 'real')).map((file) => ({name: `corpus-${file}`, yaml: readFileSync(shared('corpus', 'gadget-yaml', 'real', file), 'utf8')})),
  ...readdirSync(join(projectRoot, 'examples'))
    .filter((dir) => existsSync(join(projectRoot, 'examples', dir, 'gadget.yaml')))
    .map((dir) => ({name: `example-${dir}`, yaml: readFileSync(join(projectRoot, 'examples', dir, 'gadget.yaml'), 'utf8')})),
]

for (const release of ['2.57', '2.77'] as const) {
  describe(`snapd ${release}'s layout code and snap-gadget's agree`, () => {
    let program = ''
    let unavailable: string | undefined
    before(async () => {
      if (release === '2.57') {
        unavailable = goUnavailable(['github.com/snapcore/snapd/gadget'])
        if (!unavailable) program = await buildGoTool(join(projectRoot, 'test', 'layout', 'snapd-layout-2.57.go'), 'snapd-layout-2.57')
      } else {
        const newest = newestSnapdGo()
        unavailable = newest.unavailable
        if (!unavailable) program = await newest.build(join(projectRoot, 'test', 'layout', 'snapd-layout-2.77.go'), 'snapd-layout-2.77')
      }

      if (unavailable && process.env.CI === 'true') throw new Error(`snapd ${release}'s Go source is required in CI: ${unavailable}`)
    })

    test('every valid gadget.yaml, structure by structure and image by image', async (t) => {
      if (unavailable) return t.skip(unavailable)
      let agreed = 0
      let bothRefused = 0
      const differences: string[] = []
      for (const input of inputs) {
        const root = snapTree(`${release}-${input.name}`, input.yaml)
        const {stdout} = await promisify(execFile)(program, [root], {maxBuffer: 16 * 1024 * 1024}).catch((error: {stdout?: string}) => ({stdout: error.stdout ?? '{}'}))
        const go = JSON.parse(stdout) as GoLayout
        const ours = layOutGadget(root, {snapd: release === '2.57' ? '2.57' : 'latest'})
        if (go.error !== undefined || !ours.verdict.valid) {
          if (go.error !== undefined && !ours.verdict.valid) bothRefused++
          else differences.push(`${input.name}: snapd ${go.error === undefined ? 'lays it out' : `refuses it (${go.error})`}, snap-gadget ${ours.verdict.valid ? 'finds it valid' : `does not (${ours.verdict.error})`}`)
          continue
        }

        const mine = comparable(ours, release)
        try {
          assert.deepEqual(mine, go.volumes)
          agreed++
        } catch (error) {
          differences.push(`${input.name}: ${(error as Error).message.slice(0, 2000)}`)
        }
      }

      t.diagnostic(`snapd ${release}: ${agreed} gadgets laid out alike, ${bothRefused} refused by both, ${differences.length} differences, of ${inputs.length}`)
      assert.deepEqual(differences, [])
      assert.ok(agreed >= 90, `${agreed} gadgets compared`)
    })
  })
}

test('the stub images are what both sides read', () => {
  const root = snapTree('stub-check', 'volumes:\n  v:\n    structure:\n      - name: a\n        type: bare\n        size: 4096\n        content:\n          - image: a.img\n            size: 2048\n')
  assert.equal(readFileSync(join(root, 'a.img')).length, 2048)
})
