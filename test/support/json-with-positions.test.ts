/** Strict JSON with positions: duplicate keys refused, keys and values located, errors at their line and column. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {UserError} from '../../src/errors.js'
import {parseJsonDocument} from '../../src/support/json-with-positions.js'

/** Line, column and message of the error `text` fails with. */
function syntax(text: string): [number | undefined, number | undefined, string] {
  try {
    parseJsonDocument(text, {file: 'config.json'})
  } catch (error) {
    assert.ok(error instanceof UserError)
    assert.equal(error.file, 'config.json')
    assert.equal(error.code, 'E_JSON_SYNTAX')
    return [error.line, error.column, error.message.replace(/^not valid JSON: /, '')]
  }

  assert.fail(`${JSON.stringify(text)} parsed`)
}

describe('JSON with positions', () => {
  it("reports a syntax error with the caller's code and hint", () => {
    assert.throws(
      () => parseJsonDocument('{"a": 1,}', {code: 'E_SERVE_CONFIG', file: 'my.json', hint: 'my fix'}),
      (error: unknown) => error instanceof UserError && error.code === 'E_SERVE_CONFIG' && error.hint === 'my fix' && error.file === 'my.json' && error.line === 1,
    )
  })

  it('refuses a duplicate key at the repeated key, at any depth', () => {
    assert.deepEqual(syntax('{"a": 1,\n  "a": 2}'), [2, 3, 'duplicate key "a"'])
    assert.deepEqual(syntax('{"a": 1, "b": {"c": 1, "c": 2}}'), [1, 24, 'duplicate key "c"'])
    assert.deepEqual(parseJsonDocument('{"a": {"c": 1}, "b": {"c": 2}}').value, {a: {c: 1}, b: {c: 2}})
  })

  it('locates keys and values, and a path that is not there at its closest existing parent', () => {
    const document = parseJsonDocument('{\n  "a": {"b": [1, {"c": true}]},\n  "d": "x"\n}\n')
    assert.deepEqual(document.locate(['a'], 'key'), {column: 3, line: 2})
    assert.deepEqual(document.locate(['a']), {column: 8, line: 2})
    assert.deepEqual(document.locate(['a', 'b', 1, 'c'], 'key'), {column: 19, line: 2})
    assert.deepEqual(document.locate(['a', 'b', 1, 'c']), {column: 24, line: 2})
    // A list item has no key: its value is the place.
    assert.deepEqual(document.locate(['a', 'b', 0], 'key'), {column: 15, line: 2})
    assert.deepEqual(document.locate(['a', 'missing', 'deeper']), {column: 8, line: 2})
    assert.deepEqual(document.locate(['d']), {column: 8, line: 3})
    assert.deepEqual(document.locate([]), {column: 1, line: 1})
  })

  it('counts lines as the line index does: LF, CRLF and a lone CR; a BOM is a column', () => {
    assert.deepEqual(syntax('[1,\n 2,\n ]'), [3, 2, 'unexpected "]"'])
    assert.deepEqual(syntax('{"a": 1,\r\n "a": 2}'), [2, 2, 'duplicate key "a"'])
    assert.deepEqual(syntax('{"a": 1,\r "a": 2}'), [2, 2, 'duplicate key "a"'])
    assert.deepEqual(syntax('\uFEFF{"a" 1}'), [1, 7, 'expected ":" after the key, found "1"'])
    assert.deepEqual(parseJsonDocument('\r\n\r\n  {"a": 1}').locate(['a'], 'key'), {column: 4, line: 3})
  })
})
