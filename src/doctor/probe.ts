/**
 * `--service URL`: the device service probed from here, in the order a device meets it: DNS, TCP,
 * TLS (the chain, a self-signed certificate, the validity window, the host name), `GET health`
 * when the service has it, then one `POST request-id` with the gadget's headers, which the service
 * answers with a fresh request-id: it consumes a nonce there, and the report says so. Every wait
 * is bounded; every answer is read up to a limit. Header values are sent, never reported.
 *
 * The request-id POST is made only when the certificate verified here (or the service is plain
 * HTTP, where the device sends its headers in clear too): an api-key is not handed to a server
 * that could not prove its name.
 */
import {lookup} from 'node:dns/promises'
import {request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {connect as netConnect, isIP} from 'node:net'
import {checkServerIdentity, connect as tlsConnect, type DetailedPeerCertificate, type PeerCertificate, rootCertificates} from 'node:tls'

import {UserError} from '../errors.js'
import {serveRefusal} from './classify.js'
import type {CertificateInfo, ProbeReport} from './probe-types.js'
import {rfc3339} from '../support/rfc3339.js'

export interface ProbeOptions {
  url: string
  urlFrom: string
  /** The headers the device sends (device-service.headers), values secret. */
  headers?: Record<string, string>
  headersFrom?: string
  /** Skip the request-id POST (it consumes a nonce at the service). */
  requestId?: boolean
  /** Extra CA certificates (PEM) to trust, as the device trusts its store-certs. */
  ca?: string[]
  /** Each stage's limit (default 10 s). */
  timeoutMs?: number
  userAgent?: string
}

const DEFAULT_TIMEOUT_MS = 10_000
const MAX_ANSWER_BYTES = 64 * 1024

/** The URL snapd would use as the base: http(s), a trailing slash added as snapd adds it. */
function serviceBase(url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UserError('E_DOCTOR_SERVICE', `--service ${JSON.stringify(url)} is not a URL`, {
      hint: 'give the device service URL as the gadget sets device-service.url, e.g. https://serial-vault-partners.canonical.com/v1/',
    })
  }

  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new UserError('E_DOCTOR_SERVICE', `--service ${JSON.stringify(url)} is not http or https`, {hint: 'snapd speaks HTTPS (or HTTP) to the device service'})
  }

  if (parsed.username || parsed.password) throw new UserError('E_DOCTOR_SERVICE', 'the service URL carries a user name or password', {hint: 'snapd sends credentials as device-service.headers, not in the URL'})
  if (!parsed.pathname.endsWith('/')) parsed.pathname += '/'
  parsed.search = ''
  parsed.hash = ''
  return parsed
}

export async function probeService(options: ProbeOptions): Promise<ProbeReport> {
  const base = serviceBase(options.url)
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const report: ProbeReport = {notes: [], url: base.toString(), urlFrom: options.urlFrom}
  const host = base.hostname.replace(/^\[|\]$/g, '')
  const port = Number(base.port || (base.protocol === 'https:' ? 443 : 80))
  const tls = base.protocol === 'https:'

  // DNS.
  let address = host
  if (isIP(host) === 0) {
    try {
      const found = await withTimeout(lookup(host, {all: true}), timeout, `no answer from the resolver within ${timeout / 1000} s`)
      report.dns = {addresses: found.map((a) => a.address), ok: true}
      address = found[0].address
    } catch (error) {
      report.dns = {error: errorText(error), ok: false}
      return report
    }
  }

  // TCP.
  const tcpError = await tcpConnect(address, port, timeout)
  report.tcp = tcpError ? {address: `${address}:${port}`, error: tcpError, ok: false} : {address: `${address}:${port}`, ok: true}
  if (tcpError) return report

  // TLS.
  if (tls) {
    report.tls = await inspectTls(address, port, isIP(host) === 0 ? host : undefined, host, options.ca, timeout)
    if (!report.tls.ok) return report
  }

  const verified = !tls || (report.tls?.trusted === true && report.tls.hostnameError === undefined)
  const agent = {ca: options.ca, timeout}

  // GET health (serve has it; other services answer 404, which is no fault).
  const health = await httpCall('GET', new URL('health', base), {}, agent, verified)
  if (health.error) report.health = {error: health.error}
  else {
    report.health = {status: health.status}
    if (health.status === 200 || health.status === 503) {
      const body = parseJson(health.body)
      if (body && typeof body.healthy === 'boolean') {
        report.health.healthy = body.healthy
        const database = typeof body.database === 'string' ? `database ${body.database}` : undefined
        report.health.detail = [body.healthy ? 'healthy' : 'unhealthy', database].filter(Boolean).join(', ')
      }
    } else if (health.status === 404) report.health.detail = '(no health endpoint)'
  }

  // POST request-id, as snapd makes it.
  const headers = options.headers ?? {}
  const names = Object.keys(headers)
  if (options.requestId === false) {
    report.requestId = {headerNames: names, headersFrom: options.headersFrom, sent: false, skipped: '--no-request-id'}
    return report
  }

  if (!verified) {
    report.requestId = {headerNames: names, headersFrom: options.headersFrom, sent: false, skipped: 'the certificate did not verify here: the headers are not sent to a server that did not prove its name'}
    return report
  }

  const answer = await httpCall('POST', new URL('request-id', base), {...headers, 'User-Agent': options.userAgent ?? 'snap-gadget-doctor'}, agent, verified)
  report.requestId = {headerNames: names, headersFrom: options.headersFrom, sent: true}
  if (answer.error) {
    report.requestId.error = answer.error
    return report
  }

  report.notes.push('the request-id probe consumed one request-id (nonce) at the service: it expires unused, like one a device abandons')
  const requestId = report.requestId
  requestId.status = answer.status
  requestId.contentType = answer.contentType
  const body = parseJson(answer.body)
  const message = body && (typeof body.message === 'string' && body.message !== '' ? body.message : firstListMessage(body))
  if (message) requestId.message = message
  if (answer.status === 200) {
    if (!body || typeof body['request-id'] !== 'string') requestId.snapdWouldSay = 'cannot read response with request-id for making a request for a serial: (the answer is not JSON with a request-id)'
  } else {
    // snapd's retryBadStatus: above 500 the status alone; else the JSON message when the type is exactly application/json.
    const said = answer.status! > 500 || answer.contentType !== 'application/json' || !message ? `unexpected status ${answer.status}` : message
    requestId.snapdWouldSay = `cannot retrieve request-id for making a request for a serial: ${said}`
    if (message) requestId.refusal = serveRefusal(message)
  }

  return report
}

function firstListMessage(body: Record<string, unknown>): string | undefined {
  const list = body.error_list
  if (!Array.isArray(list) || list.length === 0) return undefined
  const first = list[0] as Record<string, unknown> | null
  return first && typeof first.message === 'string' ? first.message : undefined
}

function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined
  try {
    const value = JSON.parse(text) as unknown
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function tcpConnect(host: string, port: number, timeout: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = netConnect({host, port})
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(`no connection within ${timeout / 1000} s (a firewall dropping packets, or no route)`)
    }, timeout)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.destroy()
      resolve(undefined)
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      resolve(errorText(error))
    })
  })
}

async function inspectTls(address: string, port: number, servername: string | undefined, host: string, ca: string[] | undefined, timeout: number): Promise<NonNullable<ProbeReport['tls']>> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ca: ca && ca.length > 0 ? [...defaultCas(), ...ca] : undefined, host: address, port, rejectUnauthorized: false, servername})
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({chain: [], error: `no TLS handshake within ${timeout / 1000} s`, ok: false, trusted: false})
    }, timeout)
    socket.once('secureConnect', () => {
      clearTimeout(timer)
      const peer = socket.getPeerCertificate(true)
      const chain = certificateChain(peer)
      const result: NonNullable<ProbeReport['tls']> = {certificate: chain[0], chain, ok: true, trusted: socket.authorized}
      if (!socket.authorized) result.verifyError = String((socket.authorizationError as unknown as {code?: string})?.code ?? socket.authorizationError)
      if (peer && Object.keys(peer).length > 0) {
        const identity = checkServerIdentity(host, peer)
        if (identity) result.hostnameError = identity.message
      }

      socket.destroy()
      resolve(result)
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      resolve({chain: [], error: errorText(error), ok: false, trusted: false})
    })
  })
}

/** Node's own roots: given `ca`, Node trusts only it unless these are added. */
function defaultCas(): string[] {
  return [...rootCertificates]
}

function certificateChain(peer: DetailedPeerCertificate | undefined): CertificateInfo[] {
  const chain: CertificateInfo[] = []
  const seen = new Set<string>()
  let current: DetailedPeerCertificate | undefined = peer
  while (current && Object.keys(current).length > 0 && !seen.has(current.fingerprint256) && chain.length < 8) {
    seen.add(current.fingerprint256)
    chain.push(certificateInfo(current))
    current = current.issuerCertificate
  }

  return chain
}

function certificateInfo(cert: PeerCertificate): CertificateInfo {
  const name = (n: Record<string, string | string[]> | undefined) => {
    if (!n) return ''
    const cn = n.CN
    const text = Array.isArray(cn) ? cn.join(', ') : cn
    return (
      text ??
      Object.entries(n)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
        .join(', ')
    )
  }

  const iso = (date: string) => {
    const parsed = Date.parse(date)
    return Number.isFinite(parsed) ? rfc3339(new Date(parsed)) : date
  }

  const subject = name(cert.subject as unknown as Record<string, string>)
  const issuer = name(cert.issuer as unknown as Record<string, string>)
  return {
    altNames: cert.subjectaltname || undefined,
    fingerprint256: cert.fingerprint256,
    issuer,
    selfSigned: subject === issuer && JSON.stringify(cert.subject) === JSON.stringify(cert.issuer),
    subject,
    validFrom: iso(cert.valid_from),
    validTo: iso(cert.valid_to),
  }
}

interface HttpAnswer {
  status?: number
  contentType?: string
  body?: string
  error?: string
}

function httpCall(method: 'GET' | 'POST', url: URL, headers: OutgoingHttpHeaders, options: {ca?: string[]; timeout: number}, verified: boolean): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const https = url.protocol === 'https:'
    const requestOptions = {
      agent: false as const,
      ca: https && options.ca && options.ca.length > 0 ? [...defaultCas(), ...options.ca] : undefined,
      headers: method === 'POST' ? {...headers, 'Content-Length': 0} : headers,
      method,
      rejectUnauthorized: https ? verified : undefined,
    }
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${options.timeout / 1000} s`))
    }, options.timeout)
    const done = (answer: HttpAnswer) => {
      clearTimeout(timer)
      resolve(answer)
    }

    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      let length = 0
      res.on('data', (chunk: Buffer) => {
        if (length >= MAX_ANSWER_BYTES) return
        chunks.push(chunk)
        length += chunk.length
        if (length >= MAX_ANSWER_BYTES) res.destroy()
      })
      const finish = () => done({body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8'), contentType: res.headers['content-type'], status: res.statusCode})
      res.once('end', finish)
      res.once('close', finish)
      res.once('error', finish)
    }

    const req = https ? httpsRequest(url, requestOptions, onResponse) : httpRequest(url, requestOptions, onResponse)
    req.once('error', (error) => done({error: errorText(error)}))
    req.end()
  })
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function errorText(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  if (e?.code && e.message && !e.message.includes(e.code)) return `${e.code}: ${e.message}`
  return e?.message ?? String(error)
}
