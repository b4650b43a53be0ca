/**
 * The body of `snap-gadget init` (src/cli/commands/init/index.ts): flags → answers (prompting only
 * on a terminal) → plan → write or dry run. It returns what was done; the command renders it.
 *
 * The flow, as create-vite's: 1. every answer from its flag; 2. on a terminal, a prompt for each
 * answer still missing, with the default offered; 3. otherwise the default, or a usage error for
 * the answers that have none (--board, --brand, --kernel for boards without a published kernel).
 */

import {type Base, listBoardProfiles, loadBoardProfile} from '../../../scaffold/boards.js'
import {accountIdProblem, snapNameProblem} from '../../../scaffold/naming.js'
import {DEVICE_SERVICES, planScaffold, type ScaffoldOptions, scaffoldDefaults} from '../../../scaffold/plan.js'
import type {InitOutcome} from './present.js'
import {checkScaffoldTarget, writeScaffold} from '../../../scaffold/write.js'
import {UserError} from '../../../errors.js'
import type {ModelGrade, StorageSafety} from '../../../scaffold/model-assertion.js'
import {quoteInput} from '../../../support/echo.js'
import type {InitFlags} from './flags.js'

/** The flags of `init`, as oclif hands them over. */
export type {InitFlags}

interface InitIo {
  cwd: string
  /** Prompts are allowed (stdin and stdout are terminals, no --yes, no --json). */
  interactive: boolean
  /** Told what is under way when it takes a moment (the command shows it on a terminal). */
  onProgress?: (text: string) => void
}

/** Runs init; returns what was done. Throws UserError for every mistake, before writing anything. */
export async function runInit(flags: InitFlags, directoryArg: string | undefined, io: InitIo): Promise<InitOutcome> {
  const interactive = io.interactive && !flags.yes && !flags.json
  const options = interactive ? await askMissing(flags, directoryArg, io.cwd).catch(cancelled) : optionsFromFlags(flags, directoryArg)
  io.onProgress?.(`${flags['dry-run'] ? 'planning' : 'writing'} ${options.directory}: rendering the templates and the device runtime…`)
  const plan = await planScaffold({...options, cwd: io.cwd})
  const shownDirectory = options.directory
  if (flags['dry-run']) {
    const files = checkScaffoldTarget(plan, {force: true})
    const blocked = flags.force ? [] : files.filter((f) => f.action === 'overwritten').map((f) => f.path)
    return {blocked, dryRun: true, files, plan, shownDirectory}
  }

  const written = writeScaffold(plan, {force: flags.force})
  return {blocked: [], dryRun: false, files: written.files, plan, shownDirectory, ...(written.recovered ? {recovered: written.recovered} : {})}
}

/** Ctrl-C or Escape at a prompt: a clean stop, not a bug. */
function cancelled(error: unknown): never {
  if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) {
    throw new UserError('E_INIT_CANCELLED', 'init was cancelled; nothing was written', {hint: 'run it again, or give every answer as a flag (snap-gadget init --help)', kind: 'usage'})
  }

  throw error
}

/** Options from flags alone; the answers without a default must be flags. */
function optionsFromFlags(flags: InitFlags, directoryArg: string | undefined): ScaffoldOptions {
  const missing = [!flags.board && '--board', !flags.brand && '--brand'].filter(Boolean)
  if (missing.length > 0) {
    throw new UserError('E_INIT_MISSING', `init needs ${missing.join(' and ')} when it cannot ask (no terminal, --yes or --json)`, {
      hint: 'e.g. snap-gadget init --board pc-amd64 --brand <your-account-id> my-gadget (snap-gadget boards lists the boards)',
      kind: 'usage',
    })
  }

  const options: ScaffoldOptions = {board: flags.board!, brand: flags.brand!, directory: directoryArg ?? ''}
  applyFlags(options, flags)
  if (options.directory === '') options.directory = options.name ?? `${options.brand}-${options.board}`
  return options
}

function applyFlags(options: ScaffoldOptions, flags: InitFlags): void {
  const set = <K extends keyof ScaffoldOptions>(key: K, value: ScaffoldOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value
  }

  set('boardDirs', flags['board-dir'])
  set('base', flags.base as Base | undefined)
  set('architecture', flags.arch)
  set('name', flags.name)
  set('model', flags.model)
  set('displayName', flags['display-name'])
  set('summary', flags.summary)
  set('version', flags['snap-version'])
  set('grade', flags.grade as ModelGrade | undefined)
  set('storageSafety', flags['storage-safety'] as StorageSafety | undefined)
  set('gadgetId', flags['gadget-id'])
  set('gadgetChannel', flags['gadget-channel'])
  set('kernel', flags.kernel)
  set('kernelId', flags['kernel-id'])
  set('kernelChannel', flags['kernel-channel'])
  set('store', flags.store)
  set('extraSnaps', flags.snap)
  set('legacyModel', flags['legacy-model'])
  set('serialBoard', flags['serial-board'])
  set('deviceService', flags['device-service'])
  set('headers', flags.header === undefined ? undefined : pairs(flags.header, '--header'))
  set('apiKeyEnv', flags['no-api-key'] ? null : flags['api-key-env'])
  set('bodyFacts', flags['body-fact'])
  set('bodyFields', flags['body-field'] === undefined ? undefined : pairs(flags['body-field'], '--body-field'))
  set('identity', flags.identity)
  set('onboarding', flags.onboarding)
  set('hardwareKeyType', flags['hardware-key-type'])
  set('timestamp', flags.timestamp)
}

/** `NAME=VALUE` flags into an object; a repeated name is a mistake, not an override. */
function pairs(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const value of values) {
    const eq = value.indexOf('=')
    if (eq <= 0) throw new UserError('E_INIT_FLAG', `${flag} ${quoteInput(value)} is not NAME=VALUE`, {hint: `e.g. ${flag} line=kiosk-2`, kind: 'usage'})
    const name = value.slice(0, eq)
    if (Object.hasOwn(out, name)) throw new UserError('E_INIT_FLAG', `${flag} ${name} is given twice`, {hint: 'give each name once', kind: 'usage'})
    out[name] = value.slice(eq + 1)
  }

  return out
}

/** Prompts (on a terminal) for what the flags leave open, offering the defaults. */
async function askMissing(flags: InitFlags, directoryArg: string | undefined, cwd: string): Promise<ScaffoldOptions> {
  // Loaded only when there is something to ask.
  const prompts = await import('@inquirer/prompts')
  const boardDirs = flags['board-dir']
  const board =
    flags.board ??
    (await prompts.select({
      choices: listBoardProfiles({boardDirs, cwd}).map((b) => ({description: b.description, name: `${b.id}  ${b.title}`, value: b.id})),
      message: 'Board',
    }))
  const profile = loadBoardProfile(board, {boardDirs, cwd})
  const brand =
    flags.brand ??
    (await prompts.input({
      message: 'Brand account id (your store account: snapcraft whoami)',
      validate: (v: string) => accountIdProblem(v) ?? true,
    }))
  const base = (flags.base ?? (profile.bases.length > 1 ? await prompts.select({choices: [...profile.bases].reverse().map((b) => ({value: b})), message: 'Base'}) : profile.bases[0])) as Base
  const arch = flags.arch ?? (profile.architectures.length > 1 ? await prompts.select({choices: profile.architectures.map((a) => ({value: a})), message: 'Architecture'}) : profile.architectures[0])
  const defaults = scaffoldDefaults({board, boardDirs, brand, cwd})
  const name = flags.name ?? (await prompts.input({default: defaults.name, message: 'Gadget snap name', validate: (v: string) => snapNameProblem(v) ?? true}))
  const kernel = flags.kernel ?? (profile.kernel ? undefined : await prompts.input({message: `Kernel snap for ${profile.id} (your own)`, validate: (v: string) => snapNameProblem(v) ?? true}))
  const deviceService =
    (flags['device-service'] ??
      (await prompts.select({
        choices: [
          {description: 'Canonical Model Service (new brand accounts)', name: 'model-service', value: 'model-service'},
          {description: 'The Serial Vault (existing brand accounts)', name: 'serial-vault', value: 'serial-vault'},
          {description: 'snap-gadget serve on this machine (lab use)', name: 'local', value: 'local'},
          {description: 'Your own device service', name: 'another URL', value: ''},
        ].filter((c) => (DEVICE_SERVICES as readonly string[]).includes(c.value) || c.value === ''),
        default: 'serial-vault',
        message: 'Device service the device registers with',
      }))) ||
    (await prompts.input({message: 'Device service URL', validate: (v: string) => /^https?:\/\/\S+$/.test(v) || 'an http(s) URL'}))
  const onboarding =
    flags.onboarding ??
    (await prompts.select({
      choices: [
        {description: "The model's api-key in a header, the same on every device (any snapd)", name: 'api-key', value: 'api-key' as const},
        {description: "Each device's own key, certified in the factory (snapd 2.74 and later; no api-key)", name: 'hardware-identity', value: 'hardware-identity' as const},
      ],
      default: 'api-key',
      message: 'How the device service knows each device',
    }))
  const directory = directoryArg ?? (await prompts.input({default: name, message: 'Directory'}))
  const options = optionsFromFlags({...flags, arch, base, board, brand, 'device-service': deviceService, kernel, name, onboarding}, directory)
  return options
}
