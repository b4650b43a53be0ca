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

/**
 * What each entry point gives at run time, as a reviewed list: a change to the public API is a
 * change to this list. (Types are checked by the build; package.json's exports name the entry points.)
 */
const ENTRY_POINTS: Record<string, string[]> = {
  assertions: [
    'ASSERTION_LIMITS',
    'ASSERTION_TYPES',
    'DEFAULT_HARDWARE_KEY_TYPE',
    'HARDWARE_KEY_TYPES',
    'HARDWARE_NAME',
    'HARDWARE_NAME_RULE',
    'ISSUER_ID',
    'ISSUER_ID_RULE',
    'MAX_HARDWARE_ID_KEY_LENGTH',
    'MAX_NONCE_SIGNATURE_LENGTH',
    'MIN_SIGNING_KEY_BITS',
    'MIN_VERIFY_KEY_BITS',
    'accountKeyValidAt',
    'accountKeyView',
    'accountView',
    'assertionContent',
    'decodeAssertionPublicKey',
    'decodeNonceSignatureText',
    'describeKey',
    'encodeHeaders',
    'encodeNonceSignature',
    'encodePublicKey',
    'hardwareIdKeyDigest',
    'hardwareIdKeyText',
    'hardwareIdentityInput',
    'hardwareIdentityView',
    'hardwareKeyTypeOf',
    'headerText',
    'loadSigningKey',
    'modelView',
    'nonceHashOf',
    'parseAssertion',
    'parseAssertions',
    'publicKeyId',
    'readHardwareIdKey',
    'serialRequestView',
    'serialView',
    'signAssertion',
    'signAssertionAsync',
    'signContent',
    'signingKeyFromKeyObject',
    'verifyAssertionSignature',
    'verifyNonceSignature',
  ],
  doctor: [
    'CAUSES',
    'CAUSE_CODES',
    'DEFAULT_SOCKET',
    'MAX_STATE_BYTES',
    'SSH_COMMANDS',
    'STEPS',
    'classifyMessage',
    'diagnose',
    'probeService',
    'readGadgetProject',
    'readSocket',
    'readSsh',
    'readStateFile',
    'runDoctor',
    'stateView',
  ],
  keys: [
    'KEY_MANAGER_FEATURES',
    'KEY_NAME_RULE',
    'MAX_GNUPG_EXPORT_BYTES',
    'MAX_KEY_FILE_BYTES',
    'gnupgPublicKey',
    'importGnupgKey',
    'isValidAccountId',
    'isValidKeyName',
    'keyFile',
    'keyNameOfFile',
    'listKeyNames',
    'loadManagedKey',
    'looksLikeGnupgExport',
    'makeAccountKeyRequest',
    'publicKeyDer',
    'readGnupgExport',
    'readPublicKey',
    'readPublicKeys',
    'signDigestInfo',
    'writePrivateKeyFile',
    'writePublicKeyFile',
  ],
  report: ['formatGithub', 'formatJson', 'formatJunit', 'formatSarif', 'formatText', 'isReportFormat', 'renderReport', 'reportFormats'],
  scaffold: [
    'BASES',
    'DEVICE_ENGINE',
    'WELL_KNOWN_SNAP_IDS',
    'accountIdProblem',
    'boardProfileIds',
    'buildModelJson',
    'channelProblem',
    'checkModelJson',
    'checkScaffoldTarget',
    'lintTemplate',
    'listBoardProfiles',
    'loadBoardProfile',
    'modelNameProblem',
    'modelProblems',
    'planScaffold',
    'snapIdProblem',
    'snapNameProblem',
    'storeIdProblem',
    'writeScaffold',
  ],
  serial: [
    'BUILTIN_SOURCES',
    'DEFAULT_SERIAL_PATTERN',
    'EUI_PARTS',
    'FLEET_DUPLICATES',
    'PLACEHOLDER_MACS',
    'PLACEHOLDER_STRINGS',
    'PLACEHOLDER_UUIDS',
    'applyTransforms',
    'boardIds',
    'boardNames',
    'collectSystemFacts',
    'cpuinfoSerialLine',
    'createSourceContext',
    'deriveFromChain',
    'deriveSerial',
    'detectBoard',
    'found',
    'listBoards',
    'loadBoard',
    'loadSerialConfig',
    'parseAm335xEeprom',
    'parseAm6Eeprom',
    'parseEui',
    'parseOnieTlv',
    'parseSerialConfig',
    'probeIdentity',
    'readDeviceFacts',
    'refusalOf',
    'rootedFs',
    'runChain',
    'serialProblem',
    'smbiosField',
    'trySerial',
    'unavailable',
  ],
  service: [
    'ASSERTION_MEDIA_TYPE',
    'DEFAULT_DATABASE',
    'DEFAULT_LISTEN',
    'MAX_ANONYMOUS_SERIAL_REQUEST_BYTES',
    'MAX_BLOCK_REASON',
    'MAX_HARDWARE_BODY_BYTES',
    'MAX_SERIAL_REQUEST_BYTES',
    'NONCE_LIFETIME_MS',
    'REFUSALS',
    'SCHEMA_VERSION',
    'blockDevice',
    'checkFailure',
    'checkService',
    'describeBlock',
    'describeDatabase',
    'describeEntry',
    'describeRefusal',
    'exportSigningLog',
    'importAllowedSerials',
    'importHardwareIdentities',
    'listBlocks',
    'loadImportConfig',
    'loadServiceConfig',
    'loadServiceDatabase',
    'migrateDatabase',
    'openStore',
    'problemOf',
    'readRefusalLog',
    'readSigningLog',
    'startDeviceService',
    'unblockDevice',
  ],
  simulate: [
    'DEFAULT_LIMITS',
    'MAX_FLEET_CONCURRENCY',
    'MAX_FLEET_DEVICES',
    'RootTemplate',
    'SNAPD_DEVICE_KEY_BITS',
    'SNAPD_HOOK_TIMEOUT_MS',
    'SNAPD_HTTP_TIMEOUT_MS',
    'SerialPattern',
    'deviceDataDir',
    'exchangeSerial',
    'generateDeviceKey',
    'prepareSimulatedDevice',
    'readGadgetTree',
    'readModel',
    'readTrust',
    'registerDevice',
    'registerFleet',
    'resolveEngine',
    'writeSerialAssertion',
  ],
}

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

  it('each entry point exports the reviewed names, no more, no fewer', async () => {
    for (const [entry, names] of Object.entries(ENTRY_POINTS)) {
      const module = (await import(pathToFileURL(join(projectRoot, 'dist', entry, 'index.js')).href)) as Record<string, unknown>
      assert.deepEqual(Object.keys(module).sort(), names, `snap-gadget/${entry}`)
      const source = readFileSync(join(projectRoot, 'src', entry, 'index.ts'), 'utf8')
      assert.doesNotMatch(source, /export \*/, `src/${entry}/index.ts lists what it exports`)
      assert.match(source, /^\/\*\*\n \* /, `src/${entry}/index.ts starts with what the entry point is for`)
    }
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
