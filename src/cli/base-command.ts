import {Command, Errors} from '@oclif/core'

import {exitCodeFor, InternalError, UserError} from '../errors.js'
import {formatError} from './output.js'

/**
 * The base of every snap-gadget command: turns our two error types into output and exit codes
 * (see src/errors.ts), the same way with and without --json.
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

    const code = exitCodeFor(error)
    if (this.jsonEnabled()) {
      this.logJson({error: errorJson(error)})
    } else {
      process.stderr.write(formatError(error))
    }

    throw new Errors.ExitError(code)
  }
}

function errorJson(error: Error): Record<string, unknown> {
  if (error instanceof UserError) return error.toJSON()
  return {code: 'INTERNAL', message: error.message, stack: error.stack}
}
