/**
 * The public API: src/index.ts is a curated list (no `export *`), the names an SDK user needs are
 * there in the built package, and every `exports` subpath of package.json resolves to built code.
 */
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'

import {projectRoot} from './helpers/paths.js'

const functions = [
  'validateGadget',
  'validatePaths',
  'compareFindings',
  'ruleInfo',
  'snapdTarget',
  'exitCodeFor',
  'deriveSerial',
  'probeIdentity',
  'listBoards',
  'loadBoard',
  'boardNames',
  'detectBoard',
  'loadSerialConfig',
  'parseSerialConfig',
  'found',
  'unavailable',
  'prepareDevice',
  'describePreparation',
  'prepareSerialRequest',
  'FileHardwareKeyStore',
  'HardwareKey',
  'hardwareIdentityExport',
  'hardwareProofBody',
  'loadRegistrationConfig',
  'parseRegistrationConfig',
  'checkRegistrationConfig',
  'emitRegistrationBody',
  'readBodyFacts',
  'spawnSnapctl',
  'loadOrCreateIdentity',
  'signWithIdentity',
  'verifyIdentity',
  'verifyIdentityDocument',
  'parseRegistrationBody',
  'planScaffold',
  'writeScaffold',
  'checkScaffoldTarget',
  'listBoardProfiles',
  'loadBoardProfile',
  'buildModelJson',
  'checkModelJson',
  'UserError',
  'InternalError',
  'DeviceIdentity',
  'registerDevice',
  'registerFleet',
  'runDoctor',
]
const values = ['ExitCode', 'rules', 'LATEST_SNAPD', 'OLDEST_SNAPD', 'DEVICE_SERVICE_PRESETS', 'BODY_FACTS', 'CAUSES']

describe('the public API', () => {
  it('is a curated list: src/index.ts names what it exports', () => {
    const source = readFileSync(join(projectRoot, 'src', 'index.ts'), 'utf8')
    assert.doesNotMatch(source, /export \*/)
  })

  it('has what an SDK user needs, and nothing else at run time', async () => {
    const api = (await import(pathToFileURL(join(projectRoot, 'dist', 'index.js')).href)) as Record<string, unknown>
    for (const name of functions) assert.equal(typeof api[name], 'function', name)
    for (const name of values) assert.ok(api[name] !== undefined && typeof api[name] !== 'function', name)
    assert.deepEqual(Object.keys(api).sort(), [...functions, ...values].sort())
  })

  it('every exports subpath resolves to built code and its types', async () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {exports: Record<string, string | {default: string; types: string}>}
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') {
        assert.ok(existsSync(join(projectRoot, target)), subpath)
        continue
      }

      assert.ok(existsSync(join(projectRoot, target.types)), `${subpath}: ${target.types}`)
      const module = (await import(pathToFileURL(join(projectRoot, target.default)).href)) as Record<string, unknown>
      assert.ok(Object.keys(module).length > 0, `${subpath} exports nothing`)
    }

    const report = (await import(pathToFileURL(join(projectRoot, 'dist', 'report', 'index.js')).href)) as Record<string, unknown>
    assert.equal(typeof report.renderReport, 'function')
  })
})
