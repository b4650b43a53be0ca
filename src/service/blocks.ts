/**
 * `serve block` and `serve unblock`: the operator stops a device from being issued a serial again
 * (a device returned, stolen, or found faulty), by its serial (in one model, or in every model of
 * the config) or by its device key, whatever the model's serial policy; the reason is kept with
 * the block, and each refusal it causes is in the refusal log with it. A running serve sees a block
 * at the next request (the store is read for each). Unblocking keeps the block in the record, with
 * when and why it ended.
 */
import {UserError} from '../errors.js'
import {serialTextProblem} from '../serial/serial-text.js'
import {quoteInput} from '../support/echo.js'
import {describeDatabase, type ImportConfig} from './config.js'
import {type BlockTarget, type DeviceBlock, openStore, type ServiceStore} from './store/index.js'

/** A reason is a sentence or two for the record. */
export const MAX_BLOCK_REASON = 1000
const DEVICE_KEY_ID = /^[A-Za-z0-9_-]{64}$/

export interface BlockRequest {
  serial?: string
  /** The sha3-384 id of the device key (serve log shows it). */
  deviceKey?: string
  /** BRAND/MODEL: only in that model (a serial's default: every model of the config). */
  model?: string
}

export interface BlockOutcome {
  database: string
  /** blocked: now; held: it was already; unblocked: ended now. */
  kind: 'blocked' | 'held' | 'unblocked'
  block: DeviceBlock
}

export interface BlockOptions {
  now?: Date
  store?: ServiceStore
}

/** Blocks a device by serial or device key, with the reason kept. */
export async function blockDevice(config: ImportConfig, request: BlockRequest, reason: string, options: BlockOptions = {}): Promise<BlockOutcome> {
  const target = targetOf(config, request)
  if (reason.trim() === '') throw new UserError('E_SERVE_BLOCK', 'a block needs a reason', {hint: 'give --reason "…": why the device is refused, for whoever reads the log later'})
  if (reason.length > MAX_BLOCK_REASON) throw new UserError('E_SERVE_BLOCK', `the reason is ${reason.length} characters; at most ${MAX_BLOCK_REASON}`, {hint: 'say it in a sentence or two'})
  return withStore(config, options, async (store) => {
    const {block, kind} = await store.block(target, reason, options.now ?? new Date())
    return {block, database: describeDatabase(config.database), kind}
  })
}

/** Ends the active block of a serial or device key; an error when there is none. */
export async function unblockDevice(config: ImportConfig, request: BlockRequest, reason: string, options: BlockOptions = {}): Promise<BlockOutcome> {
  const target = targetOf(config, request)
  return withStore(config, options, async (store) => {
    const ended = await store.unblock(target, reason.slice(0, MAX_BLOCK_REASON), options.now ?? new Date())
    if (!ended) {
      const active = (await store.blocks()).filter((b) => b.kind === target.kind && b.value === target.value)
      throw new UserError('E_SERVE_BLOCK', `${describeTarget(target)} is not blocked`, {
        hint:
          active.length > 0
            ? `it is blocked ${active.map((b) => (b.brand === '' ? 'in every model' : `for ${b.brand}/${b.model}`)).join(' and ')}: give that --model, or none for every model`
            : 'serve block --config FILE lists the blocks',
        kind: 'failed',
      })
    }

    return {block: ended, database: describeDatabase(config.database), kind: 'unblocked'}
  })
}

/** The active blocks, newest first (all, ended ones too, with `all`). */
export async function listBlocks(config: Pick<ImportConfig, 'database'>, all = false, options: BlockOptions = {}): Promise<DeviceBlock[]> {
  const store = options.store ?? (await openStore(config.database, {mustExist: true}))
  try {
    return await store.blocks(all)
  } finally {
    if (!options.store) await store.close()
  }
}

/** A block as the operator reads it (client-chosen values are not in it: the operator typed them). */
export function describeBlock(block: DeviceBlock): string {
  const scope = block.brand === '' ? 'every model' : `${block.brand}/${block.model}`
  const ended = block.unblocked === undefined ? '' : `  unblocked ${block.unblocked}${block.unblockReason ? ` (${quoteInput(block.unblockReason)})` : ''}`
  return `${block.blocked}  ${block.kind === 'serial' ? 'serial' : 'device key'} ${quoteInput(block.value)}  ${scope}  reason ${quoteInput(block.reason)}${ended}`
}

function targetOf(config: ImportConfig, request: BlockRequest): BlockTarget {
  if ((request.serial === undefined) === (request.deviceKey === undefined)) {
    throw new UserError('E_SERVE_BLOCK', 'give a serial or --device-key, one of them', {hint: 'serve block SERIAL --reason "…", or serve block --device-key ID --reason "…" (serve log shows device key ids)'})
  }

  let brand = ''
  let model = ''
  if (request.model !== undefined) {
    const found = config.models.find((m) => `${m.brand}/${m.model}` === request.model)
    if (!found) throw new UserError('E_SERVE_BLOCK', `--model ${quoteInput(request.model)} is not a model of ${config.file}`, {hint: `the models are ${config.models.map((m) => `${m.brand}/${m.model}`).join(', ')}`})
    ;({brand, model} = found)
  }

  if (request.serial !== undefined) {
    const problem = serialTextProblem(request.serial, config.serialLength)
    if (problem) throw new UserError('E_SERVE_BLOCK', `${quoteInput(request.serial)} cannot be a serial: ${problem}`, {hint: 'give the serial as serve log shows it'})
    return {brand, kind: 'serial', model, value: request.serial}
  }

  if (!DEVICE_KEY_ID.test(request.deviceKey!)) {
    throw new UserError('E_SERVE_BLOCK', `${quoteInput(request.deviceKey!)} is not a device key id`, {hint: 'a device key id is 64 characters of base64url (the sha3-384 of the key), as serve log shows it'})
  }

  return {brand, kind: 'device-key', model, value: request.deviceKey!}
}

function describeTarget(target: BlockTarget): string {
  const what = target.kind === 'serial' ? `serial ${quoteInput(target.value)}` : `device key ${target.value}`
  return `${what}${target.brand === '' ? '' : ` of ${target.brand}/${target.model}`}`
}

async function withStore<T>(config: ImportConfig, options: BlockOptions, run: (store: ServiceStore) => Promise<T>): Promise<T> {
  const store = options.store ?? (await openStore(config.database))
  try {
    return await run(store)
  } finally {
    if (!options.store) await store.close()
  }
}
