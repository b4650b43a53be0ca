/**
 * Decoding (gadget.InfoFromGadgetYaml's yaml.Unmarshal): the decoder's issues as findings with
 * snapd's message, and values snapd's metautil.NormalizeValue refuses in defaults.
 */
import type {RuleId} from '../../findings/rules.js'
import {suggestQuantity} from '../../quantity.js'
import {type SnapdContext} from './context.js'

function decodeIssueRule(path: Array<number | string>, message: string): {hint?: string; rule: RuleId} {
  const key = path.at(-1)
  // A value of the wrong kind: P1 for the document itself, P2 anywhere below it.
  if (/^(line \d+: )?cannot unmarshal/.test(message)) {
    const kindHint = /into \[\]/.test(message)
      ? 'this key takes a list: start each item with "- "'
      : /into (map|gadget\.)/.test(message)
        ? 'this key takes a mapping of "key: value" lines'
        : /into bool/.test(message)
          ? /`(yes|no|on|off|true|false)`/i.test(message)
            ? 'write the boolean without quotes: true or false'
            : 'use true or false'
          : 'this key takes a single value (a string or number), not a list or mapping'
    return {hint: path.length === 0 ? 'gadget.yaml is a mapping with volumes:, defaults: and connections: at the top level' : kindHint, rule: path.length === 0 ? 'P1' : 'P2'}
  }

  const quoted = /^cannot parse (?:size|offset) "(.*)": /.exec(message)
  if (quoted && (key === 'size' || key === 'offset' || key === 'min-size')) {
    const suggestion = suggestQuantity(quoted[1])
    return {
      hint: suggestion ? `use ${suggestion}` : 'write bytes (e.g. 1048576) or a number followed by M or G (e.g. 512M, 1G); K, MiB, hex and fractions are not accepted',
      rule: 'S1',
    }
  }

  if (key === 'offset-write') {
    const m = /cannot parse offset "(.*)": /.exec(message)
    const suggestion = m ? suggestQuantity(m[1]) : undefined
    return {hint: suggestion ? `use ${suggestion}` : 'write [<structure>+]<offset>, e.g. "mbr+92"; the offset is bytes, or a number followed by M or G', rule: 'S13'}
  }

  if (key === 'edition') return {hint: 'use a whole number from 0 to 4294967295, e.g. "edition: 2"', rule: 'U1'}
  if (key === 'plug' || key === 'slot') return {hint: `write the ${key} as "<snap-id>:<name>", or "system:<name>" for a system ${key}`, rule: 'T5'}
  if (path.includes('kernel-cmdline')) return {hint: 'write one kernel argument per list entry, e.g. "- quiet" and "- splash"', rule: 'T6'}
  if (/excessive aliasing|contains itself|unknown anchor/.test(message)) return {hint: 'expand the aliases; gadget.yaml rarely needs anchors', rule: 'P1'}
  return {hint: undefined, rule: 'P2'}
}

function yamlHint(message: string): string {
  if (message.includes('cannot start any token')) return 'indent with spaces only; YAML does not allow tabs for indentation'
  if (message.includes("could not find expected ':'")) return 'check the indentation and that every key ends with ": "'
  if (message.includes('control characters')) return 'remove the control character (it is not printable text)'
  if (message.includes('UTF-8')) return 'save the file as UTF-8'
  if (message.includes('max depth') || message.includes('nested')) return 'gadget.yaml needs only a few levels of nesting; check for runaway brackets'
  if (message.includes('unknown anchor')) return 'define the anchor (&name) before using the alias (*name)'
  return 'fix the YAML syntax at this place'
}

export function decodeFindings(cx: SnapdContext): void {
  const {parsed, report} = cx.input
  const problem = parsed.yaml.problem
  if (problem) {
    const start = cx.loc.position(problem.offset)
    report.add({
      hint: yamlHint(problem.message),
      rule: 'P1',
      snapdMessage: `cannot parse gadget metadata: yaml: ${problem.goLine ? `line ${problem.goLine}: ` : ''}${problem.message}`,
      start,
    })
    return
  }

  const fatal = parsed.decodeIssues.find((i) => i.severity === 'fatal')
  const typeIssues = parsed.decodeIssues.filter((i) => i.severity === 'type')
  const aggregated = typeIssues.length > 0 ? `cannot parse gadget metadata: yaml: unmarshal errors:\n  ${typeIssues.map((i) => i.message).join('\n  ')}` : undefined
  // go-yaml aborts at its first fatal error; type errors are reported together at the end.
  const snapdMessage = fatal ? `cannot parse gadget metadata: ${fatal.goYaml ? 'yaml: ' : ''}${fatal.message}` : aggregated
  for (const issue of parsed.decodeIssues) {
    const {hint, rule} = decodeIssueRule(issue.path, issue.message)
    report.add({
      hint,
      message: issue.severity === 'type' ? issue.message.replace(/^line \d+: /, '') : issue.message,
      node: issue.node,
      path: issue.path,
      rule,
      snapdMessage: issue === fatal || (!fatal && issue === typeIssues[0]) ? snapdMessage : undefined,
    })
  }
}
