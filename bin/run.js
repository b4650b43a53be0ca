#!/usr/bin/env node
import {launch} from '../dist/cli/launch.js'

await launch(process.argv.slice(2), import.meta.url)
