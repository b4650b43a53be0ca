/** One naming of boards: every init board id selects the serial chain its hook runs, in every command. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {listBoardProfiles} from '../../src/scaffold/boards.js'
import {boardNames, loadBoard} from '../../src/serial/boards.js'
import {runCli} from '../helpers/cli.js'
import {makeRoot, removeRoot} from './helpers/root.js'

describe('board names', () => {
  it('each init board id loads the serial profile its hook runs', () => {
    for (const profile of listBoardProfiles()) assert.equal(loadBoard(profile.id).id, profile.serialBoard, profile.id)
    assert.ok(boardNames().includes('pc-amd64'))
  })

  it('serial --board pc-amd64 runs the x86 chain, and the help names both kinds of id', async (t) => {
    const root = await makeRoot({'/sys/class/dmi/id/product_serial': 'PF2ABCDE\n'})
    t.after(() => removeRoot(root))
    const run = await runCli(['serial', '--board', 'pc-amd64', '--root', root, '--json'])
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual([JSON.parse(run.stdout).serial, JSON.parse(run.stdout).board], ['PF2ABCDE', 'x86'])
    const help = await runCli(['serial', '--help'])
    for (const name of [...boardNames(), ...listBoardProfiles().map((p) => p.id)]) assert.match(help.stdout, new RegExp(`\\b${name}\\b`), name)
  })
})

describe('serial --json', () => {
  it('keeps every option of each chain entry', async (t) => {
    const root = await makeRoot({'/sys/class/dmi/id/board_serial': 'BSN12345\n'})
    t.after(() => removeRoot(root))
    const run = await runCli(['serial', '--root', root, '--json', '--chain', 'mac[interface=eth0,allowLocallyAdministered=true],dmi[board_serial]'])
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as {entries: string[]; serial: string}
    assert.deepEqual(result.entries, ['mac[interface=eth0,allowLocallyAdministered=true]', 'dmi[board_serial]'])
    assert.equal(result.serial, 'BSN12345')
  })
})
