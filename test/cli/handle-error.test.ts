/** One error handler for every entry: what a user's mistake and a bug print, with and without --json. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {loadFastEntry} from '../../src/cli/fast/launch.js'
import {handleError} from '../../src/cli/handle-error.js'
import {ExitCode, UserError} from '../../src/errors.js'
import {fixtures, projectRoot} from '../helpers/paths.js'

function sinks() {
  const out = {stderr: '', stdout: ''}
  return {
    out,
    stderr: {isTTY: false, write: (text: string) => void (out.stderr += text)},
    stdout: {isTTY: false, write: (text: string) => void (out.stdout += text)},
  }
}

describe('handleError', () => {
  it('prints a user error with its hint, and its exit code', () => {
    const {out, stderr, stdout} = sinks()
    const code = handleError(new UserError('E_NO_GADGET', 'gadget.yaml is missing', {hint: 'create it'}), {json: false, stderr, stdout})
    assert.equal(code, ExitCode.Usage)
    assert.equal(out.stdout, '')
    assert.equal(out.stderr, 'error: gadget.yaml is missing\n  hint: create it\n')
  })

  it('prints a bug with its stack, as text and as JSON', () => {
    const bug = new Error('boom')
    const text = sinks()
    assert.equal(handleError(bug, {json: false, stderr: text.stderr, stdout: text.stdout}), ExitCode.Internal)
    assert.match(text.out.stderr, /^internal error: boom\n .*bug in snap-gadget.*\n {4}Error: boom\n {4}\s+at /)
    const json = sinks()
    assert.equal(handleError(bug, {json: true, stderr: json.stderr, stdout: json.stdout}), ExitCode.Internal)
    assert.equal(json.out.stderr, '')
    assert.deepEqual(JSON.parse(json.out.stdout), {error: {code: 'INTERNAL', message: 'boom', stack: bug.stack}})
  })
})

describe("validate's fast entry", () => {
  it('gives an internal error under --json its stack, as the oclif command does', async () => {
    const {out, stderr} = sinks()
    let writes = 0
    // A bug while printing the report: the first write throws, the error report is the second.
    const stdout = {isTTY: false, write: (text: string) => (writes++ === 0 ? assert.fail('a bug in a sink') : void (out.stdout += text))}
    // The built entry (dist/fast/validate.cjs), as the launcher runs it.
    const {main} = loadFastEntry(projectRoot, 'validate')
    const code = await main({argv: [fixtures('validate', 'clean.yaml')], flags: {json: true, snapd: 'latest'}}, {stderr, stdout} as never)
    assert.equal(code, ExitCode.Internal)
    const {error} = JSON.parse(out.stdout) as {error: {code: string; message: string; stack: string}}
    assert.equal(error.code, 'INTERNAL')
    assert.equal(error.message, 'a bug in a sink')
    assert.match(error.stack, /a bug in a sink\n\s+at /)
  })
})
