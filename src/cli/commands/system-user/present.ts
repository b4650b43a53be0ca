import {quoteInput, terminalSafe} from '../../../support/echo.js'

/** What the command returns (--json) and prints. */
export interface SystemUserResult {
  output?: string
  email: string
  username: string
  brandId: string
  authorityId: string
  format: number
  models: string[]
  serials: string[]
  since: string
  until: string
  keyId: string
  /** The assertions written: the chain given, then the system-user. */
  assertions: string[]
  features: Array<{feature: string; since: string; older: string}>
  notes: string[]
}

/** What was made, which snapd honours what, and what only the device can check. */
export function presentSystemUser(result: SystemUserResult): string {
  const lines = [
    `${result.output ? `wrote ${terminalSafe(result.output)}: ` : ''}${result.assertions.join(' + ')}`,
    `  user ${quoteInput(result.username)} <${terminalSafe(result.email)}> of brand ${terminalSafe(result.brandId)}, signed by ${terminalSafe(result.authorityId)} (key ${result.keyId})`,
    `  valid ${result.since} to ${result.until}${result.models.length > 0 ? `, models ${result.models.map((m) => terminalSafe(m)).join(', ')}` : ', any model'}${result.serials.length > 0 ? `, serials ${result.serials.map((s) => terminalSafe(s)).join(', ')}` : ''}${result.format > 0 ? ` (format ${result.format})` : ''}`,
  ]
  for (const feature of result.features) lines.push(`  snapd ${feature.since}+ for ${feature.feature}; older: ${feature.older}`)
  for (const note of result.notes) lines.push(`  note: ${terminalSafe(note)}`)
  return `${lines.join('\n')}\n`
}
