/**
 * `file`: any file under the root, whole or through a regular expression (first capture group, or
 * the whole match). For identity files this SDK has no dedicated source for (a vendor id written
 * at the factory, /etc/nv_tegra_release style files, …).
 */
import {readingFromError} from './context.js'
import {defineSource} from './definition.js'
import type {SnapInterface, ValueFormat} from './source.js'
import {found, unavailable} from './source.js'

interface FileOptions {
  path: string
  regex?: RegExp
  format: ValueFormat
  plugs?: readonly SnapInterface[]
}

export const file = defineSource<FileOptions>({
  create({format, path, plugs, regex}) {
    // sysfs and the device tree need hardware-observe; most other files need nothing extra.
    const needs: readonly SnapInterface[] = plugs ?? (/^\/(sys|proc\/device-tree)\//.test(path) ? ['hardware-observe'] : [])
    return {
      description: `${path}${regex ? ` matching ${regex}` : ''}`,
      id: 'file',
      plugs: needs,
      async read(context) {
        let text: string
        try {
          text = (await context.fs.readFile(path)).toString('utf8')
        } catch (error) {
          return readingFromError(error, path, needs.join(', ') || 'the right interface')
        }

        if (!regex) return found(text, path, format)
        const match = regex.exec(text)
        if (!match) return unavailable('invalid', `no match for ${regex} in ${path}`, path, text.slice(0, 200))
        return found(match[1] ?? match[0], path, format)
      },
    }
  },
  id: 'file',
  options: {
    format: {default: 'text', doc: 'text, hex, uuid or mac (hex-like formats get their case folded)', enum: ['text', 'hex', 'uuid', 'mac'], type: 'string'},
    path: {doc: 'absolute path under the root, e.g. /etc/acme/board-id', pattern: /^\//, required: true, type: 'string'},
    plugs: {doc: 'snap interfaces the hook needs to read it', type: 'plugs'},
    regex: {doc: 'regular expression; the first capture group (or the match) is the value', type: 'regex'},
  },
  plugs: [],
  primary: 'path',
  summary: 'any file under the root, optionally through a regular expression',
})
