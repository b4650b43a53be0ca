/**
 * snapd's naming rules for the names a gadget project carries (snap/naming/validate.go,
 * asserts/account.go, asserts/model.go, snap/channel/channel.go), so `init` refuses a name
 * before anything is written instead of letting `snap pack`, `snap sign` or the device refuse it
 * later. Each check returns what is wrong, or undefined.
 */
import {UserError} from '../errors.js'
import {quoteInput} from '../support/echo.js'

/** snap/naming ValidateSnap: 2–40 characters of a–z, 0–9 and single inner hyphens, one letter at least. */
export function snapNameProblem(name: string): string | undefined {
  if (name.length < 2 || name.length > 40) return `a snap name has 2 to 40 characters, not ${name.length}`
  if (!/^[a-z0-9-]+$/.test(name)) return 'a snap name uses only lower-case letters a-z, digits and hyphens'
  if (!/[a-z]/.test(name)) return 'a snap name has at least one letter'
  if (name.startsWith('-') || name.endsWith('-') || name.includes('--')) return 'a snap name does not start or end with a hyphen nor have two in a row'
  return undefined
}

/** asserts/model.go checkModel: letters and digits with single inner hyphens, never upper case. */
export function modelNameProblem(name: string): string | undefined {
  if (!/^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$/.test(name)) return 'a model name uses letters, digits and single inner hyphens'
  if (name !== name.toLowerCase()) return 'a model name cannot contain upper-case letters'
  return undefined
}

/** asserts/account.go validAccountID: 32 letters and digits (a generated id), or 2–28 of a–z, 0–9 and hyphens. */
export function accountIdProblem(id: string): string | undefined {
  if (/^(?:[a-z0-9A-Z]{32}|[-a-z0-9]{2,28})$/.test(id)) return undefined
  return 'an account id is the 32-character id the store generated, or a 2 to 28 character name of a-z, 0-9 and hyphens'
}

/** snap/naming ValidSnapID: exactly 32 letters and digits. */
export function snapIdProblem(id: string): string | undefined {
  return /^[a-z0-9A-Z]{32}$/.test(id) ? undefined : 'a snap id is exactly 32 letters and digits (snap info <name> shows it)'
}

const RISKS = ['stable', 'candidate', 'beta', 'edge']
/** Store track and branch names; snapd itself only requires them non-empty. */
const CHANNEL_PART = /^[a-zA-Z0-9](?:[_.-]?[a-zA-Z0-9])*$/

/**
 * A model's default-channel (channel.ParseVerbatim plus the model's "must specify a track"):
 * `track`, `track/risk` or `track/risk/branch`.
 */
export function channelProblem(channel: string): string | undefined {
  const parts = channel.split('/')
  if (parts.length > 3) return 'a channel has at most three parts: track/risk/branch'
  const [track, risk, branch] = parts
  if (RISKS.includes(track)) return `a model's default channel must name a track first, e.g. latest/${track}`
  if (!CHANNEL_PART.test(track)) return 'a track name uses letters, digits and single inner ".", "_" or "-"'
  if (risk !== undefined && !RISKS.includes(risk)) return `the risk is one of ${RISKS.join(', ')}`
  if (branch !== undefined && !CHANNEL_PART.test(branch)) return 'a branch name uses letters, digits and single inner ".", "_" or "-"'
  return undefined
}

/** The non-extended model's `gadget=track` / `kernel=track` selector: a track name only, never a risk. */
export function trackProblem(track: string): string | undefined {
  if (RISKS.includes(track)) return `"${track}" is a risk; give a track name such as 22`
  return CHANNEL_PART.test(track) ? undefined : 'a track name uses letters, digits and single inner ".", "_" or "-"'
}

/** Brand store ids: snapd only requires a string; store-issued ids are letters, digits and hyphens. */
export function storeIdProblem(id: string): string | undefined {
  return /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/.test(id) ? undefined : 'a store id uses letters, digits, ".", "_" and "-" (it is shown in the store dashboard)'
}

/** Snap interface and plug names (snap/naming ValidatePlug). */
function plugNameProblem(name: string): string | undefined {
  return /^[a-z](?:-?[a-z0-9])*$/.test(name) ? undefined : 'a plug name uses a-z, digits and single inner hyphens, starting with a letter'
}

/** Shell environment variable names (POSIX). */
function envNameProblem(name: string): string | undefined {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? undefined : 'an environment variable name uses letters, digits and "_", not starting with a digit'
}

/** Board profile ids: they name a directory and an examples/<board>-<base> folder. */
export function boardIdProblem(id: string): string | undefined {
  return /^[a-z0-9](?:-?[a-z0-9])*$/.test(id) ? undefined : 'a board id uses a-z, digits and single inner hyphens'
}

type NameKind = 'account id' | 'board id' | 'channel' | 'environment variable' | 'model name' | 'plug name' | 'snap id' | 'snap name' | 'store id' | 'track'

const checks: Record<NameKind, (value: string) => string | undefined> = {
  'account id': accountIdProblem,
  'board id': boardIdProblem,
  channel: channelProblem,
  'environment variable': envNameProblem,
  'model name': modelNameProblem,
  'plug name': plugNameProblem,
  'snap id': snapIdProblem,
  'snap name': snapNameProblem,
  'store id': storeIdProblem,
  track: trackProblem,
}

/** Throws a usage error naming the flag (or field) when `value` breaks the rule for `kind`. */
export function checkName(kind: NameKind, value: string, where: string, hint?: string): string {
  const problem = checks[kind](value)
  if (problem !== undefined) {
    throw new UserError('E_INIT_NAME', `${where} ${quoteInput(value)} is not a valid ${kind}: ${problem}`, {hint: hint ?? `choose another ${kind}`, kind: 'usage'})
  }

  return value
}
