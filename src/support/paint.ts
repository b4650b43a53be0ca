/** ANSI styles for terminal output, and whether a stream gets them; no dependencies (used on the fast path). */
import type {OutputSink} from './descriptor-sink.js'

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
