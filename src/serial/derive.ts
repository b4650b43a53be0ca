/**
 * The one call most users need: derive the serial of the system under a root, from a board
 * profile, an explicit chain, a configuration file, or the detected board.
 */
import {type SerialBoardProfile, detectBoard, loadBoard} from './boards.js'
import {type ChainEntrySpec, type ChainOutcome, type ChainSpec, deriveFromChain, runChain, type RunOptions, resolveChain, type SerialChain, type SerialDerivation} from './chain.js'
import {loadSerialConfig, parseChainList, type SerialConfig} from './config/serial-config.js'
import {checkRoot, type ContextOptions, createSourceContext} from './sources/context.js'
import type {ConfigPlace} from './config/options.js'
import type {SourceContext} from './sources/source.js'

export interface DeriveSerialOptions extends ContextOptions, RunOptions {
  /** A board profile id; its chain is used unless `chain` is given. */
  board?: string
  /** Sources in order: `"devicetree-serial,dmi[board_serial]"`, ids, or full entries. */
  chain?: readonly (ChainEntrySpec | string)[] | string
  /** A configuration file path, or a loaded configuration. */
  config?: SerialConfig | string
}

interface ResolvedSerialChain {
  chain: SerialChain
  /** The profile the chain (or its defaults) came from. */
  board?: SerialBoardProfile
  /** How the board was chosen: `--board`, `config`, or what detection matched. */
  boardBy?: string
  context: SourceContext
}

/**
 * Which chain applies. Precedence: `chain` > `board` > the configuration's chain > the
 * configuration's board > the detected board. Chain-level settings (transforms, output,
 * normalise, onDenied) come from the configuration, else from the profile.
 */
async function resolveSerialChain(options: DeriveSerialOptions = {}): Promise<ResolvedSerialChain> {
  if (options.root !== undefined) await checkRoot(options.root)
  const config = typeof options.config === 'string' ? await loadSerialConfig(options.config) : options.config
  const context = createSourceContext({...options, brand: options.brand ?? config?.brand})
  let board: SerialBoardProfile | undefined
  let boardBy: string | undefined
  if (options.board !== undefined) [board, boardBy] = [loadBoard(options.board), '--board']
  else if (config?.board !== undefined) [board, boardBy] = [loadBoard(config.board), 'configuration']
  else if (options.chain === undefined && config?.chain === undefined) {
    const detected = await detectBoard(context)
    ;[board, boardBy] = [detected.board, `detected: ${detected.reason}`]
  }

  const explicit = options.chain === undefined ? undefined : typeof options.chain === 'string' ? parseChainList(options.chain) : options.chain.map((c) => (typeof c === 'string' ? parseChainList(c)[0] : c))
  let entries: readonly ChainEntrySpec[]
  let place: ConfigPlace
  let name: string
  if (explicit) [entries, place, name] = [explicit, {file: '--chain'}, 'custom']
  else if (options.board === undefined && config?.chain) [entries, place, name] = [config.chain, config.place, config.place.file ?? 'custom']
  else [entries, place, name] = [board!.chain, {file: board!.file}, board!.id]

  const spec: ChainSpec = {
    chain: entries,
    normalise: config?.normalise ?? board?.normalise,
    onDenied: config?.onDenied ?? board?.onDenied,
    output: config?.output ?? board?.output,
    transforms: config?.transforms ?? board?.transforms,
  }
  const chain = await resolveChain(spec, {name, place})
  const resolved: ResolvedSerialChain = {chain, context}
  if (board) Object.assign(resolved, {board, boardBy})
  return resolved
}

export interface SerialResult extends SerialDerivation {
  board?: string
  boardBy?: string
  /** Each chain entry with every option it was given, in order (the labels show only the main option). */
  entries?: string[]
}

/**
 * Derives the serial. Throws UserError `E_SERIAL_NONE` (kind `failed`) listing every source tried
 * when none is usable, `E_SERIAL_DENIED` when a source is there but unreadable.
 */
export async function deriveSerial(options: DeriveSerialOptions = {}): Promise<SerialResult> {
  const {board, boardBy, chain, context} = await resolveSerialChain(options)
  const derivation: SerialResult = await deriveFromChain(chain, context, options)
  if (board) Object.assign(derivation, {board: board.id, boardBy})
  derivation.entries = chain.entries.map((entry) => entry.setting ?? entry.label)
  return derivation
}

/** Like {@link deriveSerial} but returns the outcome instead of throwing when nothing is usable. */
export async function trySerial(options: DeriveSerialOptions = {}): Promise<ChainOutcome & {board?: string; plugs: SerialChain['plugs']}> {
  const {board, chain, context} = await resolveSerialChain(options)
  const outcome = await runChain(chain, context, options)
  return {...outcome, ...(board ? {board: board.id} : {}), plugs: chain.plugs}
}
