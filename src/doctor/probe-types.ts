/** What `--service URL` found, probing the device service from here (probe.ts makes it). */

export interface CertificateInfo {
  subject: string
  issuer: string
  /** ISO 8601. */
  validFrom: string
  validTo: string
  selfSigned: boolean
  altNames?: string
  fingerprint256: string
}

export interface ProbeReport {
  url: string
  /** Where the URL came from: --service, the device's config, the gadget project. */
  urlFrom: string
  dns?: {ok: boolean; addresses?: string[]; error?: string}
  tcp?: {ok: boolean; address?: string; error?: string}
  tls?: {
    ok: boolean
    /** Whether the chain verifies against what this machine trusts (plus --ca). */
    trusted: boolean
    /** OpenSSL's reason when it does not (SELF_SIGNED_CERT_IN_CHAIN, CERT_NOT_YET_VALID, …). */
    verifyError?: string
    hostnameError?: string
    error?: string
    certificate?: CertificateInfo
    chain: CertificateInfo[]
  }
  health?: {status?: number; error?: string; healthy?: boolean; detail?: string}
  requestId?: {
    /** Whether the POST was made (it consumes a request-id at the service). */
    sent: boolean
    skipped?: string
    status?: number
    contentType?: string
    /** The service's message (`message`, else `error_list[0].message`). */
    message?: string
    /** What snapd would log for this answer. */
    snapdWouldSay?: string
    /** serve's refusal code, when the message is serve's. */
    refusal?: string
    error?: string
    /** The headers sent (names only; values are never reported). */
    headerNames: string[]
    headersFrom?: string
  }
  notes: string[]
}
