/** Line starts and positions: LF, CRLF and a lone CR each end a line, as libyaml and editors count. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseYaml} from '../../../src/go-yaml/read/index.js'
import {position} from '../../../src/support/line-index.js'

describe('parseYaml lineStarts', () => {
  const cases: Array<[string, string, number[]]> = [
    ['LF only', 'a: 1\nb: 2\n', [0, 5, 10]],
    ['no final break', 'a: 1\nb: 2', [0, 5]],
    ['empty', '', [0]],
    ['CRLF', 'a: 1\r\nb: 2\r\n', [0, 6, 12]],
    ['lone CR', 'a: 1\rb: 2\r', [0, 5, 10]],
    ['mixed', 'a: 1\nb: 2\r\nc: 3\rd: 4\n\n', [0, 5, 11, 16, 21, 22]],
  ]
  for (const [name, text, starts] of cases) {
    it(name, () => {
      assert.deepEqual(parseYaml(text).lineStarts, starts)
      // The same from bytes.
      assert.deepEqual(parseYaml(Buffer.from(text)).lineStarts, starts)
    })
  }

  it('positions are 1-based lines and columns', () => {
    const {lineStarts} = parseYaml('a: 1\r\nbb: 2\rccc: 3\n')
    assert.deepEqual(position(lineStarts, 0), {column: 1, line: 1})
    assert.deepEqual(position(lineStarts, 7), {column: 2, line: 2})
    assert.deepEqual(position(lineStarts, 12), {column: 1, line: 3})
    assert.deepEqual(position(lineStarts, 18), {column: 7, line: 3})
  })
})
