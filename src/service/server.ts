/**
 * `serve` over HTTP(S): the Serial Vault's device paths, so an existing gadget points at it
 * unchanged. Request bodies are capped before they are read (snapd's own decoder limits: a
 * serial-request and a model, each at most 128 KiB of headers, 2 MiB of body and 128 KiB of
 * signature), a request must arrive whole within a bounded time, and a stop lets requests in
 * flight finish.
 */
import {createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo} from 'node:net'

import {InternalError, UserError} from '../errors.js'
import type {ServiceConfig} from './config.js'
import {DeviceService, json, NONCE_LIFETIME_MS, type RegistrationEvent, refusalAnswer, type ServiceAnswer, ServiceRefusal} from './registration.js'
import {openStore, type ServiceStore} from './store/index.js'

/** Two assertions at snapd's decoder limits. */
export const MAX_SERIAL_REQUEST_BYTES = 2 * (128 * 1024 + 2 * 1024 * 1024 + 128 * 1024)
/** snapd posts request-id with an empty body. */
const MAX_REQUEST_ID_BYTES = 4096
/** A device on a slow factory network sends a few KB; minutes mean a stuck or hostile client. */
const REQUEST_TIMEOUT_MS = 30_000
const HEADERS_TIMEOUT_MS = 10_000
const STOP_GRACE_MS = 10_000
const PURGE_EVERY_MS = 60_000

/** One answered request, for the operator's log (never the api-key). */
export interface RequestEvent extends RegistrationEvent {
  method: string
  path: string
  status: number
  code?: string
  ms: number
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
}

export interface RunningService {
  url: string
  /** Stops accepting, lets requests in flight finish (bounded), closes the store. */
  close(): Promise<void>
}

export async function startDeviceService(config: ServiceConfig, options: StartServiceOptions): Promise<RunningService> {
  const store = options.store ?? (await openStore(config.database, {migrate: options.migrate}))
  const now = options.now ?? (() => new Date())
  const service = new DeviceService({models: config.models, now, signingThreads: options.signingThreads, store, version: options.version})
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(service, req, res, options.onRequest)
  }

  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS
  // Node checks request deadlines every connectionsCheckingInterval (30 s by default).
  const serverOptions = {connectionsCheckingInterval: Math.min(30_000, Math.max(100, requestTimeout / 4))}
  const server: Server = config.tls ? createHttpsServer({...serverOptions, cert: config.tls.certificate, key: config.tls.key}, handler) : createHttpServer(serverOptions, handler)
  server.requestTimeout = requestTimeout
  server.headersTimeout = Math.min(HEADERS_TIMEOUT_MS, requestTimeout)
  server.keepAliveTimeout = 5000

  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      store.close().catch(() => {})
      reject(
        new UserError('E_SERVE_LISTEN', `cannot listen on ${config.listen.host}:${config.listen.port}: ${error.code === 'EADDRINUSE' ? 'the address is in use' : error.message}`, {
          hint: error.code === 'EADDRINUSE' ? 'stop what uses the port, or set listen to another port (port 0 picks a free one)' : 'check the listen address in the config',
          kind: 'io',
        }),
      )
    }

    server.once('error', failed)
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', failed)
      resolve()
    })
  })

  const purge = setInterval(() => {
    store.purgeNonces(new Date(now().getTime() - NONCE_LIFETIME_MS)).catch(() => {})
  }, options.purgeEveryMs ?? PURGE_EVERY_MS)
  purge.unref()

  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `${config.tls ? 'https' : 'http'}://${host}:${address.port}/v1/`
  let closing: Promise<void> | undefined
  return {
    close() {
      closing ??= (async () => {
        clearInterval(purge)
        server.closeIdleConnections()
        const grace = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS)
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
        })
        clearTimeout(grace)
        await store.close()
      })()
      return closing
    },
    url,
  }
}

async function handle(service: DeviceService, req: IncomingMessage, res: ServerResponse, onRequest?: (event: RequestEvent) => void): Promise<void> {
  const started = performance.now()
  const path = (req.url ?? '/').split('?')[0]
  const event: RegistrationEvent = {}
  let answer: ServiceAnswer
  let error: string | undefined
  try {
    answer = await route(service, req, path, event)
  } catch (thrown) {
    if (thrown instanceof ServiceRefusal) {
      answer = refusalAnswer(thrown)
    } else if (thrown instanceof InternalError || !isDatabaseError(thrown)) {
      // A bug: 500, which snapd does not retry; the operator sees why.
      error = thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown)
      answer = json(500, {code: 'internal-error', message: 'the device service failed; its operator has the details'})
    } else {
      // The database may answer in a moment: > 500, which snapd retries after a minute.
      error = (thrown as Error).message
      answer = json(503, {code: 'database-unavailable', message: 'the device service cannot reach its database; the device will retry'})
    }
  }

  if (!res.headersSent && !res.destroyed) {
    const headers: Record<string, number | string> = {'Content-Length': Buffer.byteLength(answer.body), 'Content-Type': answer.contentType}
    // An unread oversized body: the connection cannot carry another request.
    if (answer.status === 413) headers.Connection = 'close'
    res.writeHead(answer.status, headers)
    res.end(answer.body)
  }

  onRequest?.({...event, code: answer.code, error, method: req.method ?? '', ms: performance.now() - started, path, status: answer.status})
}

async function route(service: DeviceService, req: IncomingMessage, path: string, event: RegistrationEvent): Promise<ServiceAnswer> {
  const routes: Record<string, {method: string; run: () => Promise<ServiceAnswer> | ServiceAnswer}> = {
    '/v1/health': {method: 'GET', run: () => service.health()},
    '/v1/request-id': {
      method: 'POST',
      async run() {
        await readBody(req, MAX_REQUEST_ID_BYTES)
        return service.requestId(req.headers, event)
      },
    },
    '/v1/serial': {method: 'POST', run: async () => service.serial(req.headers, await readBody(req, MAX_SERIAL_REQUEST_BYTES), event)},
    '/v1/version': {method: 'GET', run: () => service.version()},
  }
  const found = Object.hasOwn(routes, path) ? routes[path] : undefined
  if (!found) throw new ServiceRefusal(404, 'not-found', `no such endpoint: ${path.slice(0, 100)}; the device service answers ${Object.keys(routes).join(', ')}`)
  if (req.method !== found.method) throw new ServiceRefusal(405, 'method-not-allowed', `${path} takes ${found.method}`)
  return found.run()
}

/** The whole body, refused with 413 as soon as it is known to be over `limit`. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (): ServiceRefusal => new ServiceRefusal(413, 'body-too-large', `the request body is over ${limit} bytes, more than snapd ever sends`)
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    // Answer without reading; the connection closes after the answer.
    req.resume()
    return Promise.reject(tooLarge())
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let length = 0
    req.on('data', (chunk: Buffer) => {
      length += chunk.length
      if (length > limit) {
        req.removeAllListeners('data')
        req.resume()
        reject(tooLarge())
        return
      }

      chunks.push(chunk)
    })
    req.once('end', () => resolve(Buffer.concat(chunks, length)))
    req.once('error', reject)
    req.once('aborted', () => reject(new ServiceRefusal(400, 'request-aborted', 'the request was aborted')))
  })
}

function isDatabaseError(error: unknown): boolean {
  const code = (error as {code?: unknown})?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_') || /^[0-9A-Z]{5}$/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EIO', 'ENOSPC'].includes(code))
}
