import assert from 'node:assert/strict'
import {tmpdir} from 'node:os'
import {describe, it} from 'node:test'

import {runCommand} from '../../../src/serial/sources/context.js'
import {attempt} from './helpers.js'

const node = process.execPath
const script = (code: string) => [node, '-e', code]

describe('command', () => {
  it('runs argv without a shell', async () => {
    // With a shell, $(…) would run and the value would change.
    const a = await attempt({options: {argv: script('process.stdout.write(process.argv[1])').concat('$(echo\u0020injected)')}, source: 'command'}, {})
    assert.equal(a.verdict, 'refused')
    assert.match(a.reason ?? '', /"\$\(echo injected\)" contains/)
    const ok = await attempt({options: {argv: [...script('console.log("SN-" + process.argv[1])'), '4242ABCD']}, source: 'command'}, {})
    assert.equal(ok.serial, 'SN-4242ABCD')
  })

  it('kills a command that hangs and moves on', async () => {
    const started = Date.now()
    const a = await attempt({options: {argv: script('setInterval(() => {}, 1000)'), timeoutMs: 200}, source: 'command'}, {})
    assert.equal(a.verdict, 'timeout')
    assert.match(a.reason ?? '', /did not finish within 200 ms \(killed\)/)
    assert.ok(Date.now() - started < 2500)
  })

  it('kills the whole process group, grandchildren included', async () => {
    const grandchild = `require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'inherit'}); setInterval(() => {}, 1000)`
    const result = await runCommand(script(grandchild), {timeoutMs: 300})
    assert.equal(result.error, 'ETIMEDOUT')
  })

  it('reports a missing program, a failing one, and output that does not match', async () => {
    const missing = await attempt({options: {argv: ['/nonexistent/vendor-id']}, source: 'command'}, {})
    assert.deepEqual([missing.verdict, missing.reason], ['absent', 'program not found: /nonexistent/vendor-id'])
    const failing = await attempt({options: {argv: script('console.error("no eeprom"); process.exit(3)')}, source: 'command'}, {})
    assert.equal(failing.verdict, 'error')
    assert.match(failing.reason ?? '', /exited with status 3: no eeprom/)
    const nomatch = await attempt({options: {argv: script('console.log("nothing here")'), regex: 'serial=(\\w+)'}, source: 'command'}, {})
    assert.equal(nomatch.verdict, 'invalid')
  })

  it('extracts with a regular expression and passes the root', async () => {
    const a = await attempt({options: {argv: [...script('console.log("root=" + process.argv[1] + "\\nserial=ABC-1234")'), '{root}'], regex: 'serial=(\\S+)'}, source: 'command'}, {root: tmpdir()})
    assert.equal(a.serial, 'ABC-1234')
    assert.ok(a.origin?.endsWith(` ${tmpdir()}`), a.origin)
  })
})
