/**
 * What a command is doing while it takes a moment, on stderr and only on a terminal: a person
 * watching sees it is working; a script reading the output gets none of it.
 */
import {terminalSafe} from '../support/echo.js'
import {painter, useColor} from '../support/paint.js'

export function progressOnTerminal(text: string): void {
  if (!process.stderr.isTTY) return
  process.stderr.write(`${painter(useColor(process.stderr))('dim', terminalSafe(text))}\n`)
}
