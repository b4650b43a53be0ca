#!/usr/bin/env -S node --import tsx --disable-warning=ExperimentalWarning
// Runs the CLI from src/ without a build (oclif development mode).
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
