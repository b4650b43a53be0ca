/**
 * oclif's command_not_found hook: a mistyped command (`snap-gadget valdate`) is a usage error
 * with the command it most likely meant, in the same words and exit code as every other.
 */
import type {Hook} from '@oclif/core'

import {UserError} from '../../errors.js'
import {didYouMean} from '../../support/suggest.js'
import {handleError} from '../handle-error.js'

const hook: Hook.CommandNotFound = async function (options) {
  // oclif joins the words it could not place with ":" (valdate x → valdate:x).
  const words = options.id.split(':')
  const commands = options.config.commandIDs.map((id) => id.replaceAll(':', ' '))
  // A topic with a mistyped subcommand (serve lgo) names both words; otherwise the rest are arguments.
  const topic = commands.some((c) => c.startsWith(`${words[0]} `))
  const typed = topic ? words.slice(0, 2).join(' ') : words[0]
  const guess = didYouMean(typed, commands)
  const error = new UserError('E_USAGE', `unknown command "${typed}"`, {
    hint: `${guess ? `did you mean "snap-gadget ${guess}"? ` : ''}(snap-gadget --help lists the commands)`,
  })
  const code = handleError(error, {json: options.argv?.includes('--json') ?? false, stderr: process.stderr, stdout: process.stdout})
  this.exit(code)
}

export default hook
