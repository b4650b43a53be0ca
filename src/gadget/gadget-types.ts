/**
 * The gadget.yaml model as snapd decodes it: the Go types of snapd's gadget package (per snapd
 * release) and the TypeScript shape of the decoded values.
 */

import {goQuote, parseOffset, parseRelativeOffset, parseSize, QuantityError, type RelativeOffset} from './quantity.js'
import type {SnapdTarget} from './snapd-version.js'
import {type GoType, type IfaceValue, UnmarshalError} from '../go-yaml/decode/decode.js'

/** A kernel command-line argument as snapd's kcmdline.Parse splits it. */
interface KernelArgument {
  param: string
  value: string
  quoted: boolean
}

export interface GadgetContent {
  source: string
  target: string
  image: string
  offset?: bigint
  'offset-write'?: RelativeOffset
  size?: bigint
  unpack: boolean
}

interface GadgetUpdate {
  edition?: number
  preserve?: string[]
}

export interface GadgetStructure {
  name: string
  'filesystem-label': string
  offset?: bigint
  'offset-write'?: RelativeOffset
  'min-size'?: bigint
  size?: bigint
  type: string
  role: string
  id: string
  filesystem: string
  content?: GadgetContent[]
  update: GadgetUpdate
}

export interface GadgetVolume {
  partial?: string[]
  schema: string
  bootloader: string
  id: string
  structure?: GadgetStructure[]
}

interface GadgetConnection {
  plug?: {snapId: string; name: string}
  slot?: {snapId: string; name: string}
}

interface VolumeAssignment {
  'assignment-name': string
  assignment?: Map<string, {device: string} | undefined>
}

export interface GadgetInfo {
  volumes?: Map<string, GadgetVolume | undefined>
  defaults?: Map<string, IfaceValue | undefined>
  connections?: GadgetConnection[]
  'kernel-cmdline'?: {allow?: KernelArgument[]; append?: KernelArgument[]; remove?: KernelArgument[]}
  'volume-assignments'?: Array<undefined | VolumeAssignment>
}

const string: GoType = {kind: 'string'}
const bool: GoType = {kind: 'bool'}

/** quantity.Size / quantity.Offset / RelativeOffset / edition.Number: UnmarshalYAML via a string. */
function quantityType(name: string, what: 'offset' | 'size', parse: (text: string) => bigint): GoType {
  return {
    kind: 'unmarshaler',
    name,
    onNotString: `cannot unmarshal gadget ${what}`,
    parse(text) {
      try {
        return parse(text)
      } catch (error) {
        throw quantityError(what, text, error)
      }
    },
  }
}

const size = quantityType('quantity.Size', 'size', parseSize)
const offset = quantityType('quantity.Offset', 'offset', parseOffset)

const relativeOffset: GoType = {
  kind: 'unmarshaler',
  name: 'gadget.RelativeOffset',
  onNotString: 'cannot unmarshal gadget relative offset',
  parse(text) {
    try {
      return parseRelativeOffset(text)
    } catch (error) {
      if (!(error instanceof QuantityError)) throw error
      throw new UnmarshalError(`cannot parse relative offset ${goQuote(text)}: ${error.message}`)
    }
  },
}

const edition: GoType = {
  kind: 'unmarshaler',
  name: 'edition.Number',
  onNotString: 'cannot unmarshal "edition"',
  parse(text) {
    if (!/^\d+$/.test(text) || BigInt(text) > 0xff_ff_ff_ffn) {
      throw new UnmarshalError(`"edition" must be a positive number, not ${goQuote(text)}`)
    }

    return Number(text)
  },
}

function connectionEnd(which: 'plug' | 'slot'): GoType {
  return {
    kind: 'unmarshaler',
    name: `gadget.Connection${which === 'plug' ? 'Plug' : 'Slot'}`,
    onNotString: {soft: true},
    parse(text) {
      const parts = text.split(':')
      if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
        throw new UnmarshalError(`in gadget connection ${which}: expected "(<snap-id>|system):name" not ${goQuote(text)}`)
      }

      return {name: parts[1], snapId: parts[0]}
    },
  }
}

function quantityError(what: 'offset' | 'size', text: string, error: unknown): Error {
  if (!(error instanceof QuantityError)) return error as Error
  return new UnmarshalError(`cannot parse ${what} ${goQuote(text)}: ${error.message}`)
}

/** kcmdline.Parse: splits a command line the way lib/cmdline.c:next_arg does. */
function parseKernelCmdline(cmdline: string): KernelArgument[] {
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r'
  const args: KernelArgument[] = []
  let start = 0
  while (start < cmdline.length && isSpace(cmdline[start])) start++
  while (start < cmdline.length) {
    const rest = cmdline.slice(start)
    let i = 0
    let equals = 0
    let inQuote = false
    let argQuoted = false
    if (rest[0] === '"') {
      i = 1
      argQuoted = true
      inQuote = true
    }

    const startArg = i
    for (; i < rest.length; i++) {
      if (isSpace(rest[i]) && !inQuote) break
      if (rest[i] === '=' && equals === 0) equals = i
      if (rest[i] === '"') inQuote = !inQuote
    }

    const end = i
    let endParam = i
    let quoted = false
    let subsVal = 0
    let subsParam = 0
    let value = ''
    if (argQuoted && end > startArg && rest[end - 1] === '"') {
      quoted = true
      if (equals === 0) subsParam = 1
      else subsVal = 1
    }

    if (equals !== 0) {
      endParam = equals
      let startVal = equals + 1
      if (startVal < end && rest[startVal] === '"') {
        quoted = true
        startVal++
        if (rest[end - 1] === '"') subsVal = 1
      }

      value = rest.slice(startVal, Math.max(startVal, end - subsVal))
    }

    args.push({param: rest.slice(startArg, Math.max(startArg, endParam - subsParam)), quoted, value})
    start += end
    while (start < cmdline.length && isSpace(cmdline[start])) start++
  }

  return args
}

const kernelArgument: GoType = {
  kind: 'unmarshaler',
  name: 'kcmdline.Argument',
  onNotString: 'cannot unmarshal kernel argument',
  parse(text) {
    const parsed = parseKernelCmdline(text)
    if (parsed.length !== 1) throw new UnmarshalError(`${goQuote(text)} is not a unique kernel argument`)
    return parsed[0]
  },
}

const kernelArgumentPattern: GoType = {
  kind: 'unmarshaler',
  name: 'kcmdline.ArgumentPattern',
  onNotString: 'cannot unmarshal kernel argument',
  parse(text) {
    const parsed = parseKernelCmdline(text)
    if (parsed.length !== 1) throw new UnmarshalError(`${goQuote(text)} is not a unique kernel argument`)
    const [arg] = parsed
    if (!arg.quoted && arg.value !== '*' && /[*?[\]\\{}]/.test(arg.value)) {
      throw new UnmarshalError(`${goQuote(arg.value)} contains globbing characters and is not quoted`)
    }

    return arg
  },
}

const typesByVersion = new Map<string, GoType>()

/** The Go types snapd decodes gadget.yaml into, for a given release. */
export function gadgetInfoType(target: SnapdTarget): GoType {
  let type = typesByVersion.get(target.version)
  if (!type) {
    type = buildGadgetInfoType(target)
    typesByVersion.set(target.version, type)
  }

  return type
}

function buildGadgetInfoType(target: SnapdTarget): GoType {
  const contentFields: Record<string, GoType> = {
    image: string,
    offset: {elem: offset, kind: 'ptr', name: '*quantity.Offset'},
    size,
    source: string,
    target: string,
    unpack: bool,
  }
  if (!target.has('strictOffsetWrite')) contentFields['offset-write'] = {elem: relativeOffset, kind: 'ptr', name: '*gadget.RelativeOffset'}

  // Go struct fields without a yaml tag are still decoded, under their lower-cased name.
  const structureFields: Record<string, GoType> = {
    volumename: string,
    content: {elem: {fields: contentFields, kind: 'struct', name: 'gadget.VolumeContent'}, kind: 'slice', name: '[]gadget.VolumeContent'},
    filesystem: string,
    'filesystem-label': string,
    id: string,
    name: string,
    offset: {elem: offset, kind: 'ptr', name: '*quantity.Offset'},
    'offset-write': {elem: relativeOffset, kind: 'ptr', name: '*gadget.RelativeOffset'},
    role: string,
    size,
    type: string,
    update: {
      fields: {edition, preserve: {elem: string, kind: 'slice', name: '[]string'}},
      kind: 'struct',
      name: 'gadget.VolumeUpdate',
    },
  }
  if (target.has('minSize')) structureFields['min-size'] = size

  const volumeFields: Record<string, GoType> = {
    ...(target.has('volumeAssignments') ? {assigneddevice: string} : {}),
    bootloader: string,
    name: string,
    id: string,
    schema: string,
    structure: {elem: {fields: structureFields, kind: 'struct', name: 'gadget.VolumeStructure'}, kind: 'slice', name: '[]gadget.VolumeStructure'},
  }
  if (target.has('partial')) volumeFields.partial = {elem: string, kind: 'slice', name: '[]gadget.PartialProperty'}

  const infoFields: Record<string, GoType> = {
    connections: {
      elem: {fields: {plug: connectionEnd('plug'), slot: connectionEnd('slot')}, kind: 'struct', name: 'gadget.Connection'},
      kind: 'slice',
      name: '[]gadget.Connection',
    },
    defaults: {
      elem: {elem: {kind: 'iface'}, kind: 'map', name: 'map[string]interface {}'},
      kind: 'map',
      name: 'map[string]map[string]interface {}',
    },
    volumes: {
      elem: {elem: {fields: volumeFields, kind: 'struct', name: 'gadget.Volume'}, kind: 'ptr', name: '*gadget.Volume'},
      kind: 'map',
      name: 'map[string]*gadget.Volume',
    },
  }
  if (target.has('kernelCmdline')) {
    infoFields['kernel-cmdline'] = {
      fields: {
        allow: {elem: kernelArgumentPattern, kind: 'slice', name: '[]kcmdline.ArgumentPattern'},
        append: {elem: kernelArgument, kind: 'slice', name: '[]kcmdline.Argument'},
        remove: {elem: kernelArgumentPattern, kind: 'slice', name: '[]kcmdline.ArgumentPattern'},
      },
      kind: 'struct',
      name: 'gadget.KernelCmdline',
    }
  }

  if (target.has('volumeAssignments')) {
    const deviceAssignment: GoType = {fields: {device: string}, kind: 'struct', name: 'gadget.DeviceAssignment'}
    infoFields['volume-assignments'] = {
      elem: {
        elem: {
          fields: {
            assignment: {
              elem: {elem: deviceAssignment, kind: 'ptr', name: '*gadget.DeviceAssignment'},
              kind: 'map',
              name: 'map[string]*gadget.DeviceAssignment',
            },
            'assignment-name': string,
          },
          kind: 'struct',
          name: 'gadget.VolumeAssignment',
        },
        kind: 'ptr',
        name: '*gadget.VolumeAssignment',
      },
      kind: 'slice',
      name: '[]*gadget.VolumeAssignment',
    }
  }

  return {fields: infoFields, kind: 'struct', name: 'gadget.Info'}
}

/** Every key snapd reads, at any release: for "unknown key" lint and did-you-mean. */
export const knownKeys = {
  assignment: ['assignment-name', 'assignment'],
  content: ['source', 'target', 'image', 'offset', 'offset-write', 'size', 'unpack'],
  info: ['volumes', 'defaults', 'connections', 'kernel-cmdline', 'volume-assignments'],
  kernelCmdline: ['allow', 'append', 'remove'],
  structure: ['name', 'filesystem-label', 'offset', 'offset-write', 'min-size', 'size', 'type', 'role', 'id', 'filesystem', 'content', 'update'],
  update: ['edition', 'preserve'],
  volume: ['schema', 'bootloader', 'id', 'structure', 'partial'],
} as const
