/**
 * Serial configuration: the file given to `serial --config` (YAML or JSON), the `--chain` list,
 * and the shape checks shared with board profiles. Errors name the file, the line and the fix.
 *
 * ```yaml
 * board: nxp-imx            # start from a board profile's chain (optional)
 * brand: acme               # default salt for hash transforms
 * chain:                    # replaces the profile's chain (optional)
 *   - soc-serial
 *   - source: mac
 *     options: {interface: end0}
 * transforms:
 *   - prefix: acme-
 * output:
 *   pattern: '[A-Za-z0-9][A-Za-z0-9._:-]*'
 * ```
 */
import {dirname, resolve} from 'node:path'

import {UserError} from '../../errors.js'
import {readBoundedFile} from '../../support/bounded-read.js'
import type {ChainEntrySpec, ChainSpec} from '../chain.js'
import {checkKeys, checkOptions, closest, type ConfigPlace, configError, type DataPath, describeValue, isRecord, type OptionSpecs} from './options.js'
import {BUILTIN_SOURCES, sourceDefinition} from '../sources/registry.js'
import {type NormaliseOptions, serialPattern, TRANSFORM_KINDS, type TransformSpec} from '../transforms.js'

/** A serial configuration file, checked: `board` (whose chain is used when `chain` is not given), `brand` (the default salt of hash transforms). */
export interface SerialConfig extends SerialSection {
  /** Where it came from (errors of later stages point here). */
  place: ConfigPlace
}

const CHAIN_SPEC_KEYS = ['chain', 'normalise', 'transforms', 'output', 'onDenied'] as const
const SECTION_KEYS = ['board', 'brand', ...CHAIN_SPEC_KEYS]
const ENTRY_KEYS = ['source', 'options', 'join', 'separator', 'name', 'when', 'normalise', 'transforms']

const NORMALISE_SPECS: OptionSpecs = {
  hexCase: {doc: 'lower, upper or keep (for hex, UUID and MAC values)', enum: ['lower', 'upper', 'keep'], type: 'string'},
  stripPadding: {doc: 'strip NUL and 0xFF padding', type: 'boolean'},
  trim: {doc: 'trim whitespace', type: 'boolean'},
}

const HASH_SPECS: OptionSpecs = {
  algorithm: {doc: 'sha512 (the only one)', enum: ['sha512'], type: 'string'},
  encoding: {doc: 'hex or base32', enum: ['hex', 'base32'], type: 'string'},
  length: {doc: 'characters of the encoded digest to keep (8–128)', max: 128, min: 8, type: 'integer'},
  salt: {doc: 'salt (default: the brand)', type: 'string'},
}

const MAX_LENGTH_SPECS: OptionSpecs = {
  length: {doc: 'the maximum number of characters', max: 4096, min: 1, required: true, type: 'integer'},
  overflow: {doc: 'refuse (try the next source) or truncate', enum: ['refuse', 'truncate'], type: 'string'},
}

/** Checks the chain-related keys of a config or profile; `requireChain` for profiles. */
export function checkChainSpec(data: Record<string, unknown>, place: ConfigPlace, path: DataPath, requireChain: boolean): Partial<ChainSpec> {
  const spec: {-readonly [K in keyof ChainSpec]?: ChainSpec[K]} = {}
  if (data.chain === undefined) {
    if (requireChain) throw configError(place, path, 'no chain', 'add chain: a list of sources, first usable wins')
  } else {
    if (!Array.isArray(data.chain))
      throw configError(place, [...path, 'chain'], `chain must be a list, not ${describeValue(data.chain)}`, 'write chain: [devicetree-serial, cpuinfo-serial] or a list of {source, options}')
    if (data.chain.length === 0) throw configError(place, [...path, 'chain'], 'the chain is empty', 'list at least one source')
    spec.chain = data.chain.map((entry, i) => checkEntry(entry, place, [...path, 'chain', i]))
  }

  if (data.normalise !== undefined) spec.normalise = checkOptions<NormaliseOptions>('normalise', data.normalise, NORMALISE_SPECS, place, [...path, 'normalise'])
  if (data.transforms !== undefined) spec.transforms = checkTransforms(data.transforms, place, [...path, 'transforms'])
  if (data.output !== undefined) {
    const output = data.output
    if (!isRecord(output)) throw configError(place, [...path, 'output'], `output must be a mapping, not ${describeValue(output)}`, 'write output: {pattern: ...}')
    checkKeys(output, ['pattern'], place, [...path, 'output'], 'output')
    if (output.pattern !== undefined && (typeof output.pattern !== 'string' || output.pattern === '')) {
      throw configError(place, [...path, 'output', 'pattern'], 'pattern must be a non-empty string', "a regular expression the whole serial must match, e.g. '[A-Za-z0-9][A-Za-z0-9._:-]*'")
    }

    if (typeof output.pattern === 'string') {
      try {
        serialPattern(output.pattern)
      } catch (error) {
        throw configError(place, [...path, 'output', 'pattern'], `not a valid regular expression: ${(error as Error).message}`, 'write a JavaScript regular expression without the surrounding slashes')
      }
    }

    spec.output = output.pattern === undefined ? {} : {pattern: output.pattern as string}
  }

  if (data.onDenied !== undefined) {
    if (data.onDenied !== 'fail' && data.onDenied !== 'next')
      throw configError(place, [...path, 'onDenied'], `onDenied must be fail or next, not ${describeValue(data.onDenied)}`, 'fail stops at an unreadable source (default); next moves on')
    spec.onDenied = data.onDenied
  }

  return spec
}

function checkEntry(raw: unknown, place: ConfigPlace, path: DataPath): ChainEntrySpec {
  if (typeof raw === 'string') return parseChainItem(raw, (message, hint) => configError(place, path, message, hint))
  if (!isRecord(raw)) throw configError(place, path, `a chain entry must be a source id or a mapping, not ${describeValue(raw)}`, 'write - devicetree-serial, or - {source: dmi, options: {field: board_serial}}')
  checkKeys(raw, ENTRY_KEYS, place, path, 'a chain entry')
  if ((raw.source === undefined) === (raw.join === undefined)) {
    throw configError(place, path, 'a chain entry needs either "source" or "join"', 'source: <id> reads one source; join: [..] combines several')
  }

  const entry: {-readonly [K in keyof ChainEntrySpec]?: ChainEntrySpec[K]} = {}
  if (raw.source !== undefined) {
    if (typeof raw.source !== 'string') throw configError(place, [...path, 'source'], `source must be a source id, not ${describeValue(raw.source)}`, `built-in sources: ${[...BUILTIN_SOURCES.keys()].join(', ')}`)
    if (!sourceDefinition(raw.source)) {
      const guess = closest(raw.source, BUILTIN_SOURCES.keys())
      throw configError(
        place,
        [...path, 'source'],
        `unknown serial source "${raw.source}"`,
        guess ? `did you mean "${guess}"?` : `built-in sources: ${[...BUILTIN_SOURCES.keys()].join(', ')}; a vendor's own source is source: module`,
      )
    }

    entry.source = raw.source
    // Option values are checked here too, so a configuration is known good before anything runs.
    checkOptions(raw.source, raw.options, sourceDefinition(raw.source)!.options, place, [...path, 'options'])
    if (raw.options !== undefined) entry.options = raw.options as Record<string, unknown>
  } else {
    if (!Array.isArray(raw.join)) throw configError(place, [...path, 'join'], `join must be a list of sources, not ${describeValue(raw.join)}`, 'write join: [soc-serial, dmi[board_serial]]')
    entry.join = raw.join.map((part, i) => checkEntry(part, place, [...path, 'join', i]))
  }

  for (const key of ['separator', 'name'] as const) {
    const value = raw[key]
    if (value === undefined) continue
    if (typeof value !== 'string' || (key === 'name' && value === ''))
      throw configError(place, [...path, key], `${key} must be a string, not ${describeValue(value)}`, key === 'name' ? 'a label for --explain' : 'e.g. "-"')
    entry[key] = value
  }

  if (raw.when !== undefined) {
    const when = raw.when
    if (!isRecord(when)) throw configError(place, [...path, 'when'], `when must be a mapping, not ${describeValue(when)}`, 'write when: {compatible: ["fsl,imx8mp*"]}')
    const checked = checkOptions<{compatible?: string[]; notCompatible?: string[]}>(
      'when',
      when,
      {
        compatible: {doc: 'device-tree compatible globs the board must match, e.g. fsl,imx8mp*', type: 'strings'},
        notCompatible: {doc: 'device-tree compatible globs the board must not match', type: 'strings'},
      },
      place,
      [...path, 'when'],
    )
    if (!checked.compatible && !checked.notCompatible) throw configError(place, [...path, 'when'], 'when needs compatible or notCompatible', 'e.g. when: {compatible: ["fsl,imx8mp*"]}')
    entry.when = checked
  }

  if (raw.normalise !== undefined) entry.normalise = checkOptions<NormaliseOptions>('normalise', raw.normalise, NORMALISE_SPECS, place, [...path, 'normalise'])
  if (raw.transforms !== undefined) entry.transforms = checkTransforms(raw.transforms, place, [...path, 'transforms'])
  return entry
}

function checkTransforms(raw: unknown, place: ConfigPlace, path: DataPath): TransformSpec[] {
  if (!Array.isArray(raw)) throw configError(place, path, `transforms must be a list, not ${describeValue(raw)}`, 'write transforms: [{prefix: acme-}, {hash: {length: 32}}]')
  return raw.map((step, i): TransformSpec => {
    const at = [...path, i]
    const keys = isRecord(step) ? Object.keys(step) : []
    if (keys.length !== 1 || !(TRANSFORM_KINDS as readonly string[]).includes(keys[0])) {
      const guess = keys.length === 1 ? closest(keys[0], TRANSFORM_KINDS) : undefined
      throw configError(place, at, `a transform is a mapping with one of ${TRANSFORM_KINDS.join(', ')}`, guess ? `did you mean "${guess}"?` : 'e.g. - prefix: acme-')
    }

    const kind = keys[0] as (typeof TRANSFORM_KINDS)[number]
    const value = (step as Record<string, unknown>)[kind]
    switch (kind) {
      case 'hash': {
        return {hash: checkOptions('hash', value ?? {}, HASH_SPECS, place, [...at, 'hash'])}
      }

      case 'maxLength': {
        if (typeof value === 'number') {
          if (!Number.isSafeInteger(value) || value < 1) throw configError(place, [...at, 'maxLength'], `maxLength must be a positive integer, not ${value}`, 'e.g. maxLength: 64')
          return {maxLength: value}
        }

        return {maxLength: checkOptions('maxLength', value, MAX_LENGTH_SPECS, place, [...at, 'maxLength'])}
      }

      case 'normalise': {
        return {normalise: checkOptions('normalise', value ?? {}, NORMALISE_SPECS, place, [...at, 'normalise'])}
      }

      case 'prefix':
      case 'suffix': {
        if (typeof value !== 'string' || value === '') throw configError(place, [...at, kind], `${kind} must be a non-empty string, not ${describeValue(value)}`, `e.g. ${kind}: acme-`)
        return kind === 'prefix' ? {prefix: value} : {suffix: value}
      }
    }
  })
}

/** Checks a parsed configuration document. */
export function parseSerialConfig(data: unknown, place: ConfigPlace = {}): SerialConfig {
  return {...checkSerialSection(data, place, [], {what: 'a serial configuration'}), place}
}

/** The board ids a serial section may name: the catalog's, and the init board ids its profiles list as aliases. */
interface BoardNames {
  ids(): readonly string[]
  load(id: string): {aliases?: readonly string[]}
}

interface SerialSectionOptions {
  /** The section's name in messages: `serial` in the registration config, `a serial configuration` for a file of its own. */
  what: string
  /** Refuse a board the catalog does not know (unchecked without one). */
  boards?: BoardNames
}

/** What a serial section gives: a board and its brand, and the chain settings that replace the board's. */
export interface SerialSection extends Partial<ChainSpec> {
  board?: string
  brand?: string
}

/**
 * The one check of a serial section, wherever it is: a serial configuration file, or `serial` in
 * the registration config. Keys, the chain settings, board and brand, the board known to the
 * catalog, and a board or a chain to read.
 */
export function checkSerialSection(data: unknown, place: ConfigPlace, path: DataPath, options: SerialSectionOptions): SerialSection {
  const {what} = options
  if (!isRecord(data)) throw configError(place, path, `${what} is a mapping, not ${describeValue(data)}`, 'start with board: <id> or chain: [...], e.g. {"board": "raspberry-pi"}')
  checkKeys(data, SECTION_KEYS, place, path, what)
  const section: SerialSection = {...checkChainSpec(data, place, path, false)}
  for (const key of ['board', 'brand'] as const) {
    const value = data[key]
    if (value === undefined) continue
    if (typeof value !== 'string' || value === '')
      throw configError(
        place,
        [...path, key],
        `${key} must be a non-empty string, not ${describeValue(value)}`,
        key === 'board' ? 'a board profile id, e.g. raspberry-pi' : 'your brand id (the salt of hash transforms), e.g. acme',
      )
    section[key] = value
  }

  if (section.board !== undefined && options.boards && !knownBoard(options.boards, section.board)) {
    const ids = options.boards.ids()
    const guess = closest(section.board, ids)
    throw configError(place, [...path, 'board'], `unknown board "${section.board}"`, guess ? `did you mean "${guess}"? (boards: ${ids.join(', ')})` : `boards: ${ids.join(', ')}`)
  }

  if (section.board === undefined && section.chain === undefined) {
    throw configError(place, path, `${what} needs a board or a chain`, 'add board: <id> (see `snap-gadget probe`) or chain: [...]; the serial is never left to detection or a fallback')
  }

  return section
}

/** Whether the catalog knows `id`, as an id or as another name of one of its profiles (pc-amd64). */
function knownBoard(boards: BoardNames, id: string): boolean {
  if (boards.ids().includes(id)) return true
  try {
    return boards.load(id).aliases?.includes(id) ?? false
  } catch {
    return false
  }
}

/** A serial configuration is a few lines; anything near this is not one. */
const MAX_SERIAL_CONFIG_BYTES = 1024 * 1024

/** Reads and checks a YAML or JSON configuration file; errors carry line and column. */
export async function loadSerialConfig(file: string): Promise<SerialConfig> {
  const text = readBoundedFile(file, MAX_SERIAL_CONFIG_BYTES, {what: 'serial configuration'}).toString('utf8')
  // Loaded on demand: the YAML library is not on the path of configs given as data.
  const {readYamlDocument} = await import('../../go-yaml/document.js')
  const {data, locate} = readYamlDocument(text, file, 'E_SERIAL_CONFIG')
  return parseSerialConfig(data, {baseDir: dirname(resolve(file)), file, locate})
}

/**
 * One `--chain` item: `dmi`, `dmi[board_serial]` (the bracket sets the source's main option), or
 * options as `key=value` pairs: `mac[interface=end0,allowLocallyAdministered=true]`.
 */
function parseChainItem(item: string, fail: (message: string, hint: string) => UserError): ChainEntrySpec {
  const match = /^([a-z\d-]+)(?:\[([^\]]+)\])?$/.exec(item.trim())
  if (!match) throw fail(`"${item}" is not a source id (id or id[value])`, 'e.g. devicetree-serial, dmi[board_serial], mac[end0]')
  const [, id, inside] = match
  const definition = sourceDefinition(id)
  if (!definition) {
    const guess = closest(id, BUILTIN_SOURCES.keys())
    throw fail(`unknown serial source "${id}"`, guess ? `did you mean "${guess}"?` : `built-in sources: ${[...BUILTIN_SOURCES.keys()].join(', ')}`)
  }

  if (inside === undefined) return {source: id}
  const options: Record<string, unknown> = {}
  for (const part of inside.split(',').map((p) => p.trim())) {
    const eq = part.indexOf('=')
    if (eq === -1) {
      if (!definition.primary) throw fail(`${id} takes no [value]`, `write ${id} alone, or ${id}[option=value] (${Object.keys(definition.options).join(', ')})`)
      options[definition.primary] = part
      continue
    }

    const key = part.slice(0, eq).trim()
    const text = part.slice(eq + 1).trim()
    const spec = definition.options[key]
    if (!spec) {
      const guess = closest(key, Object.keys(definition.options))
      throw fail(`${id} has no option "${key}"`, guess ? `did you mean "${guess}"?` : `options: ${Object.keys(definition.options).join(', ') || '(none)'}`)
    }

    // Booleans are the one type a flag cannot spell as a string; the option checker does the rest.
    options[key] = spec.type === 'boolean' && (text === 'true' || text === 'false') ? text === 'true' : text
  }

  return {options, source: id}
}

/** The `--chain a,b[x],c` list. */
export function parseChainList(text: string): ChainEntrySpec[] {
  const items = text.split(/,(?![^[]*\])/).map((s) => s.trim())
  const fail = (message: string, hint: string) => new UserError('E_SERIAL_CHAIN', `--chain: ${message}`, {hint, kind: 'usage'})
  if (items.every((s) => s === '')) throw fail('no sources given', 'e.g. --chain devicetree-serial,cpuinfo-serial')
  return items.filter(Boolean).map((item) => parseChainItem(item, fail))
}
