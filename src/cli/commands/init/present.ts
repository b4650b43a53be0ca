/** What `snap-gadget init` prints: pure functions from its outcome to text or JSON. */
import type {Paint} from '../../../support/paint.js'
import {terminalSafe} from '../../../support/echo.js'
import {shellQuote} from '../../../support/shell-quote.js'
import type {ScaffoldPlan} from '../../../scaffold/plan.js'
import type {WrittenFile} from '../../../scaffold/write.js'

export interface InitOutcome {
  plan: ScaffoldPlan
  /** What was (or, in a dry run, would be) done to each file. */
  files: WrittenFile[]
  dryRun: boolean
  /** The directory as the user gave it, for the next-step commands. */
  shownDirectory: string
  /** In a dry run: files that exist, so a real run would stop without --force. */
  blocked: string[]
  /** What was put right from earlier interrupted runs. */
  recovered?: string[]
}

/** A dry run says what it would do (create, overwrite); a real run what it did (created, overwritten). */
const dryRunAction: Record<WrittenFile['action'], string> = {created: 'create', overwritten: 'overwrite'}

/** The JSON `init --json` prints: the plan without file contents. */
export function initJson(outcome: InitOutcome): Record<string, unknown> {
  const {plan} = outcome
  const action = new Map(outcome.files.map((f) => [f.path, f.action]))
  return {
    apiKeyEnv: plan.apiKeyEnv,
    architecture: plan.architecture,
    blocked: outcome.blocked,
    base: plan.base,
    board: plan.board,
    brand: plan.brand,
    deviceService: plan.deviceService,
    directory: plan.directory,
    dryRun: outcome.dryRun,
    files: plan.files.map((f) => ({action: outcome.dryRun ? dryRunAction[action.get(f.path)!] : action.get(f.path), bytes: byteLength(f.content), from: f.from, mode: `0${f.mode.toString(8)}`, path: f.path})),
    grade: plan.grade,
    model: plan.model,
    name: plan.name,
    onboarding: plan.onboarding,
    plugs: plan.plugs,
    ...(outcome.recovered ? {recovered: outcome.recovered} : {}),
    serialBoard: plan.serialBoard,
    todo: plan.todo,
  }
}

export function initText(outcome: InitOutcome, paint: Paint): string {
  const {plan} = outcome
  const what = `${plan.name} (${plan.board.id}, ${plan.base}, ${plan.architecture})`
  const directory = terminalSafe(plan.directory)
  let text = ''
  for (const note of outcome.recovered ?? []) text += `${paint('yellow', 'note')}: ${terminalSafe(note)}\n`
  text += outcome.dryRun ? `${paint('bold', `Would create ${what}`)} in ${directory}; nothing was written:\n` : `${paint('bold', `Created ${what}`)} in ${directory}:\n`
  const width = Math.max(...plan.files.map((f) => f.path.length))
  const action = new Map(outcome.files.map((f) => [f.path, f.action]))
  for (const file of plan.files) {
    const verb = action.get(file.path) === 'overwritten' ? paint('yellow', 'overwrite') : paint('green', 'create   ')
    const detail = outcome.dryRun ? paint('dim', `  ${formatBytes(byteLength(file.content)).padStart(8)}  from ${file.from}`) : ''
    text += `  ${verb} ${file.path.padEnd(outcome.dryRun ? width : 0)}${detail}\n`
  }

  if (outcome.blocked.length > 0) text += `\n${paint('yellow', `${outcome.blocked.length} of these files exist: without --force, init would stop and write nothing.`)}\n`
  text += `\nModel ${plan.brand}/${plan.model} (grade ${plan.grade}); the prepare-device hook plugs ${plan.plugs.join(', ') || 'nothing'} and registers with ${plan.deviceService.url}${plan.onboarding === 'hardware-identity' ? ' by hardware identity (a prepare-serial-request hook; snapd 2.74 and later, no api-key)' : ''}.\n`
  if (plan.todo.length > 0) {
    text += `\n${paint('bold', 'Still to do:')}\n`
    for (const item of plan.todo) text += `  - ${item}\n`
  }

  if (!outcome.dryRun) {
    const cd = outcome.shownDirectory === '.' ? '' : `cd ${terminalSafe(shellQuote(outcome.shownDirectory))} && `
    text += `\nNext: ${cd}snap-gadget validate --strict . , then README.md (build, sign the model, build the image).\n`
  }

  return text
}

function byteLength(content: string | Uint8Array): number {
  return typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength
}

function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`
}
