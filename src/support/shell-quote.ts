/** Words shown inside shell command lines the user may paste: a command in a hint, a log line. */

const SHELL_SAFE = /^[\w%+,./:=@-]+$/

/** Single-quotes a word for display in a shell command line. */
export function shellQuote(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}
