/**
 * `serve` over HTTP(S): the Serial Vault's device paths, so an existing gadget points at it
 * unchanged. Everything that arrives is hostile until authenticated:
 * - the api-key is compared from the headers before a byte of a body is read, and a request
 *   without a valid one is answered and its connection closed; a request without any, when a
 *   model registers devices by hardware identity alone, gets a request-id within limits (each is a
 *   row until it expires) and may post a serial-request of at most 1 MiB, whose hardware proof is
 *   checked before anything is written;
 * - bodies are capped (snapd's own decoder limits: a serial-request and a model, each at most
 *   128 KiB of headers, 2 MiB of body and 128 KiB of signature), and the bytes held at once are
 *   bounded per client and in total, as are the connections, so no client or crowd of clients can
 *   grow the service's memory without bound;
 * - a request must arrive whole within a bounded time.
 * `GET /metrics` (metrics.ts) is served on the main listener only when the config allows it (by
 * default, only a loopback one), or on a listener of its own that serves nothing else, under the
 * same bounds; like every GET, it reads no body. Refusals of the device paths go to the refusal
 * log (refusal-log.ts), bounded in rate and pruned by the retention setting.
 * A stop lets requests in flight finish.
 */
import {randomBytes} from 'node:crypto'
import {createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo, Socket} from 'node:net'

import {InternalError, UserError} from '../errors.js'
import type {ServiceConfig, ServiceLimits} from './config.js'
import type {ServiceMetrics} from './metrics.js'
import {RefusalLog} from './refusal-log.js'
import {DeviceService, json, NONCE_LIFETIME_MS, type RegistrationEvent, refusalAnswer, type ServiceAnswer, ServiceRefusal, tableAnswer} from './registration.js'
import {openStore, type ServiceStore} from './store/index.js'

/** Two assertions at snapd's decoder limits. */
export const MAX_SERIAL_REQUEST_BYTES = 2 * (128 * 1024 + 2 * 1024 * 1024 + 128 * 1024)
/**
 * A serial-request without an api-key is a small JSON body and a model: room for a model of
 * thousands of snaps, far under snapd's limits, so an unauthenticated client holds little.
 */
export const MAX_ANONYMOUS_SERIAL_REQUEST_BYTES = 1024 * 1024
/** snapd posts request-id with an empty body. */
const MAX_REQUEST_ID_BYTES = 4096
/** A device on a slow factory network sends a few KB; minutes mean a stuck or hostile client. */
const REQUEST_TIMEOUT_MS = 30_000
const HEADERS_TIMEOUT_MS = 10_000
const STOP_GRACE_MS = 10_000
const PURGE_EVERY_MS = 60_000
/** Health checks arriving together share one probe of the database. */
const HEALTH_PROBE_EVERY_MS = 1000
/** A scraper or two: the metrics listener holds few connections. */
const METRICS_CONNECTIONS = 64
const METRICS_CONNECTIONS_PER_CLIENT = 8
/** The device paths whose refusals the refusal log keeps. */
const LOGGED_PATHS = new Set(['/v1/request-id', '/v1/serial'])

/** One answered request, for the operator's log (never the api-key). */
export interface RequestEvent extends RegistrationEvent {
  method: string
  /** The request's path as sent: the client's text, to be escaped wherever it is shown. */
  path: string
  status: number
  code?: string
  ms: number
  /** The client's address. */
  client?: string
  /** The message of a 5xx: what went wrong on the service's side. */
  error?: string
}

export interface StartServiceOptions {
  version: string
  onRequest?: (event: RequestEvent) => void
  now?: () => Date
  /** An already open store (tests); by default the config's database. */
  store?: ServiceStore
  /** Apply pending schema migrations on start (serve --migrate; see openStore). */
  migrate?: boolean
  /** How long a request may take to arrive whole (tests shorten it; 30 s otherwise). */
  requestTimeoutMs?: number
  /** How often expired nonces are deleted (tests shorten it; a minute otherwise). */
  purgeEveryMs?: number
  /** Signatures at once on libuv's thread pool, 0 for the event loop (see defaultSigningThreads). */
  signingThreads?: number
  /** What the health endpoint reports of the request log: lines that could not be written. */
  logLinesLost?: () => number
}

export interface RunningService {
  url: string
  /** The URL of GET /metrics, when metrics are on (on the main listener, or on metrics-listen). */
  metricsUrl?: string
  /** Requests answered so far, by status class. */
  answered(): {total: number; refused: number; failed: number}
  /** Stops accepting, lets requests in flight finish (bounded), closes the store. */
  close(): Promise<void>
}

export async function startDeviceService(config: ServiceConfig, options: StartServiceOptions): Promise<RunningService> {
  const opened = options.store ?? (await openStore(config.database, {migrate: options.migrate}))
  const now = options.now ?? (() => new Date())
  // Metrics cost nothing when off: prom-client is not even loaded.
  let metrics: ServiceMetrics | undefined
  if (config.metrics.main || config.metrics.listen) {
    const {ServiceMetrics} = await import('./metrics.js')
    metrics = new ServiceMetrics(opened, {databaseUp: async (): Promise<boolean> => (await health.answer()).status === 200})
  }

  const store: ServiceStore = metrics ? metrics.instrument(opened) : opened
  const service = new DeviceService({
    anonymousRequestIds: {perClient: config.limits.anonymousRequestIdsPerClient, total: config.limits.anonymousRequestIds},
    maxSerialLength: config.limits.serialLength,
    models: config.models,
    now,
    signingThreads: options.signingThreads,
    store,
    version: options.version,
  })
  const health: HealthProbe = new HealthProbe(store, now, options.logLinesLost)
  const refusals = new RefusalLog(store, config.refusalRetention, now, () => metrics?.refusalUnlogged())
  const budget = new BodyBudget(config.limits)
  const counts = {failed: 0, refused: 0, total: 0}
  const context: RequestContext = {budget, health, kind: 'device', metrics: config.metrics.main ? metrics : undefined, service}
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(context, req, res, (event, message) => {
      counts.total++
      if (event.status >= 500) counts.failed++
      else if (event.status >= 400) counts.refused++
      metrics?.observe(event)
      if (message !== undefined && event.status < 500 && LOGGED_PATHS.has(event.path)) {
        void refusals.record({at: now(), client: event.client, code: event.code ?? 'unknown', event, message, status: event.status})
      }

      options.onRequest?.(event)
    })
  }

  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS
  // Node checks request deadlines every connectionsCheckingInterval (30 s by default).
  const serverOptions = {connectionsCheckingInterval: Math.min(30_000, Math.max(100, requestTimeout / 4))}
  let server: Server
  try {
    server = config.tls ? createHttpsServer({...serverOptions, cert: config.tls.certificate, key: config.tls.key}, handler) : createHttpServer(serverOptions, handler)
  } catch (error) {
    await store.close().catch(() => {})
    throw tlsError(config, error)
  }

  const servers = [server]

  harden(server, requestTimeout, config.limits.connections, config.limits.connectionsPerClient)
  // The metrics listener: /metrics and nothing else, under bounds of its own.
  let metricsServer: Server | undefined
  if (metrics && config.metrics.listen) {
    const metricsContext: RequestContext = {budget, health, kind: 'metrics', metrics, service}
    metricsServer = createHttpServer(serverOptions, (req, res) => {
      void handle(metricsContext, req, res, (event) => metrics!.observe(event))
    })
    harden(metricsServer, requestTimeout, METRICS_CONNECTIONS, METRICS_CONNECTIONS_PER_CLIENT)
    servers.push(metricsServer)
  }

  try {
    await listen(server, config.listen, 'listen')
    if (metricsServer) await listen(metricsServer, config.metrics.listen!, 'metrics-listen')
  } catch (error) {
    for (const s of servers) s.close()
    await store.close().catch(() => {})
    throw error
  }

  const purge = setInterval(() => {
    store.purgeNonces(new Date(now().getTime() - NONCE_LIFETIME_MS)).catch(() => {})
    void refusals.prune()
  }, options.purgeEveryMs ?? PURGE_EVERY_MS)
  purge.unref()

  const url = `${config.tls ? 'https' : 'http'}://${hostPort(server)}/v1/`
  const metricsUrl = metricsServer ? `http://${hostPort(metricsServer)}/metrics` : config.metrics.main ? `${config.tls ? 'https' : 'http'}://${hostPort(server)}/metrics` : undefined
  let closing: Promise<void> | undefined
  return {
    answered: () => ({...counts}),
    close() {
      closing ??= (async () => {
        clearInterval(purge)
        await Promise.all(
          servers.map(async (s) => {
            s.closeIdleConnections()
            const grace = setTimeout(() => s.closeAllConnections(), STOP_GRACE_MS)
            await new Promise<void>((resolve) => {
              s.close(() => resolve())
            })
            clearTimeout(grace)
          }),
        )
        await refusals.prune()
        await store.close()
      })()
      return closing
    },
    ...(metricsUrl ? {metricsUrl} : {}),
    url,
  }
}

/** The bounds every listener keeps: request and header deadlines, connections in all and per client. */
function harden(server: Server, requestTimeout: number, connections: number, perClient: number): void {
  server.requestTimeout = requestTimeout
  server.headersTimeout = Math.min(HEADERS_TIMEOUT_MS, requestTimeout)
  server.keepAliveTimeout = 5000
  server.maxConnections = connections
  limitConnectionsPerClient(server, perClient)
}

function listen(server: Server, at: {host: string; port: number}, key: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      reject(
        new UserError('E_SERVE_LISTEN', `cannot listen on ${at.host}:${at.port}: ${error.code === 'EADDRINUSE' ? 'the address is in use' : error.message}`, {
          hint: error.code === 'EADDRINUSE' ? `stop what uses the port, or set ${key} to another port (port 0 picks a free one)` : `check the ${key} address in the config`,
          kind: 'io',
        }),
      )
    }

    server.once('error', failed)
    server.listen(at.port, at.host, () => {
      server.off('error', failed)
      resolve()
    })
  })
}

function hostPort(server: Server): string {
  const address = server.address() as AddressInfo
  return `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
}

interface RequestContext {
  service: DeviceService
  health: HealthProbe
  budget: BodyBudget
  /** The main listener's paths, or the metrics listener's one. */
  kind: 'device' | 'metrics'
  /** Served at /metrics when set. */
  metrics: ServiceMetrics | undefined
}

/** `onAnswered` is given the event and, for a refusal, the message the client was given. */
async function handle(context: RequestContext, req: IncomingMessage, res: ServerResponse, onAnswered: (event: RequestEvent, message?: string) => void): Promise<void> {
  const started = performance.now()
  const path = (req.url ?? '/').split('?')[0]
  const event: RegistrationEvent = {}
  const client = req.socket.remoteAddress
  const reading: BodyReading = {bodyRead: false, held: 0}
  let answer: ServiceAnswer
  let error: string | undefined
  let message: string | undefined
  try {
    answer = await route(context, req, path, event, reading)
  } catch (thrown) {
    if (thrown instanceof ServiceRefusal) {
      answer = refusalAnswer(thrown)
      message = thrown.message
    } else if (thrown instanceof InternalError || !isDatabaseError(thrown)) {
      // A bug: 500, which snapd does not retry; the operator sees why.
      error = thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown)
      answer = tableAnswer('internal-error')
    } else {
      // The database may answer in a moment: > 500, which snapd retries after a minute.
      error = (thrown as Error).message
      context.health.writeFailed(thrown)
      answer = tableAnswer('database-unavailable')
    }
  } finally {
    context.budget.release(client, reading.held)
  }

  if (!res.headersSent && !res.destroyed) {
    const headers: Record<string, number | string> = {'Content-Length': Buffer.byteLength(answer.body), 'Content-Type': answer.contentType}
    // An unread body: the connection cannot carry another request.
    if (!reading.bodyRead) headers.Connection = 'close'
    res.writeHead(answer.status, headers)
    res.end(answer.body)
  }

  onAnswered({...event, client, code: answer.code, error, method: req.method ?? '', ms: performance.now() - started, path, status: answer.status}, message)
}

interface BodyReading {
  /** The whole body arrived (or there was none). */
  bodyRead: boolean
  /** Bytes reserved from the budget, released when the answer is written. */
  held: number
}

/** What an endpoint does: its method, and the answer it makes (a body read through `read`, bounded). */
interface Route {
  method: 'GET' | 'POST'
  run(context: RequestContext, req: IncomingMessage, event: RegistrationEvent, read: (limit: number) => Promise<Buffer>): Promise<ServiceAnswer> | ServiceAnswer
}

/** GET /metrics, on whichever listener the config puts it. */
const SCRAPE: Route = {
  method: 'GET',
  async run({metrics}) {
    return {body: await metrics!.render(), contentType: metrics!.contentType, status: 200}
  },
}

/**
 * The main listener's endpoints, made once: a table built per request (with /metrics spread into it
 * when on) cost each registration's two requests a dictionary-mode object and five closures.
 */
const DEVICE_ROUTES: Record<string, Route> = {
  '/v1/health': {method: 'GET', run: ({health}) => health.answer()},
  '/v1/request-id': {
    method: 'POST',
    async run({service}, req, event, read) {
      const model = service.authenticate(req.headers)
      await read(MAX_REQUEST_ID_BYTES)
      return service.requestId(model, event, req.socket.remoteAddress)
    },
  },
  '/v1/serial': {
    method: 'POST',
    async run({service}, req, event, read) {
      const model = service.authenticate(req.headers)
      return service.serial(model, await read(model ? MAX_SERIAL_REQUEST_BYTES : MAX_ANONYMOUS_SERIAL_REQUEST_BYTES), event)
    },
  },
  '/v1/version': {method: 'GET', run: ({service}) => service.version()},
}

async function route(context: RequestContext, req: IncomingMessage, path: string, event: RegistrationEvent, reading: BodyReading): Promise<ServiceAnswer> {
  const found = path === '/metrics' ? (context.metrics ? SCRAPE : undefined) : context.kind === 'device' && Object.hasOwn(DEVICE_ROUTES, path) ? DEVICE_ROUTES[path] : undefined
  if (!found) {
    const endpoints = [...(context.metrics ? ['/metrics'] : []), ...(context.kind === 'device' ? Object.keys(DEVICE_ROUTES) : [])]
    throw new ServiceRefusal('not-found', `no such endpoint; the device service answers ${endpoints.join(', ')}`)
  }

  if (req.method !== found.method) throw new ServiceRefusal('method-not-allowed', `the endpoint takes ${found.method}`)
  if (found.method === 'GET') reading.bodyRead = req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined
  return found.run(context, req, event, async (limit) => {
    const body = await readBody(req, limit, context.budget, reading)
    reading.bodyRead = true
    return body
  })
}

/**
 * The whole body, refused with 413 as soon as it is known to be over `limit`, and with 503 when
 * holding it would take its client or all clients together over the bytes they may hold at once.
 */
function readBody(req: IncomingMessage, limit: number, budget: BodyBudget, reading: BodyReading): Promise<Buffer> {
  const tooLarge = (): ServiceRefusal => new ServiceRefusal('body-too-large', `the request body is over ${limit} bytes`)
  const client = req.socket.remoteAddress
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge())
  // What the client says it sends is held for it up front, so a crowd of announced bodies is
  // refused before it arrives.
  if (Number.isFinite(declared) && declared > 0) {
    if (!budget.reserve(client, declared)) return Promise.reject(new ServiceRefusal('service-busy'))
    reading.held += declared
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let length = 0
    const stop = (refusal: ServiceRefusal): void => {
      req.removeAllListeners('data')
      req.pause()
      reject(refusal)
    }

    req.on('data', (chunk: Buffer) => {
      length += chunk.length
      if (length > limit) return stop(tooLarge())
      if (length > reading.held) {
        const more = length - reading.held
        if (!budget.reserve(client, more)) return stop(new ServiceRefusal('service-busy'))
        reading.held += more
      }

      chunks.push(chunk)
    })
    req.once('end', () => resolve(Buffer.concat(chunks, length)))
    req.once('error', reject)
    req.once('aborted', () => reject(new ServiceRefusal('request-aborted')))
  })
}

/** Request body bytes held at once, per client address and in total. */
class BodyBudget {
  private total = 0
  private readonly byClient = new Map<string, number>()

  constructor(private readonly limits: Pick<ServiceLimits, 'bodyBytes' | 'bodyBytesPerClient'>) {}

  reserve(client: string | undefined, bytes: number): boolean {
    const key = client ?? ''
    const held = this.byClient.get(key) ?? 0
    if (this.total + bytes > this.limits.bodyBytes || held + bytes > this.limits.bodyBytesPerClient) return false
    this.total += bytes
    this.byClient.set(key, held + bytes)
    return true
  }

  release(client: string | undefined, bytes: number): void {
    if (bytes === 0) return
    const key = client ?? ''
    const left = (this.byClient.get(key) ?? 0) - bytes
    if (left > 0) this.byClient.set(key, left)
    else this.byClient.delete(key)
    this.total -= bytes
  }
}

/** Connections from one address beyond `limit` are closed as they arrive. */
function limitConnectionsPerClient(server: Server, limit: number): void {
  const open = new Map<string, number>()
  // TLS connections arrive as 'secureConnection' too, but 'connection' sees the raw socket first.
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? ''
    const count = (open.get(client) ?? 0) + 1
    if (count > limit) {
      socket.destroy()
      return
    }

    open.set(client, count)
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1
      if (left > 0) open.set(client, left)
      else open.delete(client)
    })
  })
}

/**
 * `GET /v1/health`: healthy when the service could issue a serial now, so a load balancer takes
 * a broken instance out. A read (SELECT 1) says nothing of a read-only file or a full disk, so the
 * probe commits a write that leaves nothing behind: a nonce added and deleted. Probes are shared
 * by health checks that arrive within a second of each other.
 */
class HealthProbe {
  private last: {at: number; answer: Promise<ServiceAnswer>} | undefined
  private lastWriteFailure: {at: string; reason: string} | undefined

  constructor(
    private readonly store: ServiceStore,
    private readonly now: () => Date,
    private readonly logLinesLost: (() => number) | undefined,
  ) {}

  answer(): Promise<ServiceAnswer> {
    const at = performance.now()
    if (this.last && at - this.last.at < HEALTH_PROBE_EVERY_MS) return this.last.answer
    const answer = this.probe()
    this.last = {answer, at}
    return answer
  }

  /** A write of a request failed: shown by the next health answers until a probe succeeds. */
  writeFailed(error: unknown): void {
    this.lastWriteFailure = {at: this.now().toISOString(), reason: databaseState(error)}
  }

  private async probe(): Promise<ServiceAnswer> {
    const log = this.logLinesLost ? {log: {'lines-lost': this.logLinesLost()}} : {}
    try {
      await this.store.probeWrite(`health-${randomBytes(12).toString('hex')}`)
      this.lastWriteFailure = undefined
      return json(200, {database: 'writable', healthy: true, ...log})
    } catch (error) {
      if (!isDatabaseError(error)) throw error
      const state = databaseState(error)
      return json(503, {
        code: 'database-unavailable',
        database: state,
        healthy: false,
        ...log,
        ...(this.lastWriteFailure ? {'last-write-failure': this.lastWriteFailure} : {}),
        message: `the database cannot be written (${state}): no serial can be issued`,
      })
    }
  }
}

/** What a database error says of the database, in a word for the health answer. */
function databaseState(error: unknown): 'full' | 'read-only' | 'unavailable' {
  const code = String((error as {code?: unknown})?.code ?? '')
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === '53100') return 'full'
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === '25006') return 'read-only'
  return 'unavailable'
}

function isDatabaseError(error: unknown): boolean {
  const code = (error as {code?: unknown})?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_') || /^[0-9A-Z]{5}$/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EIO', 'ENOSPC', 'EROFS'].includes(code))
}

/** node:tls's complaint about a certificate or key, as the operator's mistake it is. */
function tlsError(config: ServiceConfig, error: unknown): unknown {
  if (!config.tls) return error
  const reason = (error as Error).message
  const mismatch = /key values mismatch|KEY_VALUES_MISMATCH/i.test(reason)
  return new UserError(
    'E_SERVE_TLS',
    mismatch
      ? `tls: the key ${config.tls.keyFile} is not the key of the certificate ${config.tls.certificateFile}`
      : `tls: the certificate ${config.tls.certificateFile} or the key ${config.tls.keyFile} cannot be used: ${reason}`,
    {
      cause: error,
      file: config.file,
      hint: mismatch ? 'give the private key the certificate was issued for' : 'give a PEM certificate chain and its PEM private key (openssl x509 -in FILE -noout -text shows what a certificate file holds)',
      kind: 'usage',
    },
  )
}
