/**
 * `module`: a vendor's own JavaScript module, the plugin point for boards this SDK does not ship.
 *
 * The module exports (as `default`, or the name given in `export`) either a {@link SerialSource}
 * or a factory `(options) => SerialSource` (may be async). `read(context)` may return a full
 * reading, a string, `{value}`, `{reason}` or nothing. See examples/serial-plugin/.
 */
import {isAbsolute, resolve} from 'node:path'

import {errnoOf} from './context.js'
import {defineSource} from './definition.js'
import {configError, isRecord, SNAP_INTERFACES} from '../config/options.js'
import {host} from '../../support/host.js'
import type {SerialSource, SnapInterface, SourceContext, SourceReading, UnavailableStatus, ValueFormat} from './source.js'
import {found, unavailable} from './source.js'

interface ModuleOptions {
  path: string
  export: string
  options?: Readonly<Record<string, unknown>>
}

const STATUSES: readonly UnavailableStatus[] = ['absent', 'denied', 'error', 'invalid', 'timeout']
const FORMATS: readonly ValueFormat[] = ['hex', 'mac', 'text', 'uuid']

export const moduleSource = defineSource<ModuleOptions>({
  async create({export: name, options, path}, {place, path: at}) {
    const file = isAbsolute(path) ? path : resolve(place.baseDir ?? host().cwd(), path)
    let loaded: Record<string, unknown>
    try {
      loaded = await host().importModule(file)
    } catch (error) {
      const missing = errnoOf(error) === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(file)
      throw configError(
        place,
        [...at, 'options', 'path'],
        missing ? `serial source module ${file} does not exist` : `cannot load serial source module ${file}: ${(error as Error).message}`,
        missing ? 'paths are relative to the configuration file' : 'fix the module so that node can import it on its own',
      )
    }

    const exported = loaded[name]
    const candidate = typeof exported === 'function' ? await (exported as (o: unknown) => unknown)(options ?? {}) : exported
    const problem = pluginProblem(candidate)
    if (problem) {
      throw configError(
        place,
        [...at, 'options', 'path'],
        `${file} (export "${name}") is not a serial source: ${problem}`,
        'export {id, description, plugs, read(context)} or a function returning one (see examples/serial-plugin)',
      )
    }

    return wrap(candidate as SerialSource, file)
  },
  id: 'module',
  options: {
    export: {default: 'default', doc: 'the export holding the source or its factory', pattern: /^[$A-Z_a-z][\w$]*$/, type: 'string'},
    options: {doc: "passed to the module's factory function", type: 'object'},
    path: {doc: 'the module file (.js/.mjs), relative to the configuration file', required: true, type: 'string'},
  },
  plugs: [],
  primary: 'path',
  summary: "a vendor's JavaScript module exporting a SerialSource (the plugin point)",
})

function pluginProblem(candidate: unknown): string | undefined {
  if (!isRecord(candidate)) return `it is ${candidate === null ? 'null' : typeof candidate}, not an object`
  if (typeof candidate.id !== 'string' || !/^[a-z\d][\w.-]*$/i.test(candidate.id)) return 'it has no string "id" (letters, digits, ".", "_", "-")'
  if (typeof candidate.read !== 'function') return 'it has no read(context) function'
  if (candidate.plugs !== undefined && !(Array.isArray(candidate.plugs) && candidate.plugs.every((p) => SNAP_INTERFACES.includes(p as SnapInterface)))) {
    return `"plugs" must list snap interfaces (${SNAP_INTERFACES.join(', ')})`
  }

  return undefined
}

/** The plugin with a forgiving reading contract turned into the strict one. */
function wrap(plugin: SerialSource, file: string): SerialSource {
  const origin = `module ${plugin.id}`
  return {
    description: typeof plugin.description === 'string' ? plugin.description : `plugin ${plugin.id} (${file})`,
    id: plugin.id,
    plugs: plugin.plugs ?? [],
    async read(context: SourceContext): Promise<SourceReading> {
      let result: unknown
      try {
        result = await plugin.read(context)
      } catch (error) {
        const code = errnoOf(error)
        if (code === 'EACCES' || code === 'EPERM') return unavailable('denied', `${plugin.id}: ${(error as Error).message}`, origin)
        return unavailable('error', `${plugin.id} threw: ${(error as Error)?.message ?? String(error)}`, origin)
      }

      return toReading(result, origin)
    },
  }
}

function toReading(result: unknown, origin: string): SourceReading {
  if (result === undefined || result === null) return unavailable('absent', 'the plugin returned nothing', origin)
  if (typeof result === 'string') return found(result, origin)
  if (!isRecord(result)) return unavailable('error', `the plugin returned ${typeof result}, not a reading`, origin)
  const at = typeof result.origin === 'string' ? result.origin : origin
  if (typeof result.value === 'string' && result.ok !== false) {
    const format = FORMATS.includes(result.format as ValueFormat) ? (result.format as ValueFormat) : 'text'
    const notes = Array.isArray(result.notes) ? result.notes.map(String) : undefined
    return found(result.value, at, format, notes ? {notes} : {})
  }

  if (typeof result.reason === 'string') {
    const status = STATUSES.includes(result.status as UnavailableStatus) ? (result.status as UnavailableStatus) : 'absent'
    return unavailable(status, result.reason, at, typeof result.read === 'string' ? result.read : undefined)
  }

  return unavailable('error', 'the plugin returned an object with neither "value" nor "reason"', origin)
}
