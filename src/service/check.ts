/**
 * `serve check`, and the same checks when serve starts: everything that would otherwise make every
 * device of a model be refused, or silently reject the serial it is given, said before the line
 * starts (the Serial Vault's users lost weeks to a disabled or wrong key), each with its fix:
 * - each model's signing key is the account-key its chain returns, registered to the model's
 *   brand (or to the account serial-authority: names), valid now;
 * - each model assertion the config gives is the brand's, of that model, and lists that
 *   authority in its serial-authority when it is not the brand;
 * - every api-key variable is set;
 * - the database can be reached and is at this snap-gadget's schema version (a SQLite file serve
 *   makes or migrates at start is said so, not a problem);
 * - a model on an allowlist has serials on it, and identities are imported for a model that onboards
 *   by them alone (warnings: the lists may come later).
 */
import {UserError} from '../errors.js'
import {describeDatabase, loadServiceConfig, type LoadServiceConfigOptions, type ServiceConfig} from './config.js'
import {inspectSchema, openStore} from './store/index.js'

export interface CheckProblem {
  /** What is wrong, with the place in the config when there is one. */
  message: string
  /** How to fix it. */
  fix: string
}

export interface ServiceCheck {
  config: string
  /** The database, as messages name it (no password). */
  database?: string
  /** The schema version found (undefined: a SQLite file not made yet) and the one needed. */
  schema?: {found: number | undefined; needed: number}
  models: {name: string; serials: string; onboarding: string[]}[]
  problems: CheckProblem[]
  warnings: string[]
}

/** Checks a serve config and its database; problems are returned, not thrown. */
export async function checkService(file: string, options: Omit<LoadServiceConfigOptions, 'problems'> = {}): Promise<ServiceCheck> {
  const found: UserError[] = []
  const result: ServiceCheck = {config: file, models: [], problems: [], warnings: []}
  let config: ServiceConfig
  try {
    config = loadServiceConfig(file, {...options, problems: found})
  } catch (error) {
    // A mistake outside the models (the file, listen, database, tls): nothing more can be checked.
    if (!(error instanceof UserError)) throw error
    result.problems.push(problemOf(error))
    return result
  }

  result.problems.push(...found.map(problemOf))
  result.warnings.push(...config.warnings)
  result.models = config.models.map((m) => ({
    name: `${m.brand}/${m.model}`,
    onboarding: [...(m.onboarding.apiKey ? ['api-key'] : []), ...(m.onboarding.hardwareIdentity ? ['hardware-identity'] : [])],
    serials: m.serials.kind === 'pattern' ? `pattern ${m.serials.pattern.source}` : m.serials.kind,
  }))
  result.database = describeDatabase(config.database)
  const database = result.database
  try {
    const schema = await inspectSchema(config.database)
    result.schema = {found: schema.version, needed: schema.expected}
    if (schema.version !== undefined && schema.version > schema.expected) {
      result.problems.push({fix: 'upgrade snap-gadget', message: `${database} is at schema version ${schema.version}, newer than this snap-gadget knows (${schema.expected})`})
    } else if (config.database.kind === 'postgres' && (schema.version ?? 0) < schema.expected) {
      result.problems.push({
        fix: `run snap-gadget serve migrate --config ${file} once (or start one instance with --migrate)`,
        message: `${database} is at schema version ${schema.version ?? 0}, and serve needs ${schema.expected}: every instance would refuse to start`,
      })
    } else if (schema.version === undefined || schema.version < schema.expected) {
      result.warnings.push(`${database} ${schema.version === undefined ? 'does not exist yet' : `is at schema version ${schema.version}`}: serve makes it at schema version ${schema.expected} when it starts`)
    }
  } catch (error) {
    if (!(error instanceof UserError)) throw error
    result.problems.push(problemOf(error))
    return result
  }

  // The lists a model's devices must be on: an empty one refuses every device.
  const allowlists = config.models.filter((m) => m.serials.kind === 'allowlist')
  const byIdentity = config.models.filter((m) => m.onboarding.hardwareIdentity && !m.onboarding.apiKey)
  if (allowlists.length + byIdentity.length > 0 && result.schema?.found === result.schema?.needed) {
    const store = await openStore(config.database, {mustExist: true})
    try {
      for (const m of allowlists) {
        if ((await store.allowedSerialCount(m.brand, m.model)) === 0) {
          result.warnings.push(`${m.brand}/${m.model} issues serials from its allowlist, which is empty: every device is refused until snap-gadget serve import --serials FILE --config ${file}`)
        }
      }

      if (byIdentity.length > 0 && (await store.identityCount()) === 0) {
        result.warnings.push(
          `${byIdentity.map((m) => `${m.brand}/${m.model}`).join(', ')} onboard${byIdentity.length === 1 ? 's' : ''} devices by hardware identity alone, and no identity is imported: every device is refused until snap-gadget serve import --config ${file} IDENTITIES`,
        )
      }
    } finally {
      await store.close()
    }
  }

  return result
}

/** The problems serve check lists, as one error naming them all: exit 1 (serve check), or 2 for a config serve cannot start with (`kind` usage). */
export function checkFailure(file: string, problems: readonly CheckProblem[], kind: 'failed' | 'usage' = 'failed'): UserError {
  const list = problems.map((p) => `\n  - ${p.message} (fix: ${p.fix})`).join('')
  return new UserError('E_SERVE_CHECK', `${file} has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} that would make devices fail to register:${list}`, {
    details: problems,
    hint: `fix ${problems.length === 1 ? 'it' : 'each'}, then snap-gadget serve check --config ${file} says whether anything is left`,
    kind,
  })
}

/** A problem with the config, as its error says it. */
export function problemOf(error: UserError): CheckProblem {
  return {fix: error.hint ?? 'see the message', message: error.located}
}
