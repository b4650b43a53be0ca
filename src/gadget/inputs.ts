/**
 * What a path given to `validate` is: a gadget.yaml file, a gadget project (gadget.yaml beside
 * snap/snapcraft.yaml), or a built snap tree (meta/gadget.yaml beside meta/snap.yaml).
 */
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {ioError, UserError} from '../errors.js'
import {readBoundedFile} from '../support/bounded-read.js'
import {displayPath} from '../support/display-path.js'

type GadgetKind = 'file' | 'project' | 'snap'

export interface GadgetLocation {
  kind: GadgetKind
  /** gadget.yaml as shown in findings (relative to the working directory when inside it). */
  file: string
  /** Absolute path of gadget.yaml. */
  path: string
  /** The project or snap root (content is looked up there). */
  root?: string
  /** Other files worth checking (snapcraft.yaml, snap.yaml, hooks), shown and absolute. */
  extras: Array<{file: string; path: string; yaml: boolean; registration?: boolean; runtime?: boolean}>
}

/** gadget.yaml files this large are not gadget.yaml files: refused before parsing. */
export const MAX_GADGET_BYTES = 4 * 1024 * 1024

export function locateGadget(input: string, cwd = process.cwd()): GadgetLocation {
  const abs = resolve(cwd, input)
  let stat
  try {
    stat = statSync(abs)
  } catch (error) {
    throw ioError(input, error, 'read')
  }

  if (!stat.isDirectory()) return {extras: [], file: displayPath(abs, cwd), kind: 'file', path: abs}
  const hooks = (dir: string) => {
    try {
      return readdirSync(dir)
        .filter((f) => statSync(join(dir, f)).isFile())
        .map((f) => ({file: displayPath(join(dir, f), cwd), path: join(dir, f), yaml: false}))
    } catch {
      return []
    }
  }

  // The prepare-device runtime's configuration and the runtime itself, where init puts them.
  const registrationConfig = (dir: string) => {
    const config = join(dir, 'runtime', 'registration.json')
    const runtime = join(dir, 'runtime', 'prepare-device.cjs')
    return [
      ...(existsSync(config) ? [{file: displayPath(config, cwd), path: config, registration: true, yaml: false}] : []),
      ...(existsSync(runtime) ? [{file: displayPath(runtime, cwd), path: runtime, runtime: true, yaml: false}] : []),
    ]
  }

  const metaGadget = join(abs, 'meta', 'gadget.yaml')
  if (existsSync(metaGadget)) {
    const extras = [...hooks(join(abs, 'meta', 'hooks')), ...registrationConfig(abs)]
    const snapYaml = join(abs, 'meta', 'snap.yaml')
    if (existsSync(snapYaml)) extras.unshift({file: displayPath(snapYaml, cwd), path: snapYaml, yaml: true})
    return {extras, file: displayPath(metaGadget, cwd), kind: 'snap', path: metaGadget, root: abs}
  }

  const gadget = join(abs, 'gadget.yaml')
  if (existsSync(gadget)) {
    const extras = [...hooks(join(abs, 'snap', 'hooks')), ...registrationConfig(abs)]
    for (const candidate of [join(abs, 'snap', 'snapcraft.yaml'), join(abs, 'snapcraft.yaml'), join(abs, '.snapcraft.yaml')]) {
      if (existsSync(candidate)) {
        extras.unshift({file: displayPath(candidate, cwd), path: candidate, yaml: true})
        break
      }
    }

    return {extras, file: displayPath(gadget, cwd), kind: 'project', path: gadget, root: abs}
  }

  const perArch = safeList(abs).filter((f) => /^gadget-.+\.ya?ml$/.test(f))
  throw new UserError('E_NO_GADGET', `${displayPath(abs, cwd)} has no gadget.yaml (nor meta/gadget.yaml)`, {
    file: displayPath(abs, cwd),
    hint:
      perArch.length > 0
        ? `validate the per-architecture file directly, e.g. "snap-gadget validate ${join(input, perArch[0])}"`
        : 'give a gadget.yaml, a gadget project directory (gadget.yaml and snap/snapcraft.yaml) or a built snap tree (meta/gadget.yaml)',
    kind: 'io',
  })
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** Reads a file the user named: a regular file of at most `limit` bytes, else a UserError (exit 2) that says which and why. */
export function readUserFile(path: string, shown: string, limit = MAX_GADGET_BYTES): Uint8Array {
  return readBoundedFile(path, limit, {shown, what: 'gadget.yaml'})
}
