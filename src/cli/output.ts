/** How an error is printed on a terminal, for every entry; no dependencies (used on the fast path). */
import {InternalError, UserError} from '../errors.js'
import type {OutputSink} from '../support/descriptor-sink.js'
import {terminalSafe} from '../support/echo.js'
import {painter, useColor} from '../support/paint.js'

/** One error, as printed on `stream` (stderr): the message, then its hint, coloured for a terminal. */
export function formatError(error: unknown, stream: Pick<OutputSink, 'isTTY'> = process.stderr): string {
  const paint = painter(useColor(stream))
  if (error instanceof UserError) {
    // Messages quote what the user typed: nothing in them may drive the terminal.
    let text = `${paint('red', 'error')}: ${terminalSafe(error.located)}\n`
    if (error.hint) text += `  ${paint('dim', 'hint')}: ${terminalSafe(error.hint)}\n`
    return text
  }

  const err = error instanceof Error ? error : new InternalError(String(error))
  return `${paint('red', 'internal error')}: ${err.message}\n` + `  This is a bug in snap-gadget. Please report it with the command you ran and this trace:\n${(err.stack ?? '').replace(/^/gm, '    ')}\n`
}
