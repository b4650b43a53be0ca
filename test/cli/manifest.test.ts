/**
 * oclif.manifest.json is committed, and it must not be stale: oclif lists commands from it (a
 * stale manifest hides new commands) and the launcher takes the flags of its fast path from it.
 * The test regenerates it with the oclif CLI, exactly as `npm run manifest` does, from a copy of
 * the built package in a temporary directory, and compares the two, ignoring only key order.
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {cpSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync} from 'node:fs'
import {join, relative, sep} from 'node:path'
import {before, describe, it} from 'node:test'
import {promisify} from 'node:util'

import {freshDir} from '../helpers/scratch.js'
import {projectRoot} from '../helpers/paths.js'

const committedPath = join(projectRoot, 'oclif.manifest.json')
const FIX = 'run "npm run manifest" and commit oclif.manifest.json'

interface Manifest {
  commands: Record<string, {args: Record<string, unknown>; fastEntry?: string; flags: Record<string, unknown>; id: string}>
  version: string
}

let farm: string
let regenerated: Manifest

before(async () => {
  assert.ok(existsSync(join(projectRoot, 'dist', 'cli', 'commands')), 'dist/ is missing: run "npm run build" first')
  // The package as oclif sees it: package.json, the built code, its dependencies. dist/ is copied
  // (oclif records command paths relative to the real location of each file); node_modules is linked.
  farm = freshDir('snap-gadget-manifest-')
  cpSync(join(projectRoot, 'package.json'), join(farm, 'package.json'))
  cpSync(join(projectRoot, 'dist'), join(farm, 'dist'), {recursive: true})
  symlinkSync(join(projectRoot, 'node_modules'), join(farm, 'node_modules'), 'dir')
  // `oclif manifest` deletes ./oclif.manifest.json first: it runs inside the copy, never here.
  await promisify(execFile)(join(projectRoot, 'node_modules', '.bin', 'oclif'), ['manifest', farm], {
    cwd: farm,
    env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'},
    timeout: 60_000,
  })
  regenerated = JSON.parse(readFileSync(join(farm, 'oclif.manifest.json'), 'utf8')) as Manifest
})

function committed(): Manifest {
  assert.ok(existsSync(committedPath), `oclif.manifest.json is missing: ${FIX}`)
  return JSON.parse(readFileSync(committedPath, 'utf8')) as Manifest
}

/** The command ids of the command files under `dir`: each folder's index file (package.json's oclif globPatterns), path segments joined by ":". */
function commandIds(dir: string, ext: string): string[] {
  const ids: string[] = []
  const walk = (d: string): void => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry)
      if (statSync(path).isDirectory()) walk(path)
      else if (entry === `index${ext}`) ids.push(relative(dir, path).slice(0, -ext.length).split(sep).join(':'))
    }
  }

  walk(dir)
  return ids.map((id) => id.replace(/:index$/, '')).sort()
}

/** What changed, per command, for the failure message. */
function changes(old: Manifest, fresh: Manifest): string[] {
  const out: string[] = []
  for (const id of Object.keys(fresh.commands)) if (!(id in old.commands)) out.push(`+ ${id} (missing from the committed manifest)`)
  for (const id of Object.keys(old.commands)) if (!(id in fresh.commands)) out.push(`- ${id} (no longer a command)`)
  for (const id of Object.keys(fresh.commands)) {
    if (!(id in old.commands)) continue
    try {
      assert.deepEqual(old.commands[id], fresh.commands[id])
    } catch {
      out.push(`~ ${id} (flags, args or texts changed)`)
    }
  }

  if (old.version !== fresh.version) out.push(`~ version ${old.version} → ${fresh.version}`)
  return out
}

describe('oclif.manifest.json', () => {
  it('is committed at the package root (and shipped: package.json "files")', () => {
    committed()
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {files: string[]}
    assert.ok(pkg.files.includes('oclif.manifest.json'))
  })

  it('equals the manifest oclif generates from the built commands (key order aside)', () => {
    const old = committed()
    const diff = changes(old, regenerated)
    assert.deepEqual(diff, [], `oclif.manifest.json is stale: ${FIX}\n${diff.join('\n')}`)
    assert.deepEqual(old, regenerated, `oclif.manifest.json is stale: ${FIX}`)
  })

  it('lists every command of src/cli/commands', () => {
    const ids = Object.keys(committed().commands).sort()
    assert.deepEqual(ids, commandIds(join(projectRoot, 'src', 'cli', 'commands'), '.ts'), `a command is missing or gone: ${FIX}`)
    assert.deepEqual(Object.keys(regenerated.commands).sort(), commandIds(join(projectRoot, 'dist', 'cli', 'commands'), '.js'))
  })

  it('gives validate its fast entry, which the build made', () => {
    const validate = committed().commands.validate
    assert.ok(validate, `validate is not in the manifest: ${FIX}`)
    assert.equal(validate.fastEntry, 'validate')
    assert.ok(existsSync(join(projectRoot, 'dist', 'fast', 'validate.cjs')))
  })
})
