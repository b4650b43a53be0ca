/**
 * Hostile strings for every string option of init: quotes, line breaks, command substitution,
 * backticks, `../`, control characters and unicode. Each is either refused with a usage error
 * that names the option, or arrives exactly as given in the file it belongs to (model.json,
 * snapcraft.yaml, registration.json), with the generated hooks unchanged in shape.
 */
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {describe, it} from 'node:test'

import {parse} from 'yaml'

import {scratchDir} from '../helpers/scratch.js'
import {UserError} from '../../src/errors.js'
import {planScaffold, type PlannedFile, type ScaffoldOptions, type ScaffoldPlan} from '../../src/scaffold/plan.js'
import {writeScaffold} from '../../src/scaffold/write.js'
import {HOSTILE, TIMESTAMP} from './helpers.js'
import {runCli} from '../helpers/cli.js'

const work = scratchDir('snap-gadget-hostile-')
const base: ScaffoldOptions = {board: 'pc-amd64', brand: 'acme', directory: join(work, 'plan'), timestamp: TIMESTAMP}

async function attempt(options: Partial<ScaffoldOptions>): Promise<ScaffoldPlan | UserError> {
  try {
    return await planScaffold({...base, ...options})
  } catch (error) {
    if (error instanceof UserError) return error
    throw error
  }
}

const file = (plan: ScaffoldPlan, path: string): string => {
  const found = plan.files.find((f: PlannedFile) => f.path === path)
  assert.ok(found, path)
  return found.content.toString()
}

/** The hooks and snapcraft.yaml a plain plan has, for comparing shapes. */
const reference = await planScaffold(base)

/** A refusal is a usage error whose message names the option and quotes the value. */
function assertRefused(result: ScaffoldPlan | UserError, option: string, value: string): void {
  assert.ok(result instanceof UserError, `${option} ${JSON.stringify(value)} was accepted`)
  assert.equal(result.kind, 'usage')
  assert.match(result.code, /^E_INIT_/)
  assert.ok(result.message.includes(option) || result.message.includes(JSON.stringify(value)) || result.message.includes(value), `${result.message} names neither ${option} nor the value`)
  assert.ok(result.hint, 'the error says how to fix it')
}

/** The generated shell hooks never carry a user string: they are the same whatever the input. */
function assertHooksUnchanged(plan: ScaffoldPlan): void {
  for (const hook of ['snap/hooks/prepare-device', 'snap/hooks/configure']) assert.equal(file(plan, hook), file(reference, hook).replaceAll(reference.name, plan.name))
}

describe('names are refused unless snapd would take them', () => {
  const names: [string, keyof ScaffoldOptions][] = [
    ['--name', 'name'],
    ['--brand', 'brand'],
    ['--model', 'model'],
    ['--gadget-id', 'gadgetId'],
    ['--kernel', 'kernel'],
    ['--kernel-id', 'kernelId'],
    ['--store', 'store'],
    ['--gadget-channel', 'gadgetChannel'],
    ['--kernel-channel', 'kernelChannel'],
    ['--api-key-env', 'apiKeyEnv'],
    ['--snap-version', 'version'],
  ]
  for (const [flag, key] of names) {
    it(flag, async () => {
      for (const value of HOSTILE) assertRefused(await attempt({[key]: value}), flag, value)
    })
  }

  it('--snap', async () => {
    for (const value of HOSTILE) assertRefused(await attempt({extraSnaps: [value]}), '--snap', value)
  })

  it('--board and --serial-board name only known profiles', async () => {
    for (const value of HOSTILE) {
      const board = await attempt({board: value})
      assert.ok(board instanceof UserError && board.code === 'E_INIT_BOARD', String(board))
      assert.ok(board.message.includes(JSON.stringify(value).slice(1, -1)) || board.message.includes(value))
      const serial = await attempt({serialBoard: value})
      assert.ok(serial instanceof UserError && serial.code === 'E_INIT_REGISTRATION', String(serial))
    }
  })

  it('--board-dir must be a board profile directory', async () => {
    for (const value of HOSTILE.filter((v) => v !== '' && !v.includes('\u0000'))) {
      const result = await attempt({boardDirs: [join(work, 'no-such', value)]})
      assert.ok(result instanceof UserError && result.code === 'E_INIT_BOARD_DIR', String(result))
    }
  })

  it('--body-fact names only the runtime facts', async () => {
    for (const value of HOSTILE) assertRefused(await attempt({bodyFacts: [value]}), 'body', value)
  })

  it('--timestamp must be RFC 3339', async () => {
    for (const value of HOSTILE) assertRefused(await attempt({timestamp: value}), 'timestamp', value)
  })
})

describe('text arrives exactly, or is refused when it cannot', () => {
  const oneLine = (value: string) => value.trim() !== '' && !/[\u0000-\u001F\u007F]/.test(value)

  it('--display-name: model.json holds it exactly', async () => {
    for (const value of HOSTILE) {
      const result = await attempt({displayName: value})
      if (!oneLine(value)) {
        assertRefused(result, '--display-name', value)
        continue
      }

      assert.ok(!(result instanceof UserError), `${JSON.stringify(value)}: ${String(result)}`)
      assert.equal((JSON.parse(file(result, 'model.json')) as Record<string, string>)['display-name'], value)
      assert.ok(file(result, 'README.md').includes('## Build the gadget'))
      assertHooksUnchanged(result)
    }
  })

  it('--summary: snapcraft.yaml holds it exactly', async () => {
    for (const value of [...HOSTILE, 'x'.repeat(79)]) {
      const result = await attempt({summary: value})
      if (!oneLine(value) || value.length > 78) {
        assertRefused(result, '--summary', value)
        continue
      }

      assert.ok(!(result instanceof UserError), `${JSON.stringify(value)}: ${String(result)}`)
      const snapcraft = parse(file(result, 'snap/snapcraft.yaml')) as Record<string, unknown>
      assert.equal(snapcraft.summary, value)
      assert.equal(snapcraft.name, result.name)
      assertHooksUnchanged(result)
    }
  })

  it('--header NAME=VALUE: registration.json holds the value exactly; names and line breaks are refused', async () => {
    for (const value of HOSTILE) {
      const result = await attempt({headers: {'x-factory-line': value}})
      if (value === '' || /[\u0000-\u0008\u000A-\u001F\u007F]/.test(value)) {
        assertRefused(result, 'header', value)
        continue
      }

      assert.ok(!(result instanceof UserError), `${JSON.stringify(value)}: ${String(result)}`)
      assert.equal((result.registration.headers as Record<string, string>)['x-factory-line'], value)
      assert.equal((JSON.parse(file(result, 'runtime/registration.json')) as {headers: Record<string, string>}).headers['x-factory-line'], value)
      // A header name is an HTTP token: refused, or kept exactly.
      const named = await attempt({headers: {[value]: 'v'}})
      if (!(named instanceof UserError)) assert.equal((named.registration.headers as Record<string, string>)[value], 'v')
      else assert.equal(named.code, 'E_INIT_REGISTRATION')
    }
  })

  it('secrets (api-key, tokens, authorization) are refused as headers and body fields: they never go into a file', async () => {
    for (const name of ['api-key', 'API-Key', 'x-api-key', 'Authorization', 'x-auth-token', 'password']) {
      const header = await attempt({headers: {[name]: 'literal-key-0123456789abcdef'}})
      assert.ok(header instanceof UserError && header.code === 'E_INIT_SECRET', `${name}: ${String(header)}`)
      const field = await attempt({bodyFields: {[name.toLowerCase()]: 'literal-key-0123456789abcdef'}})
      assert.ok(field instanceof UserError && field.code === 'E_INIT_SECRET', `${name}: ${String(field)}`)
    }
  })

  it('--body-field NAME=VALUE: registration.json holds the value exactly', async () => {
    for (const value of HOSTILE) {
      const result = await attempt({bodyFields: {line: value}})
      assert.ok(!(result instanceof UserError), `${JSON.stringify(value)}: ${String(result)}`)
      assert.equal((JSON.parse(file(result, 'runtime/registration.json')) as {body: {fields: Record<string, string>}}).body.fields.line, value)
      const named = await attempt({bodyFields: {[value]: 'v'}})
      assert.ok(named instanceof UserError, `field name ${JSON.stringify(value)} was accepted`)
    }
  })

  it('--device-service: a preset or an http(s) URL, kept exactly', async () => {
    for (const value of HOSTILE) assertRefused(await attempt({deviceService: value}), '--device-service', value)
    for (const url of ['https://vault.example.com/v1/', 'http://localhost:8080/v1/', 'https://example.com/$(reboot)/']) {
      const result = await attempt({deviceService: url})
      assert.ok(!(result instanceof UserError), String(result))
      assert.equal((result.registration.deviceService as {url: string}).url, url)
    }

    for (const url of ['https://example.com/`id`', 'https://example.com/a b', "https://example.com/it's", 'https://example.com/\n']) assertRefused(await attempt({deviceService: url}), '--device-service', url)
  })
})

describe('the project directory', () => {
  it('any name a file system takes is used exactly, and nothing lands outside it', async () => {
    for (const value of HOSTILE.filter((v) => v.trim() !== '' && !v.includes('\u0000') && !v.startsWith('../'))) {
      const directory = join(work, 'dirs', value)
      const plan = await planScaffold({...base, directory})
      writeScaffold(plan)
      assert.equal(plan.directory, resolve(directory))
      assert.ok(existsSync(join(directory, 'gadget.yaml')))
      assert.equal(readFileSync(join(directory, 'snap', 'hooks', 'prepare-device'), 'utf8'), file(reference, 'snap/hooks/prepare-device'))
    }
  })

  it('through the CLI, arguments with quotes, line breaks and $(…) arrive unchanged', async () => {
    const directory = join(work, 'cli', `it's\n$(reboot) \`id\``)
    const displayName = `ACME "Gateway" $(reboot) \`id\` ✓`
    const result = await runCli(['init', '--yes', '--board', 'pc-amd64', '--brand', 'acme', '--display-name', displayName, '--timestamp', TIMESTAMP, directory])
    assert.equal(result.code, 0, result.stderr)
    assert.equal((JSON.parse(readFileSync(join(directory, 'model.json'), 'utf8')) as Record<string, string>)['display-name'], displayName)
  })
})
