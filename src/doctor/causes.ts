/**
 * Every cause doctor can name, in one table: the step where snapd stops, what snapd says (the
 * exact text, by version where it changed: registration-failures.md §2), the cause in one sentence
 * and the fix. The README's table of causes is held to this one by a test.
 *
 * `<…>` in a cause or a fix is filled in from what was read when it is known (the gadget's name,
 * the service URL); otherwise it stays as written, for the reader to fill in.
 */
import type {StepId} from './steps.js'

export interface SnapdSays {
  /** snapd's text, `%v` where snapd puts a wrapped error or a value. */
  text: string
  /** The snapd versions that say it, when not all of 2.57 … 2.77. */
  versions?: string
}

export interface CauseSpec {
  /** The steps at which snapd can stop for this cause, the usual one first. */
  steps: readonly StepId[]
  /** What it is, in a few words (the README's table). */
  title: string
  says: readonly SnapdSays[]
  /** The cause, in one sentence. */
  cause: string
  /** What to do: a command or the file to change. */
  fix: string
}

const REQUEST_ID = 'cannot retrieve request-id for making a request for a serial'
const DELIVER = 'cannot deliver device serial request'

export const CAUSES = {
  // -- model -------------------------------------------------------------------------------------
  'no-model': {
    cause: 'The device has no model assertion, so snapd has nothing to register.',
    fix: 'build the image with the signed model (ubuntu-image snap <model.assert>); `snap model --assertion` on the device shows what it has',
    says: [{text: 'device not ready yet (no assertions found)'}, {text: 'no model assertion yet'}],
    steps: ['model'],
    title: 'no model',
  },
  'classic-no-snaps': {
    cause: 'This classic system has a model without a gadget or a store (generic-classic), and snapd registers such a system only once a snap is installed or being installed.',
    fix: 'install a snap (`snap install <snap>`) to start registration; a device that should register at first boot needs a model with a gadget',
    says: [{text: '(no "Initialize device" change; `snap list`: No snaps are installed yet)'}],
    steps: ['model'],
    title: 'classic: waits for a snap',
  },
  'not-seeded': {
    cause: 'snapd has not finished seeding the image, and registers only after that.',
    fix: '`snap changes` shows the seeding change ("Initialize system state"); `snap tasks <id>` says what holds it',
    says: [{text: 'seeded: false in state.json; the "Initialize system state" change is not Done'}],
    steps: ['model'],
    title: 'not seeded yet',
  },

  // -- prepare-device ----------------------------------------------------------------------------
  'prepare-device-hook-failed': {
    cause: "The gadget's prepare-device hook exited with an error, so snapd neither made a key nor asked for a serial; it runs the hook again with every new attempt.",
    fix: "the hook's output above says why: fix the hook or what it reads, then try it with `sudo snap run --hook=prepare-device <gadget>`",
    says: [{text: 'run hook "prepare-device": %v (the hook\'s output, or exit status N when it printed nothing)'}],
    steps: ['prepare-device'],
    title: 'prepare-device hook failed',
  },
  'prepare-device-hook-timeout': {
    cause: "The gadget's prepare-device hook ran longer than snapd's 10 minutes and was killed.",
    fix: 'bound every wait in the hook (network, hardware reads, snapctl); `snap tasks <id>` shows what it printed before it was killed',
    says: [{text: 'run hook "prepare-device": … <exceeded maximum runtime of 10m0s>'}],
    steps: ['prepare-device'],
    title: 'prepare-device hook timed out',
  },

  // -- device key --------------------------------------------------------------------------------
  'device-key-failed': {
    cause: 'snapd could not make or store the device key.',
    fix: 'check the kernel entropy and memory (key generation), or that /var/lib/snapd/device (ubuntu-save on UC20+) is mounted and writable',
    says: [{text: 'cannot generate device key pair: %v'}, {text: 'cannot store device key pair: %v'}, {text: 'internal error: cannot access device keypair manager if ubuntu-save is unavailable'}],
    steps: ['device-key'],
    title: 'device key not made',
  },
  'device-key-missing': {
    cause: "snapd's state names a device key whose file is gone (a wiped ubuntu-save or key directory).",
    fix: 'restore the key directory, or reset the device (a new key needs a new serial)',
    says: [{text: 'internal error: cannot find device key pair'}],
    steps: ['device-key'],
    title: 'device key file missing',
  },

  // -- request-id (and the options read just before it) ------------------------------------------
  'gadget-config': {
    cause: 'snapd cannot read the registration options the gadget set (device-service.*, registration.*): the gadget is missing or an option has the wrong type or form.',
    fix: 'fix what the prepare-device hook sets (`snap get -d <gadget>` shows it): device-service.url an http(s) URL, device-service.headers an object of strings, registration.body and registration.proposed-serial strings',
    says: [{text: 'cannot find gadget snap %q: %v'}, {text: 'cannot parse device registration base URL %q: %v'}, {text: 'json: cannot unmarshal … into Go value of type …'}],
    steps: ['request-id'],
    title: 'registration options unreadable',
  },
  dns: {
    cause: "The device cannot resolve the device service's host name.",
    fix: 'on the device: `resolvectl query <host>` (or check /etc/resolv.conf); fix the DNS server it gets, or device-service.url',
    says: [{text: `${REQUEST_ID}: Post "<url>": dial tcp: lookup <host> on <resolver>: no such host`}],
    steps: ['request-id', 'serial-request'],
    title: 'DNS',
  },
  'no-network': {
    cause: 'The device has no network route (or no DNS server) yet: snapd retries every 30 seconds without a log line.',
    fix: 'bring up the network on the device (`ip route`, `resolvectl status`); snapd asks again by itself',
    says: [{text: '(nothing: the task stays Doing, pre-poll-tentatives 0, retried every 30 s)'}],
    steps: ['request-id'],
    title: 'no network',
  },
  'service-unreachable': {
    cause: 'Nothing answers at the device service address: the service is down, on another port, or a firewall drops the connection.',
    fix: "start the service (or fix device-service.url); from a machine on the device's network, `snap-gadget doctor --service <url>` checks it",
    says: [{text: `${REQUEST_ID}: Post "<url>": dial tcp <address>: connect: connection refused`}, {text: `${DELIVER}: %v (connection refused, i/o timeout, no route to host, EOF, connection reset by peer)`}],
    steps: ['request-id', 'serial-request'],
    title: 'service unreachable',
  },
  'proxy-unreachable': {
    cause: "The device's HTTPS proxy (proxy.https, or https_proxy in snapd's environment) does not accept connections, so no request reaches the service.",
    fix: "fix or unset the proxy on the device: `snap get -d system proxy`, `snap unset system proxy.https`; and snapd's environment (/etc/environment)",
    says: [{text: `${REQUEST_ID}: Post "<url>": proxyconnect tcp: dial tcp <proxy>: connect: connection refused`}],
    steps: ['request-id', 'serial-request'],
    title: 'proxy unreachable',
  },
  'tls-unknown-authority': {
    cause: 'The device does not trust the certificate of the device service: it is self-signed or from a private CA (or a proxy intercepts TLS).',
    fix: "snapd 2.59+: copy the CA certificate to /var/lib/snapd/ssl/store-certs/<name>.pem on the device (the gadget can ship it); older snapd: serve a certificate from a CA in the device's system trust store",
    says: [
      {text: `${REQUEST_ID}: Post "<url>": x509: certificate signed by unknown authority`, versions: 'built with Go 1.19 (Debian 12: 2.57)'},
      {text: `${REQUEST_ID}: Post "<url>": tls: failed to verify certificate: x509: certificate signed by unknown authority`, versions: 'built with Go 1.20+'},
    ],
    steps: ['request-id', 'serial-request'],
    title: 'TLS: unknown authority',
  },
  'clock-behind': {
    cause: "The device's clock is behind the start of the service certificate's validity (no RTC, NTP not reached yet), so the certificate is not yet valid there.",
    fix: "set the clock: let systemd-timesyncd reach an NTP server (`timedatectl timesync-status`), or give the board an RTC; check the certificate's notBefore too",
    says: [
      {text: `${REQUEST_ID}: Post "<url>": x509: certificate has expired or is not yet valid: current time <device time> is before <notBefore>`, versions: '2.57 at once; 2.58.1+ after 20 silent tries'},
      {text: '… tls: failed to verify certificate: x509: …', versions: 'built with Go 1.20+'},
    ],
    steps: ['request-id'],
    title: 'clock behind the certificate',
  },
  'clock-behind-retrying': {
    cause: "snapd retries the request-id without a log line: the service's certificate is expired or not yet valid at the device's time (usually a clock not set yet); it gives up after 20 tries (37.5 minutes).",
    fix: 'check the device clock against the certificate (`date -u` on the device; `snap-gadget doctor --ssh … --service <url>` compares them) and let NTP set it',
    says: [{text: '(nothing: the task stays Doing, pre-poll-tentatives counting up to 20, retried after 30 s, 60 s, 120 s, 240 s)', versions: '2.58.1+'}],
    steps: ['request-id'],
    title: 'clock: silent retries',
  },
  'certificate-expired': {
    cause: "The device service's certificate has expired at the device's time (or the device's clock is ahead).",
    fix: 'renew the service certificate; if it is valid, set the device clock',
    says: [{text: `${REQUEST_ID}: … x509: certificate has expired or is not yet valid: current time <device time> is after <notAfter>`}],
    steps: ['request-id'],
    title: 'certificate expired',
  },
  'tls-hostname': {
    cause: 'The service certificate is not for the host name in device-service.url.',
    fix: 'use the host name the certificate names in device-service.url, or issue the certificate for it',
    says: [{text: `${REQUEST_ID}: … x509: certificate is valid for <names>, not <host>`}],
    steps: ['request-id', 'serial-request'],
    title: 'TLS: wrong host name',
  },
  'tls-failed': {
    cause: 'The TLS connection to the device service failed.',
    fix: "`snap-gadget doctor --service <url>` shows the service's certificate chain; check the TLS set-up of the service (or of a proxy in front of it)",
    says: [{text: `${REQUEST_ID}: … tls: … / x509: …`}],
    steps: ['request-id', 'serial-request'],
    title: 'TLS failed',
  },
  'api-key-missing': {
    cause: 'The device sends no api-key header, which the service requires.',
    fix: 'make the prepare-device hook set device-service.headers to {"api-key": "…"} (for a snap-gadget gadget: `snap set <gadget> api-key=…` in the factory, or the build\'s key)',
    says: [{text: `${REQUEST_ID}: the request has no api-key header: …`, versions: 'serve: api-key-missing'}],
    steps: ['request-id', 'serial-request'],
    title: 'no api-key',
  },
  'api-key-invalid': {
    cause: "The service refuses the device's api-key: it is not one it knows.",
    fix: "set the api-key the service expects for this model (`snap set <gadget> api-key=…` on a snap-gadget gadget, or the hook's headers), then `snap-gadget doctor --service <url>` checks it",
    says: [
      {text: `${REQUEST_ID}: the api-key is not one this service knows: …`, versions: 'serve: api-key-invalid'},
      {text: `${REQUEST_ID}: unexpected status 401 (or 403)`, versions: 'other services, no JSON message'},
    ],
    steps: ['request-id', 'serial-request'],
    title: 'wrong api-key',
  },
  'service-url-wrong': {
    cause: "device-service.url does not point at the device service API: the path or the host is another server's.",
    fix: "set device-service.url to the service's base URL, ending in /v1/ for the Serial Vault and serve (snapd appends request-id and serial)",
    says: [{text: `${REQUEST_ID}: unexpected status 404`}, {text: 'cannot read response with request-id for making a request for a serial: %v (a 200 that is not JSON)'}],
    steps: ['request-id', 'serial-request'],
    title: 'wrong service URL',
  },
  'service-error': {
    cause: 'The device service failed with a server error; snapd retries a status above 500 every minute and stops the attempt at 500.',
    fix: "read the service's log around the device's request (`snap-gadget serve log` for serve)",
    says: [{text: `${REQUEST_ID}: unexpected status 5xx`}, {text: `${DELIVER}: unexpected status 5xx`}],
    steps: ['request-id', 'serial-request'],
    title: 'service error',
  },
  'request-id-refused': {
    cause: 'The device service refused to give a request-id; its message says why.',
    fix: "the service's message above names the fix; its log has the details",
    says: [{text: `${REQUEST_ID}: <the service's message>`}, {text: `${REQUEST_ID}: unexpected status 4xx`}],
    steps: ['request-id'],
    title: 'request-id refused',
  },
  'proxy-store-drops-url': {
    cause: 'A store proxy is configured (proxy.store), so snapd sends the registration to the proxy with the service URL in a header; this proxy answered itself instead of forwarding to device-service.url.',
    fix: 'update the store proxy to one that forwards X-Snap-Device-Service-URL, or unset proxy.store for registration (`snap unset system proxy.store`)',
    says: [{text: `${REQUEST_ID}: Post "<proxy>/api/v1/snaps/auth/request-id": …`}, {text: 'Proxy store does not support custom serial vault; ignoring the proxy (journal only)'}],
    steps: ['request-id', 'serial-request'],
    title: 'store proxy drops the service URL',
  },
  'store-offline': {
    cause: 'The store is marked offline (store.access=offline) and the gadget sets no device-service.url, so snapd asks for no serial.',
    fix: 'set device-service.url in the gadget, or `snap unset system store.access`',
    says: [{text: 'skipping getting serial, store is marked as offline', versions: '2.61+'}],
    steps: ['request-id'],
    title: 'store offline',
  },
  'device-service-offline': {
    cause: 'The gadget sets device-service.access=offline, so snapd makes the device key and asks for no serial.',
    fix: "drop device-service.access=offline from the gadget's defaults or hook when the device should register",
    says: [{text: 'skipping getting serial, store is marked as offline', versions: '2.61+'}],
    steps: ['request-id'],
    title: 'device service offline',
  },

  // -- prepare-serial-request (2.74+) ------------------------------------------------------------
  'serial-hook-failed': {
    cause: "The gadget's prepare-serial-request hook exited with an error.",
    fix: "the hook's output above says why; fix the hook (it has the request-id in `snapctl get registration.request-id`)",
    says: [{text: 'failed to run prepare serial request hook: cannot run prepare serial request hook: run hook "prepare-serial-request": %v', versions: '2.74+'}],
    steps: ['prepare-serial-request'],
    title: 'prepare-serial-request hook failed',
  },
  'serial-hook-body-invalid': {
    cause: 'The prepare-serial-request hook left registration.body unset, not a JSON object, or without hardware-id-key-sha384 and request-id-signature.',
    fix: 'make the hook set one JSON object: snapctl set registration.body=\'{"hardware-id-key-sha384": "…", "request-id-signature": "…"}\' (not snapctl set -s)',
    says: [
      {text: "failed to run prepare serial request hook: 'prepare-serial-request' hook did not set mandatory field %q in registration body", versions: '2.74+'},
      {text: 'failed to run prepare serial request hook: cannot unmarshal registration body as JSON (hook did not overwrite or wrote incorrectly?): %v', versions: '2.74+'},
    ],
    steps: ['prepare-serial-request'],
    title: 'hook body invalid',
  },
  'serial-hook-body-object': {
    cause: 'The prepare-serial-request hook left registration.body a JSON object, and snapd reads it back as a string on every later try: after any retry (a 5xx, a network error, a 202) the attempt fails.',
    fix: 'make prepare-device set registration.body to a string (or unset it) so each new attempt starts clean, and keep the service from asking for a retry; `snap get -d <gadget>` shows the object left behind',
    says: [{text: 'internal error: cannot unmarshal snap "<gadget>" option "registration.body" into *string: json: cannot unmarshal object into Go value of type string, json: {…}', versions: '2.74+'}],
    steps: ['prepare-serial-request'],
    title: 'hook body left an object (retry hazard)',
  },
  'serial-hook-ignored': {
    cause: 'The gadget ships a prepare-serial-request hook, but this snapd is older than 2.74 and never runs it: the body lacks the hardware proof.',
    fix: 'refresh snapd to 2.74+ on the device, or add `assumes: [snapd2.74]` to the gadget so an older snapd refuses it',
    says: [{text: '(nothing: snapd before 2.74 drops the hook silently)'}],
    steps: ['prepare-serial-request'],
    title: 'hook not run (snapd < 2.74)',
  },

  // -- serial request ----------------------------------------------------------------------------
  'serial-taken': {
    cause: 'The serial this device proposes was issued to another device (another device key).',
    fix: 'each device needs its own serial: check how the gadget derives it (`snap-gadget serial --explain` on the board) and that boards do not share the source',
    says: [{text: `${DELIVER}: serial <serial> of <brand>/<model> was issued to another device key: …`, versions: 'serve: serial-taken'}],
    steps: ['serial-request'],
    title: 'serial already taken',
  },
  'device-has-serial': {
    cause: 'This device key already has another serial at the service, and a key gets one serial.',
    fix: 'let the device keep the serial it was issued (or reset the device, which makes a new key)',
    says: [{text: `${DELIVER}: this device key already has serial …`, versions: 'serve: device-has-serial'}],
    steps: ['serial-request'],
    title: 'key already has a serial',
  },
  'model-not-served': {
    cause: "The device service does not serve this device's model with the api-key the device sends.",
    fix: "add the model to the service (a models: entry of the serve config, or the vault's model list), or give the device the api-key of its model",
    says: [
      {text: `${DELIVER}: the api-key is not the one of model "<brand>/<model>" that the serial-request names: …`, versions: 'serve'},
      {text: `${DELIVER}: Serial vault refused the request: model not enabled`, versions: 'Serial Vault'},
    ],
    steps: ['serial-request'],
    title: 'model not served',
  },
  'request-id-rejected': {
    cause: 'The service does not accept the request-id in the serial-request: unknown, already used, expired or for another model.',
    fix: 'nothing on the device: a new attempt fetches a fresh request-id; if it recurs, check that one service answers both request-id and serial (no load balancer splitting them)',
    says: [{text: `${DELIVER}: the request-id is unknown or already used: …`, versions: 'serve: request-id-unknown, request-id-expired, request-id-model'}],
    steps: ['serial-request'],
    title: 'request-id rejected',
  },
  'serial-request-invalid': {
    cause: 'The service refuses what the serial-request carries (the proposed serial, the body, the model or the signature); its message says which.',
    fix: "the service's message above names the fix (for a snap-gadget gadget: the registration config, runtime/registration.json)",
    says: [{text: `${DELIVER}: <the service's message>`, versions: 'serve: serial-missing, serial-invalid, body-invalid, model-mismatch, …'}],
    steps: ['serial-request'],
    title: 'serial-request refused',
  },
  'service-refused': {
    cause: 'The device service refused the serial-request; its message says why.',
    fix: "the service's message above names the fix; its log has the details",
    says: [{text: `${DELIVER}: <the service's message>`}, {text: `${DELIVER}: unexpected status 4xx`}],
    steps: ['serial-request'],
    title: 'serial-request refused (other service)',
  },
  'serial-polling': {
    cause: 'The service accepted the serial-request (202) and snapd polls every minute with the same request; the service has not issued the serial yet.',
    fix: 'see why the service holds the request (an approval queue, a vault waiting on a human); snapd keeps polling for ever',
    says: [{text: 'Will poll for device serial assertion in 60 seconds'}],
    steps: ['serial-request'],
    title: 'waiting for the service (202)',
  },
  'serial-response-invalid': {
    cause: 'The service answered 200 without one usable serial assertion.',
    fix: 'fix the service: the answer must be an assertion stream with exactly one serial (and its chain)',
    says: [
      {text: 'cannot read response to request for a serial: %v'},
      {text: 'cannot proceed, received assertion stream from the device service missing device serial assertion'},
      {text: 'cannot accept more than a single device serial assertion from the device service'},
    ],
    steps: ['serial-request'],
    title: 'answer is not a serial',
  },

  // -- serial checks -----------------------------------------------------------------------------
  'serial-mismatch': {
    cause: 'The serial the service signed is for another brand, model or device key than this device.',
    fix: "check the service's model mapping (brand and model) and that it signs the device-key of the request, not a cached or reused serial",
    says: [{text: 'obtained serial assertion does not match provided device identity information (brand, model, key id): %s / %s / %s != %s / %s / %s'}],
    steps: ['serial-checks'],
    title: 'serial for another device',
  },
  'serial-authority': {
    cause: "The serial is signed by an authority that is neither the brand nor in the model's serial-authority.",
    fix: "sign serials with the brand's key, or add the signer to the model's serial-authority (a new model assertion)",
    says: [{text: 'obtained serial assertion is signed by authority %q different from brand %q without model assertion with serial-authority set to to allow for them'}],
    steps: ['serial-checks'],
    title: 'serial signed by another authority',
  },
  'serial-key-unknown': {
    cause: "The service returned the serial without its signing key's account-key, and the store does not have it either: snapd retries every minute, for ever.",
    fix: "make the service return the chain with the serial (serve: chain: [<brand>.account, <key>.account-key] in its config), or register the key with the brand's account in the store",
    says: [{text: 'cannot fetch signing key for the serial: %v (e.g. account-key (<key id>) not found)'}],
    steps: ['serial-checks'],
    title: "serial's key not known",
  },
  'serial-key-untrusted': {
    cause:
      "The serial's signing key is not one the device can trust: the chain the service returned is not signed by the store's root (a lab chain, or a key registered to another account), so the service logged a serial the device rejected.",
    fix: "register the signing key with the brand's account in the store (`snapcraft register-key`) and serve the account-key the store signed (`snap known --remote account-key public-key-sha3-384=<key id>`)",
    says: [
      {text: 'cannot accept stream of assertions from device service: cannot resolve prerequisite assertion: account-key (<key id>)'},
      {text: 'cannot accept stream of assertions from device service: cannot accept some assertions:\n - …: no matching public key %q for signature by %q'},
      {text: 'assertion authority %q does not match public key from %q'},
    ],
    steps: ['serial-checks'],
    title: "serial's key outside the chain",
  },
  'serial-key-validity': {
    cause: "The serial's time is outside its signing key's validity (since/until), or the key has expired: a wrong clock on the service, or an old or not-yet-valid key.",
    fix: "check the service's clock and the account-key's since and until (`snap known account-key public-key-sha3-384=<key id>`)",
    says: [{text: '%s assertion timestamp %q outside of signing key validity (key valid since %q…)'}, {text: 'assertion is signed with expired public key %q from %q: %s'}],
    steps: ['serial-checks'],
    title: 'signing key not valid then',
  },
  'serial-signature': {
    cause: "The serial's signature does not verify with the key it names.",
    fix: 'make the service sign with the key whose account-key it returns (serve checks this at start)',
    says: [{text: 'failed signature verification: %v'}],
    steps: ['serial-checks'],
    title: 'serial signature invalid',
  },
  'serial-save': {
    cause: 'snapd could not save the serial in the ubuntu-save assertion database (UC20+).',
    fix: 'check that ubuntu-save is mounted and writable (`findmnt /var/lib/snapd/save`)',
    says: [{text: 'cannot save serial to device save assertion database: %v'}],
    steps: ['serial-checks'],
    title: 'serial not saved',
  },

  // -- anything else -----------------------------------------------------------------------------
  'not-attempted': {
    cause:
      'snapd has made no registration attempt yet although the device is seeded: it waits out its back-off (5 minutes, doubling, at most 24 hours), registration is blocked until reboot, or (2.61+) offline settings leave nothing to do.',
    fix: 'restarting snapd (`sudo systemctl restart snapd`) resets the back-off; check /run/snapd/noregister and store.access',
    says: [{text: '(no "Initialize device" change)'}],
    steps: ['model'],
    title: 'no attempt yet',
  },
  'in-progress': {
    cause: 'The registration is under way and nothing has failed yet.',
    fix: 'wait, then run doctor again; `snap tasks --last=become-operational` shows where it is',
    says: [{text: '(the "Initialize device" change is Doing, with no error)'}],
    steps: ['request-id'],
    title: 'in progress',
  },
  'unknown-error': {
    cause: 'snapd stopped with an error doctor does not know; its own text is quoted above.',
    fix: "read snapd's text above and registration-failures.md; `journalctl -u snapd` on the device has the rest",
    says: [{text: '(any other error on the path)'}],
    steps: ['request-id'],
    title: 'other error',
  },
} as const satisfies Record<string, CauseSpec>

export type CauseCode = keyof typeof CAUSES

export const CAUSE_CODES = Object.keys(CAUSES) as CauseCode[]
