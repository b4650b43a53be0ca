import {Command, Errors} from '@oclif/core'

import {InternalError, UserError} from '../errors.js'
import {handleError} from './handle-error.js'

/**
 * The base of every snap-gadget command: errors oclif raises itself (parsing, usage) stay
 * oclif's; every other error goes through handle-error.ts, as in the fast entries.
 */
export abstract class BaseCommand extends Command {
  override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error
    const ours = error instanceof UserError || error instanceof InternalError
    if (!ours && error.oclif?.exit !== undefined) {
      // A parse or usage error raised by oclif itself: oclif formats it; keep its exit code in --json
      // mode too (@oclif/core 4 would otherwise exit 1 there).
      process.exitCode = error.oclif.exit
      return super.catch(error)
    }

    const code = handleError(error, {json: this.jsonEnabled(), stderr: process.stderr, stdout: process.stdout, writeJson: (value) => this.logJson(value)})
    throw new Errors.ExitError(code)
  }
}
