/**
 * serve's request log, one line a request: text for people, JSON for machines. Every value a
 * client chose (the path, what a request claimed of itself, a proposed serial) is quoted with its
 * control and formatting characters escaped, so no request can forge a line, drive the terminal
 * or reorder what is shown; what the request claimed but the service did not verify is written
 * as a claim (`claimed=…`), never where verified values stand.
 */
import type {RequestEvent} from '../../../service/index.js'
import {inertJson, quoteInput} from '../../../support/echo.js'

/** Long enough for any serial the service issues; longer values are cut, with their length said. */
const LOG_VALUE_MAX = 256

export function requestLine(event: RequestEvent, time: Date, json: boolean): string {
  if (json) return inertJson({time: time.toISOString(), ...event})
  const quote = (value: string) => quoteInput(value, LOG_VALUE_MAX)
  const parts = [time.toISOString(), event.client ?? '-', event.method, quote(event.path), String(event.status)]
  if (event.brand) parts.push(`${event.brand}/${event.model ?? '?'}`)
  if (event.serial !== undefined) parts.push(`serial=${quote(event.serial)}`)
  if (event.revision !== undefined) parts.push(`revision=${event.revision}`)
  if (event.hardwareId !== undefined) parts.push(`hardware-id=${quote(event.hardwareId)}`)
  if (event.remodelledFrom !== undefined) parts.push(`remodelled-from=${quote(`${event.remodelledFrom.brand}/${event.remodelledFrom.model}/${event.remodelledFrom.serial}`)}`)
  if (event.code) parts.push(event.code)
  const claimed = event.claimed
  if (claimed?.brand !== undefined && (claimed.brand !== event.brand || claimed.model !== event.model)) parts.push(`claimed=${quote(`${claimed.brand}/${claimed.model ?? '?'}`)}`)
  if (claimed?.serial !== undefined && event.serial === undefined) parts.push(`claimed-serial=${quote(claimed.serial)}`)
  parts.push(`${event.ms.toFixed(1)}ms`)
  let line = parts.join(' ')
  if (event.note) line += `\n  note: ${quote(event.note)}`
  if (event.error) line += `\n  ${quote(event.error)}`
  return line
}
