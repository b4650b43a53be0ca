#!/usr/bin/env node
'use strict'
// CommonJS, as bin/package.json declares: Node starts an ES module entry through its ESM loader,
// which costs every run a fifth of what `node -e 0` takes. The launcher is a CommonJS bundle too
// (dist/fast/launch.cjs, built from src/cli/launch.ts).
require('../dist/fast/launch.cjs').launch(process.argv.slice(2), require('node:path').join(__dirname, '..'))
