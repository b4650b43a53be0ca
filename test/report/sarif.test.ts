import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {Ajv} from 'ajv'

import {rules as catalog} from '../../src/gadget/findings/rules.js'
import {artifactLocation, formatSarif, lineHashes, SARIF_SCHEMA, type SarifLog} from '../../src/report/sarif.js'
import {findingOf, gadgets, reportOf, withFinding} from './helpers.js'

/** The parts of the SARIF 2.1.0 schema that the report uses, with its required properties and bounds. */
const message = {additionalProperties: false, properties: {text: {minLength: 1, type: 'string'}}, required: ['text'], type: 'object'}
const artifactLocationSchema = {
  additionalProperties: false,
  properties: {index: {minimum: -1, type: 'integer'}, uri: {format: 'uri-reference', type: 'string'}, uriBaseId: {type: 'string'}},
  required: ['uri'],
  type: 'object',
}
const sarifSchema = {
  additionalProperties: false,
  properties: {
    $schema: {const: SARIF_SCHEMA},
    runs: {
      items: {
        additionalProperties: false,
        properties: {
          artifacts: {
            items: {
              additionalProperties: false,
              properties: {location: artifactLocationSchema, roles: {items: {enum: ['analysisTarget']}, type: 'array', uniqueItems: true}},
              required: ['location'],
              type: 'object',
            },
            type: 'array',
          },
          columnKind: {enum: ['utf16CodeUnits', 'unicodeCodePoints']},
          invocations: {
            items: {
              additionalProperties: false,
              properties: {
                executionSuccessful: {type: 'boolean'},
                toolExecutionNotifications: {
                  items: {
                    additionalProperties: false,
                    properties: {
                      descriptor: {properties: {id: {type: 'string'}}, required: ['id'], type: 'object'},
                      level: {enum: ['none', 'note', 'warning', 'error']},
                      locations: {items: {properties: {physicalLocation: {properties: {artifactLocation: artifactLocationSchema}, type: 'object'}}, type: 'object'}, type: 'array'},
                      message,
                    },
                    required: ['message'],
                    type: 'object',
                  },
                  type: 'array',
                },
              },
              required: ['executionSuccessful'],
              type: 'object',
            },
            type: 'array',
          },
          properties: {type: 'object'},
          results: {
            items: {
              additionalProperties: false,
              properties: {
                level: {enum: ['none', 'note', 'warning', 'error']},
                locations: {
                  items: {
                    additionalProperties: false,
                    properties: {
                      physicalLocation: {
                        additionalProperties: false,
                        properties: {
                          artifactLocation: artifactLocationSchema,
                          region: {
                            additionalProperties: false,
                            properties: {
                              endColumn: {minimum: 1, type: 'integer'},
                              endLine: {minimum: 1, type: 'integer'},
                              startColumn: {minimum: 1, type: 'integer'},
                              startLine: {minimum: 1, type: 'integer'},
                            },
                            required: ['startLine'],
                            type: 'object',
                          },
                        },
                        required: ['artifactLocation'],
                        type: 'object',
                      },
                    },
                    required: ['physicalLocation'],
                    type: 'object',
                  },
                  minItems: 1,
                  type: 'array',
                },
                message,
                partialFingerprints: {additionalProperties: {type: 'string'}, type: 'object'},
                properties: {type: 'object'},
                ruleId: {type: 'string'},
                ruleIndex: {minimum: -1, type: 'integer'},
              },
              required: ['message', 'ruleId', 'ruleIndex', 'level', 'locations'],
              type: 'object',
            },
            type: 'array',
          },
          tool: {
            additionalProperties: false,
            properties: {
              driver: {
                additionalProperties: false,
                properties: {
                  informationUri: {format: 'uri', type: 'string'},
                  name: {const: 'snap-gadget'},
                  rules: {
                    items: {
                      additionalProperties: false,
                      properties: {
                        defaultConfiguration: {
                          additionalProperties: false,
                          properties: {level: {enum: ['none', 'note', 'warning', 'error']}},
                          required: ['level'],
                          type: 'object',
                        },
                        fullDescription: message,
                        id: {type: 'string'},
                        name: {type: 'string'},
                        properties: {
                          properties: {source: {enum: ['snapd', 'lint']}, since: {type: 'string'}, tags: {items: {type: 'string'}, type: 'array'}},
                          required: ['source'],
                          type: 'object',
                        },
                        shortDescription: message,
                      },
                      required: ['id', 'name', 'shortDescription', 'fullDescription', 'defaultConfiguration', 'properties'],
                      type: 'object',
                    },
                    type: 'array',
                  },
                  semanticVersion: {type: 'string'},
                  version: {type: 'string'},
                },
                required: ['name', 'version', 'rules'],
                type: 'object',
              },
            },
            required: ['driver'],
            type: 'object',
          },
        },
        required: ['tool', 'results'],
        type: 'object',
      },
      minItems: 1,
      type: 'array',
    },
    version: {const: '2.1.0'},
  },
  required: ['version', '$schema', 'runs'],
  type: 'object',
}

const ajv = new Ajv({allErrors: true, strict: true})
// Only the two formats the schema above uses; a URI reference is checked loosely (no spaces, no backslashes).
ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:\S+$/i)
ajv.addFormat('uri-reference', /^[^\s\\]+$/)
const validateSarif = ajv.compile(sarifSchema)

function sarifOf(text: string): SarifLog {
  const log = JSON.parse(text) as SarifLog
  assert.ok(validateSarif(log), ajv.errorsText(validateSarif.errors))
  return log
}

describe('sarif report', () => {
  const {report, sources} = reportOf({'gadget.yaml': gadgets.size32K, 'other/gadget.yaml': gadgets.duplicateKey}, {snapd: '2.57'})
  const log = sarifOf(formatSarif(report, {sources, toolVersion: '1.2.3'}))
  const run = log.runs[0]

  it('is SARIF 2.1.0 with the schema, version and driver', () => {
    assert.equal(log.$schema, 'https://json.schemastore.org/sarif-2.1.0.json')
    assert.equal(log.version, '2.1.0')
    assert.equal(log.runs.length, 1)
    assert.equal(run.tool.driver.name, 'snap-gadget')
    assert.equal(run.tool.driver.version, '1.2.3')
    assert.equal('informationUri' in run.tool.driver, false)
    assert.equal(run.columnKind, 'utf16CodeUnits')
  })

  it('describes every rule of the catalog once, found or not, and each result points at its rule', () => {
    const ids = run.tool.driver.rules.map((r) => r.id)
    assert.equal(new Set(ids).size, ids.length)
    assert.deepEqual(
      ids,
      catalog.map((r) => r.id),
    )
    for (const result of run.results) assert.equal(run.tool.driver.rules[result.ruleIndex].id, result.ruleId)
    const s1 = run.tool.driver.rules.find((r) => r.id === 'S1')!
    assert.equal(s1.name, 'quantity-syntax')
    assert.equal(s1.shortDescription.text, catalog.find((r) => r.id === 'S1')!.summary)
    assert.match(s1.fullDescription.text, /snapd rejects a gadget that breaks this rule/)
    assert.deepEqual(s1.defaultConfiguration, {level: 'error'})
    assert.equal(s1.properties.source, 'snapd')
    const p4 = run.tool.driver.rules.find((r) => r.id === 'P4')!
    assert.deepEqual(p4.defaultConfiguration, {level: 'warning'})
    assert.equal(p4.properties.source, 'lint')
  })

  it('gives each result a level, a message with the hint and a 1-based region', () => {
    const s1 = run.results.find((r) => r.ruleId === 'S1')!
    assert.equal(s1.level, 'error')
    assert.equal(s1.message.text, 'cannot parse size "32K": invalid suffix "K"\nsnapd: cannot parse gadget metadata: cannot parse size "32K": invalid suffix "K"\nhint: use 32768')
    const location = s1.locations[0].physicalLocation
    assert.deepEqual(location.region, {endColumn: 18, endLine: 8, startColumn: 15, startLine: 8})
    assert.equal(location.artifactLocation.uri, 'gadget.yaml')
    assert.equal(location.artifactLocation.uriBaseId, '%SRCROOT%')
    assert.equal(run.results.find((r) => r.ruleId === 'P4')!.level, 'warning')
  })

  it('lists the gadgets as artifacts and points results at them', () => {
    assert.deepEqual(
      run.artifacts.map((a) => [a.location.uri, a.roles]),
      [
        ['gadget.yaml', ['analysisTarget']],
        ['other/gadget.yaml', ['analysisTarget']],
      ],
    )
    for (const result of run.results) {
      const at = result.locations[0].physicalLocation.artifactLocation
      assert.equal(run.artifacts[at.index!].location.uri, at.uri)
    }
  })

  it('maps info to note, and lint rules to error under --strict', () => {
    const info = withFinding(report, 'P4', (f) => ({...f, severity: 'info'}))
    assert.equal(sarifOf(formatSarif(info, {toolVersion: '1'})).runs[0].results.find((r) => r.ruleId === 'P4')!.level, 'note')
    const strict = reportOf({'gadget.yaml': gadgets.duplicateKey}, {strict: true})
    const strictRun = sarifOf(formatSarif(strict.report, {toolVersion: '1'})).runs[0]
    assert.equal(strictRun.results.find((r) => r.ruleId === 'P4')!.level, 'error')
    assert.deepEqual(strictRun.tool.driver.rules.find((r) => r.id === 'P4')!.defaultConfiguration, {level: 'error'})
  })

  it('writes stable repository-relative URIs with forward slashes', () => {
    const abs = reportOf({'/src/repo/gadgets/my gadget/gadget.yaml': gadgets.size32K})
    const uri = sarifOf(formatSarif(abs.report, {cwd: '/src/repo', toolVersion: '1'})).runs[0].results[0].locations[0].physicalLocation.artifactLocation
    assert.deepEqual({index: uri.index, uri: uri.uri, uriBaseId: uri.uriBaseId}, {index: 0, uri: 'gadgets/my%20gadget/gadget.yaml', uriBaseId: '%SRCROOT%'})
    assert.deepEqual(artifactLocation('./gadgets/pc/gadget.yaml'), {uri: 'gadgets/pc/gadget.yaml', uriBaseId: '%SRCROOT%'})
    assert.deepEqual(artifactLocation('/elsewhere/gadget.yaml', '/src/repo'), {uri: 'file:///elsewhere/gadget.yaml'})
  })

  it('fingerprints each result from its line, as codeql-action does', () => {
    const s1 = run.results.find((r) => r.ruleId === 'S1')!
    assert.equal(s1.partialFingerprints?.primaryLocationLineHash, lineHashes(gadgets.size32K).get(8))
    assert.match(s1.partialFingerprints!.primaryLocationLineHash, /^[0-9a-f]+:1$/)
    const without = sarifOf(formatSarif(report, {toolVersion: '1'}))
    assert.equal(
      without.runs[0].results.some((r) => r.partialFingerprints),
      false,
    )
  })

  it("computes the line hashes of codeql-action's own test vectors", () => {
    // From github/codeql-action src/fingerprints.test.ts.
    assert.deepEqual([...lineHashes('')], [[1, 'c129715d7a2bc9a3:1']])
    assert.deepEqual([...lineHashes(' a\nb\n  \t\tc\n d').values()], ['271789c17abda88f:1', '54703d4cd895b18:1', '180aee12dab6264:1', 'a23a3dc5e078b07b:1'])
    const lf = [...lineHashes(' hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n').values()]
    assert.deepEqual(lf, ['e9496ae3ebfced30:1', 'fb7c023a8b9ccb3f:1', 'ce8ba1a563dcdaca:1', 'e20e36e16fcb0cc8:1', 'b3edc88f2938467e:1', 'c8e28b0b4002a3a0:1', 'c129715d7a2bc9a3:1'])
    assert.deepEqual([...lineHashes(' hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n').values()], lf)
    assert.deepEqual([...lineHashes(' hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r').values()], lf)
    const repeated = [...lineHashes('Lorem ipsum dolor sit amet.\n'.repeat(10)).values()]
    assert.deepEqual(repeated.slice(0, 7), ['a7f2ff13bc495cf2:1', 'a7f2ff13bc495cf2:2', 'a7f2ff13bc495cf2:3', 'a7f2ff13bc495cf2:4', 'a7f2ff13bc495cf2:5', 'a7f2ff13bc495cf2:6', 'a7f2ff1481e87703:1'])
  })

  it('is checked by a schema that does catch mistakes', () => {
    const broken = structuredClone(log) as unknown as {runs: Array<{results: Array<Record<string, unknown> & {locations: Array<{physicalLocation: {region: {startLine: number}}}>}>}>}
    broken.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0
    assert.equal(validateSarif(broken), false)
    const noRule = structuredClone(log) as unknown as {runs: Array<{results: Array<Record<string, unknown>>}>}
    delete noRule.runs[0].results[0].ruleId
    assert.equal(validateSarif(noRule), false)
  })

  it("keeps snapd's message and the YAML path as result properties", () => {
    const s1 = run.results.find((r) => r.ruleId === 'S1')!
    assert.deepEqual(s1.properties, {path: ['volumes', 'pc', 'structure', 0, 'size'], snapdMessage: findingOf(report, 'S1').snapdMessage})
  })
})
