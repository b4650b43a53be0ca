/** The error-code catalog and the exit-code table. */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {ERROR_CODES, ExitCode, exitCodeFor, InternalError, ioError, UserError} from '../src/errors.js'
import {projectRoot} from './helpers/paths.js'

function sources(dir: string): string[] {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
}

test('every code of the catalog is unique, well-formed and raised somewhere in src/', () => {
  assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length)
  for (const code of ERROR_CODES) assert.match(code, /^E_[A-Z0-9]+(?:_[A-Z0-9]+)*$/)
  const text = sources(join(projectRoot, 'src'))
    .join('\n')
    .replace(/const USER_CODES = \[[\s\S]*?\] as const/, '')
  const unused = ERROR_CODES.filter((code) => !code.startsWith('E_IO_') && !text.includes(`'${code}'`))
  assert.deepEqual(unused, [], 'codes in the catalog that nothing raises')
})

test('a code outside the catalog does not compile', () => {
  // @ts-expect-error: E_NOT_IN_THE_CATALOG is no ErrorCode.
  const error = new UserError('E_NOT_IN_THE_CATALOG', 'message')
  assert.equal(error.code, 'E_NOT_IN_THE_CATALOG')
})

test('I/O errors: a known errno keeps its name and fix, any other is E_IO_OTHER with the errno in the message', () => {
  const missing = ioError('a.yaml', Object.assign(new Error('nope'), {code: 'ENOENT'}))
  assert.equal(missing.code, 'E_IO_ENOENT')
  assert.equal(missing.exitCode, ExitCode.Usage)
  const denied = ioError('a.yaml', Object.assign(new Error('nope'), {code: 'EACCES'}), 'write')
  assert.match(denied.hint ?? '', /who may write it/)
  const other = ioError('a.yaml', Object.assign(new Error('too many open files'), {code: 'EMFILE'}))
  assert.equal(other.code, 'E_IO_OTHER')
  assert.match(other.message, /cannot read a\.yaml: EMFILE: too many open files/)
  assert.ok(ERROR_CODES.includes(missing.code) && ERROR_CODES.includes(other.code))
})

test('exit codes come from one table: user errors by kind, anything else is a bug', () => {
  assert.equal(exitCodeFor(new UserError('E_USAGE', 'x')), ExitCode.Usage)
  assert.equal(exitCodeFor(new UserError('E_SERIAL_NONE', 'x', {kind: 'failed'})), ExitCode.Failed)
  assert.equal(exitCodeFor(new InternalError('x')), ExitCode.Internal)
  assert.equal(exitCodeFor(new Error('x')), ExitCode.Internal)
})
