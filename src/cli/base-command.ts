import {Command, Errors} from '@oclif/core'

import {InternalError, UserError} from '../errors.js'
import {didYouMean} from '../support/suggest.js'
import {handleError} from './handle-error.js'

/**
 * The base of every snap-gadget command: errors oclif raises itself (parsing, usage) stay
 * oclif's, but for a mistyped flag, which gets a did-you-mean; every other error goes through
 * handle-error.ts, as in the fast entries.
 */
export abstract class BaseCommand extends Command {
  override async catch(error: Error & {exitCode?: number; flags?: unknown; oclif?: {exit?: number}}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error
    const ours = error instanceof UserError || error instanceof InternalError
    if (!ours && error.constructor.name === 'NonExistentFlagsError' && Array.isArray(error.flags)) {
      return this.exitWith(unknownFlags(error.flags as string[], this.knownFlags(), this.id ?? ''))
    }

    if (!ours && error.oclif?.exit !== undefined) {
      // A parse or usage error raised by oclif itself: oclif formats it; keep its exit code in --json
      // mode too (@oclif/core 4 would otherwise exit 1 there).
      process.exitCode = error.oclif.exit
      return super.catch(error)
    }

    return this.exitWith(error)
  }

  private exitWith(error: unknown): never {
    const code = handleError(error, {json: this.jsonEnabled(), stderr: process.stderr, stdout: process.stdout, writeJson: (value) => this.logJson(value)})
    throw new Errors.ExitError(code)
  }

  /** Every flag this command takes, as typed: --name and -c. */
  private knownFlags(): string[] {
    const flags = (this.constructor as typeof Command).flags ?? {}
    const known = ['--help']
    if ((this.constructor as typeof Command).enableJsonFlag) known.push('--json')
    for (const [name, flag] of Object.entries(flags)) {
      known.push(`--${name}`)
      if (flag.char) known.push(`-${flag.char}`)
      if (flag.type === 'boolean' && flag.allowNo) known.push(`--no-${name}`)
    }

    return known
  }
}

/** A mistyped flag as a user error: which one, and the flag it most likely meant. */
function unknownFlags(typed: string[], known: string[], commandId: string): UserError {
  const command = `snap-gadget ${commandId.replaceAll(':', ' ')}`.trim()
  const guesses = typed.map((flag) => didYouMean(flag.split('=')[0], known)).filter((g): g is string => g !== undefined)
  const list = typed.join(', ')
  return new UserError('E_FLAGS', `unknown flag${typed.length === 1 ? '' : 's'} ${list} for ${command}`, {
    hint: `${guesses.length > 0 ? `did you mean ${guesses.join(', ')}? ` : ''}(${command} --help lists its flags)`,
  })
}
