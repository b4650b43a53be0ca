/**
 * HTTP as snapd's client does it for registration (httputil.NewHTTPClient with the options of
 * devicestate/handlers_serial.go getSerial): one deadline of 30 s for the whole exchange, body
 * read included; redirects followed as Go's net/http follows them (301, 302, 303 turn a POST into
 * a GET without a body; 307 and 308 repeat it with its body), at most 10 (httputil's
 * checkRedirect); header names in Go's canonical form. Bounded beyond what snapd bounds: the
 * answer is read up to a size limit.
 *
 * A failure is a TransportError saying what Go's client would have said (`Post "URL": …`) and how
 * snapd classes it (httputil.ShouldRetryError, NoNetwork), which decides whether it retries.
 */
import {request as httpRequest, type IncomingMessage} from 'node:http'
import {request as httpsRequest} from 'node:https'

/** snapd's registration client timeout (handlers_serial.go: Timeout: 30 * time.Second). */
export const SNAPD_HTTP_TIMEOUT_MS = 30_000
/** httputil's checkRedirect stops after this many redirects. */
export const SNAPD_MAX_REDIRECTS = 10

interface SnapdRequest {
  method: 'GET' | 'POST'
  url: string
  /** Header name (any case) → value, in the order snapd sets them; a later one replaces an earlier one of the same canonical name. */
  headers: readonly (readonly [string, string])[]
  body?: Buffer
}

export interface SnapdResponse {
  status: number
  /** The first Content-Type header, exactly as sent (snapd compares it as a string). */
  contentType: string
  body: Buffer
  /** The URL that answered, after redirects. */
  url: string
  /** Each redirect followed: its status and where it pointed. */
  redirects: {status: number; location: string}[]
}

interface SnapdRequestLimits {
  timeoutMs: number
  /** The answer's body is read up to this many bytes. */
  maxResponseBytes: number
  maxRedirects: number
  signal?: AbortSignal
}

/** How snapd treats a transport error on the request-id POST (the serial POST retries all of them). */
type TransportClass =
  /** No network (ENETUNREACH, ENETDOWN, a temporary DNS failure): retried in 30 s, silently. */
  | 'no-network'
  /** Retried in 60 s (connection refused or reset, timeouts, EOF). */
  | 'retry'
  /** Not retried in the task: the attempt fails (an unknown host, a TLS error, too many redirects). */
  | 'fatal'

export class TransportError extends Error {
  override readonly name = 'TransportError'

  constructor(
    /** What Go's client would say, without the method and URL. */
    readonly reason: string,
    readonly method: string,
    readonly url: string,
    readonly kind: TransportClass,
    /** The limit of ours that ended the exchange (snapd has none there), when it was one. */
    readonly ourLimit?: string,
  ) {
    super(`${method === 'POST' ? 'Post' : 'Get'} ${JSON.stringify(url)}: ${reason}`)
  }
}

/** Go's canonical header name (textproto.CanonicalMIMEHeaderKey) for the names snapd sets. */
function canonicalHeaderName(name: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return name
  return name
    .split('-')
    .map((part) => (part === '' ? part : part[0].toUpperCase() + part.slice(1).toLowerCase()))
    .join('-')
}

/** The headers as they go on the wire: canonical names, a later value replacing an earlier one of the same name. */
export function wireHeaders(headers: SnapdRequest['headers']): [string, string][] {
  const wire = new Map<string, string>()
  for (const [name, value] of headers) wire.set(canonicalHeaderName(name), value)
  return [...wire]
}

/** Sends `request` as snapd's client would, following redirects; throws TransportError. */
export async function snapdRequest(request: SnapdRequest, limits: SnapdRequestLimits): Promise<SnapdResponse> {
  const headers = new Map(wireHeaders(request.headers))
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new Error('timeout')), limits.timeoutMs)
  const forward = (): void => controller.abort(limits.signal?.reason)
  limits.signal?.addEventListener('abort', forward, {once: true})
  const firstMethod = request.method
  let method = request.method
  let body = request.body
  let url = request.url
  const redirects: SnapdResponse['redirects'] = []
  try {
    for (;;) {
      const response = await once(method, url, headers, body, limits, controller.signal, firstMethod)
      const location = response.headers.location
      if (![301, 302, 303, 307, 308].includes(response.status) || location === undefined || location === '') {
        return {body: response.body, contentType: response.contentType, redirects, status: response.status, url}
      }

      let next: string
      try {
        next = new URL(location, url).toString()
      } catch {
        throw new TransportError(`failed to parse Location header ${JSON.stringify(location)}`, firstMethod, url, 'fatal')
      }

      redirects.push({location: next, status: response.status})
      if (redirects.length > limits.maxRedirects) throw new TransportError(`stopped after ${limits.maxRedirects} redirects`, firstMethod, next, 'fatal')
      if (response.status <= 303 && method !== 'GET') {
        method = 'GET'
        body = undefined
      }

      // Go keeps the request's headers across a redirect, and drops credentials of its own kinds on another host.
      if (new URL(next).host !== new URL(url).host) for (const name of ['Authorization', 'Www-Authenticate', 'Cookie', 'Cookie2']) headers.delete(name)
      url = next
    }
  } finally {
    clearTimeout(timer)
    limits.signal?.removeEventListener('abort', forward)
  }
}

interface RawResponse {
  status: number
  contentType: string
  headers: IncomingMessage['headers']
  body: Buffer
}

function once(method: string, url: string, headers: Map<string, string>, body: Buffer | undefined, limits: SnapdRequestLimits, signal: AbortSignal, shownMethod: string): Promise<RawResponse> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return Promise.reject(new TransportError(`parse ${JSON.stringify(url)}: invalid URL`, shownMethod, url, 'fatal'))
  }

  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return Promise.reject(new TransportError(`unsupported protocol scheme ${JSON.stringify(parsed.protocol.replace(/:$/, ''))}`, shownMethod, url, 'fatal'))
  }

  const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest
  const outgoing: Record<string, string> = Object.fromEntries(headers)
  if (body !== undefined) outgoing['Content-Length'] = String(body.length)
  else if (method === 'POST') outgoing['Content-Length'] = '0'
  return new Promise<RawResponse>((resolve, reject) => {
    const fail = (error: unknown): void => reject(transportError(error, shownMethod, url, signal))
    const req = send(parsed, {headers: outgoing, method, signal}, (res) => {
      const chunks: Buffer[] = []
      let length = 0
      res.on('data', (chunk: Buffer) => {
        length += chunk.length
        if (length > limits.maxResponseBytes) {
          res.destroy()
          reject(new TransportError(`the answer is larger than ${limits.maxResponseBytes} bytes`, shownMethod, url, 'fatal', `the simulator reads answers of at most ${limits.maxResponseBytes} bytes`))
          return
        }

        chunks.push(chunk)
      })
      res.once('end', () => {
        const contentType = res.headersDistinct['content-type']?.[0] ?? ''
        resolve({body: Buffer.concat(chunks, length), contentType, headers: res.headers, status: res.statusCode ?? 0})
      })
      res.once('error', fail)
      res.once('aborted', () => fail(Object.assign(new Error('unexpected EOF'), {code: 'ECONNRESET'})))
    })
    req.once('error', fail)
    req.end(body)
  })
}

/** A node error as Go's client would word it, and how snapd classes it. */
function transportError(error: unknown, method: string, url: string, signal: AbortSignal): TransportError {
  if (error instanceof TransportError) return error
  const code = String((error as NodeJS.ErrnoException)?.code ?? '')
  const message = (error as Error)?.message ?? String(error)
  const {host, port} = hostPort(url)
  if (signal.aborted) {
    const timedOut = (signal.reason as Error | undefined)?.message === 'timeout'
    return timedOut
      ? new TransportError('context deadline exceeded (Client.Timeout exceeded while awaiting headers)', method, url, 'retry')
      : new TransportError('context canceled', method, url, 'fatal', 'the simulator was stopped')
  }

  switch (code) {
    case 'ECONNREFUSED':
      return new TransportError(`dial tcp ${host}:${port}: connect: connection refused`, method, url, 'retry')
    case 'ECONNRESET':
      return new TransportError(message === 'unexpected EOF' ? 'unexpected EOF' : `read tcp ${host}:${port}: read: connection reset by peer`, method, url, 'retry')
    case 'ENOTFOUND':
      return new TransportError(`dial tcp: lookup ${host}: no such host`, method, url, 'fatal')
    case 'EAI_AGAIN':
      return new TransportError(`dial tcp: lookup ${host}: Temporary failure in name resolution`, method, url, 'no-network')
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return new TransportError(`dial tcp ${host}:${port}: connect: ${code === 'ENETUNREACH' ? 'network is unreachable' : 'no route to host'}`, method, url, code === 'ENETUNREACH' ? 'no-network' : 'retry')
    case 'ENETDOWN':
      return new TransportError(`dial tcp ${host}:${port}: connect: network is down`, method, url, 'no-network')
    case 'ETIMEDOUT':
      return new TransportError(`dial tcp ${host}:${port}: i/o timeout`, method, url, 'retry')
    default: {
      // node:tls's certificate and handshake errors: Go's x509 and tls errors are not retried.
      if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_TLS/i.test(code) || /certificate|tls|ssl/i.test(message)) {
        return new TransportError(`x509: ${message}`, method, url, 'fatal')
      }

      return new TransportError(message, method, url, 'retry')
    }
  }
}

function hostPort(url: string): {host: string; port: string} {
  try {
    const parsed = new URL(url)
    return {host: parsed.hostname, port: parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}
  } catch {
    return {host: url, port: ''}
  }
}
