/** How a built-in source is declared: its options, and a factory from checked options. */
import type {ConfigPlace, DataPath, OptionSpecs} from '../config/options.js'
import type {SerialSource, SnapInterface} from './source.js'

/** Where the options being turned into a source came from (for located errors). */
export interface CreateSetting {
  place: ConfigPlace
  path: DataPath
}

export interface SourceDefinition<O = Record<string, unknown>> {
  id: string
  /** What it reads, in one line. */
  summary: string
  /** The interfaces it needs with default options. */
  plugs: readonly SnapInterface[]
  options: OptionSpecs
  /** The option `id[value]` sets, in `--chain` and in labels: `dmi[board_serial]`. */
  primary?: string
  create(options: O, setting: CreateSetting): Promise<SerialSource> | SerialSource
}

/** Identity function that fixes the option type of a definition. */
export function defineSource<O>(definition: SourceDefinition<O>): SourceDefinition<O> {
  return definition
}

/**
 * A definition as the registry holds it, whatever its option type: create() is only ever handed
 * options checked against the definition's own specs (checkOptions), so they have its type.
 */
export type RegisteredSource = SourceDefinition<object>
