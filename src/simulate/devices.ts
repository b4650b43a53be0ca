/**
 * What makes simulated devices distinct: a serial pattern (`ACME-{n:06}`) that gives device n its
 * proposed serial, or a captured-hardware template, a root tree in which a file holding the same
 * placeholder is written per device with n in its place. Both are read once and bounded.
 */
import {lstatSync, readdirSync, readlinkSync} from 'node:fs'
import {chmod, mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, relative, resolve} from 'node:path'

import {UserError} from '../errors.js'
import {readBoundedFile} from '../support/bounded-read.js'

/** `{n}` or `{n:0W}`: device n, as it is or zero-padded to W digits. */
const PLACEHOLDER = /\{n(?::0(\d{1,2}))?\}/g
const PLACEHOLDER_HINT = 'write {n} for the device number, or {n:06} for it zero-padded to 6 digits (ACME-{n:06} gives ACME-000001, ACME-000002, …)'

/** A text with `{n}` placeholders, filled in per device. */
export class SerialPattern {
  constructor(readonly text: string) {
    const rest = text.replace(PLACEHOLDER, '')
    if (rest.length === text.length) throw new UserError('E_REGISTER_PATTERN', `the serial pattern ${JSON.stringify(text)} has no {n}: every device would propose the same serial`, {hint: PLACEHOLDER_HINT})
    if (/[{}]/.test(rest)) throw new UserError('E_REGISTER_PATTERN', `the serial pattern ${JSON.stringify(text)} has a brace that is not a {n} placeholder`, {hint: PLACEHOLDER_HINT})
  }

  serial(n: number): string {
    return fill(this.text, n)
  }
}

function fill(text: string, n: number): string {
  return text.replace(PLACEHOLDER, (_m, width?: string) => (width === undefined ? String(n) : String(n).padStart(Number(width), '0')))
}

type TemplateEntry = {kind: 'dir'; mode: number} | {kind: 'file'; mode: number; data: Buffer; templated: boolean} | {kind: 'symlink'; target: string}

/** Bounds of a template: a captured root is a few dozen small files. */
const MAX_TEMPLATE_ENTRIES = 10_000
const MAX_TEMPLATE_FILE_BYTES = 1024 * 1024
const MAX_TEMPLATE_BYTES = 64 * 1024 * 1024

/** A captured-hardware root whose files may hold `{n}` placeholders; materialized once per device. */
export class RootTemplate {
  private constructor(
    readonly dir: string,
    private readonly entries: Map<string, TemplateEntry>,
    /** The files that hold a placeholder, relative to the root. */
    readonly templatedFiles: string[],
  ) {}

  /** Reads the template tree (bounded); it must hold at least one placeholder. */
  static read(dir: string): RootTemplate {
    const root = resolve(dir)
    const entries = new Map<string, TemplateEntry>()
    let total = 0
    const walk = (path: string): void => {
      let names: string[]
      try {
        names = readdirSync(path).sort()
      } catch (error) {
        throw new UserError('E_REGISTER_TEMPLATE', `cannot read ${path} of the hardware template: ${(error as Error).message}`, {
          hint: 'give a directory laid out like / of a device (captured sysfs and procfs files)',
          kind: 'io',
        })
      }

      for (const name of names) {
        const full = join(path, name)
        const rel = relative(root, full)
        if (entries.size >= MAX_TEMPLATE_ENTRIES)
          throw new UserError('E_REGISTER_TEMPLATE', `the hardware template ${dir} has more than ${MAX_TEMPLATE_ENTRIES} entries`, {hint: 'keep only the files the serial and the body read', kind: 'io'})
        const stat = lstatSync(full)
        if (stat.isSymbolicLink()) entries.set(rel, {kind: 'symlink', target: readlinkSync(full)})
        else if (stat.isDirectory()) {
          entries.set(rel, {kind: 'dir', mode: stat.mode & 0o7777})
          walk(full)
        } else if (stat.isFile()) {
          const data = readBoundedFile(full, MAX_TEMPLATE_FILE_BYTES, {what: 'hardware template'})
          total += data.length
          if (total > MAX_TEMPLATE_BYTES)
            throw new UserError('E_REGISTER_TEMPLATE', `the hardware template ${dir} holds more than ${MAX_TEMPLATE_BYTES} bytes`, {hint: 'keep only the files the serial and the body read', kind: 'io'})
          PLACEHOLDER.lastIndex = 0
          entries.set(rel, {data, kind: 'file', mode: stat.mode & 0o7777, templated: PLACEHOLDER.test(data.toString('latin1'))})
        }
      }
    }

    walk(root)
    const templated = [...entries].filter(([, e]) => e.kind === 'file' && e.templated).map(([rel]) => rel)
    if (templated.length === 0) {
      throw new UserError('E_REGISTER_TEMPLATE', `no file of the hardware template ${dir} holds a {n} placeholder: every device would read the same hardware`, {
        hint: `put {n} (or {n:06}) where the serial is, e.g. in sys/class/dmi/id/product_serial; ${PLACEHOLDER_HINT}`,
      })
    }

    return new RootTemplate(root, entries, templated)
  }

  /** Writes device n's root into a new temporary directory; the caller removes it. */
  async materialize(n: number): Promise<string> {
    const out = await mkdtemp(join(tmpdir(), 'snap-gadget-root-'))
    const modes: [string, number][] = []
    for (const [rel, entry] of this.entries) {
      const path = join(out, rel)
      if (entry.kind === 'dir') {
        await mkdir(path, {recursive: true})
        modes.push([path, entry.mode])
      } else if (entry.kind === 'symlink') await symlink(entry.target, path)
      else {
        // latin1 keeps every byte of a binary capture; the placeholder is ASCII.
        await writeFile(path, entry.templated ? Buffer.from(fill(entry.data.toString('latin1'), n), 'latin1') : entry.data)
        await chmod(path, entry.mode)
      }
    }

    // Directory modes last, so a read-only directory does not stop its own files being written.
    for (const [path, mode] of modes.reverse()) await chmod(path, mode)
    return out
  }

  /** Removes a materialized root, its read-only directories included. */
  async remove(root: string): Promise<void> {
    for (const [rel, entry] of this.entries) if (entry.kind === 'dir') await chmod(join(root, rel), 0o700).catch(() => {})
    await rm(root, {force: true, recursive: true})
  }
}
