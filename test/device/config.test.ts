/**
 * The registration config: presets, headers from the environment, the serial section, the body,
 * identity and plug names; errors that name the file, line, column, place and fix; strict JSON;
 * and schemas/registration.schema.json agreeing with the checker and with the code's own lists.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {Ajv2020} from 'ajv/dist/2020.js'

import {UserError} from '../../src/errors.js'
import {BODY_FACTS} from '../../src/device/body.js'
import {defaultConfigFile, DEVICE_SERVICE_PRESETS, loadRegistrationConfig, parseRegistrationConfig, resolveHeaders} from '../../src/device/config.js'
import {boardNames} from '../../src/serial/boards.js'
import {SNAP_INTERFACES} from '../../src/serial/config/options.js'
import {BUILTIN_SOURCES} from '../../src/serial/sources/registry.js'
import {parseJsonDocument} from '../../src/support/json-with-positions.js'
import {fixtures, projectRoot} from '../helpers/paths.js'

/** A node of the schema's JSON, read by key (the tests know its shape). */
interface SchemaNode {
  readonly [key: string]: SchemaNode
}

const SCHEMA = JSON.parse(readFileSync(join(projectRoot, 'schemas', 'registration.schema.json'), 'utf8')) as SchemaNode
// strictRequired off: "required" inside anyOf/if branches names properties declared one level up.
const validate = new Ajv2020({allErrors: true, allowUnionTypes: true, strict: true, strictRequired: false}).compile(SCHEMA)
const CONFIGS = fixtures('runtime', 'configs')

const parse = (text: string) => parseRegistrationConfig(text, {file: 'registration.json'})
const MINIMAL = {deviceService: {preset: 'serial-vault'}, serial: {board: 'raspberry-pi'}}
const json = (value: unknown) => JSON.stringify(value, null, 2)

function failure(text: string): UserError {
  try {
    parse(text)
  } catch (error) {
    if (error instanceof UserError) return error
    throw error
  }

  return assert.fail(`accepted: ${text}`)
}

describe('valid configs', () => {
  it('fills the defaults and the preset URLs', () => {
    const config = parse(json(MINIMAL))
    assert.deepEqual(config.deviceService, {preset: 'serial-vault', url: 'https://serial-vault-partners.canonical.com/v1/'})
    assert.deepEqual([config.headers, config.body, config.identity, config.plugs, config.proposedSerial], [[], {facts: [], fields: {}}, {enabled: true}, {}, true])
    assert.equal(parse(json({...MINIMAL, deviceService: {preset: 'model-service'}})).deviceService.url, 'https://api.snapcraft.io/v1/')
    assert.equal(parse(json({...MINIMAL, deviceService: {preset: 'custom', url: 'http://localhost:8080/v1'}})).deviceService.url, 'http://localhost:8080/v1')
  })

  it('reads headers in order, literal or from the environment', () => {
    const config = parse(json({...MINIMAL, headers: {'api-key': {env: 'MODEL_APIKEY'}, 'X-Line': 'line "3" $(x) `y` ✓'}}))
    assert.deepEqual(config.headers, [
      {env: 'MODEL_APIKEY', name: 'api-key'},
      {name: 'X-Line', value: 'line "3" $(x) `y` ✓'},
    ])
    const values = resolveHeaders(config.headers, {MODEL_APIKEY: 'k"$(id)`x`'})
    assert.deepEqual(
      [...values],
      [
        ['api-key', {env: 'MODEL_APIKEY', value: 'k"$(id)`x`'}],
        ['X-Line', {value: 'line "3" $(x) `y` ✓'}],
      ],
    )
  })

  it('takes the serial section in the serial SDK format', () => {
    const config = parse(json({...MINIMAL, serial: {board: 'x86', brand: 'acme', chain: ['dmi[board_serial]', {options: {interface: 'eth0'}, source: 'mac'}], onDenied: 'next', transforms: [{prefix: 'acme-'}]}}))
    assert.deepEqual(config.serial.chain, [
      {options: {field: 'board_serial'}, source: 'dmi'},
      {options: {interface: 'eth0'}, source: 'mac'},
    ])
    assert.deepEqual([config.serial.board, config.serial.brand, config.serial.onDenied, config.serial.transforms], ['x86', 'acme', 'next', [{prefix: 'acme-'}]])
  })

  it('takes body facts and nested fields, identity as a boolean, and plug names', () => {
    const config = parse(json({...MINIMAL, body: {facts: ['mac-addresses', 'board-model'], fields: {line: 'a\nb', tags: ['x', {y: 'z'}]}}, identity: false, plugs: {'hardware-observe': 'hw-observe'}}))
    assert.deepEqual(config.body, {facts: ['mac-addresses', 'board-model'], fields: {line: 'a\nb', tags: ['x', {y: 'z'}]}})
    assert.deepEqual(config.identity, {enabled: false})
    assert.deepEqual(config.plugs, {'hardware-observe': 'hw-observe'})
  })

  it('onboarding: api-key by default; hardware-identity as a string or with a key type, without an identity', () => {
    assert.deepEqual(parse(json(MINIMAL)).onboarding, {keyType: 'ecdsa-p256', mode: 'api-key'})
    const hardware = parse(json({...MINIMAL, headers: {'x-line': '3'}, identity: false, onboarding: 'hardware-identity'}))
    assert.deepEqual([hardware.onboarding, hardware.identity], [{keyType: 'ecdsa-p256', mode: 'hardware-identity'}, {enabled: false}])
    assert.deepEqual(parse(json({...MINIMAL, onboarding: {keyType: 'ecdsa-p384', mode: 'hardware-identity'}})).onboarding, {keyType: 'ecdsa-p384', mode: 'hardware-identity'})
    assert.deepEqual(parse(json({...MINIMAL, onboarding: {mode: 'api-key'}})).onboarding, {keyType: 'ecdsa-p256', mode: 'api-key'})
    for (const config of [
      {...MINIMAL, headers: {'x-line': '3'}, identity: false, onboarding: 'hardware-identity'},
      {...MINIMAL, onboarding: {keyType: 'rsa-3072', mode: 'hardware-identity'}},
      {...MINIMAL, headers: {'api-key': 'k'}, onboarding: 'api-key'},
    ])
      assert.equal(validate(config), true, `${json(config)}: ${JSON.stringify(validate.errors)}`)
  })

  it('loads every example config, which the schema accepts too', () => {
    const files = readdirSync(CONFIGS).filter((f) => f.endsWith('.json'))
    assert.ok(files.length >= 4)
    for (const file of files) {
      const path = join(CONFIGS, file)
      const config = loadRegistrationConfig(path)
      assert.equal(config.place.file, path)
      assert.equal(validate(JSON.parse(readFileSync(path, 'utf8'))), true, `${file}: ${JSON.stringify(validate.errors)}`)
    }
  })
})

interface BadCase {
  name: string
  config: unknown
  message: RegExp
  hint?: RegExp
  /** The schema cannot say this (checked only by the runtime). */
  runtimeOnly?: boolean
}

const BAD: BadCase[] = [
  {config: {serial: {board: 'x86'}}, message: /^\(top level\): "deviceService" is missing$/, name: 'no deviceService'},
  {config: {deviceService: {preset: 'serial-vault'}}, message: /"serial" is missing/, name: 'no serial'},
  {config: {...MINIMAL, deviceservice: {}}, hint: /did you mean "deviceService"/, message: /^deviceservice: unknown key "deviceservice"/, name: 'misspelled top-level key'},
  {
    config: {...MINIMAL, deviceService: {preset: 'serial-valut'}},
    hint: /did you mean "serial-vault"/,
    message: /^deviceService\.preset: preset must be one of serial-vault, model-service, local, custom, not string "serial-valut"/,
    name: 'unknown preset',
  },
  {config: {...MINIMAL, deviceService: {preset: 'custom'}}, hint: /"url"/, message: /^deviceService: preset custom needs a url/, name: 'custom without url'},
  {config: {...MINIMAL, deviceService: {preset: 'serial-vault', url: 'https://x/v1/'}}, message: /url is only for preset custom; serial-vault is https:\/\/serial-vault-partners/, name: 'url with a preset'},
  {config: {...MINIMAL, deviceService: {preset: 'custom', url: 'ftp://vault/v1/'}}, message: /scheme must be https \(or http\), not ftp/, name: 'ftp URL'},
  {config: {...MINIMAL, deviceService: {preset: 'custom', url: 'vault.example.com/v1/'}}, message: /is not a URL/, name: 'URL without a scheme'},
  {config: {...MINIMAL, deviceService: {preset: 'custom', url: 'https://user:pw@vault/v1/'}}, message: /user name or password/, name: 'URL with credentials', runtimeOnly: true},
  {config: {...MINIMAL, headers: {'api key': 'x'}}, message: /^headers\.api key: "api key" is not a valid HTTP header name/, name: 'header name with a space'},
  {config: {...MINIMAL, headers: {'Content-Type': 'x'}}, message: /snapd sets the Content-Type header itself/, name: 'reserved header'},
  {config: {...MINIMAL, headers: {'API-Key': 'a', 'api-key': 'b'}}, message: /"api-key" and "API-Key" are the same HTTP header/, name: 'headers differing in case', runtimeOnly: true},
  {config: {...MINIMAL, headers: {'api-key': 'line\nbreak'}}, message: /contains a line break or another control character/, name: 'header value with a newline'},
  {config: {...MINIMAL, headers: {'api-key': ''}}, message: /the value of header api-key is empty/, name: 'empty header value'},
  {config: {...MINIMAL, headers: {'api-key': 42}}, message: /must be a string or \{"env": "NAME"\}, not number 42/, name: 'numeric header value'},
  {config: {...MINIMAL, headers: {'api-key': {env: 'MODEL APIKEY'}}}, message: /^headers\.api-key\.env: env must name an environment variable/, name: 'bad variable name'},
  {config: {...MINIMAL, headers: {'api-key': {env: 'X', default: 'y'}}}, message: /unknown key "default" in header api-key/, name: 'extra key in an env header'},
  {config: {...MINIMAL, serial: {}}, message: /^serial: serial needs a board or a chain/, name: 'empty serial'},
  {config: {...MINIMAL, serial: {board: 'raspbery-pi'}}, hint: /did you mean "raspberry-pi"/, message: /^serial\.board: unknown board "raspbery-pi"/, name: 'unknown board'},
  {config: {...MINIMAL, serial: {chain: [{source: 'dmii'}]}}, hint: /did you mean "dmi"/, message: /^serial\.chain\[0\]\.source: unknown serial source "dmii"/, name: 'unknown source'},
  {config: {...MINIMAL, serial: {chain: [{options: {field: 'serial'}, source: 'dmi'}]}}, message: /^serial\.chain\[0\]\.options\.field: dmi option "field" must be one of/, name: 'bad source option'},
  {config: {...MINIMAL, serial: {chain: [{source: 'eeprom'}]}}, message: /eeprom needs the option/, name: 'missing required option'},
  {config: {...MINIMAL, serial: {board: 'x86', transforms: [{prefixx: 'a'}]}}, message: /^serial\.transforms\[0\]: a transform is a mapping with one of/, name: 'bad transform'},
  {config: {...MINIMAL, serial: {board: 'x86', fallback: 'X'}}, message: /unknown key "fallback" in serial/, name: 'a fallback serial is not a thing'},
  {config: {...MINIMAL, body: {facts: ['board-modle']}}, hint: /did you mean "board-model"/, message: /^body\.facts\[0\]: unknown body fact/, name: 'unknown fact'},
  {config: {...MINIMAL, body: {facts: ['dmi', 'dmi']}}, message: /"dmi" is listed twice/, name: 'fact twice'},
  {config: {...MINIMAL, body: {fields: {serial: 'X'}}}, message: /the body field "serial" is set by the derived serial/, name: 'field named serial'},
  {config: {...MINIMAL, body: {fields: {'identity-key': 'X'}}}, message: /set by the device identity/, name: 'identity field'},
  {config: {...MINIMAL, body: {facts: ['dmi'], fields: {dmi: 'X'}}}, message: /set by the body fact of that name/, name: 'field named like a listed fact', runtimeOnly: true},
  {config: {...MINIMAL, body: {fields: {Line: 'X'}}}, message: /"Line" is not a valid body field name/, name: 'upper-case field name'},
  {config: {...MINIMAL, body: {fields: {count: 3}}}, hint: /quote it: "3"/, message: /^body\.fields\.count: a body field value must be a string/, name: 'numeric field'},
  {config: {...MINIMAL, body: {fields: {flag: true}}}, hint: /quote it: "true"/, message: /must be a string, a list or an object, not boolean true/, name: 'boolean field'},
  {config: {...MINIMAL, body: {fields: {none: null}}}, message: /not null/, name: 'null field'},
  {config: {...MINIMAL, body: {fields: {bad: '\uD800'}}}, message: /not well-formed Unicode/, name: 'lone surrogate in a field', runtimeOnly: true},
  {config: {...MINIMAL, identity: 'yes'}, message: /identity must be an object or a boolean, not string "yes"/, name: 'identity as a string'},
  {config: {...MINIMAL, identity: {enabled: 'true'}}, message: /^identity\.enabled: enabled must be true or false/, name: 'identity.enabled as a string'},
  {config: {...MINIMAL, proposedSerial: 'no'}, message: /^proposedSerial: proposedSerial must be true or false/, name: 'proposedSerial as a string'},
  {config: {...MINIMAL, plugs: {'hardware-observer': 'x'}}, hint: /did you mean "hardware-observe"/, message: /unknown key "hardware-observer" in plugs/, name: 'unknown interface in plugs'},
  {config: {...MINIMAL, plugs: {'hardware-observe': 'Hw Observe'}}, message: /must be a snap plug name/, name: 'bad plug name'},
  {config: [MINIMAL], message: /the registration config is a JSON object, not a list/, name: 'a list'},
  {config: {...MINIMAL, onboarding: 'hardware-identiy'}, hint: /did you mean "hardware-identity"/, message: /^onboarding: the onboarding mode must be api-key or hardware-identity/, name: 'unknown onboarding mode'},
  {
    config: {...MINIMAL, onboarding: {mode: 'hardware-identity', keyType: 'ecdsa-p521'}},
    message: /^onboarding\.keyType: keyType must be one of ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096/,
    name: 'unknown key type',
  },
  {config: {...MINIMAL, onboarding: {keyType: 'ecdsa-p384'}}, message: /^onboarding\.keyType: keyType is for "mode": "hardware-identity"/, name: 'a key type without hardware-identity'},
  {config: {...MINIMAL, onboarding: {mode: 'hardware-identity', key: 'x'}}, message: /unknown key "key" in onboarding/, name: 'unknown onboarding key'},
  {
    config: {...MINIMAL, headers: {'Api-Key': {env: 'K'}}, onboarding: 'hardware-identity'},
    hint: /does away with/,
    message: /^headers\.Api-Key: an api-key header in hardware-identity onboarding/,
    name: 'api-key in hardware-identity onboarding',
  },
  {config: {...MINIMAL, body: {facts: ['dmi']}, onboarding: {mode: 'hardware-identity'}}, message: /^body: "body" has no effect in hardware-identity onboarding/, name: 'body in hardware-identity onboarding'},
  {config: {...MINIMAL, identity: {enabled: true}, onboarding: 'hardware-identity'}, message: /^identity: "identity" has no effect/, name: 'identity in hardware-identity onboarding'},
]

describe('invalid configs: located errors with a fix, and the schema agrees', () => {
  for (const bad of BAD) {
    it(bad.name, () => {
      const error = failure(json(bad.config))
      assert.equal(error.kind, 'usage')
      assert.match(error.code, /^E_(REGISTRATION|SERIAL)_CONFIG$/)
      assert.equal(error.file, 'registration.json')
      assert.match(error.message, bad.message)
      assert.ok(error.hint, 'has a hint')
      if (bad.hint) assert.match(error.hint, bad.hint)
      assert.ok(error.line !== undefined && error.column !== undefined, 'has a line and column')
      if (!bad.runtimeOnly) assert.equal(validate(bad.config), false, `the schema accepts ${json(bad.config)}`)
    })
  }

  it('points at the line and column of the offending value or key', () => {
    const text = '{\n  "deviceService": {"preset": "serial-vault"},\n  "serial": {\n    "chain": [\n      "cpuinfo-serial",\n      {"source": "dmi", "options": {"field": "serial"}}\n    ]\n  },\n  "heders": {}\n}\n'
    const key = failure(text)
    assert.deepEqual([key.line, key.column, key.message], [9, 3, 'heders: unknown key "heders" in the registration config'])
    const chain = failure(text.replace('"heders"', '"headers"'))
    assert.deepEqual([chain.line, chain.column], [6, 46])
    assert.equal(chain.located, 'registration.json:6:46: serial.chain[1].options.field: dmi option "field" must be one of product_serial, board_serial, chassis_serial, product_uuid, not string "serial"')
  })
})

describe('strict JSON', () => {
  const syntax = (text: string) => {
    const error = failure(text)
    assert.equal(error.code, 'E_REGISTRATION_CONFIG')
    assert.match(error.message, /^not valid JSON: /)
    assert.match(error.hint ?? '', /no comments, no trailing commas/)
    return [error.line, error.column, error.message.slice('not valid JSON: '.length)]
  }

  it('refuses trailing commas, comments, single quotes, duplicate keys and junk after the document', () => {
    assert.deepEqual(syntax('{\n  "serial": {"board": "x86"},\n}'), [3, 1, 'expected a key in double quotes, found "}"'])
    assert.deepEqual(syntax('{\n  // the vault\n  "deviceService": {}\n}'), [2, 3, 'expected a key in double quotes, found "/"'])
    assert.deepEqual(syntax("{'serial': 1}"), [1, 2, `expected a key in double quotes, found "'"`])
    assert.deepEqual(syntax('{"serial": {}, "body": {}, "serial": {}}'), [1, 28, 'duplicate key "serial"'])
    assert.deepEqual(syntax('{} {}'), [1, 4, 'unexpected "{" after the end of the document'])
    assert.deepEqual(syntax('{"a": "line\nbreak"}'), [1, 7, 'a string with a control character, a bad escape or no closing quote'])
    assert.deepEqual(syntax('{"a": 01}'), [1, 8, 'expected "," or "}", found "1"'])
    assert.deepEqual(syntax(''), [1, 1, 'unexpected end of file'])
  })

  it('reads a BOM, escapes and a "__proto__" key as data', () => {
    const document = parseJsonDocument('\uFEFF{"__proto__": {"x": "\\u00e9\\n"}, "n": [1, -2.5e3, true, null]}')
    const value = document.value as Record<string, unknown>
    assert.deepEqual(Object.keys(value), ['__proto__', 'n'])
    assert.equal(Object.getPrototypeOf(value), Object.prototype)
    assert.deepEqual(value.n, [1, -2500, true, null])
    assert.deepEqual(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, {x: 'é\n'})
  })
})

describe('headers from the environment', () => {
  const headers = [{env: 'MODEL_APIKEY', name: 'api-key'}]
  const fails = (env: NodeJS.ProcessEnv, message: RegExp) => {
    assert.throws(
      () => resolveHeaders(headers, env),
      (error: UserError) => {
        assert.equal(error.code, 'E_HEADER_ENV')
        assert.equal(error.kind, 'failed')
        assert.match(error.message, message)
        assert.match(error.hint ?? '', /MODEL_APIKEY/)
        assert.doesNotMatch(`${error.message} ${error.hint}`, /s3cret/)
        return true
      },
    )
  }

  it('fails when the variable is missing, empty, or holds a line break, without showing its value', () => {
    fails({}, /^header api-key: the environment variable MODEL_APIKEY is not set$/)
    fails({MODEL_APIKEY: ''}, /MODEL_APIKEY is empty/)
    fails({MODEL_APIKEY: 's3cret\nInjected: yes'}, /MODEL_APIKEY contains a line break/)
  })
})

describe('where the config is', () => {
  it('defaults to $SNAP/runtime/registration.json, where the generated hook names it, and says what to do without $SNAP', () => {
    assert.equal(defaultConfigFile({SNAP: '/snap/pi/x1'}), '/snap/pi/x1/runtime/registration.json')
    assert.throws(() => defaultConfigFile({}), /\$SNAP is not set/)
  })

  it('an unreadable file is an I/O error naming it', () => {
    assert.throws(
      () => loadRegistrationConfig('/nonexistent/registration.json'),
      (error: UserError) => error.code === 'E_IO_ENOENT' && error.kind === 'io' && error.file === '/nonexistent/registration.json',
    )
  })
})

describe('the schema lists what the code knows', () => {
  const defs = SCHEMA.$defs
  const entry = defs.chainEntry.anyOf[1]

  it('sources, and for each its options and required options', () => {
    assert.deepEqual(entry.properties.source.enum, [...BUILTIN_SOURCES.keys()])
    const rules = entry.allOf as unknown as {if: {properties: {source: {const: string}}}; then: {properties: {options: {properties: object; required?: string[]}}}}[]
    assert.deepEqual(
      rules.map((r) => r.if.properties.source.const),
      [...BUILTIN_SOURCES.keys()],
    )
    for (const rule of rules) {
      const definition = BUILTIN_SOURCES.get(rule.if.properties.source.const)!
      const options = rule.then.properties.options
      assert.deepEqual(Object.keys(options.properties).sort(), Object.keys(definition.options).sort(), definition.id)
      const required = Object.entries(definition.options)
        .filter(([, spec]) => spec.required)
        .map(([name]) => name)
      assert.deepEqual(options.required ?? [], required, definition.id)
    }
  })

  it('boards, body facts, presets and interfaces', () => {
    assert.deepEqual(SCHEMA.properties.serial.properties.board.enum, boardNames())
    assert.deepEqual(SCHEMA.properties.body.properties.facts.items.enum, Object.keys(BODY_FACTS))
    assert.deepEqual(SCHEMA.properties.deviceService.oneOf[0].properties.preset.enum, Object.keys(DEVICE_SERVICE_PRESETS))
    assert.deepEqual(defs.interface.enum, SNAP_INTERFACES)
    assert.deepEqual(Object.keys(SCHEMA.properties.plugs.properties), SNAP_INTERFACES)
    assert.equal(SCHEMA.$schema, 'https://json-schema.org/draft/2020-12/schema')
  })

  it('accepts the shorthand chain items the serial SDK accepts', () => {
    for (const item of ['cpuinfo-serial', 'dmi[board_serial]', 'mac[interface=end0,allowLocallyAdministered=true]']) {
      const config = {...MINIMAL, serial: {chain: [item]}}
      assert.equal(validate(config), true, item)
      parse(json(config))
    }
  })
})
