/**
 * examples/<board>-<base>/ are exactly what scripts/generate-examples.mjs makes from the built
 * package: the script regenerates them into a temp dir, and any difference (a file added, missing,
 * changed or with another mode) fails with the command that brings them up to date.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {it} from 'node:test'

import {scratchDir} from '../helpers/scratch.js'
import {projectRoot} from '../helpers/paths.js'
import {MATRIX} from './helpers.js'

const work = scratchDir('snap-gadget-examples-')
const FIX = 'run "node scripts/generate-examples.mjs" (after the build) and commit examples/'

function files(dir: string): Map<string, {content: Buffer; mode: number}> {
  const out = new Map<string, {content: Buffer; mode: number}>()
  const walk = (d: string) => {
    for (const entry of readdirSync(d, {withFileTypes: true})) {
      const path = join(d, entry.name)
      if (entry.isDirectory()) walk(path)
      else out.set(relative(dir, path), {content: readFileSync(path), mode: statSync(path).mode & 0o111 ? 0o755 : 0o644})
    }
  }

  walk(dir)
  return out
}

it('examples/ has a gadget for every board profile and base, and one in hardware-identity onboarding, as the generator makes them today', () => {
  execFileSync(process.execPath, [join(projectRoot, 'scripts', 'generate-examples.mjs'), '--out', work], {stdio: 'pipe'})
  const made = readdirSync(work).sort()
  assert.deepEqual(made, [...MATRIX.map(({base, board}) => `${board}-${base}`), 'pc-amd64-core24-hardware-identity'].sort())
  for (const name of made) {
    const expected = files(join(work, name))
    const committed = files(join(projectRoot, 'examples', name))
    assert.deepEqual([...committed.keys()].sort(), [...expected.keys()].sort(), `examples/${name}: the files differ; ${FIX}`)
    for (const [path, file] of expected) {
      const have = committed.get(path)!
      assert.ok(have.content.equals(file.content), `examples/${name}/${path} has drifted; ${FIX}`)
      assert.equal(have.mode, file.mode, `examples/${name}/${path}: mode; ${FIX}`)
    }
  }
})
