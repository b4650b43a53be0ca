/**
 * What a factory station exports of each device's hardware identity key, read and checked: one
 * JSON object per file (`.json`), one per line (`.jsonl`), or CSV with a header line (`.csv`), or a
 * directory of such files (schemas/hardware-identity-export.schema.json):
 *
 *     hardware-id               the device's id (its derived serial, by default)
 *     hardware-id-key           one line of standard base64 (padded) of the DER SubjectPublicKeyInfo:
 *                               the hardware-identity assertion's header, exactly
 *     hardware-id-key-sha3-384  unpadded base64url SHA3-384 of the ASCII bytes of that line
 *     key-type                  ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072 or rsa-4096
 *     public-key-pem            the same key as PEM ("BEGIN PUBLIC KEY")
 *     brand-id, model           optional: what the device was made for
 *     manufacturer, hardware-name   optional: per-device values for the assertion
 *
 * Every row is checked before anything is signed: the digest is the key's, the key type is the
 * key's and one snapd verifies with, the PEM is the same key. A field the row does not know is
 * left alone, unless it looks like a misspelling of one it knows.
 */
import {createPublicKey} from 'node:crypto'
import {readdirSync, statSync} from 'node:fs'
import {extname, join} from 'node:path'

import {HARDWARE_KEY_TYPES, HARDWARE_NAME, HARDWARE_NAME_RULE, type HardwareIdKey, readHardwareIdKey} from '../assertions/hardware-identity.js'
import {ioError, UserError} from '../errors.js'
import {readBoundedFile} from '../support/bounded-read.js'
import {quoteInput} from '../support/echo.js'
import {didYouMean} from '../support/suggest.js'

/** A station export of a large line (100,000 devices with RSA-4096 keys) is about 150 MB. */
export const MAX_EXPORT_FILE_BYTES = 256 * 1024 * 1024
/** The files of a directory read at most. */
const MAX_EXPORT_FILES = 100_000
/** A hardware id longer than this is no id a person or a serial could use. */
const MAX_HARDWARE_ID_LENGTH = 512
const MAX_TEXT_LENGTH = 1024

const EXPORT_FIELDS = ['hardware-id', 'hardware-id-key', 'hardware-id-key-sha3-384', 'key-type', 'public-key-pem'] as const
const OPTIONAL_EXPORT_FIELDS = ['brand-id', 'model', 'manufacturer', 'hardware-name'] as const
const KNOWN_FIELDS = [...EXPORT_FIELDS, ...OPTIONAL_EXPORT_FIELDS]
const EXPORT_EXTENSIONS = new Set(['.csv', '.json', '.jsonl'])

/** One device of an export, checked. */
export interface StationRow {
  hardwareId: string
  key: HardwareIdKey
  brandId?: string
  model?: string
  manufacturer?: string
  hardwareName?: string
  /** Where it was read: `file:line`. */
  source: string
}

interface StationExport {
  rows: StationRow[]
  /** The files read, in order. */
  files: string[]
  /** Files of a directory that are not exports (no .json, .jsonl or .csv name), left unread. */
  skipped: string[]
}

/** Reads the exports at `paths` (files, or directories of them), every row checked. */
export function readStationExports(paths: readonly string[]): StationExport {
  const result: StationExport = {files: [], rows: [], skipped: []}
  for (const path of paths) {
    let isDirectory: boolean
    try {
      isDirectory = statSync(path).isDirectory()
    } catch (error) {
      throw ioError(path, error)
    }

    if (isDirectory) {
      let names: string[]
      try {
        names = readdirSync(path).sort()
      } catch (error) {
        throw ioError(path, error)
      }

      if (names.length > MAX_EXPORT_FILES) {
        throw new UserError('E_HARDWARE_EXPORT', `${path} holds ${names.length} files; snap-gadget reads at most ${MAX_EXPORT_FILES} from a directory`, {file: path, hint: 'sign the exports a directory at a time'})
      }

      const exports = names.filter((name) => !name.startsWith('.') && EXPORT_EXTENSIONS.has(extname(name).toLowerCase()))
      result.skipped.push(...names.filter((name) => !name.startsWith('.') && !exports.includes(name)).map((name) => join(path, name)))
      if (exports.length === 0) {
        throw new UserError('E_HARDWARE_EXPORT', `${path} holds no station export (a .json, .jsonl or .csv file)`, {file: path, hint: 'give the directory the stations write their exports to, or the files themselves'})
      }

      for (const name of exports) readFile(join(path, name), result)
    } else {
      readFile(path, result)
    }
  }

  return result
}

function readFile(file: string, into: StationExport): void {
  const text = readBoundedFile(file, MAX_EXPORT_FILE_BYTES, {what: 'station export'}).toString('utf8')
  into.files.push(file)
  const form = formOf(file, text)
  const records = form === 'csv' ? csvRecords(text, file) : form === 'json' ? [jsonRecord(text, file, 1)] : jsonlRecords(text, file)
  if (records.length === 0) throw new UserError('E_HARDWARE_EXPORT', `${file} holds no device`, {file, hint: 'a station writes one device per JSON file, per JSONL line or per CSV row'})
  for (const record of records) into.rows.push(checkRow(record.fields, file, record.line))
}

type Form = 'csv' | 'json' | 'jsonl'

/** By the name's extension; another name is read by its first character and lines. */
function formOf(file: string, text: string): Form {
  const extension = extname(file).toLowerCase()
  if (extension === '.csv') return 'csv'
  if (extension === '.json') return 'json'
  if (extension === '.jsonl') return 'jsonl'
  const trimmed = text.trimStart()
  if (!trimmed.startsWith('{')) return 'csv'
  return trimmed
    .trimEnd()
    .split('\n')
    .filter((line) => line.trim() !== '').length > 1 && /^\s*\{.*\}\s*$/.test(trimmed.split('\n')[0])
    ? 'jsonl'
    : 'json'
}

interface RawRecord {
  fields: Record<string, unknown>
  line: number
}

function jsonRecord(text: string, file: string, line: number): RawRecord {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new UserError('E_HARDWARE_EXPORT', `${file}:${line}: not JSON: ${(error as Error).message}`, {
      file,
      hint: 'a .json export holds one JSON object: the device; several devices go in a .jsonl file, one object a line',
      line,
    })
  }

  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError('E_HARDWARE_EXPORT', `${file}:${line}: a station export is one JSON object per device, not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}`, {
      file,
      hint: 'write one object per .json file, or one object a line in a .jsonl file',
      line,
    })
  }

  return {fields: value as Record<string, unknown>, line}
}

function jsonlRecords(text: string, file: string): RawRecord[] {
  const records: RawRecord[] = []
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue
    records.push(jsonRecord(line, file, index + 1))
  }

  return records
}

/** RFC 4180: a header line, then records; quoted fields may hold commas, quotes ("") and line breaks. */
function csvRecords(text: string, file: string): RawRecord[] {
  const rows: {cells: string[]; line: number}[] = []
  let cells: string[] = []
  let cell = ''
  let line = 1
  let rowLine = 1
  let quoted = false
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  const endRow = () => {
    cells.push(cell)
    if (cells.length > 1 || cells[0] !== '') rows.push({cells, line: rowLine})
    cells = []
    cell = ''
  }

  for (; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"'
          i++
        } else {
          quoted = false
        }
      } else {
        if (c === '\n') line++
        cell += c
      }
    } else if (c === '"') {
      if (cell !== '') throw csvError(file, line, 'a quote inside an unquoted cell', 'quote the whole cell and double the quotes inside it')
      quoted = true
    } else if (c === ',') {
      cells.push(cell)
      cell = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      endRow()
      line++
      rowLine = line
    } else {
      cell += c
    }
  }

  if (quoted) throw csvError(file, rowLine, 'a quoted cell is not closed', 'close the quote; a PEM key in a cell is quoted whole')
  endRow()
  if (rows.length === 0) return []
  const [header, ...body] = rows
  const names = header.cells.map((name) => name.trim())
  const seen = new Set<string>()
  for (const name of names) {
    if (seen.has(name)) throw csvError(file, header.line, `the header names ${quoteInput(name)} twice`, 'name each column once')
    seen.add(name)
  }

  if (!names.includes('hardware-id')) {
    throw csvError(
      file,
      header.line,
      `the first line is not a header naming the columns (${names
        .slice(0, 5)
        .map((n) => quoteInput(n, 40))
        .join(', ')})`,
      `start the file with the header: ${EXPORT_FIELDS.join(',')}`,
    )
  }

  return body.map((row) => {
    if (row.cells.length !== names.length) throw csvError(file, row.line, `the row has ${row.cells.length} cells, the header ${names.length}`, 'quote a cell that holds a comma or a line break (a PEM key)')
    return {fields: Object.fromEntries(names.map((name, n) => [name, row.cells[n]])), line: row.line}
  })
}

function csvError(file: string, line: number, why: string, hint: string): UserError {
  return new UserError('E_HARDWARE_EXPORT', `${file}:${line}: ${why}`, {file, hint, line})
}

/** One device's fields, checked against each other. */
function checkRow(fields: Record<string, unknown>, file: string, line: number): StationRow {
  const source = `${file}:${line}`
  const fail = (why: string, hint: string): UserError => new UserError('E_HARDWARE_EXPORT', `${source}: ${why}`, {file, hint, line})
  for (const name of Object.keys(fields)) {
    if (KNOWN_FIELDS.includes(name as (typeof KNOWN_FIELDS)[number])) continue
    const meant = didYouMean(name, KNOWN_FIELDS)
    if (meant !== undefined) throw fail(`unknown field ${quoteInput(name)}`, `did you mean ${meant}? An export's fields are ${KNOWN_FIELDS.join(', ')}`)
  }

  const text = (name: string, required: boolean): string | undefined => {
    const value = fields[name]
    if (value === undefined || value === '') {
      if (required) throw fail(`the ${name} field is missing`, `a station export gives ${EXPORT_FIELDS.join(', ')} for every device`)
      return undefined
    }

    if (typeof value !== 'string') throw fail(`the ${name} field is ${value === null ? 'null' : `a ${Array.isArray(value) ? 'list' : typeof value}`}, not a string`, 'write every field as a JSON string')
    return value
  }

  const plain = (name: string, value: string | undefined, max: number): string | undefined => {
    if (value === undefined) return undefined
    if (/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/.test(value)) throw fail(`the ${name} ${quoteInput(value)} holds a control character or line break`, `write the ${name} on one line of printable characters`)
    if (value.trim() !== value) throw fail(`the ${name} ${quoteInput(value)} has surrounding spaces`, `remove them: the ${name} is compared as written`)
    if ([...value].length > max) throw fail(`the ${name} is ${[...value].length} characters, more than ${max}`, `check what the station writes as the ${name}`)
    return value
  }

  const hardwareId = plain('hardware-id', text('hardware-id', true), MAX_HARDWARE_ID_LENGTH)!
  let key: HardwareIdKey
  try {
    key = readHardwareIdKey(text('hardware-id-key', true)!, `${source}: the hardware-id-key of ${quoteInput(hardwareId)}`)
  } catch (error) {
    if (error instanceof UserError) throw new UserError('E_HARDWARE_EXPORT', error.message, {file, hint: error.hint, line})
    throw error
  }

  const digest = text('hardware-id-key-sha3-384', true)!
  if (digest !== key.digest) {
    throw fail(
      `the hardware-id-key-sha3-384 of ${quoteInput(hardwareId)} is not the digest of its hardware-id-key (${key.digest})`,
      'the digest is the unpadded base64url SHA3-384 of the ASCII text of the hardware-id-key line: the export was changed, or made from another key',
    )
  }

  const keyType = text('key-type', true)!
  if (!HARDWARE_KEY_TYPES.includes(keyType as HardwareIdKey['type'])) throw fail(`the key-type ${quoteInput(keyType)} is not one snapd verifies with`, `one of ${HARDWARE_KEY_TYPES.join(', ')}`)
  if (keyType !== key.type) throw fail(`the key-type says ${keyType}, but the hardware-id-key is ${key.type}`, 'the station must export the key type of the key it exports')

  const pem = text('public-key-pem', true)!
  let same: boolean
  try {
    same = createPublicKey({format: 'pem', key: pem}).export({format: 'der', type: 'spki'}).equals(Buffer.from(key.text, 'base64'))
  } catch (error) {
    throw fail(`the public-key-pem of ${quoteInput(hardwareId)} is not a PEM public key: ${(error as Error).message}`, 'export the key as PEM ("-----BEGIN PUBLIC KEY-----")')
  }

  if (!same) throw fail(`the public-key-pem of ${quoteInput(hardwareId)} is not the key of its hardware-id-key`, 'the station must export one key in both forms')
  const hardwareName = plain('hardware-name', text('hardware-name', false), MAX_TEXT_LENGTH)
  if (hardwareName !== undefined && !HARDWARE_NAME.test(hardwareName)) throw fail(`the hardware-name ${quoteInput(hardwareName)} is not snapd's form`, `give ${HARDWARE_NAME_RULE}`)
  const row: StationRow = {hardwareId, key, source}
  const optionalFields = {
    brandId: plain('brand-id', text('brand-id', false), MAX_TEXT_LENGTH),
    hardwareName,
    manufacturer: plain('manufacturer', text('manufacturer', false), MAX_TEXT_LENGTH),
    model: plain('model', text('model', false), MAX_TEXT_LENGTH),
  }
  for (const [name, value] of Object.entries(optionalFields)) if (value !== undefined) (row as unknown as Record<string, string>)[name] = value
  return row
}
