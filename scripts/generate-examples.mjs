#!/usr/bin/env node
// Regenerates examples/<board>-<base>/: the gadget `snap-gadget init` makes for every built-in
// board profile and base, with fixed answers, from the built package (run the build first); and
// the onboarding examples, ONBOARDING below (<board>-<base>-<onboarding>/).
//
//   node scripts/generate-examples.mjs            rewrite examples/<board>-<base>/
//   node scripts/generate-examples.mjs --out DIR  write them under DIR instead (the drift test)
import {existsSync, rmSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const {listBoardProfiles, planScaffold, writeScaffold} = await import('../dist/scaffold/index.js')

const at = process.argv.indexOf('--out')
const out = at === -1 ? join(root, 'examples') : resolve(process.argv[at + 1] ?? '')
if (at !== -1 && !process.argv[at + 1]) {
  console.error('--out needs a directory')
  process.exit(2)
}

// The answers every example shares; the kernel is named only where the board has no published one.
const brand = 'acme'
const timestamp = '2026-01-01T00:00:00Z'
const made = []
/** Examples in another onboarding mode than the default. */
const ONBOARDING = [{base: 'core24', board: 'pc-amd64', onboarding: 'hardware-identity'}]
for (const board of listBoardProfiles()) {
  for (const base of board.bases) {
    const directory = join(out, `${board.id}-${base}`)
    if (existsSync(directory)) rmSync(directory, {recursive: true})
    const plan = await planScaffold({
      base,
      board: board.id,
      brand,
      directory,
      kernel: board.kernel ? undefined : `${brand}-${board.id}-kernel`,
      timestamp,
    })
    writeScaffold(plan)
    made.push(`${board.id}-${base}`)
  }
}

// Both onboarding modes are shipped: the matrix above uses api-key (the default).
for (const {base, board, onboarding} of ONBOARDING) {
  const name = `${board}-${base}-${onboarding}`
  const directory = join(out, name)
  if (existsSync(directory)) rmSync(directory, {recursive: true})
  writeScaffold(await planScaffold({base, board, brand, directory, onboarding, timestamp}))
  made.push(name)
}

console.log(`wrote ${made.length} examples under ${out}: ${made.join(', ')}`)
