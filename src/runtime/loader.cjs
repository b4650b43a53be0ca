'use strict'
// The runtime bundle's loader: dist/runtime/prepare-device.cjs is this file with the bundled
// runtime (src/runtime/main.ts), wrapped as a CommonJS module function, in RUNTIME_SOURCE. It compiles the runtime with V8's
// code cache when one lies beside it (prepare-device.code-cache, written at gadget build time by
// `--write-code-cache` with the Node the gadget ships), so a hook run skips parsing and compiling
// the runtime. A cache from another Node, or a damaged one, is rejected by V8; one made for
// another build of the runtime is rejected here (V8 compares only the source's length), by the
// RUNTIME_ID it starts with. The runtime is then compiled as usual. Plain JavaScript: this is the
// one file the device runs.
const {readFileSync, writeFileSync} = require('node:fs')
const {Script} = require('node:vm')

const RUNTIME_SOURCE = '/* replaced by the build */'
const RUNTIME_ID = '/* replaced by the build: a digest of RUNTIME_SOURCE */'
const cacheFile = __filename.replace(/\.c?js$/, '') + '.code-cache'
const header = Buffer.from(`prepare-device ${RUNTIME_ID}\n`)

let cacheState = 'absent'
let cachedData
try {
  const file = readFileSync(cacheFile)
  cacheState = 'rejected'
  if (file.subarray(0, header.length).equals(header)) cachedData = file.subarray(header.length)
} catch {}

const script = new Script(RUNTIME_SOURCE, {cachedData, filename: __filename})
if (cachedData !== undefined && !script.cachedDataRejected) cacheState = 'accepted'
const runtime = {exports: {}}
script.runInThisContext()(runtime.exports, require, runtime, __filename, __dirname)
runtime.exports.start({
  codeCache: cacheState,
  saveCodeCache() {
    writeFileSync(cacheFile, Buffer.concat([header, script.createCachedData()]), {mode: 0o644})
    return cacheFile
  },
})
