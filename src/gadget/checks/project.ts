/**
 * Checks on the gadget's other files: a serial vault / model service api-key must never be
 * written into the project (snapcraft.yaml, hooks, runtime/registration.json); it belongs in a CI
 * secret or `snap set`. A device service reached over plain http is flagged too.
 */

import type {Finding} from '../findings/finding.js'
import type {YamlNode} from '../../go-yaml/read/ast.js'
import {parseYaml} from '../../go-yaml/read/index.js'
import {position} from '../../support/line-index.js'

const keyName = /api[-_]?key/i
/** Values that look like a real key rather than a placeholder or a variable. */
const literal = /^[A-Za-z0-9+/=_.-]{16,}$/

function looksLikeKey(value: string): boolean {
  return literal.test(value) && !/^(x+|0+|\.+)$/i.test(value) && !value.includes('$')
}

/** Where a key belongs instead: what the generated gadget supports (its configure hook reads `snap set <gadget> api-key=…`). */
const API_KEY_HINT =
  'remove the key from the file (and revoke it: it is in the repository history); give it at build time from an environment variable or CI secret ({"env": "NAME"} in runtime/registration.json), or in the factory with "snap set <gadget> api-key=…"'

function finding(file: string, line: number, column: number, what: string): Finding {
  return {
    file,
    hint: API_KEY_HINT,
    message: `${what} holds a literal serial-vault api-key`,
    rule: 'N14',
    secret: true,
    severity: 'warning',
    start: {column, line},
  }
}

/** Literal api-keys in snapcraft.yaml (any value under a key named like api-key / *_APIKEY). */
export function apiKeysInYaml(file: string, text: string): Finding[] {
  const {lineStarts, root} = parseYaml(text)
  const found: Finding[] = []
  const stack: YamlNode[] = root ? [root] : []
  while (stack.length > 0) {
    const node = stack.pop()!
    if (node.kind === 'seq') stack.push(...node.items)
    if (node.kind !== 'map') continue
    for (const {key, value} of node.pairs) {
      stack.push(value)
      if (key.kind !== 'scalar' || !keyName.test(key.value)) continue
      if (value.kind === 'scalar' && looksLikeKey(value.value)) {
        const at = position(lineStarts, value.start)
        found.push(finding(file, at.line, at.column, `"${key.value}"`))
      }
    }
  }

  found.push(...apiKeysInText(file, text).filter((f) => !found.some((g) => g.start?.line === f.start?.line)))
  return found
}

/** Literal api-keys in shell hooks and other text: `"api-key": "…"`, `API_KEY=…`. */
export function apiKeysInText(file: string, text: string): Finding[] {
  const found: Finding[] = []
  const pattern = /(api[-_]?key)["']?\s*[:=]\s*\\?["']?([^"'\s\\,}]+)/gi
  const lines = text.split('\n')
  lines.forEach((line, i) => {
    for (const m of line.matchAll(pattern)) {
      if (looksLikeKey(m[2])) found.push(finding(file, i + 1, (m.index ?? 0) + 1, `"${m[1]}"`))
    }
  })
  return found
}

/**
 * Paths snapcraft.yaml's parts put into the snap: their `prime` and `stage` entries and their
 * `organize` targets (globs kept as written, exclusions left out). Content a part builds is not
 * missing from a project just because it is not there before the build.
 */
export function partOutputs(snapcraftText: string): string[] {
  const {root} = parseYaml(snapcraftText)
  const parts = root?.kind === 'map' ? root.pairs.find((p) => p.key.kind === 'scalar' && p.key.value === 'parts')?.value : undefined
  if (parts?.kind !== 'map') return []
  const out: string[] = []
  for (const {value: part} of parts.pairs) {
    if (part.kind !== 'map') continue
    for (const {key, value} of part.pairs) {
      if (key.kind !== 'scalar') continue
      if ((key.value === 'prime' || key.value === 'stage') && value.kind === 'seq') {
        for (const entry of value.items) if (entry.kind === 'scalar' && !entry.value.startsWith('-')) out.push(entry.value)
      } else if (key.value === 'organize' && value.kind === 'map') {
        for (const {value: target} of value.pairs) if (target.kind === 'scalar') out.push(target.value)
      }
    }
  }

  return out.map((p) => p.replace(/^\/+/, '').replace(/^\(\w+\)\//, ''))
}

/**
 * The newest `snapdX.Y[.Z]` in the top-level `assumes:` of a snapcraft.yaml or meta/snap.yaml:
 * a snapd older than that refuses to install the snap, so it is the oldest snapd the gadget
 * meets. Undefined when the snap assumes no snapd release.
 */
export function assumedSnapd(snapYamlText: string): string | undefined {
  const {root} = parseYaml(snapYamlText)
  const assumes = root?.kind === 'map' ? root.pairs.find((p) => p.key.kind === 'scalar' && p.key.value === 'assumes')?.value : undefined
  if (assumes?.kind !== 'seq') return undefined
  let newest: string | undefined
  for (const item of assumes.items) {
    const release = item.kind === 'scalar' ? /^snapd(\d+\.\d+(?:\.\d+)?)$/.exec(item.value)?.[1] : undefined
    if (release && (newest === undefined || compareReleases(release, newest) > 0)) newest = release
  }

  return newest
}

function compareReleases(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0)
  return 0
}

/** Whether `path` (a gadget content path) is one of `outputs`, or inside one, by name or glob. */
export function producedByParts(path: string, outputs: readonly string[]): boolean {
  const clean = path.replace(/^\/+/, '').replace(/\/+$/, '')
  return outputs.some((output) => {
    const o = output.replace(/\/+$/, '')
    if (o === clean || clean.startsWith(`${o}/`)) return true
    if (!/[*?[]/.test(o)) return false
    const re = new RegExp(
      `^${o
        .replaceAll(/[.+^${}()|\\]/g, '\\$&')
        .replaceAll('**', '\u0000')
        .replaceAll('*', '[^/]*')
        .replaceAll('\u0000', '.*')
        .replaceAll('?', '[^/]')}(/.*)?$`,
    )
    return re.test(clean)
  })
}

/** Header names whose values are credentials. */
const secretHeader = /api[-_]?key|authori[sz]ation|token|secret|passw(or)?d|credential|cookie/i
/** Values that stand for a key rather than being one: empty, a variable, `<key>`, `xxxx`. */
const placeholderValue = /^\s*$|\$|^<[^>]*>$|^(x+|\*+|\.+|0+|changeme|todo)$/i

/** The value of key `name` in a YAML (or JSON) mapping node; undefined for another node or a missing key. */
function child(node: YamlNode | undefined, name: string): YamlNode | undefined {
  return node?.kind === 'map' ? node.pairs.find((p) => p.key.kind === 'scalar' && p.key.value === name)?.value : undefined
}

/**
 * runtime/registration.json: a header whose value is a literal credential (N14: it must come from
 * the environment or `snap set`), and a device service reached over plain http (N17: the api-key
 * and the serial request travel in clear), unless on the loopback interface.
 */
export function registrationConfigFindings(file: string, text: string): Finding[] {
  const {lineStarts, root} = parseYaml(text)
  if (root?.kind !== 'map') return []
  const found: Finding[] = []
  const headers = child(root, 'headers')
  if (headers?.kind === 'map') {
    for (const {key, value} of headers.pairs) {
      if (key.kind !== 'scalar' || value.kind !== 'scalar' || !secretHeader.test(key.value) || placeholderValue.test(value.value)) continue
      const at = position(lineStarts, value.start)
      found.push({...finding(file, at.line, at.column, `header "${key.value}"`), message: `header "${key.value}" holds a literal secret (the value is sent to the device service, and now sits in the repository)`})
    }
  }

  const url = child(child(root, 'deviceService'), 'url')
  if (url?.kind === 'scalar' && /^http:\/\//i.test(url.value.trim()) && !isLoopback(url.value.trim())) {
    const at = position(lineStarts, url.start)
    found.push({
      file,
      hint: 'use an https:// URL; plain http is fine only for a service on the device itself (localhost)',
      message: 'the device service URL is plain http: the api-key header and the serial request travel in clear',
      rule: 'N17',
      severity: 'warning',
      start: at,
    })
  }

  return found
}

/** The first snapd that runs a gadget's prepare-serial-request hook (secure device onboarding). */
const SERIAL_REQUEST_HOOK_SNAPD = '2.74'

/** A file of the project, read: shown path and text. */
export interface ProjectText {
  file: string
  text: string
}

export interface SerialRequestHookInputs {
  /** snapcraft.yaml or meta/snap.yaml. */
  snapYaml?: ProjectText
  /** The files in snap/hooks (meta/hooks), by hook name. */
  hooks: ReadonlyMap<string, ProjectText>
  registration?: ProjectText
}

/**
 * The prepare-serial-request hook of hardware-identity onboarding: N18 when the snap does not
 * assume snapd 2.74 or newer (snapd before 2.74 drops hooks it does not know without a word, so
 * the gadget installs and the device sends a serial-request without the proof); N19 when
 * prepare-device still sends an api-key header (registration.json's headers, or a hand-written
 * hook setting device-service.headers with one).
 */
export function serialRequestHookFindings(inputs: SerialRequestHookInputs): Finding[] {
  const hook = inputs.hooks.get('prepare-serial-request')
  const declared = inputs.snapYaml !== undefined && /^hooks:\s*\n(?:[ \t]+.*\n|\s*\n)*?[ \t]+prepare-serial-request\s*:/m.test(inputs.snapYaml.text)
  if (!hook && !declared) return []
  const found: Finding[] = []
  const assumed = inputs.snapYaml ? assumedSnapd(inputs.snapYaml.text) : undefined
  if (assumed === undefined || compareReleases(assumed, SERIAL_REQUEST_HOOK_SNAPD) < 0) {
    const at = hook ?? inputs.snapYaml!
    found.push({
      file: inputs.snapYaml?.file ?? at.file,
      hint: `add "assumes: [snapd${SERIAL_REQUEST_HOOK_SNAPD}]" to ${inputs.snapYaml ? 'it' : 'snapcraft.yaml'}: snapd before ${SERIAL_REQUEST_HOOK_SNAPD} then refuses to install the gadget instead of registering without the hook`,
      message: `the gadget has a prepare-serial-request hook but ${assumed === undefined ? 'assumes no snapd release' : `assumes only snapd${assumed}`}: snapd before ${SERIAL_REQUEST_HOOK_SNAPD} skips the hook without a word and sends its serial-request without the hardware proof`,
      rule: 'N18',
      severity: 'warning',
      start: inputs.snapYaml ? assumesPosition(inputs.snapYaml.text) : {column: 1, line: 1},
    })
  }

  const apiKey = apiKeyHeaderOf(inputs)
  if (apiKey) {
    found.push({
      file: apiKey.file,
      hint: 'remove the api-key header ("onboarding": "hardware-identity" in runtime/registration.json sends none): the device proves who it is with its hardware identity key, and an api-key on every device is the shared secret this does away with',
      message: 'the gadget has a prepare-serial-request hook, and prepare-device still sends an api-key header',
      rule: 'N19',
      severity: 'warning',
      start: apiKey.start,
    })
  }

  return found
}

/** The first line of a runtime built by snap-gadget: the onboarding mode it carries the cryptography of. */
const RUNTIME_MODE_LINE = /^\/\* snap-gadget runtime: (api-key|hardware-identity) onboarding \*\/$/

/**
 * N20: runtime/prepare-device.cjs was built for another onboarding mode than runtime/registration.json
 * asks for. On QuickJS each runtime carries only its own mode's keys (Ed25519 for api-key, ECDSA for
 * hardware-identity), so the hooks would fail at the device's first boot in the factory. A runtime
 * without the line (made before there were two) carries both.
 */
export function runtimeModeFindings(registration: ProjectText | undefined, runtime: ProjectText | undefined): Finding[] {
  const built = runtime && RUNTIME_MODE_LINE.exec(runtime.text)?.[1]
  if (!registration || !runtime || !built) return []
  const {root} = parseYaml(registration.text)
  if (root?.kind !== 'map') return []
  const onboarding = child(root, 'onboarding')
  const modeNode = onboarding?.kind === 'map' ? child(onboarding, 'mode') : onboarding
  const mode = modeNode?.kind === 'scalar' ? modeNode.value : 'api-key'
  const identity = child(root, 'identity')
  const enabled = identity?.kind === 'map' ? child(identity, 'enabled') : identity
  const identityOff = enabled?.kind === 'scalar' && enabled.value === 'false'
  // The api-key runtime lacks only ECDSA; the hardware-identity one only the Ed25519 identity, which api-key onboarding may turn off.
  const mismatch = built === 'api-key' ? mode === 'hardware-identity' : mode !== 'hardware-identity' && !identityOff
  if (!mismatch) return []
  const other = built === 'api-key' ? 'prepare-device-hardware-identity.cjs' : 'prepare-device.cjs'
  return [
    {
      file: runtime.file,
      hint: `copy snap-gadget's dist/runtime/${other} over it (what snap-gadget init ships for ${mode} onboarding)`,
      message: `${runtime.file} is the runtime for ${built} onboarding, and ${registration.file} asks for ${mode === 'hardware-identity' ? 'hardware-identity onboarding' : 'the Ed25519 device identity of api-key onboarding'}: on QuickJS the hooks fail at the device's first boot`,
      rule: 'N20',
      severity: 'warning',
      start: {column: 1, line: 1},
    },
  ]
}

/** Where prepare-device sets an api-key header: registration.json's headers, or the hook's own snapctl set. */
function apiKeyHeaderOf(inputs: SerialRequestHookInputs): undefined | {file: string; start: {column: number; line: number}} {
  if (inputs.registration) {
    const {lineStarts, root} = parseYaml(inputs.registration.text)
    const headers = child(root, 'headers')
    const key = headers?.kind === 'map' ? headers.pairs.find((p) => p.key.kind === 'scalar' && keyName.test(p.key.value)) : undefined
    if (key) return {file: inputs.registration.file, start: position(lineStarts, key.key.start)}
  }

  const hook = inputs.hooks.get('prepare-device')
  if (!hook) return undefined
  const lines = hook.text.split('\n')
  const line = lines.findIndex((text) => !/^\s*#/.test(text) && /device-service\.headers/.test(text) && keyName.test(text))
  return line === -1 ? undefined : {file: hook.file, start: {column: 1, line: line + 1}}
}

/** The line of `assumes:` in snap YAML, else the top. */
function assumesPosition(text: string): {column: number; line: number} {
  const line = text.split('\n').findIndex((l) => /^assumes\s*:/.test(l))
  return {column: 1, line: line === -1 ? 1 : line + 1}
}

function isLoopback(url: string): boolean {
  let host: string
  try {
    host = new URL(url).hostname
  } catch {
    return false
  }

  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
