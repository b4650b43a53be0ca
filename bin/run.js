#!/usr/bin/env node
'use strict'
// CommonJS, as bin/package.json declares: Node starts an ES module entry through its ESM loader,
// which costs every run time of its own (an empty .mjs starts in 27.6 ms, an empty .cjs in 24.0 ms,
// `node -e 0` in 23.2 ms). The launcher is a CommonJS bundle too (dist/fast/launch.cjs, built from
// src/cli/fast/launch.ts).
const {join} = require('node:path')
const root = join(__dirname, '..')
// scripts/build.mjs marks a checkout whose dist/ it is replacing: say so instead of failing half-way.
const marker = join(root, 'node_modules', '.snap-gadget-building')
const fs = require('node:fs')
if (fs.existsSync(marker)) refuse(building(fs.readFileSync(marker, 'utf8')))
let launcher
try {
  launcher = require('../dist/fast/launch.cjs')
} catch (error) {
  if (error.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes('launch.cjs')) throw error
  refuse('snap-gadget is not built in this checkout (no dist/): run `npm run build`, or `npm ci`')
}

launcher.launch(process.argv.slice(2), root)

function building(text) {
  const pid = Number.parseInt(text, 10)
  let alive = false
  try {
    process.kill(pid, 0)
    alive = pid > 0
  } catch (error) {
    alive = error.code === 'EPERM'
  }

  return alive
    ? `snap-gadget is being rebuilt in this checkout (npm run build, process ${pid}): run the command again when the build has finished`
    : 'the last build of snap-gadget in this checkout did not finish: run `npm run build`'
}

function refuse(message) {
  process.stderr.write(`error: ${message}\n`)
  process.exit(2)
}
