/**
 * Every answer of the device service that is not a serial, in one table: its code, its HTTP
 * status, what it means and what to fix. The device shows the message in `snap changes` (snapd
 * reads `message` from an `application/json` answer), so each message says what went wrong for
 * this request and then how to fix it. The README's table of refusals is held to this one by a
 * test.
 *
 * Status codes follow what snapd does with them (registration-protocol.md §2): any 4xx and 500
 * end the attempt (the device retries after its back-off, 5 minutes and more), a status above
 * 500 is retried after a minute. So what asking again a moment later may fix is a 503.
 */

interface RefusalSpec {
  status: number
  /** What it means, in a few words (the README's table). */
  means: string
  /** What to do about it: the second half of every message with this code. */
  fix: string
}

export const REFUSALS = {
  // Who is asking.
  'api-key-missing': {
    fix: 'set device-service.headers to {"api-key": "…"} in the gadget (snap set <gadget> api-key=…)',
    means: 'the request has no api-key header',
    status: 401,
  },
  'api-key-invalid': {
    fix: "check the gadget's api-key setting against the serve config",
    means: 'the api-key is not one this service knows',
    status: 401,
  },

  // Who is asking, by hardware identity (onboarding: hardware-identity).
  'hardware-identity-unknown': {
    fix: "the factory signs the device's identity (snap-gadget hardware-identity sign) and imports it (snap-gadget serve import); the device asks again by itself",
    means: 'hardware identity not imported yet',
    status: 403,
  },
  'hardware-identity-issuer': {
    fix: "import the identity as the brand issued it, or name its issuer in the model's issuers: in the serve config",
    means: 'the hardware identity was issued by an account the model does not accept (another brand)',
    status: 403,
  },
  'hardware-identity-signature': {
    fix: 'the prepare-serial-request hook signs the UTF-8 bytes of the request-id snapd set, with the hardware key: SHA-256 (SHA-384 for P-384), ECDSA as DER, RSA PKCS#1 v1.5, in base64',
    means: 'request-id-signature does not verify with the hardware key',
    status: 401,
  },
  'hardware-body-invalid': {
    fix: 'the prepare-serial-request hook (snapd 2.74 or later) sets registration.body to one JSON object: hardware-id-key-sha384 and hardware-id-key-sha3-384 (the digest), request-id-signature and hardware-id-key',
    means: 'the serial-request body is not a hardware identity proof',
    status: 400,
  },
  'hardware-key-mismatch': {fix: "the body's hardware-id-key and its digest must be the same key's: check what the hook reads", means: "the body's hardware-id-key is not the key of its digest", status: 400},
  'request-id-busy': {
    fix: 'the device will retry; if it lasts, the operator raises limits.anonymous-request-ids in the serve config',
    means: 'the service gave as many request-ids without an api-key as its limits allow',
    status: 503,
  },

  // Re-registration on remodel: the serial the device held before.
  'remodel-not-allowed': {
    fix: "add the original model to the new model's remodel-from: in the serve config (BRAND/MODEL, or BRAND/*), or remodel the device to a model that takes it",
    means: 'the model does not take devices remodelled from the original model',
    status: 403,
  },
  'remodel-headers': {fix: 'snapd sends original-brand-id, original-model and original-serial together: send all three, or none', means: 'the serial-request has some original-* headers, not all', status: 400},
  'remodel-stream': {
    fix: 'post the serial-request, the new model assertion and the original serial assertion, as snapd does on a re-registration',
    means: 'a re-registration stream lacks the new model or the original serial',
    status: 400,
  },
  'remodel-serial-mismatch': {
    fix: "send the device's current serial assertion, and sign the serial-request with the device key it certifies",
    means: 'the original serial is not the one the original-* headers name, or certifies another device key',
    status: 400,
  },
  'remodel-serial-untrusted': {
    fix: 'a device re-registers here with a serial this service (or a key in its config) signed; add the chain of the key that signed it to a model of the serve config, or register it where it was registered first',
    means: 'the original serial is not signed by a key this service holds',
    status: 403,
  },

  // What was sent.
  'stream-empty': {fix: 'post the serial-request followed by the model assertion', means: 'the request body is empty', status: 400},
  'stream-invalid': {fix: 'post the assertions as snapd encodes them', means: 'the body is not a valid assertion stream', status: 400},
  'stream-order': {fix: 'post the serial-request first, then the model assertion', means: 'the stream does not start with the serial-request', status: 400},
  'stream-unexpected': {
    fix: 'post only the serial-request and the model assertion (and, on a re-registration with original-* headers, the original serial)',
    means: 'the stream holds an assertion that does not belong in it',
    status: 400,
  },
  'device-key-invalid': {fix: 'the device-key header must be the public key snapd generated for the device', means: 'the device-key header is not a usable public key', status: 400},
  'serial-request-signature': {
    fix: 'the serial-request must be signed by the key in its device-key header, as snapd signs it',
    means: 'the serial-request is not signed by its device key',
    status: 400,
  },
  'model-mismatch': {fix: 'send the model assertion of the device', means: "the model assertion is not the serial-request's model", status: 400},
  'model-authority': {fix: 'use the model assertion the brand signed', means: 'the model is not signed by its brand', status: 400},
  'model-signature': {fix: 'use the model assertion the brand signed, unchanged', means: "the model's signature does not verify", status: 400},
  'request-id-unknown': {fix: 'each serial-request needs a fresh request-id', means: 'the request-id is unknown or already used', status: 400},
  'request-id-expired': {fix: 'ask for a fresh request-id', means: 'the request-id is too old', status: 400},
  'request-id-model': {fix: 'ask for the request-id with the api-key of the model in the serial-request', means: "the request-id was issued for another model's api-key", status: 400},
  'body-invalid': {fix: 'set registration.body to YAML (or leave it out and propose the serial in the header)', means: 'the serial-request body is not valid YAML', status: 400},
  'serial-missing': {fix: 'the gadget must set registration.proposed-serial (or serial: in registration.body)', means: 'the serial-request proposes no serial', status: 400},
  'serial-invalid': {fix: 'propose a serial snapd accepts', means: 'the proposed serial cannot be a serial', status: 400},
  'serial-not-hardware-id': {
    fix: "propose the hardware identity's hardware-id as the serial, or none; or set serial-from: request for the model in the serve config",
    means: "the proposed serial is not the hardware identity's hardware-id",
    status: 400,
  },
  'serial-unsignable': {fix: 'fix what the device sends so that snapd could sign it', means: 'the serial assertion cannot be signed from what the device sent', status: 400},

  // Who already has what.
  'serial-taken': {fix: 'each device needs its own serial; check how the gadget derives it', means: 'the serial was issued to another device key', status: 400},
  'device-has-serial': {fix: 'a device key gets one serial; the device keeps the serial it has', means: 'this device key already has another serial', status: 400},
  'hardware-identity-taken': {
    fix: 'a hardware identity registers one device key; the device keeps its device key (snapd keeps it in ubuntu-save), and a device whose key was made again needs the brand to withdraw its registration',
    means: 'the hardware identity already registered another device key',
    status: 400,
  },
  'device-has-identity': {fix: 'a device key registers with one hardware identity: the device keeps the one it registered with', means: 'this device key registered with another hardware identity', status: 400},

  // The request itself.
  'not-found': {fix: 'point the gadget at the service URL ending in /v1/', means: 'no such endpoint', status: 404},
  'method-not-allowed': {fix: 'use the method the endpoint takes', means: 'the endpoint takes another method', status: 405},
  'body-too-large': {fix: 'snapd never sends this much: check what posts to the service', means: 'the request body is over the limit', status: 413},
  'request-aborted': {fix: 'the device will retry', means: 'the request was aborted before it arrived whole', status: 400},

  // The service's side: the device retries.
  'service-busy': {
    fix: 'the device will retry; if it lasts, the operator raises limits in the serve config',
    means: 'the service holds as many request bodies as its limits allow',
    status: 503,
  },
  'database-unavailable': {fix: 'the device will retry; the operator sees why in the service log', means: 'the database cannot be reached or written', status: 503},
  'internal-error': {fix: "the service's operator has the details in its log", means: 'a bug in the service', status: 500},
} as const satisfies Record<string, RefusalSpec>

export type RefusalCode = keyof typeof REFUSALS

/** A refusal the device is told about: its code's status, and what went wrong then what to fix. */
export class ServiceRefusal extends Error {
  readonly status: number

  /** `what`: what went wrong with this request; the table's `means` when not given. */
  constructor(
    readonly code: RefusalCode,
    what?: string,
  ) {
    const spec: RefusalSpec = REFUSALS[code]
    super(`${what ?? spec.means}: ${spec.fix}`)
    this.status = spec.status
  }
}
