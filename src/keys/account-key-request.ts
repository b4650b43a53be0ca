/**
 * The account-key-request that registers a key with an account, made as `snap export-key
 * --account=<account-id> <name>` makes it (cmd/snap/cmd_export_key.go): headers account-id, name,
 * public-key-sha3-384 and since (the time of making, in whole seconds); the body is the public key
 * in snapd's encoding; no authority: the key it carries signs it, which is how snapd and the store
 * check it (its signature proves the requester holds the key).
 */
import {type SigningKey, MIN_SIGNING_KEY_BITS} from '../assertions/keys.js'
import {type SignedAssertion, signAssertion} from '../assertions/sign.js'
import {UserError} from '../errors.js'
import {quoteInput} from '../support/echo.js'
import {isValidAccountId, isValidKeyName, KEY_NAME_RULE} from './names.js'
import {rfc3339} from '../support/rfc3339.js'

export interface AccountKeyRequestInput {
  /** The key to register; it signs its own request. */
  key: SigningKey
  /** The account the key is for (`snapcraft whoami` shows its id; a brand's, for its serials and models). */
  accountId: string
  /** The key's name in the account, as `snap keys` lists it. */
  name: string
  /** When the key becomes valid; now by default, as snap export-key has it. Whole seconds are kept. */
  since?: Date
  /** The signature's time; `since` by default. */
  signatureTime?: Date
}

/** Makes and self-signs the account-key-request; a UserError for what snapd or the store would refuse. */
export function makeAccountKeyRequest(input: AccountKeyRequestInput): SignedAssertion {
  const fail = (message: string, hint: string): UserError => new UserError('E_ACCOUNT_KEY_REQUEST', message, {hint})
  if (!isValidAccountId(input.accountId)) {
    throw fail(`${quoteInput(input.accountId)} is not an account id`, 'give the id of the account (`snapcraft whoami` shows it): 32 letters and digits, or the 2 to 28 lower-case letters, digits and dashes a brand chose')
  }

  if (!isValidKeyName(input.name)) throw fail(`${quoteInput(input.name)} is not a key name: ${KEY_NAME_RULE}`, 'choose the name the key has in `snap keys`, e.g. "serials"')
  if (input.key.bits < MIN_SIGNING_KEY_BITS) {
    throw fail(`the key is ${input.key.bits} bits; snapd signs with a key it did not make itself only from ${MIN_SIGNING_KEY_BITS} bits`, 'register a 4096-bit RSA key')
  }

  const since = wholeSeconds(input.since ?? new Date())
  const headers = {
    'account-id': input.accountId,
    name: input.name,
    'public-key-sha3-384': input.key.keyId,
    since: rfc3339(since),
  }
  return signAssertion({body: input.key.encodedPublicKey, headers, type: 'account-key-request'}, input.key, {signatureTime: input.signatureTime ?? since})
}

function wholeSeconds(date: Date): Date {
  if (Number.isNaN(date.getTime())) throw new UserError('E_ACCOUNT_KEY_REQUEST', 'the date is not valid', {hint: 'give a date as YYYY-MM-DDTHH:MM:SSZ'})
  return new Date(Math.floor(date.getTime() / 1000) * 1000)
}
