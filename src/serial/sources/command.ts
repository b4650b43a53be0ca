/**
 * `command`: the output of a program, run without a shell and killed after a timeout (a hook that
 * hangs blocks registration forever). `{root}` in the arguments becomes the root directory.
 */
import {defineSource} from './definition.js'
import type {SnapInterface, ValueFormat} from './source.js'
import {found, unavailable} from './source.js'

interface CommandOptions {
  argv: readonly string[]
  timeoutMs: number
  regex?: RegExp
  format: ValueFormat
  plugs?: readonly SnapInterface[]
}

export const command = defineSource<CommandOptions>({
  create({argv, format, plugs = [], regex, timeoutMs}) {
    return {
      description: `output of ${argv.join(' ')}`,
      id: 'command',
      plugs,
      async read(context) {
        const args = argv.map((a) => a.replaceAll('{root}', context.root))
        const origin = args.join(' ')
        const result = await context.run(args, {timeoutMs})
        if (result.error === 'ETIMEDOUT') return unavailable('timeout', `${args[0]} did not finish within ${timeoutMs} ms (killed)`, origin)
        if (result.error === 'ENOENT') return unavailable('absent', `program not found: ${args[0]}`, origin)
        if (result.error === 'EACCES' || result.error === 'EPERM') return unavailable('denied', `${args[0]}: permission denied`, origin)
        if (result.error) return unavailable('error', `${args[0]}: ${result.error}`, origin)
        if (result.code !== 0) {
          const why = result.stderr.trim().split('\n')[0]
          return unavailable('error', `${args[0]} exited with status ${result.code}${why ? `: ${why}` : ''}`, origin, result.stdout.slice(0, 200))
        }

        if (!regex) return found(result.stdout, origin, format)
        const match = regex.exec(result.stdout)
        if (!match) return unavailable('invalid', `no match for ${regex} in the output of ${args[0]}`, origin, result.stdout.slice(0, 200))
        return found(match[1] ?? match[0], origin, format)
      },
    }
  },
  id: 'command',
  options: {
    argv: {doc: 'program and arguments, no shell, e.g. ["/snap/bin/vendor-id", "--serial"]', required: true, type: 'strings'},
    format: {default: 'text', doc: 'text, hex, uuid or mac', enum: ['text', 'hex', 'uuid', 'mac'], type: 'string'},
    plugs: {doc: 'snap interfaces the program needs', type: 'plugs'},
    regex: {doc: 'regular expression over stdout; the first capture group (or the match) is the value', type: 'regex'},
    timeoutMs: {default: 2000, doc: 'kill the program after this many milliseconds', max: 60_000, min: 10, type: 'integer'},
  },
  plugs: [],
  summary: 'the output of a program (argv, no shell), with a timeout',
})
