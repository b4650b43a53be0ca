/**
 * The refusal log: each refused serial or request-id request, kept in the database beside the
 * signing log, so that "why was this device refused?" has an answer after the fact (serve log
 * --refusal). What it keeps:
 * - the code and status, and the message the device was given (with the operator's reason when a
 *   block refused it, which the device is not told);
 * - brand and model as verified (the api-key's model, or the hardware identity's) or, marked
 *   unverified, as the request claimed them; the serial (issued or proposed) and the device key
 *   whose signature verified; the client's address.
 * Client-chosen values are stored as sent, cut to a bounded length, and escaped wherever shown.
 *
 * A client cannot make it grow without bound: at most {@link MAX_LOGGED_PER_SECOND} refusals are
 * written a second (the others are counted in the metrics), and the retention setting prunes it by
 * count and age, every minute and after every tenth of its count written.
 */
import type {RegistrationEvent} from './registration.js'
import type {Retention, ServiceStore} from './store/index.js'

export const MAX_LOGGED_PER_SECOND = 1000
/** A claimed brand, model or serial longer than this is cut (the service's serials are 200 characters by default). */
const MAX_VALUE = 512
const MAX_MESSAGE = 2048

export interface RefusalToLog {
  event: RegistrationEvent
  code: string
  status: number
  message: string
  client?: string
  at: Date
}

export class RefusalLog {
  private second = -1
  private inSecond = 0
  private sincePrune = 0
  private pruning: Promise<unknown> | undefined

  constructor(
    private readonly store: ServiceStore,
    private readonly retention: Retention,
    private readonly now: () => Date,
    /** Told of each refusal not written. */
    private readonly onUnlogged: () => void = () => {},
  ) {}

  /** Writes the refusal, without keeping the answer waiting; never throws. */
  record(refusal: RefusalToLog): Promise<void> {
    const second = Math.floor(refusal.at.getTime() / 1000)
    if (second !== this.second) {
      this.second = second
      this.inSecond = 0
    }

    if (++this.inSecond > MAX_LOGGED_PER_SECOND) {
      this.onUnlogged()
      return Promise.resolve()
    }

    const {event} = refusal
    const verified = event.brand !== undefined
    const brand = verified ? event.brand : event.claimed?.brand
    const model = verified ? event.model : event.claimed?.model
    const serial = event.serial ?? event.claimed?.serial
    const message = event.blockReason === undefined ? refusal.message : `${refusal.message} [block reason: ${event.blockReason}]`
    const written = this.store
      .logRefusal({
        at: refusal.at,
        brand: cut(brand, MAX_VALUE),
        client: refusal.client,
        code: refusal.code,
        deviceKeyId: event.deviceKeyId,
        message: cut(message, MAX_MESSAGE)!,
        model: cut(model, MAX_VALUE),
        serial: cut(serial, MAX_VALUE),
        status: refusal.status,
        verified,
      })
      .catch(() => this.onUnlogged())
    const every = Math.max(100, Math.floor((this.retention.entries ?? Infinity) / 10))
    if (++this.sincePrune >= every) void written.then(() => this.prune())
    return written
  }

  /** Deletes what the retention does not keep (one pruning at a time); never throws. */
  prune(): Promise<unknown> {
    this.sincePrune = 0
    this.pruning ??= this.store
      .pruneRefusals(this.retention, this.now())
      .catch(() => 0)
      .finally(() => {
        this.pruning = undefined
      })
    return this.pruning
  }
}

function cut(value: string | undefined, max: number): string | undefined {
  if (value === undefined || value.length <= max) return value
  return `${value.slice(0, max)}… (${value.length} characters)`
}
