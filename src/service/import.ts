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
import {openStore, type IdentityConflict, type NewHardwareIdentity, type ServiceStore} from './store/index.js'

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
