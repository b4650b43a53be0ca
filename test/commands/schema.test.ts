/**
 * `snap-gadget schema` end to end: it prints schemas/gadget.schema.json for editors, and with
 * --output writes it to a file that it never overwrites without --force.
 */
import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, test} from 'node:test'

import {freshDir} from '../helpers/scratch.js'
import {runCli} from '../helpers/cli.js'
import {projectRoot} from '../helpers/paths.js'

const schemaText = readFileSync(join(projectRoot, 'schemas', 'gadget.schema.json'), 'utf8')
let work: string

before(() => {
  work = freshDir('snap-gadget-schema-')
})

describe('schema', {concurrency: true}, () => {
  test('prints the JSON Schema (draft 2020-12) byte for byte', async () => {
    const r = await runCli(['schema'], {cwd: work})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, schemaText)
    assert.equal(r.stderr, '')
    const schema = JSON.parse(r.stdout) as {$schema: string; properties: Record<string, unknown>}
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema')
    assert.ok('volumes' in schema.properties)
  })

  test('--output writes the file and says which modeline to add', async () => {
    const r = await runCli(['schema', '--output', 'gadget.schema.json'], {cwd: work})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '')
    assert.equal(readFileSync(join(work, 'gadget.schema.json'), 'utf8'), schemaText)
    assert.match(r.stderr, /^# yaml-language-server: \$schema=\.\/gadget\.schema\.json$/m)
  })

  test('--output refuses to overwrite an existing file without --force (exit 2), and overwrites with it', async () => {
    const file = join(work, 'mine.json')
    writeFileSync(file, '{"keep": "me"}\n')
    const refused = await runCli(['schema', '-o', 'mine.json'], {cwd: work})
    assert.equal(refused.code, 2, refused.stderr)
    assert.equal(refused.stderr, 'error: mine.json already exists\n  hint: pass --force to overwrite it, or choose another --output\n')
    assert.equal(readFileSync(file, 'utf8'), '{"keep": "me"}\n', 'the file is left alone')
    const forced = await runCli(['schema', '-o', 'mine.json', '--force'], {cwd: work})
    assert.equal(forced.code, 0, forced.stderr)
    assert.equal(readFileSync(file, 'utf8'), schemaText)
  })

  test('--output into a directory that does not exist: exit 2 naming the file', async () => {
    const r = await runCli(['schema', '--output', 'no/such/dir/gadget.schema.json'], {cwd: work})
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /^error: cannot write no\/such\/dir\/gadget\.schema\.json: no such file or directory\n/)
    assert.equal(existsSync(join(work, 'no')), false)
  })
})
