/**
 * gadget.go's checks of the top-level keys: defaults, connections and kernel-cmdline.
 */
import type {GadgetInfo} from '../../gadget-types.js'
import {goQuote} from '../../quantity.js'
import type {IfaceValue} from '../../../go-yaml/decode/decode.js'
import {type SnapdContext} from './context.js'

const validSnapId = /^[a-z0-9A-Z]{32}$/

/** metautil.NormalizeValue, reporting the first value snapd refuses. */
function normalizeProblem(v: IfaceValue | Map<string, IfaceValue | undefined>): undefined | {hint: string; message: string} {
  if (v instanceof Map) {
    for (const [k, item] of v) {
      if (item === undefined) return {hint: `give "${k}" a value, or remove it (snapd refuses empty values in defaults)`, message: 'invalid scalar: <nil>'}
      const p = normalizeProblem(item)
      if (p) return p
    }

    return undefined
  }

  switch (v.kind) {
    case 'str':
    case 'bool':
    case 'int':
    case 'float':
    case 'other': {
      return undefined
    }

    case 'null': {
      return {hint: 'give it a value, or remove the key (snapd refuses empty values in defaults)', message: 'invalid scalar: <nil>'}
    }

    case 'uint64': {
      return {hint: 'integers above 9223372036854775807 are refused; quote it to make it a string', message: `invalid scalar: ${v.value}`}
    }

    case 'seq': {
      for (const item of v.items) {
        const p = normalizeProblem(item)
        if (p) return p
      }

      return undefined
    }

    case 'map': {
      for (const [k, item] of v.entries) {
        if (k.kind !== 'str' && k.kind !== 'timestamp' && k.kind !== 'other') {
          const shown = k.kind === 'null' ? '<nil>' : 'value' in k ? String(k.value) : k.kind
          return {hint: 'quote the key so YAML reads it as a string', message: `non-string key: ${shown}`}
        }

        const p = normalizeProblem(item)
        if (p) return p
      }

      return undefined
    }

    default: {
      return undefined
    }
  }
}

export function defaults(cx: SnapdContext, info: GadgetInfo): void {
  if (!info.defaults) return
  for (const [key, value] of info.defaults) {
    const field = cx.loc.field(info.defaults, key)
    if (key !== 'system' && !validSnapId.test(key)) {
      cx.error(
        'T2',
        `default stanza not keyed by "system" or snap-id: ${key}`,
        field?.key,
        /^[a-z0-9-]+$/.test(key)
          ? `defaults are keyed by snap id, not by snap name: replace "${key}" with the 32-character id of the ${key} snap (snap info ${key} shows it), or use "system" for system options`
          : 'use "system" or a 32-character snap id',
        ['defaults', key],
      )
    }

    const bad = value === undefined ? undefined : normalizeProblem(value)
    if (bad) cx.error('T3', `default value map[...] of ${goQuote(key)}: ${bad.message}`, field?.value, bad.hint, ['defaults', key])
  }
}

export function connections(cx: SnapdContext, info: GadgetInfo): void {
  info.connections?.forEach((c, i) => {
    const node = cx.loc.item(info.connections, i)
    const path = ['connections', i]
    if (cx.failed(path)) return
    if (!c.plug || (c.plug.snapId === '' && c.plug.name === '')) {
      cx.error('T4', 'gadget connection plug cannot be empty', node, 'give the plug as "<snap-id>:<plug>", e.g. "system:serial-port" is a slot; plugs name the consuming snap', path)
    }
  })
}

export function kernelCmdline(cx: SnapdContext, info: GadgetInfo): void {
  const kc = info['kernel-cmdline']
  if (!kc?.append) return
  kc.append.forEach((arg, i) => {
    const allowed = !(arg.param === 'root' || arg.param === 'nfsroot' || arg.param === 'init') && (!arg.param.startsWith('snapd') || arg.param === 'snapd.debug' || arg.param === 'snapd_system_disk')
    if (!allowed) {
      // Runtime rule: snapd refuses it on the device, not at snap pack time.
      cx.input.report.add({
        hint: 'root, nfsroot, init and snapd* parameters are set by snapd itself; remove it from append',
        message: `kernel parameter '${arg.param}${arg.value ? `=${arg.value}` : ''}' is not allowed (snapd refuses it on the device)`,
        node: cx.loc.item(kc.append, i),
        rule: 'T6',
        severity: 'warning',
      })
    }
  })
}
