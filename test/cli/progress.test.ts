/**
 * Commands that take a moment say what they are doing on a terminal (a pseudo-terminal made by
 * util-linux's script), and print nothing of it when their output goes to a program.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {describe, test} from 'node:test'

import {runCli} from '../helpers/cli.js'
import {binRun} from '../helpers/paths.js'
import {scratchDir} from '../helpers/scratch.js'

const dir = scratchDir('progress-')
const hasScript = spawnSync('script', ['--version']).status === 0

/** Runs the CLI with a terminal for stdin, stdout and stderr; returns what the terminal showed. */
function onTerminal(args: string[]): string {
  const command = [process.execPath, binRun, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
  const result = spawnSync('script', ['-qec', command, '/dev/null'], {cwd: dir, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}, timeout: 60_000})
  return result.stdout
}

describe('progress on a terminal', {skip: hasScript ? false : 'needs util-linux script for a pseudo-terminal'}, () => {
  test('init and probe say what they are doing before it takes a moment', () => {
    assert.match(onTerminal(['init', 'acme-tty', '--board', 'pc-amd64', '--brand', 'acme', '--yes']), /^writing acme-tty: rendering the templates and the device runtime…\r?\n/)
    assert.match(onTerminal(['probe', '--root', dir]), /^probing .*progress-\w+: device tree, cpuinfo, SoC, SMBIOS, nvmem, EEPROMs and network ports…\r?\n/)
  })

  test('piped, they print none of it', async () => {
    const init = await runCli(['init', 'acme-pipe', '--board', 'pc-amd64', '--brand', 'acme', '--yes'], {cwd: dir})
    assert.equal(init.code, 0, init.stderr)
    assert.doesNotMatch(init.stderr + init.stdout, /rendering the templates/)
    const probe = await runCli(['probe', '--root', dir])
    assert.doesNotMatch(probe.stderr + probe.stdout, /^probing /m)
  })
})
