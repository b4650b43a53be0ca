/**
 * A model's serial pattern (`serials: {pattern: REGEX}` in the serve config): a JavaScript regular
 * expression that the whole serial must match, checked before a signature is spent. Every serial
 * a client proposes is matched against it, so the pattern is held to what cannot backtrack without
 * bound on the inputs it will see:
 * - it is anchored (`^(?:…)$`), whatever the operator wrote;
 * - it has no back-references and no lookaround;
 * - a group repeated more than once (`*`, `+`, `{n,}`, `{n,m}` with m > 1) holds neither a
 *   quantifier nor an alternation: the nested repetitions behind catastrophic backtracking
 *   (`(a+)+`, `(a|a)*`) are refused at load;
 * - the pattern is at most {@link MAX_PATTERN_LENGTH} characters, and a serial longer than
 *   {@link MAX_PATTERN_INPUT} is refused without being matched.
 */

export const MAX_PATTERN_LENGTH = 512
/** Serials are at most 200 characters by default; nothing longer is matched against a pattern. */
export const MAX_PATTERN_INPUT = 1024

export interface SerialPattern {
  /** The pattern as the config wrote it. */
  source: string
  regex: RegExp
}

/** The compiled pattern, or why it cannot be one (a sentence for the config error). */
export function compileSerialPattern(source: string): SerialPattern | {problem: string} {
  if (source.length === 0) return {problem: 'the pattern is empty'}
  if (source.length > MAX_PATTERN_LENGTH) return {problem: `the pattern is ${source.length} characters; at most ${MAX_PATTERN_LENGTH}`}
  const unsafe = unsafeConstruct(source)
  if (unsafe) return {problem: unsafe}
  let regex: RegExp
  try {
    regex = new RegExp(`^(?:${source})$`, 'u')
  } catch (error) {
    return {problem: `it is not a regular expression: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`}
  }

  return {regex, source}
}

/** Whether the serial matches: undefined when it is too long to be matched at all. */
export function matchSerialPattern(pattern: SerialPattern, serial: string): boolean | undefined {
  if (serial.length > MAX_PATTERN_INPUT) return undefined
  return pattern.regex.test(serial)
}

interface Group {
  /** Holds a quantifier that repeats more than once, or an alternation. */
  branching: boolean
}

/** The first construct of `source` that could backtrack without bound, said for the operator. */
function unsafeConstruct(source: string): string | undefined {
  const stack: Group[] = [{branching: false}]
  let i = 0
  // The group that just closed: a quantifier right after it repeats its content.
  let closed: Group | undefined
  while (i < source.length) {
    const quantifier = /^(?:[*+?]|\{(\d+)(,(\d*))?\})\??/.exec(source.slice(i))
    if (quantifier) {
      const text = quantifier[0]
      const bound = quantifier[2] === undefined ? Number(quantifier[1]) : quantifier[3] === '' ? Infinity : Number(quantifier[3])
      const many = text[0] === '*' || text[0] === '+' || (text[0] === '{' && bound > 1)
      if (many && closed?.branching) {
        return `a group repeated by ${text} holds a repetition or an alternation (as in (a+)+ or (a|b)*), which can take exponential time on a hostile serial; repeat a character class instead (e.g. [A-Z0-9-]+)`
      }

      if (many || closed?.branching) stack.at(-1)!.branching = true
      closed = undefined
      i += text.length
      continue
    }

    // What a group held counts for the group around it.
    if (closed?.branching) stack.at(-1)!.branching = true
    closed = undefined
    const c = source[i]
    if (c === '\\') {
      const next = source[i + 1] ?? ''
      if (/[1-9]/.test(next) || next === 'k') return 'it has a back-reference (\\1, \\k<name>), which can take exponential time; match the serial without one'
      i += 2
    } else if (c === '[') {
      // A class: up to its unescaped closing bracket.
      i++
      if (source[i] === ']') i++
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1
      i++
    } else if (c === '(') {
      if (/^\(\?<?[=!]/.test(source.slice(i))) return 'it has a lookahead or lookbehind ((?=, (?!, (?<=, (?<!); write the pattern without one'
      stack.push({branching: false})
      i += source.startsWith('(?:', i) ? 3 : 1
    } else if (c === ')') {
      if (stack.length > 1) closed = stack.pop()
      i++
    } else {
      if (c === '|') stack.at(-1)!.branching = true
      i++
    }
  }

  return undefined
}
