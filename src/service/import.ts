/**
 * `serve import`: hardware-identity assertions into the service's database, checked first as a
 * device service must check them (secure-onboarding.md §1 stage 2: validate format and signature,
 * keep the key and its digest):
 * - each decodes as snapd's assembler decodes it, and its key is one snapd verifies a request-id
 *   signature with;
 * - its issuer is one a model of the config accepts (the brand, or an account of its issuers:);
 * - it is signed by an account-key of its issuer that a chain of the config holds, valid now.
 * Then all are imported or none: an identity already held is unchanged (importing twice is
 * harmless), and a key held under another hardware id, or a hardware id held with another key,
 * stops the import with nothing written.
 */
import {type Assertion, hardwareIdentityView, hardwareKeyTypeOf, describeKey, parseAssertions, verifyAssertionSignature} from '../assertions/index.js'
import {UserError} from '../errors.js'
import {readBoundedFile} from '../support/bounded-read.js'
import {quoteInput} from '../support/echo.js'
import {describeDatabase, type ImportConfig} from './config.js'
import {serialTextProblem} from '../serial/serial-text.js'
import {type AllowedSerial, openStore, type IdentityConflict, type NewHardwareIdentity, type ServiceStore} from './store/index.js'

/** A file of 100,000 identities with RSA-4096 keys is about 250 MB. */
const MAX_IMPORT_FILE_BYTES = 512 * 1024 * 1024

export interface ImportedIdentity {
  file: string
  line: number
  issuerId: string
  hardwareId: string
  digest: string
  keyType: string
}

export interface IdentityImport {
  /** The database, as messages name it (no password). */
  database: string
  identities: ImportedIdentity[]
  /** New to the database. */
  imported: number
  /** Held already, as they are. */
  unchanged: number
  /** Identities the database holds now. */
  held: number
}

export interface ImportOptions {
  now?: Date
  /** An open store (tests); by default the config's database, migrated when it is SQLite. */
  store?: ServiceStore
}

/** Checks every identity of `files`, then imports them all, or none. */
export async function importHardwareIdentities(config: ImportConfig, files: readonly string[], options: ImportOptions = {}): Promise<IdentityImport> {
  const now = options.now ?? new Date()
  const identities: ImportedIdentity[] = []
  const records: NewHardwareIdentity[] = []
  for (const file of files) {
    const bytes = readBoundedFile(file, MAX_IMPORT_FILE_BYTES, {what: 'hardware-identity'})
    for (const assertion of parseAssertions(bytes, {file})) {
      const record = checkIdentity(config, assertion, file, now)
      records.push(record)
      identities.push({digest: record.digest, file, hardwareId: record.hardwareId, issuerId: record.issuerId, keyType: record.keyType, line: assertion.line})
    }
  }

  const store = options.store ?? (await openStore(config.database))
  try {
    const outcome = await store.importIdentities(records, now)
    if (outcome.kind === 'conflicts') throw conflictError(outcome.conflicts, identities)
    return {database: describeDatabase(config.database), held: await store.identityCount(), identities, imported: outcome.imported, unchanged: outcome.unchanged}
  } finally {
    if (!options.store) await store.close()
  }
}

function checkIdentity(config: ImportConfig, assertion: Assertion, file: string, now: Date): NewHardwareIdentity {
  const fail = (why: string, hint: string): UserError => new UserError('E_SERVE_IMPORT', `${file}:${assertion.line}: ${why}`, {file, hint, kind: 'failed', line: assertion.line})
  if (assertion.type !== 'hardware-identity') throw fail(`a ${assertion.type} assertion; serve import takes hardware-identity assertions`, 'give the files snap-gadget hardware-identity sign wrote')
  const view = hardwareIdentityView(assertion, file)
  const keyType = hardwareKeyTypeOf(view.publicKey)
  if (keyType === undefined) {
    throw fail(
      `the hardware key of ${quoteInput(view.hardwareId)} is ${describeKey(view.publicKey)}, which snapd cannot verify a request-id signature with`,
      'the device needs an ECDSA P-256 or P-384 key, or an RSA key of 2048, 3072 or 4096 bits with the exponent 65537',
    )
  }

  const issuer = view.issuerId
  if (!config.models.some((m) => m.onboarding.hardwareIdentity && m.issuers.includes(issuer))) {
    const onboarding = config.models.filter((m) => m.onboarding.hardwareIdentity).map((m) => `${m.brand}/${m.model}`)
    throw fail(
      `no model of ${config.file} accepts hardware identities issued by ${quoteInput(issuer)}`,
      onboarding.length === 0
        ? 'set onboarding: hardware-identity for the model whose devices these are'
        : `the models that onboard by hardware identity (${onboarding.join(', ')}) accept their brand's; add ${issuer} to a model's issuers: and to the top-level issuers: with its chain`,
    )
  }

  const keys = config.issuerKeys.get(issuer) ?? []
  const key = keys.find((k) => k.key.id === view.signKeyId)
  if (!key) {
    throw fail(
      `the identity of ${quoteInput(view.hardwareId)} is signed by key ${view.signKeyId}, which no chain of ${config.file} holds as an account-key of ${issuer}`,
      `add the account-key of the key ${issuer} signs identities with to the top-level issuers: (snap known --remote account-key public-key-sha3-384=${view.signKeyId})`,
    )
  }

  if (Date.parse(key.since) > now.getTime() || (key.until !== undefined && Date.parse(key.until) <= now.getTime())) {
    throw fail(`the key ${view.signKeyId} of ${issuer} is valid from ${key.since}${key.until === undefined ? '' : ` until ${key.until}`} (${key.file}), not now`, 'sign the identities with a key valid now')
  }

  const check = verifyAssertionSignature(assertion, key.key)
  if (!check.valid) throw fail(`the signature of the identity of ${quoteInput(view.hardwareId)} does not verify: ${check.reason}`, 'import the assertions as hardware-identity sign wrote them, unchanged')
  return {
    assertion: `${Buffer.from(assertion.content).toString('utf8')}\n\n${assertion.signature}\n`,
    digest: view.hardwareIdKeyDigest,
    hardwareId: view.hardwareId,
    hardwareIdKey: view.hardwareIdKey,
    hardwareName: view.hardwareName,
    issuerId: issuer,
    keyType,
    manufacturer: view.manufacturer,
  }
}

function conflictError(conflicts: IdentityConflict[], identities: ImportedIdentity[]): UserError {
  const describe = (conflict: IdentityConflict): string => {
    const at = identities.find((i) => i.issuerId === conflict.identity.issuerId && i.digest === conflict.identity.digest && i.hardwareId === conflict.identity.hardwareId)
    const where = at ? ` (${at.file}:${at.line})` : ''
    return conflict.why === 'key-has-other-id'
      ? `the key ${conflict.identity.digest} of hardware id ${quoteInput(conflict.identity.hardwareId)}${where} is held already as hardware id ${quoteInput(conflict.held.hardwareId)} of ${conflict.identity.issuerId}`
      : `hardware id ${quoteInput(conflict.identity.hardwareId)}${where} is held already with the key ${conflict.held.digest}, not ${conflict.identity.digest}`
  }

  return new UserError('E_HARDWARE_IDENTITY_CONFLICT', `${describe(conflicts[0])}${conflicts.length > 1 ? ` (and ${conflicts.length - 1} more)` : ''}: nothing was imported`, {
    details: conflicts.map(describe),
    hint: 'a hardware identity is one key of one device: find which export certified a key twice, and import the identities without it',
    kind: 'failed',
  })
}

/** A list of 10 million serials of 20 characters is about 250 MB. */
export const MAX_SERIALS_FILE_BYTES = 512 * 1024 * 1024
/** A line of a serials file: a serial, its model, a few columns more. */
const MAX_SERIALS_LINE = 8192

export interface SerialsImport {
  /** The database, as messages name it (no password). */
  database: string
  /** Serials read (the same serial twice in the files counts once). */
  read: number
  /** New to the allowlists. */
  imported: number
  /** On them already. */
  unchanged: number
  /** Per model: the serials its allowlist holds now. */
  models: {model: string; held: number}[]
  /** A model whose serials: is not allowlist yet (the list is kept for when it is). */
  warnings: string[]
}

export interface SerialsImportOptions extends ImportOptions {
  /** BRAND/MODEL of the rows that name none (a file of serials alone). */
  model?: string
}

/**
 * Reads the factory's lists of serials (CSV with a header line, or JSON lines), checks every row,
 * then adds them all to their models' allowlists in one transaction, or none: a serial on a list
 * already is unchanged, so importing a file again is harmless.
 *
 * CSV: a header naming the columns, `serial` and optionally `brand` and `model` (or `model` as
 * BRAND/MODEL); fields may be quoted as RFC 4180 quotes them, on one line. JSON lines: one object a
 * line with `serial` and optionally `brand` and `model`. Rows without a model take `options.model`.
 */
export async function importAllowedSerials(config: ImportConfig, files: readonly string[], options: SerialsImportOptions = {}): Promise<SerialsImport> {
  const now = options.now ?? new Date()
  const models = new Map(config.models.map((m) => [`${m.brand}/${m.model}`, m]))
  const fallback =
    options.model === undefined ? undefined : modelOf(options.model, models, config.file, (why, hint) => new UserError('E_SERVE_IMPORT', `--model ${quoteInput(options.model!)}: ${why}`, {hint, kind: 'usage'}))
  const rows = new Map<string, AllowedSerial>()
  for (const file of files) {
    const text = readBoundedFile(file, MAX_SERIALS_FILE_BYTES, {what: 'serials list'}).toString('utf8')
    for (const row of readSerialRows(file, text)) {
      const fail = (why: string, hint: string): UserError => new UserError('E_SERVE_IMPORT', `${file}:${row.line}: ${why}: nothing was imported`, {file, hint, kind: 'failed', line: row.line})
      const named = row.model === undefined ? fallback : modelOf(row.brand === undefined ? row.model : `${row.brand}/${row.model}`, models, config.file, fail)
      if (!named) throw fail('the row names no model', 'add brand and model columns, or give --model BRAND/MODEL for the rows that name none')
      const problem = serialTextProblem(row.serial, config.serialLength)
      if (problem) throw fail(`serial ${quoteInput(row.serial)} cannot be a serial: ${problem}`, 'fix the list: a serial is what the device proposes, at most limits.serial-length characters')
      rows.set(`${named.brand}/${named.model}/${row.serial}`, {brand: named.brand, model: named.model, serial: row.serial})
    }
  }

  const used = [...new Set([...rows.values()].map((r) => `${r.brand}/${r.model}`))]
  const warnings = used
    .filter((name) => models.get(name)!.serials.kind !== 'allowlist')
    .map((name) => `${name} does not issue serials from its allowlist yet (serials: ${models.get(name)!.serials.kind}): the list is kept, and used once its serials: is allowlist`)
  const store = options.store ?? (await openStore(config.database))
  try {
    const outcome = await store.importAllowedSerials([...rows.values()], now)
    const held = await Promise.all(
      used.map(async (name) => {
        const m = models.get(name)!
        return {held: await store.allowedSerialCount(m.brand, m.model), model: name}
      }),
    )
    return {database: describeDatabase(config.database), imported: outcome.imported, models: held, read: rows.size, unchanged: outcome.unchanged, warnings}
  } finally {
    if (!options.store) await store.close()
  }
}

interface SerialRow {
  line: number
  serial: string
  brand?: string
  model?: string
}

function modelOf<M extends {brand: string; model: string}>(name: string, models: Map<string, M>, configFile: string, fail: (why: string, hint: string) => UserError): M {
  const found = models.get(name)
  if (found) return found
  throw fail(`${quoteInput(name)} is not a model of ${configFile}`, `the models are ${[...models.keys()].join(', ')} (BRAND/MODEL)`)
}

/** The rows of a CSV or JSON-lines file, each with its line; the format from the name, else from the first character. */
function readSerialRows(file: string, text: string): SerialRow[] {
  const lines = text.split(/\r?\n/)
  const fail = (line: number, why: string, hint: string): UserError => new UserError('E_SERVE_IMPORT', `${file}:${line}: ${why}: nothing was imported`, {file, hint, kind: 'failed', line})
  for (const [n, line] of lines.entries()) if (line.length > MAX_SERIALS_LINE) throw fail(n + 1, `the line is ${line.length} characters; a line of a serials list is at most ${MAX_SERIALS_LINE}`, 'give one serial a line')
  const first = lines.findIndex((l) => l.trim() !== '')
  if (first === -1) return []
  const jsonl = /\.(jsonl|ndjson)$/i.test(file) || (!/\.csv$/i.test(file) && lines[first].trimStart().startsWith('{'))
  return jsonl ? jsonRows(lines, fail) : csvRows(lines, first, fail)
}

type RowFail = (line: number, why: string, hint: string) => UserError

function jsonRows(lines: string[], fail: RowFail): SerialRow[] {
  const rows: SerialRow[] = []
  for (const [n, text] of lines.entries()) {
    if (text.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw fail(n + 1, `not JSON (${(error as Error).message})`, 'give one JSON object a line: {"serial": "…", "model": "BRAND/MODEL"}')
    }

    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fail(n + 1, 'not a JSON object', 'give one JSON object a line: {"serial": "…"}')
    const fields = value as Record<string, unknown>
    const textField = (name: string): string | undefined => {
      const found = Object.hasOwn(fields, name) ? fields[name] : undefined
      if (found !== undefined && typeof found !== 'string') throw fail(n + 1, `${name} is not a string`, 'quote it')
      return found
    }

    const serial = textField('serial')
    if (serial === undefined) throw fail(n + 1, 'the object has no serial', 'give {"serial": "…"}')
    rows.push(rowOf(n + 1, serial, textField('brand'), textField('model')))
  }

  return rows
}

function csvRows(lines: string[], first: number, fail: RowFail): SerialRow[] {
  const header = csvFields(lines[first], first + 1, fail).map((h) => h.trim().toLowerCase())
  const column = (name: string): number => header.indexOf(name)
  const [serialAt, brandAt, modelAt] = [column('serial'), column('brand'), column('model')]
  if (serialAt === -1) throw fail(first + 1, `the header (${header.join(',')}) has no serial column`, 'the first line names the columns: serial, and optionally brand and model')
  const rows: SerialRow[] = []
  for (let n = first + 1; n < lines.length; n++) {
    if (lines[n].trim() === '') continue
    const fields = csvFields(lines[n], n + 1, fail)
    if (fields.length !== header.length) throw fail(n + 1, `the row has ${fields.length} fields and the header ${header.length}`, 'give every row the columns of the header')
    rows.push(rowOf(n + 1, fields[serialAt], brandAt === -1 ? undefined : fields[brandAt], modelAt === -1 ? undefined : fields[modelAt]))
  }

  return rows
}

/** BRAND/MODEL in the model column is read as both. */
function rowOf(line: number, serial: string, brand: string | undefined, model: string | undefined): SerialRow {
  if (brand === undefined && model?.includes('/')) return {brand: model.slice(0, model.indexOf('/')), line, model: model.slice(model.indexOf('/') + 1), serial}
  return {line, serial, ...(brand === undefined || brand === '' ? {} : {brand}), ...(model === undefined || model === '' ? {} : {model})}
}

/** The fields of one CSV line (RFC 4180 quoting, without line breaks inside a field). */
function csvFields(line: string, n: number, fail: RowFail): string[] {
  const fields: string[] = []
  let i = 0
  for (;;) {
    let field = ''
    if (line[i] === '"') {
      i++
      for (;;) {
        if (i >= line.length) throw fail(n, 'a quoted field has no closing quote', 'close the quote on the same line; a serial has no line break')
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"'
            i += 2
            continue
          }

          i++
          break
        }

        field += line[i++]
      }

      if (i < line.length && line[i] !== ',') throw fail(n, 'text after a quoted field', 'quote the whole field')
    } else {
      const end = line.indexOf(',', i)
      field = line.slice(i, end === -1 ? line.length : end)
      i = end === -1 ? line.length : end
    }

    fields.push(field)
    if (i >= line.length) return fields
    i++
  }
}
