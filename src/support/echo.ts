/**
 * User input echoed in messages: a terminal must not act on it (ESC sequences, bidi overrides
 * that reorder the line) and a huge value must not bury the message.
 */

/**
 * Characters a terminal acts on or that reorder or hide text: C0 (but newline and tab), DEL, C1,
 * bidi controls, zero-width characters, the byte-order mark, and line and paragraph separators.
 */
const unsafe = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2066-\u2069\uFEFF]/g
/** What JSON.stringify leaves raw in a string of these (it escapes C0 itself; a newline outside a string is layout). */
const unsafeInJson = /[\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2066-\u2069\uFEFF]/g

const escape = (c: string) => {
  const code = c.charCodeAt(0)
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** Text for a terminal with the characters above written as \x1b / \u202e escapes. */
export function terminalSafe(text: string): string {
  return text.replaceAll(unsafe, escape)
}

/** Longer values are cut to this many characters in messages. */
const ECHO_MAX = 80

/**
 * A value the user gave, quoted for a message: JSON string escapes, plus the characters above,
 * cut to `max` characters with the full length said (`"aaaa…" (5000 characters)`).
 */
export function quoteInput(value: string, max = ECHO_MAX): string {
  const chars = [...value]
  const cut = chars.length > max ? `${chars.slice(0, max).join('')}…` : value
  const quoted = JSON.stringify(cut).replaceAll(unsafe, escape)
  return chars.length > max ? `${quoted} (${chars.length} characters)` : quoted
}

/**
 * A value as one line of JSON in which every character above is a \u escape: the text stays the
 * same JSON (a reader gets the same strings back), and a terminal or a log viewer shows it inert.
 */
export function inertJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replaceAll(unsafeInJson, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
