/** Terminal output helpers shared by every command; no dependencies (used on the fast path). */
import {InternalError, UserError} from '../errors.js'
import type {OutputSink} from '../support/descriptor-sink.js'
import {terminalSafe} from '../support/echo.js'

const codes = {
  bold: [1, 22],
  cyan: [36, 39],
  dim: [2, 22],
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
} as const
export type Style = keyof typeof codes

/** Whether to colour output written to `stream`: NO_COLOR and FORCE_COLOR win, then isTTY. */
export function useColor(stream: Pick<OutputSink, 'isTTY'> = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false
  if (process.env.FORCE_COLOR !== undefined) return process.env.FORCE_COLOR !== '0'
  return Boolean(stream.isTTY)
}

export type Paint = (style: Style, text: string) => string

export function painter(enabled: boolean): Paint {
  if (!enabled) return (_style, text) => text
  return (style, text) => `\u001B[${codes[style][0]}m${text}\u001B[${codes[style][1]}m`
}

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
