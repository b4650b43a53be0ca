#!/usr/bin/env -S node --import tsx --disable-warning=ExperimentalWarning
// Runs the CLI from src/ without a build: commands are loaded from src/cli/commands through tsx.
import {readFileSync} from 'node:fs'

import {execute} from '@oclif/core'

const root = new URL('..', import.meta.url)
const pjson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
pjson.oclif = {...pjson.oclif, commands: {...pjson.oclif.commands, globPatterns: ['**/index.ts'], target: './src/cli/commands'}}
await execute({dir: import.meta.url, loadOptions: {pjson, root: root.pathname}})
