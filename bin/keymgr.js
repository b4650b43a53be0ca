#!/usr/bin/env node
'use strict'
// snapd runs SNAPD_EXT_KEYMGR as one program with the operation as its arguments
// (asserts/extkeypairmgr.go): this is `snap-gadget key keymgr` under a name snapd can run.
process.argv.splice(2, 0, 'key', 'keymgr')
require('./run.js')
