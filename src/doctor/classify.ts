/**
 * One of snapd's error texts on the registration path → the cause and the step, with what the text
 * carries (the URL, the status, the certificate dates, the service's message and, when the service
 * is `serve`, its refusal code). The texts are registration-failures.md §2's, for snapd 2.57 …
 * 2.77 (Go 1.20+ builds put "tls: failed to verify certificate: " before x509's texts).
 */
import {REFUSALS, type RefusalCode} from '../service/refusals.js'
import type {CauseCode} from './causes.js'
import type {StepId} from './steps.js'

export interface Classified {
  code: CauseCode
  step: StepId
  /** What the text carries, for the evidence and the fix. */
  url?: string
  status?: number
  /** The service's own message, when snapd passed it on. */
  serviceMessage?: string
  /** The refusal code, when the message is serve's. */
  refusal?: RefusalCode
  /** From a certificate validity error: the device's time then, and the bound it crossed. */
  deviceTime?: string
  notBefore?: string
  notAfter?: string
  /** A hook's output. */
  hookOutput?: string
  /** A snap-gadget runtime's own fix, from its one-line error. */
  runtimeFix?: string
}

const REQUEST_ID = /^cannot retrieve request-id for making a request for a serial: ([\s\S]*)$/
const DELIVER = /^cannot deliver device serial request: ([\s\S]*)$/

/** The cause of one ERROR (or INFO) text of a registration task, or undefined when unknown. */
export function classifyMessage(text: string, context: {bodyIsObject?: boolean} = {}): Classified | undefined {
  let match: RegExpExecArray | null

  if ((match = /^run hook "prepare-device": ([\s\S]*)$/.exec(text))) {
    const output = unwrapOutput(match[1])
    const runtime = /^prepare-device: [\s\S]*\(fix: ([\s\S]+)\)\s*$/.exec(output)
    if (/<exceeded maximum runtime of [^>]+>/.test(output)) return {code: 'prepare-device-hook-timeout', hookOutput: output, step: 'prepare-device'}
    return {code: 'prepare-device-hook-failed', hookOutput: output, runtimeFix: runtime?.[1], step: 'prepare-device'}
  }

  if (/^cannot (generate|store) device key pair|cannot access device keypair manager/.test(text)) return {code: 'device-key-failed', step: 'device-key'}
  if (/^internal error: cannot find device key pair/.test(text)) return {code: 'device-key-missing', step: 'device-key'}
  if (/^cannot find gadget snap |^cannot parse device registration base URL /.test(text)) return {code: 'gadget-config', step: 'request-id'}

  if ((match = /^failed to run prepare serial request hook: ([\s\S]*)$/.exec(text))) {
    const inner = match[1]
    if (/did not set mandatory field|cannot unmarshal registration body as JSON|cannot get updated registration body/.test(inner)) return {code: 'serial-hook-body-invalid', step: 'prepare-serial-request'}
    const hook = /run hook "prepare-serial-request": ([\s\S]*)$/.exec(inner)
    return {code: 'serial-hook-failed', hookOutput: hook ? unwrapOutput(hook[1]) : inner, step: 'prepare-serial-request'}
  }

  // Reading an option as the type snapd expects failed (2.77: `internal error: cannot unmarshal
  // snap "<gadget>" option "registration.body" into *string: json: cannot unmarshal object into Go
  // value of type string, json: {…}`): the body an earlier prepare-serial-request hook left as an
  // object (2.74+), or an option set with the wrong type.
  if (/json: cannot unmarshal \w+ into Go value of type /.test(text) && !REQUEST_ID.test(text) && !DELIVER.test(text)) {
    const bodyObject = /option "registration\.body" into \*string: json: cannot unmarshal object/.test(text)
    if (bodyObject || (/cannot unmarshal object into Go value of type string/.test(text) && context.bodyIsObject)) return {code: 'serial-hook-body-object', step: 'prepare-serial-request'}
    return {code: 'gadget-config', step: 'request-id'}
  }

  if ((match = REQUEST_ID.exec(text))) return classifyExchange(match[1], 'request-id')
  if (/^cannot read response with request-id for making a request for a serial: /.test(text)) return {code: 'service-url-wrong', step: 'request-id'}
  if ((match = DELIVER.exec(text))) return classifyExchange(match[1], 'serial-request')
  if (/^Will poll for device serial assertion in /.test(text)) return {code: 'serial-polling', step: 'serial-request'}
  if (/^cannot read response to request for a serial: |missing device serial assertion|^cannot accept more than a single device serial assertion/.test(text)) {
    return {code: 'serial-response-invalid', step: 'serial-request'}
  }

  if (/^obtained serial assertion does not match provided device identity/.test(text)) return {code: 'serial-mismatch', step: 'serial-checks'}
  if (/^obtained serial assertion is signed by authority /.test(text)) return {code: 'serial-authority', step: 'serial-checks'}
  if (/^cannot fetch signing key for the serial: /.test(text)) return {code: 'serial-key-unknown', step: 'serial-checks'}
  if (/^cannot save serial to device save assertion database/.test(text)) return {code: 'serial-save', step: 'serial-checks'}
  // The assertion database's verdicts, alone or inside "cannot accept stream of assertions …".
  if (/outside of signing key validity|signed with expired public key/.test(text)) return {code: 'serial-key-validity', step: 'serial-checks'}
  if (/failed signature verification/.test(text)) return {code: 'serial-signature', step: 'serial-checks'}
  if (/no matching public key|cannot resolve prerequisite assertion|does not match public key from|^cannot accept stream of assertions from device service: |^cannot accept some assertions/.test(text)) {
    return {code: 'serial-key-untrusted', step: 'serial-checks'}
  }

  return undefined
}

/** What follows "cannot retrieve request-id …: " or "cannot deliver device serial request: ". */
function classifyExchange(rest: string, step: 'request-id' | 'serial-request'): Classified {
  const transport = /^(?:Post|Head|Get) "([^"]*)": ([\s\S]*)$/.exec(rest)
  if (transport) return {...classifyTransport(transport[2], step), url: transport[1]}

  const status = /^unexpected status (\d{3})$/.exec(rest)
  if (status) {
    const code = Number(status[1])
    return {code: statusCause(code, step), status: code, step}
  }

  // The service's own message (snapd passes it on for a 4xx or 500 with a JSON body).
  const refusal = serveRefusal(rest)
  if (refusal) return {code: refusalCause(refusal, rest, step), refusal, serviceMessage: rest, step}
  return {code: messageCause(rest, step), serviceMessage: rest, step}
}

function classifyTransport(error: string, step: 'request-id' | 'serial-request'): Classified {
  let match: RegExpExecArray | null
  if ((match = /certificate has expired or is not yet valid: current time (\S+) is before (\S+)/.exec(error))) {
    return {code: 'clock-behind', deviceTime: match[1], notBefore: match[2], step: 'request-id'}
  }

  if ((match = /certificate has expired or is not yet valid: current time (\S+) is after (\S+)/.exec(error))) {
    return {code: 'certificate-expired', deviceTime: match[1], notAfter: match[2], step: 'request-id'}
  }

  if (/certificate has expired or is not yet valid/.test(error)) return {code: 'clock-behind', step: 'request-id'}
  if (/certificate signed by unknown authority/.test(error)) return {code: 'tls-unknown-authority', step}
  if (/certificate is valid for .*, not |certificate is not valid for any names/.test(error)) return {code: 'tls-hostname', step}
  if (/\bx509: |\btls: |remote error: tls/.test(error)) return {code: 'tls-failed', step}
  if (/^proxyconnect /.test(error)) return {code: 'proxy-unreachable', step}
  if (/Temporary failure in name resolution|network is unreachable|network is down/.test(error)) return {code: 'no-network', step}
  if (/\blookup \S+.*(no such host|server misbehaving|i\/o timeout)|no such host/.test(error)) return {code: 'dns', step}
  if (/connection refused|i\/o timeout|no route to host|connection reset by peer|\bEOF\b|Client\.Timeout exceeded|context deadline exceeded|broken pipe/.test(error)) {
    return {code: 'service-unreachable', step}
  }

  return {code: 'unknown-error', step}
}

function statusCause(status: number, step: 'request-id' | 'serial-request'): CauseCode {
  if (status === 401 || status === 403) return 'api-key-invalid'
  if (status === 404 || status === 405) return 'service-url-wrong'
  if (status >= 500) return 'service-error'
  return step === 'request-id' ? 'request-id-refused' : 'service-refused'
}

/** serve's refusal code of a message: each is "<what>: <the code's fix>". */
export function serveRefusal(message: string): RefusalCode | undefined {
  for (const [code, spec] of Object.entries(REFUSALS) as [RefusalCode, (typeof REFUSALS)[RefusalCode]][]) {
    if (message.endsWith(`: ${spec.fix}`)) return code
  }

  return undefined
}

function refusalCause(refusal: RefusalCode, message: string, step: 'request-id' | 'serial-request'): CauseCode {
  switch (refusal) {
    case 'api-key-missing':
      return 'api-key-missing'
    case 'api-key-invalid':
      return step === 'serial-request' && /the api-key is not the one of model /.test(message) ? 'model-not-served' : 'api-key-invalid'
    case 'serial-taken':
      return 'serial-taken'
    case 'device-has-serial':
      return 'device-has-serial'
    case 'request-id-unknown':
    case 'request-id-expired':
    case 'request-id-model':
      return 'request-id-rejected'
    case 'not-found':
    case 'method-not-allowed':
      return 'service-url-wrong'
    case 'service-busy':
    case 'database-unavailable':
    case 'internal-error':
      return 'service-error'
    case 'request-aborted':
      return 'service-unreachable'
    default:
      return step === 'request-id' ? 'request-id-refused' : 'serial-request-invalid'
  }
}

/** Another service's message: the Serial Vault's best-known ones, else a refusal as such. */
function messageCause(message: string, step: 'request-id' | 'serial-request'): CauseCode {
  if (/model not (enabled|found)|unknown model|model .*not (served|registered)/i.test(message)) return 'model-not-served'
  if (/api[ -_]?key|unauthori[sz]ed|invalid key/i.test(message)) return 'api-key-invalid'
  if (/serial .*(already|taken|in use|duplicate)/i.test(message)) return 'serial-taken'
  return step === 'request-id' ? 'request-id-refused' : 'service-refused'
}

/**
 * A hook's output as snapd wraps it (osutil.OutputErr): one line as is, several between lines of
 * dashes.
 */
function unwrapOutput(output: string): string {
  const wrapped = /^\n?-----\n([\s\S]*)\n-----\s*$/.exec(output)
  return (wrapped ? wrapped[1] : output).trim()
}
