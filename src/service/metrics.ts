/**
 * `GET /metrics` in Prometheus' text format, made by prom-client: what an operator graphs and
 * alerts on. Every label value is one the service chose, never one a client sent: the endpoint is
 * one of the service's paths (or `other`), the status a number, a refusal's code one of the table's
 * (refusals.ts), a registration's model one of the config's. So no client can grow the series or
 * write into the output.
 *
 * A scrape reads the database twice (the nonces outstanding, and the health probe, which is shared
 * with /v1/health), so the text is made at most once a second, whoever asks: a crowd of scrapers
 * costs the database nothing more.
 */
import {Counter, Gauge, Histogram, Registry} from 'prom-client'

import type {ServiceStore} from './store/index.js'

/** Scrapes within this long of each other share one rendering. */
const RENDER_EVERY_MS = 1000
const PREFIX = 'snap_gadget_serve_'

/** The paths the service answers on, as the endpoint label: anything else is `other`. */
const ENDPOINTS = new Set(['/metrics', '/v1/health', '/v1/request-id', '/v1/serial', '/v1/version'])

/** What the metrics read of an answered request (the server's RequestEvent). */
export interface AnsweredRequest {
  /** The request's path: a label only when it is one of the service's. */
  path: string
  status: number
  code?: string
  /** Set when a serial was issued; brand and model are then the config's. */
  serial?: string
  brand?: string
  model?: string
}

export interface MetricsSources {
  /** Whether the database takes writes now (the health probe's answer). */
  databaseUp(): Promise<boolean>
}

export class ServiceMetrics {
  readonly contentType: string
  private readonly registry = new Registry()
  private readonly requests
  private readonly registrations
  private readonly refusals
  private readonly signing
  private readonly database
  private readonly unlogged
  private last: {at: number; text: Promise<string>} | undefined

  constructor(store: ServiceStore, sources: MetricsSources) {
    const registers = [this.registry]
    this.contentType = this.registry.contentType
    this.requests = new Counter({help: 'Requests answered, by endpoint and HTTP status.', labelNames: ['endpoint', 'status'] as const, name: `${PREFIX}requests_total`, registers})
    this.registrations = new Counter({help: 'Serials issued (first issues and devices asking again), by model.', labelNames: ['model'] as const, name: `${PREFIX}registrations_total`, registers})
    this.refusals = new Counter({help: 'Requests refused, by refusal code (README: the table of refusals).', labelNames: ['code'] as const, name: `${PREFIX}refusals_total`, registers})
    this.signing = new Histogram({
      buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1],
      help: 'Time to sign a serial assertion (the brand key: RSA 4096), in seconds.',
      name: `${PREFIX}signing_seconds`,
      registers,
    })
    this.database = new Histogram({
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      help: "Time the database took, by the store's operation, in seconds (issue_serial without the signature it waits for).",
      labelNames: ['operation'] as const,
      name: `${PREFIX}database_seconds`,
      registers,
    })
    this.unlogged = new Counter({help: 'Refusals not written to the refusal log: more than it takes in a second, or a write that failed.', name: `${PREFIX}refusals_unlogged_total`, registers})
    new Gauge({
      async collect() {
        this.set(await store.nonceCount())
      },
      help: 'Request-ids issued and not yet used or expired.',
      name: `${PREFIX}nonces_outstanding`,
      registers,
    })
    new Gauge({
      async collect() {
        this.set((await sources.databaseUp()) ? 1 : 0)
      },
      help: 'Whether the database takes writes (1) or not (0), as GET /v1/health probes it.',
      name: `${PREFIX}database_up`,
      registers,
    })
  }

  /** One answered request. */
  observe(event: AnsweredRequest): void {
    const endpoint = ENDPOINTS.has(event.path) ? event.path : 'other'
    this.requests.inc({endpoint, status: String(event.status)})
    if (event.status === 200 && event.serial !== undefined && event.brand !== undefined) this.registrations.inc({model: `${event.brand}/${event.model ?? ''}`})
    if (event.status >= 400 && event.code !== undefined) this.refusals.inc({code: event.code})
  }

  refusalUnlogged(): void {
    this.unlogged.inc()
  }

  /** The text of a scrape: made at most once a second. */
  render(): Promise<string> {
    const at = performance.now()
    if (this.last && at - this.last.at < RENDER_EVERY_MS) return this.last.text
    const text = this.registry.metrics()
    this.last = {at, text}
    // A failed rendering is not kept for the next scrapes.
    text.catch(() => {
      if (this.last?.text === text) this.last = undefined
    })
    return text
  }

  /** The store with each operation timed; the signature that issueSerial waits for is timed apart. */
  instrument(store: ServiceStore): ServiceStore {
    const database = this.database
    const signing = this.signing
    const timed =
      <A extends unknown[], R>(operation: string, run: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        const started = performance.now()
        try {
          return await run(...args)
        } finally {
          database.observe({operation}, (performance.now() - started) / 1000)
        }
      }

    return {
      addNonce: timed('add_nonce', store.addNonce.bind(store)),
      admission: timed('admission', store.admission.bind(store)),
      allowedSerialCount: store.allowedSerialCount.bind(store),
      block: store.block.bind(store),
      blocks: store.blocks.bind(store),
      close: store.close.bind(store),
      consumeNonce: timed('consume_nonce', store.consumeNonce.bind(store)),
      findIdentities: timed('find_identities', store.findIdentities.bind(store)),
      identityCount: store.identityCount.bind(store),
      importAllowedSerials: store.importAllowedSerials.bind(store),
      importIdentities: store.importIdentities.bind(store),
      async issueSerial(claim, sign) {
        const started = performance.now()
        let signed = 0
        try {
          return await store.issueSerial(claim, async (revision) => {
            const start = performance.now()
            try {
              return await sign(revision)
            } finally {
              const ms = performance.now() - start
              signed += ms
              signing.observe(ms / 1000)
            }
          })
        } finally {
          database.observe({operation: 'issue_serial'}, (performance.now() - started - signed) / 1000)
        }
      },
      logRefusal: timed('log_refusal', store.logRefusal.bind(store)),
      nonceCount: store.nonceCount.bind(store),
      probeWrite: timed('probe_write', store.probeWrite.bind(store)),
      pruneRefusals: timed('prune_refusals', store.pruneRefusals.bind(store)),
      purgeNonces: timed('purge_nonces', store.purgeNonces.bind(store)),
      refusalLog: store.refusalLog.bind(store),
      signingLog: store.signingLog.bind(store),
      signingLogSize: store.signingLogSize.bind(store),
      unblock: store.unblock.bind(store),
    }
  }
}
