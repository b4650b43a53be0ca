/**
 * The simulator's snapctl: values typed as snapd 2.57.6's ctlcmd set types them (the table of
 * registration-protocol.md §1.3, each row checked here), what snapd's transaction silently drops,
 * `get` as snapctl prints it, `is-connected`, and the options read with snapd's Go types. The same
 * typing is held against snapd's own ctlcmd in test/simulate/agreement.test.ts.
 */
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {decodeOneJsonValue, GoNumber, goJson} from '../../src/simulate/go-json.js'
import {answerSnapctl, GadgetConfig, parseSetCall, readSerialRequestConfig, replayConfig, type ShimState, type SnapctlRecord} from '../../src/simulate/snapctl-shim.js'

const GADGET = 'acme-pc'

/** What snapd reads after the hook ran `snapctl set ARGS` (one call per list). */
function readAfter(...calls: string[][]): ReturnType<typeof readSerialRequestConfig> {
  const records: SnapctlRecord[] = calls.map((args) => ({argv: ['set', ...args], status: 0, stderr: '', stdout: ''}))
  return readSerialRequestConfig(replayConfig({gadget: GADGET, initial: {}}, records))
}

describe('snapctl set types a value as snapd does', () => {
  const cases: [string, string, 'number' | 'string' | 'object' | 'bool' | 'array'][] = [
    // registration-protocol.md §1.3, row by row.
    ['12345678', '12345678', 'number'],
    ['1000000012345678', '1000000012345678', 'number'],
    ['100000001e234567', '100000001e234567', 'number'],
    ['12345e67', '12345e67', 'number'],
    ['true', 'true', 'bool'],
    ['-123', '-123', 'number'],
    ['1.5', '1.5', 'number'],
    ['0000000012345678', '"0000000012345678"', 'string'],
    ['10000000afbf721a', '"10000000afbf721a"', 'string'],
    ['b8:27:eb:12:34:56', '"b8:27:eb:12:34:56"', 'string'],
    ['"12345678"', '"12345678"', 'string'],
    ['{"mac":"x"}', '{"mac":"x"}', 'object'],
    ['mac: "00:11"', '"mac: \\"00:11\\""', 'string'],
    // Go's decoder stops after one value; Decoder.More() does not count a closing bracket as more.
    ['"abc"}', '"abc"', 'string'],
    ['123 ]', '123', 'number'],
    ['123 x', '"123 x"', 'string'],
    ['1.', '"1."', 'string'],
    ['-', '"-"', 'string'],
    ['', '""', 'string'],
    ['  [1, "a"] ', '[1,"a"]', 'array'],
    ['{"a":1,"a":2}', '{"a":2}', 'object'],
    ['"<&>"', '"\\u003c\\u0026\\u003e"', 'string'],
  ]
  for (const [text, stored, kind] of cases) {
    test(`${JSON.stringify(text)} is stored as ${stored}`, () => {
      const value = decodeOneJsonValue(text) ?? text
      assert.equal(goJson(value), stored)
      const actual = value instanceof GoNumber ? 'number' : Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value
      assert.equal(actual, kind)
    })
  }

  test('-s keeps the raw text, -t demands JSON, and both together are refused', () => {
    assert.deepEqual(parseSetCall(['-s', 'registration.proposed-serial="X"']).changes[0].value, '"X"')
    assert.match(parseSetCall(['-t', 'registration.body=mac: x']).error ?? '', /failed to parse JSON/)
    assert.equal(parseSetCall(['-s', '-t', 'a=b']).error, 'cannot use -t and -s together')
    assert.equal(parseSetCall(['-st', 'a=b']).error, 'cannot use -t and -s together')
  })

  test('key! unsets, a word without = is refused, and nothing at all asks which option', () => {
    assert.deepEqual(parseSetCall(['registration.proposed-serial!']).changes, [{argument: 'registration.proposed-serial!', key: 'registration.proposed-serial'}])
    assert.equal(parseSetCall(['serial']).error, 'invalid parameter: "serial" (want key=value)')
    assert.equal(parseSetCall([]).error, 'set which option?')
    assert.equal(parseSetCall([':myplug', 'a=b']).error, 'interface attributes can only be set during the execution of prepare hooks')
  })
})

describe('what snapd reads after the hook', () => {
  test('strings, a map of strings, and the url as set', () => {
    const read = readAfter(['device-service.url="http://x/v1/"', 'device-service.headers={"api-key":"k"}', 'registration.proposed-serial="0012"', 'registration.body="mac: x"'])
    assert.deepEqual(read.config, {body: 'mac: x', headers: {'api-key': 'k'}, proposedSerial: '0012', url: 'http://x/v1/'})
  })

  test('an all-digit serial set without quotes is a number: the error snapd gives', () => {
    assert.equal(
      readAfter(['registration.proposed-serial=12345678']).error,
      'internal error: cannot unmarshal snap "acme-pc" option "registration.proposed-serial" into *string: json: cannot unmarshal number into Go value of type string, json: 12345678',
    )
  })

  test('a JSON object as body, headers as a string or with a number: snapd refuses each', () => {
    assert.match(readAfter(['registration.body={"mac":"x"}']).error ?? '', /option "registration.body" into \*string: json: cannot unmarshal object into Go value of type string, json: \{"mac":"x"\}$/)
    assert.match(readAfter(['-s', 'device-service.headers={"api-key":"k"}']).error ?? '', /into \*map\[string\]string: json: cannot unmarshal string into Go value of type map\[string\]string/)
    assert.match(readAfter(['device-service.headers={"n":1}']).error ?? '', /cannot unmarshal number into Go value of type string/)
  })

  test('the whole object at once, nested paths, and a later unset', () => {
    assert.equal(readAfter(['device-service={"url":"http://y/"}']).config?.url, 'http://y/')
    assert.deepEqual(readAfter(['registration.body="b"'], ['registration.body!']).config?.body, '')
    assert.equal(readAfter(['device-service.url="http://z/"'], ['device-service.url=null']).config?.url, '')
  })

  test("snapd's transaction drops an invalid option name and a path through a string, silently", () => {
    const config = replayConfig({gadget: GADGET, initial: {}}, [{argv: ['set', 'Registration.body="x"', 'device-service="s"', 'device-service.url="http://a/"'], status: 0, stderr: '', stdout: ''}])
    assert.deepEqual(
      config.ignored.map((i) => i.reason),
      ['invalid option name: "Registration"', 'snap "acme-pc" option "device-service" is not a map'],
    )
    assert.equal(readSerialRequestConfig(config).error, 'snap "acme-pc" option "device-service" is not a map')
  })

  test('a call that failed changes nothing', () => {
    const config = replayConfig({gadget: GADGET, initial: {}}, [{argv: ['set', 'registration.body="x"'], status: 1, stderr: '', stdout: ''}])
    assert.equal(readSerialRequestConfig(config).config?.body, '')
  })
})

describe('get and is-connected', () => {
  const state: ShimState = {disconnected: ['network-observe'], gadget: GADGET, initial: {'api-key': 'secret-key'}, log: '/nonexistent', plugs: ['hardware-observe', 'network-observe']}
  const config = new GadgetConfig(GADGET, {'api-key': 'secret-key', 'device-service': {headers: {b: '2', a: '1'}}})

  test('get prints a string as it is, a map as indented JSON, a missing option as an empty line', () => {
    assert.equal(answerSnapctl(state, config, ['get', 'api-key']).stdout, 'secret-key\n')
    assert.equal(answerSnapctl(state, config, ['get', 'device-service.headers']).stdout, '{\n\t"a": "1",\n\t"b": "2"\n}\n')
    assert.equal(answerSnapctl(state, config, ['get', 'nothing']).stdout, '\n')
    assert.equal(answerSnapctl(state, config, ['get', '-t', 'nothing']).stdout, 'null\n')
  })

  test("is-connected: 0 connected, 1 not, and snapd's error for a plug the gadget does not have", () => {
    assert.equal(answerSnapctl(state, config, ['is-connected', 'hardware-observe']).status, 0)
    assert.equal(answerSnapctl(state, config, ['is-connected', 'network-observe']).status, 1)
    const unknown = answerSnapctl(state, config, ['is-connected', 'i2c'])
    assert.equal(unknown.status, 1)
    assert.equal(unknown.stderr, 'error: error running snapctl: snap "acme-pc" has no plug or slot named "i2c"\n')
  })

  test('a command the simulated snapd does not answer fails', () => {
    assert.equal(answerSnapctl(state, config, ['services']).status, 1)
  })
})
