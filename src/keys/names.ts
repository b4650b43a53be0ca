/**
 * Names as snapd takes them: key names (asserts/account_key.go validAccountKeyName), the `name` of
 * an account-key and of its request, so also the name a key manager serves a key under and the
 * name of its file there; and account ids (asserts/account.go validAccountID).
 */

/**
 * snapd's pattern is `^(?:[a-z0-9]+-?)*[a-z](?:-?[a-z0-9])*$`: runs of lower-case letters and
 * digits joined by single dashes, with at least one letter. Written as two linear tests, since a
 * backtracking engine takes exponential time on that pattern's nested repetition.
 */
const DASHED_WORDS = /^[a-z0-9]+(?:-[a-z0-9]+)*$/
const LETTER = /[a-z]/
/** Far beyond any real name; keeps `<name>.pem` within a file name's 255 bytes. */
const MAX_KEY_NAME_LENGTH = 128

/** Whether snapd accepts `name` as an account-key name. */
export function isValidKeyName(name: string): boolean {
  return name.length <= MAX_KEY_NAME_LENGTH && DASHED_WORDS.test(name) && LETTER.test(name)
}

/** What a valid key name looks like, for hints. */
export const KEY_NAME_RULE = 'lower-case letters and digits, single dashes between them, at least one letter (as snapd requires of account-key names), e.g. "serials"'

/** snapd's account ids: a store-made id of 32 letters and digits, or a chosen one of 2 to 28 (`acme-brand`). */
const ACCOUNT_ID = /^(?:[a-zA-Z0-9]{32}|[-a-z0-9]{2,28})$/

/** Whether snapd accepts `id` as an account id. */
export function isValidAccountId(id: string): boolean {
  return ACCOUNT_ID.test(id)
}

/** A key file's name without .pem (keys/serials.pem: "serials"), when snapd takes it as a key name. */
export function keyNameOfFile(path: string): string | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1).replace(/\.pem$/, '')
  return isValidKeyName(name) ? name : undefined
}
