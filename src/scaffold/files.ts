/**
 * The files of a planned project: the shared templates, the board's own files, and the data files
 * (model.json, the runtime and its settings, the schemas), walked, rendered and checked to stay
 * inside the project.
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {isAbsolute, join, relative, resolve, sep} from 'node:path'

import {InternalError, UserError} from '../errors.js'
import {type GadgetBoardProfile, safeRelative, SHARED_TEMPLATES_DIR, TEMPLATES_DIR} from './boards.js'
import type {OnboardingMode} from '../device/config.js'
import type {ModelJson} from './model-assertion.js'
import {renderTemplate} from './render.js'

export interface PlannedFile {
  /** Relative to the project directory, `/`-separated. */
  path: string
  content: string | Uint8Array
  /** File mode (0o644, 0o755). */
  mode: number
  /** The template or file it came from, relative to the package (for --dry-run). */
  from: string
}

export function renderFile(file: string, name: string, context: object, outputPath: string): string {
  const source = readText(file)
  return file.endsWith('.hbs') ? renderTemplate(source, context, name, outputPath) : source
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new InternalError(`cannot read template ${file}: ${(error as Error).message}`, {cause: error})
  }
}

/** templates/gadget/: snapcraft.yaml, gadget.yaml, the hooks, README.md. */
export function sharedFiles(board: GadgetBoardProfile, context: Record<string, unknown>): PlannedFile[] {
  const root = join(TEMPLATES_DIR, 'gadget')
  return (
    walk(root)
      .filter((rel) => !rel.startsWith('parts/'))
      // The hook of hardware-identity onboarding only: snapd runs any prepare-serial-request hook it finds.
      .filter((rel) => rel !== 'snap/hooks/prepare-serial-request.hbs' || context.hardwareIdentity === true)
      .map((rel) => planFile(join(root, rel), rel, `templates/gadget/${rel}`, context))
  )
}

/** The board's files/ tree and the shared files it asks for. */
export function boardFiles(board: GadgetBoardProfile, context: Record<string, unknown>): PlannedFile[] {
  const root = join(board.dir, 'files')
  const from = board.origin === 'built-in' ? `templates/boards/${board.id}/files` : `${board.origin}/files`
  const files = existsSync(root) ? walk(root).map((rel) => planFile(join(root, rel), rel, `${from}/${rel}`, context)) : []
  for (const [target, shared] of Object.entries(board.sharedFiles)) files.push(planFile(join(SHARED_TEMPLATES_DIR, shared), target, `templates/shared/${shared}`, context))
  return files
}

/**
 * The runtime built for each onboarding mode: each carries only the QuickJS cryptography its mode
 * uses (src/runtime/hosts/quickjs-crypto.ts), and a gadget ships it as runtime/prepare-device.cjs.
 */
const RUNTIME_OF_MODE: Record<OnboardingMode, string> = {
  'api-key': 'dist/runtime/prepare-device.cjs',
  'hardware-identity': 'dist/runtime/prepare-device-hardware-identity.cjs',
}

/** model.json, the runtime's config and the runtime of its onboarding mode, and the schemas editors use. */
export function dataFiles(modelJson: ModelJson, registration: Record<string, unknown>, onboarding: OnboardingMode): PlannedFile[] {
  const root = join(TEMPLATES_DIR, '..')
  const runtime = RUNTIME_OF_MODE[onboarding]
  const bundle = join(root, runtime)
  if (!existsSync(bundle)) throw new InternalError(`the prepare-device runtime ${bundle} is missing: build snap-gadget first (npm run build)`)
  return [
    {content: `${JSON.stringify(modelJson, null, 2)}\n`, from: '(model)', mode: 0o644, path: 'model.json'},
    {content: `${JSON.stringify(registration, null, 2)}\n`, from: '(registration settings)', mode: 0o644, path: 'runtime/registration.json'},
    {content: readFileSync(bundle), from: runtime, mode: 0o644, path: 'runtime/prepare-device.cjs'},
    {content: readFileSync(join(root, 'schemas', 'gadget.schema.json')), from: 'schemas/gadget.schema.json', mode: 0o644, path: 'schemas/gadget.schema.json'},
    {content: readFileSync(join(root, 'schemas', 'registration.schema.json')), from: 'schemas/registration.schema.json', mode: 0o644, path: 'schemas/registration.schema.json'},
  ]
}

/** A template (`.hbs`, rendered; the suffix dropped), a renamed dot-file (`_gitignore`), or a copy. */
function planFile(file: string, rel: string, from: string, context: Record<string, unknown>): PlannedFile {
  let path = rel.replace(/\.hbs$/, '')
  path = path.replace(/(^|\/)_(gitignore)$/, '$1.$2')
  const mode = statSync(file).mode & 0o111 || path.startsWith('snap/hooks/') ? 0o755 : 0o644
  const content = file.endsWith('.hbs') ? renderTemplate(readText(file), context, from, path) : readFileSync(file)
  return {content, from, mode, path}
}

function walk(root: string, prefix = ''): string[] {
  // By UTF-16 code units, not localeCompare: the order is the same on every machine, and the first
  // localeCompare loads ICU's collator, about 10 ms of every init.
  return readdirSync(join(root, prefix), {withFileTypes: true})
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => {
      const rel = prefix === '' ? e.name : `${prefix}/${e.name}`
      return e.isDirectory() ? walk(root, rel) : [rel]
    })
}

/** Every path relative, inside the project, and unique. */
export function checkPaths(files: readonly PlannedFile[], directory: string): void {
  const seen = new Set<string>()
  for (const file of files) {
    if (!safeRelative(file.path) || escapes(directory, file.path)) {
      throw new UserError('E_INIT_PATH', `${file.path} (from ${file.from}) would be written outside ${directory}`, {hint: 'board profiles name files inside the gadget project', kind: 'usage'})
    }

    if (seen.has(file.path)) throw new UserError('E_INIT_PATH', `two templates write ${file.path} (the last from ${file.from})`, {hint: 'remove one of them from the board profile', kind: 'usage'})
    seen.add(file.path)
  }
}

/** Whether `path` resolved under `root` leaves it. */
export function escapes(root: string, path: string): boolean {
  const rel = relative(root, resolve(root, path))
  return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)
}
