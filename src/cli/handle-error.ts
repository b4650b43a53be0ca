/**
 * The one error handler of every entry: the oclif commands (base-command.ts) and the fast
 * entries (fast/). A UserError prints its message and hint; anything else is a bug and prints
 * its stack, on stderr or, with --json, as `{"error": …}` on stdout. The exit code comes from
 * errors.ts's table.
 */
import {exitCodeFor, InternalError, UserError} from '../errors.js'
import type {OutputSink} from '../support/descriptor-sink.js'
import {formatError} from './output.js'

/** An error as --json shows it: a UserError's fields, or a bug's message and stack. */
function errorJson(error: unknown): Record<string, unknown> {
  if (error instanceof UserError) return error.toJSON()
  const bug = error instanceof Error ? error : new InternalError(String(error))
  return {code: 'INTERNAL', message: bug.message, stack: bug.stack}
}

interface ErrorOutput {
  /** --json: the error goes to stdout as JSON. */
  json: boolean
  stdout: OutputSink
  stderr: OutputSink
  /** How a JSON value is printed (oclif's logJson in commands); default: indented, on `stdout`. */
  writeJson?: (value: unknown) => void
}

/** Prints `error` and returns the exit code. */
export function handleError(error: unknown, out: ErrorOutput): number {
  if (out.json) {
    const writeJson = out.writeJson ?? ((value: unknown) => out.stdout.write(`${JSON.stringify(value, null, 2)}\n`))
    writeJson({error: errorJson(error)})
  } else {
    out.stderr.write(formatError(error, out.stderr))
  }

  return exitCodeFor(error)
}
