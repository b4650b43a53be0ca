/**
 * The README's table of causes, made from the table in src/doctor/causes.ts and the fixtures that
 * prove each cause (test/doctor/snapd/cases.ts). readme.test.ts holds the README to it; run this
 * file to print it:
 *
 *   node --import tsx test/doctor/causes-table.ts
 */
import {fileURLToPath} from 'node:url'

import {CAUSE_CODES, CAUSES, type CauseSpec} from '../../src/doctor/causes.js'
import {stepTitle} from '../../src/doctor/steps.js'
import {FIXTURE_CASES} from './snapd/cases.js'

const VERSIONS = {'2.57': '2.57.6', '2.77': '2.77.1'} as const

/** A table cell: one line, no bar that would end it. */
const cell = (text: string) => text.replaceAll('\n', ' ').replaceAll('|', '\\|')

export function causesTable(): string {
  const rows = ['| Cause | Step | What snapd says | Fix | Fixture (snapd) |', '|---|---|---|---|---|']
  for (const code of CAUSE_CODES) {
    const spec: CauseSpec = CAUSES[code]
    const says = spec.says.map((s) => `\`${cell(s.text)}\`${s.versions ? ` (${cell(s.versions)})` : ''}`).join('<br>')
    const proofs = FIXTURE_CASES.flatMap((c) => {
      const lines = (Object.entries(c.cause) as [keyof typeof VERSIONS, string][]).filter(([, cause]) => cause === code).map(([line]) => VERSIONS[line])
      return lines.length > 0 ? [`\`${c.name}\` (${lines.join(', ')})`] : []
    })
    rows.push(`| \`${code}\`: ${cell(spec.title)} | ${spec.steps.map((s) => stepTitle(s)).join(', ')} | ${says} | ${cell(spec.fix)} | ${proofs.join('<br>') || '—'} |`)
  }

  return `${rows.join('\n')}\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(causesTable())
