/**
 * The registration body: the UTF-8 YAML text the prepare-device hook hands snapd as
 * `registration.body`. snapd sends it verbatim inside the serial-request; the Serial Vault reads
 * its `serial:` key (Go, gopkg.in/yaml.v2) and copies the whole body into the serial assertion.
 *
 * The on-device runtime must stay small, so the body is written by the strict emitter below rather
 * than by a YAML library. Every scalar, keys included, is a double-quoted YAML 1.1 string, so no
 * reader can take a value for a number, a boolean, a date or a merge key. Escaped: `"` and `\`,
 * C0 controls, DEL, C1 controls (0x85 is a YAML 1.1 line break), U+2028 and U+2029 (YAML 1.1 line
 * breaks), U+FEFF, U+FFFE and U+FFFF. Lone surrogates cannot be encoded as UTF-8 and are refused.
 *
 * The body facts are descriptive hardware details read through the same source context as the
 * serial (so `--root` applies); each names the snap interfaces its reads need.
 */
import {type ErrorCode, UserError} from '../errors.js'
import {errnoOf} from '../serial/sources/context.js'
import {listNetDevices, NET_CLASS} from '../serial/netdev.js'
import {refusalOf} from '../serial/placeholders.js'
import type {SnapInterface, SourceContext} from '../serial/sources/source.js'
import type {BodyFields, BodyValue} from '../identity/key.js'

/** Larger bodies would not fit one `snapctl set` argument (Linux limits one to 128 KiB). */
export const MAX_BODY_BYTES = 64 * 1024
const MAX_DEPTH = 32
// With the u flag a surrogate pair is one code point, so this matches unpaired halves only.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u
// Everything outside YAML 1.1's printable set, plus the characters YAML 1.1 reads as line breaks
// or a byte-order mark. Tab, CR and LF get their short escapes.
const NEEDS_ESCAPE = /["\\\u0000-\u001F\u007F-\u009F\u2028\u2029\uFEFF\uFFFE\uFFFF]/g
const SHORT_ESCAPES: Readonly<Record<string, string>> = {'\t': '\\t', '\n': '\\n', '\r': '\\r', '"': '\\"', '\\': '\\\\'}

/** A YAML 1.1 double-quoted scalar that reads back as exactly `text` in any conforming reader. */
export function yamlString(text: string, path = 'the value'): string {
  if (LONE_SURROGATE.test(text)) {
    throw new UserError('E_BODY_ENCODING', `${path} holds a lone UTF-16 surrogate, which has no UTF-8 form`, {
      hint: 'the registration body must be valid UTF-8: fix the value where it comes from',
      kind: 'failed',
    })
  }

  return `"${text.replace(NEEDS_ESCAPE, (char) => SHORT_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`)}"`
}

/**
 * The body as YAML text: block mappings and sequences indented by two spaces, every scalar a
 * double-quoted string, keys in the order given, one trailing newline. Throws a UserError
 * (E_BODY_*) for values that are not strings, lists or maps, lone surrogates, and bodies over
 * {@link MAX_BODY_BYTES}.
 */
export function emitRegistrationBody(fields: BodyFields): string {
  if (!isPlainObject(fields)) throw bodyError('E_BODY_FIELDS', 'the registration body is not a map of fields')
  const lines: string[] = []
  emitMapping(fields, 0, '', lines, 0)
  const text = lines.length === 0 ? '{}\n' : `${lines.join('\n')}\n`
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > MAX_BODY_BYTES) {
    throw bodyError('E_BODY_SIZE', `the registration body is ${bytes} bytes, more than ${MAX_BODY_BYTES}`, 'keep the body to a few hardware facts; it travels in every serial-request and serial assertion')
  }

  return text
}

function emitMapping(map: {[name: string]: BodyValue}, indent: number, path: string, lines: string[], depth: number): void {
  const pad = ' '.repeat(indent)
  for (const [key, value] of Object.entries(map)) {
    const at = path ? `${path}.${key}` : key
    const head = `${pad}${yamlString(key, `the body field name ${JSON.stringify(at)}`)}:`
    const inline = inlineForm(value, at, depth + 1)
    if (inline !== undefined) {
      lines.push(`${head} ${inline}`)
      continue
    }

    lines.push(head)
    emitBlock(value, indent + 2, at, lines, depth + 1)
  }
}

function emitSequence(list: BodyValue[], indent: number, path: string, lines: string[], depth: number): void {
  const pad = ' '.repeat(indent)
  for (const [i, item] of list.entries()) {
    const at = `${path}[${i}]`
    const inline = inlineForm(item, at, depth + 1)
    if (inline !== undefined) {
      lines.push(`${pad}- ${inline}`)
      continue
    }

    // A nested block starts on the dash's line: render it two columns in, then put the dash there.
    const start = lines.length
    emitBlock(item, indent + 2, at, lines, depth + 1)
    lines[start] = `${pad}- ${lines[start].slice(indent + 2)}`
  }
}

function emitBlock(value: BodyValue, indent: number, path: string, lines: string[], depth: number): void {
  if (Array.isArray(value)) emitSequence(value, indent, path, lines, depth)
  else emitMapping(value as {[name: string]: BodyValue}, indent, path, lines, depth)
}

/** Scalars and empty collections fit on the key's line; undefined for a non-empty collection. */
function inlineForm(value: unknown, path: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH) throw bodyError('E_BODY_FIELDS', `the body field ${path} is nested more than ${MAX_DEPTH} levels deep`)
  if (typeof value === 'string') return yamlString(value, `the body field ${path}`)
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined
  if (isPlainObject(value)) return Object.keys(value).length === 0 ? '{}' : undefined
  const kind = value === null ? 'null' : typeof value
  throw bodyError('E_BODY_FIELDS', `the body field ${path} is ${kind}, not a string, list or map`, 'write every body value as a string ("…")')
}

function bodyError(code: ErrorCode, message: string, hint?: string): UserError {
  return new UserError(code, message, {hint, kind: 'failed'})
}

function isPlainObject(value: unknown): value is {[name: string]: BodyValue} {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

// --- body facts --------------------------------------------------------------------------------

/** What the runtime knows when it reads the facts. */
interface FactInput {
  context: SourceContext
  /** The chain entry that produced the serial, e.g. `dmi[product_serial]`. */
  serialEntry: string
}

export interface BodyFact {
  /** One line for the documentation and the schema. */
  doc: string
  /** The snap interfaces the hook needs to read it. */
  plugs: readonly SnapInterface[]
  /** The value, or undefined when this hardware does not have it. */
  read(input: FactInput): Promise<BodyValue | undefined>
}

const DT_BASES = ['/sys/firmware/devicetree/base', '/proc/device-tree']
const DMI_DIR = '/sys/class/dmi/id'
const DMI_FIELDS: Readonly<Record<string, string>> = {
  'board-name': 'board_name',
  'board-vendor': 'board_vendor',
  'board-version': 'board_version',
  'product-family': 'product_family',
  'product-name': 'product_name',
  'product-version': 'product_version',
  'sys-vendor': 'sys_vendor',
}
const SOC_FIELDS: Readonly<Record<string, string>> = {family: 'family', machine: 'machine', revision: 'revision', 'soc-id': 'soc_id'}

/** The hardware facts a configuration may put into the body, by body field name. */
export const BODY_FACTS: Readonly<Record<string, BodyFact>> = {
  'board-compatible': {
    doc: 'the device tree compatible list, most specific first',
    plugs: ['hardware-observe'],
    async read({context}) {
      const compatible = await context.compatible()
      return compatible.length > 0 ? [...compatible] : undefined
    },
  },
  'board-model': {
    doc: 'the device tree model, else the SMBIOS product name',
    plugs: ['hardware-observe'],
    async read({context}) {
      for (const base of DT_BASES) {
        const model = await readText(context, `${base}/model`, 'board-model')
        if (model !== undefined) return model
      }

      return firmwareText(await readText(context, `${DMI_DIR}/product_name`, 'board-model'))
    },
  },
  'board-revision': {
    doc: 'the Revision line of /proc/cpuinfo (the Raspberry Pi board revision code)',
    plugs: [],
    async read({context}) {
      const cpuinfo = await readText(context, '/proc/cpuinfo', 'board-revision')
      return cpuinfo === undefined ? undefined : /^Revision\s*:\s*(\S+)/m.exec(cpuinfo)?.[1]
    },
  },
  dmi: {
    doc: 'SMBIOS vendor, product and board names and versions (stock firmware text such as "Default string" left out)',
    plugs: ['hardware-observe'],
    read: ({context}) => readFields(context, DMI_DIR, DMI_FIELDS, 'dmi'),
  },
  'mac-addresses': {
    doc: 'interface name to permanent MAC address, for the built-in (not virtual, not USB) network interfaces',
    plugs: ['network-observe'],
    async read({context}) {
      const addresses: {[name: string]: string} = {}
      // Not `for (… of await …)`: QuickJS cannot compile its lowered form (build.mjs lowers async functions).
      const devices = await listNetDevices(context.fs)
      for (const device of devices) {
        if (device.virtual || device.usb || device.bridge || device.bond || (device.type !== undefined && device.type !== 1)) continue
        if (device.denied) throw factDenied('mac-addresses', `${NET_CLASS}/${device.name}/address`, 'network-observe')
        const address = device.address
        if (!address || !/^([\da-f]{2}:){5}[\da-f]{2}$/.test(address) || device.addrAssignType === 1 || refusalOf(address, 'mac')) continue
        addresses[device.name] = address
      }

      return Object.keys(addresses).length > 0 ? addresses : undefined
    },
  },
  'serial-source': {
    doc: 'the serial source that produced the serial, e.g. dmi[product_serial]',
    plugs: [],
    read: async ({serialEntry}) => serialEntry,
  },
  soc: {
    doc: 'the SoC family, machine, soc-id and revision from /sys/devices/soc0',
    plugs: ['hardware-observe'],
    read: ({context}) => readFields(context, '/sys/devices/soc0', SOC_FIELDS, 'soc'),
  },
}

interface BodyFactsReading {
  fields: BodyFields
  /** Facts this hardware does not have; they are left out of the body. */
  omitted: string[]
}

/** Reads the named facts, in order. A fact that exists but cannot be read is an error. */
export async function readBodyFacts(names: readonly string[], input: FactInput): Promise<BodyFactsReading> {
  const fields: BodyFields = {}
  const omitted: string[] = []
  for (const name of names) {
    const fact = BODY_FACTS[name]
    if (!fact) throw new UserError('E_BODY_FACT', `unknown body fact "${name}"`, {hint: `body facts: ${Object.keys(BODY_FACTS).join(', ')}`})
    const value = await fact.read(input)
    if (value === undefined) omitted.push(name)
    else fields[name] = value
  }

  return {fields, omitted}
}

/** The trimmed text of a sysfs/procfs file up to its first NUL; undefined when absent or empty. */
async function readText(context: SourceContext, path: string, fact: string): Promise<string | undefined> {
  let data: Buffer
  try {
    data = await context.fs.readFile(path)
  } catch (error) {
    const code = errnoOf(error)
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENODEV' || code === 'ENXIO') return undefined
    if (code === 'EACCES' || code === 'EPERM') throw factDenied(fact, path, 'hardware-observe')
    throw new UserError('E_BODY_FACT', `cannot read ${path} for the body fact ${fact}: ${(error as Error).message}`, {kind: 'failed'})
  }

  const text = data.toString('utf8').split('\0')[0].trim()
  return text === '' ? undefined : text
}

async function readFields(context: SourceContext, dir: string, names: Readonly<Record<string, string>>, fact: string): Promise<BodyFields | undefined> {
  const fields: BodyFields = {}
  for (const [field, file] of Object.entries(names)) {
    const value = firmwareText(await readText(context, `${dir}/${file}`, fact))
    if (value !== undefined) fields[field] = value
  }

  return Object.keys(fields).length > 0 ? fields : undefined
}

/** Firmware fills unset SMBIOS strings with stock text ("Default string", "To Be Filled By O.E.M."): not facts. */
function firmwareText(value: string | undefined): string | undefined {
  const refusal = value === undefined ? undefined : refusalOf(value)
  return refusal && (refusal.rule === 'known' || refusal.rule === 'words') ? undefined : value
}

function factDenied(fact: string, path: string, plug: SnapInterface): UserError {
  return new UserError('E_BODY_FACT_DENIED', `cannot read ${path} for the body fact ${fact}: permission denied`, {
    hint: `connect ${plug} to the gadget and run the hook as root, or drop ${fact} from body.facts`,
    kind: 'failed',
  })
}
