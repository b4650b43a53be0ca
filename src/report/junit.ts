/**
 * JUnit XML (`--format junit`) for GitLab (`artifacts:reports:junit`), Jenkins and JUnit
 * reporter actions.
 *
 * - `<testsuites>` holds one `<testsuite name="<gadget file>">` per gadget checked.
 * - Each (rule × file) with findings is one `<testcase classname="<rule id> <rule name>"
 *   name="<file>" file="<file>">`. JUnit allows one `<failure>` per test case, so a test case that
 *   has errors carries a single `<failure>`: the first error's message and, in its body, every
 *   finding of that rule in that file.
 * - Warnings and info do not fail: their test case passes and lists them in `<system-out>`, so
 *   the test tally agrees with the exit code while the warnings stay readable next to the test.
 *   With --strict the validator has already made warnings errors, and they fail like errors.
 * - A gadget without findings gets one passing test case, `name="<file>: valid"`.
 * - A path that could not be read gets a suite of its own with one test case in `<error>`.
 * - Text is XML-escaped (`& < > " '`), characters XML 1.0 forbids are dropped, and line breaks in
 *   attributes are written as character references so that they survive attribute normalisation.
 */
import type {Finding} from '../gadget/findings/finding.js'
import {ruleInfo} from '../gadget/findings/rules.js'
import type {GadgetValidation} from '../gadget/validate.js'
import type {ValidationReport} from './types.js'

interface TestCase {
  classname: string
  name: string
  file: string
  failure?: {message: string; type: string; body: string}
  error?: {message: string; type: string; body: string}
  output?: string
}

export function formatJunit(report: ValidationReport): string {
  const suites = report.gadgets.map((gadget) => ({cases: withNotes(testCases(gadget), gadget.notes), name: gadget.file}))
  // A path that could not be read is a test that could not run: a JUnit <error>, not a <failure>.
  for (const input of report.unreadable ?? []) {
    suites.push({
      cases: [{classname: 'snap-gadget', error: {body: input.hint ? `${input.message}\nhint: ${input.hint}` : input.message, message: input.message, type: input.code}, file: input.file, name: input.file}],
      name: input.file,
    })
  }

  const tests = suites.reduce((n, s) => n + s.cases.length, 0)
  const failures = suites.reduce((n, s) => n + s.cases.filter((c) => c.failure).length, 0)
  const errors = suites.reduce((n, s) => n + s.cases.filter((c) => c.error).length, 0)

  let xml = '<?xml version="1.0" encoding="UTF-8"?>\n'
  xml += `<testsuites name="snap-gadget validate" tests="${tests}" failures="${failures}" errors="${errors}" skipped="0">\n`
  for (const suite of suites) {
    const suiteFailures = suite.cases.filter((c) => c.failure).length
    const suiteErrors = suite.cases.filter((c) => c.error).length
    xml += `  <testsuite name="${attr(suite.name)}" tests="${suite.cases.length}" failures="${suiteFailures}" errors="${suiteErrors}" skipped="0">\n`
    xml += `    <properties>\n      <property name="snapd" value="${attr(report.snapd)}"/>\n      <property name="strict" value="${report.strict}"/>\n    </properties>\n`
    for (const test of suite.cases) xml += testCaseXml(test)
    xml += '  </testsuite>\n'
  }

  xml += '</testsuites>\n'
  return xml
}

/** How a gadget was judged, when the user should know: in the first test case's output. */
function withNotes(cases: TestCase[], notes: string[] | undefined): TestCase[] {
  if (!notes || notes.length === 0) return cases
  const [first, ...rest] = cases
  const text = notes.map((n) => `note: ${n}`).join('\n')
  return [{...first, output: first.output === undefined ? text : `${text}\n${first.output}`}, ...rest]
}

function testCases(gadget: GadgetValidation): TestCase[] {
  if (gadget.findings.length === 0) return [{classname: 'snap-gadget', file: gadget.file, name: `${gadget.file}: valid`}]

  // Group by file, then rule, in the order findings come (sorted by file and position).
  const groups = new Map<string, Finding[]>()
  for (const f of gadget.findings) {
    const key = `${f.file}\u0000${f.rule}`
    const group = groups.get(key)
    if (group) group.push(f)
    else groups.set(key, [f])
  }

  return [...groups.values()].map((findings): TestCase => {
    const {file, rule} = findings[0]
    const info = ruleInfo(rule)
    const test: TestCase = {classname: `${info.id} ${info.name}`, file, name: file}
    const body = findings.map(findingText).join('\n')
    const firstError = findings.find((f) => f.severity === 'error')
    if (firstError) {
      const more = findings.length > 1 ? ` (${findings.length} findings)` : ''
      test.failure = {body, message: `${location(firstError)}: ${firstError.message}${more}`, type: info.id}
    } else {
      test.output = body
    }

    return test
  })
}

function testCaseXml(test: TestCase): string {
  const open = `    <testcase classname="${attr(test.classname)}" name="${attr(test.name)}" file="${attr(test.file)}"`
  if (!test.failure && !test.error && test.output === undefined) return `${open}/>\n`
  let xml = `${open}>\n`
  if (test.error) xml += `      <error message="${attr(test.error.message)}" type="${attr(test.error.type)}">${text(test.error.body)}</error>\n`
  if (test.failure) xml += `      <failure message="${attr(test.failure.message)}" type="${attr(test.failure.type)}">${text(test.failure.body)}</failure>\n`
  if (test.output !== undefined) xml += `      <system-out>${text(test.output)}</system-out>\n`
  return xml + '    </testcase>\n'
}

function location(f: Finding): string {
  return f.start ? `${f.file}:${f.start.line}:${f.start.column}` : f.file
}

/** One finding as plain text: location, severity, rule, message, snapd's words, the fix. */
function findingText(f: Finding): string {
  let line = `${location(f)}: ${f.severity} ${f.rule} ${f.message}`
  if (f.snapdMessage && f.snapdMessage !== f.message) line += `\n  snapd: ${f.snapdMessage}`
  if (f.hint) line += `\n  hint: ${f.hint}`
  return line
}

/**
 * Characters XML 1.0 does not allow anywhere (C0 controls but tab, CR and LF; lone surrogates;
 * U+FFFE and U+FFFF). With the `u` flag a lone surrogate is one code point and matches.
 */
const forbidden = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

/** Text content, escaped; a CR kept as a reference, since parsers turn a bare one into LF. */
export function text(value: string): string {
  return escapeXml(value).replaceAll('\r', '&#13;')
}

/** An attribute value (in double quotes), escaped; tabs and line breaks kept as references. */
export function attr(value: string): string {
  return escapeXml(value).replaceAll('\t', '&#9;').replaceAll('\n', '&#10;').replaceAll('\r', '&#13;')
}

export function escapeXml(value: string): string {
  return value.replaceAll(forbidden, '').replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;')
}
