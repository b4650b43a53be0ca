/**
 * The registrations snapd's DeviceManager runs against `serve` for the doctor's fixtures
 * (fixtures_test.go), what each does, and the cause `doctor --state` must name for the state.json
 * it leaves. A Go test may save more than one state (2.58.1+ retries a certificate that is not yet
 * valid silently first, then gives up).
 */
import type {SnapdLine} from './build.js'

export interface FixtureCase {
  /** The fixture's directory: test/fixtures/doctor/<name>/<snapd version>/state.json. */
  name: string
  /** The Go test that saves it. */
  test: string
  /** What went wrong, on purpose. */
  what: string
  /** The cause doctor names, by snapd line (a line that does not make this case is absent). */
  cause: Partial<Record<SnapdLine, string>>
}

export const FIXTURE_CASES: readonly FixtureCase[] = [
  {cause: {'2.57': 'registered', '2.77': 'registered'}, name: 'registered', test: 'TestRegistered', what: 'the device registers with serve'},
  {
    cause: {'2.57': 'api-key-invalid', '2.77': 'api-key-invalid'},
    name: 'wrong-api-key',
    test: 'TestWrongAPIKey',
    what: "the hook sets an api-key serve does not know: serve refuses the request-id (401, serve's message)",
  },
  {cause: {'2.57': 'service-unreachable', '2.77': 'service-unreachable'}, name: 'service-down', test: 'TestServiceDown', what: 'nothing listens at the service URL: snapd retries every minute'},
  {
    cause: {'2.57': 'tls-unknown-authority', '2.77': 'tls-unknown-authority'},
    name: 'tls-unknown-authority',
    test: 'TestTLSUnknownAuthority',
    what: "serve's certificate is self-signed",
  },
  {
    cause: {'2.57': 'clock-behind', '2.77': 'clock-behind'},
    name: 'clock-behind',
    test: 'TestClockBehind',
    what: "serve's certificate, from a CA the device trusts, is valid from tomorrow: the device's clock is behind (2.58.1+ gave up after 20 silent tries)",
  },
  {
    cause: {'2.77': 'clock-behind-retrying'},
    name: 'clock-behind-retrying',
    test: 'TestClockBehind',
    what: 'as clock-behind, while 2.58.1+ retries without a log line',
  },
  {
    cause: {'2.57': 'prepare-device-hook-failed', '2.77': 'prepare-device-hook-failed'},
    name: 'prepare-device-hook-fails',
    test: 'TestPrepareDeviceHookFails',
    what: "the prepare-device hook finds no serial on the board and exits 1 with the runtime's reason",
  },
  {cause: {'2.57': 'serial-taken', '2.77': 'serial-taken'}, name: 'serial-taken', test: 'TestSerialTaken', what: 'another device already has the serial this one proposes'},
  {
    cause: {'2.57': 'serial-key-untrusted', '2.77': 'serial-key-untrusted'},
    name: 'serial-key-untrusted',
    test: 'TestSerialKeyOutsideTheChain',
    what: "serve signs with a key whose account-key a lab root signed: serve's log says issued, the device rejects the serial",
  },
  {
    cause: {'2.57': 'serial-key-unknown', '2.77': 'serial-key-unknown'},
    name: 'serial-key-unknown',
    test: 'TestNoChain',
    what: 'serve returns the serial without its chain, and the store does not know the key: snapd retries every minute',
  },
  {cause: {'2.57': 'model-not-served', '2.77': 'model-not-served'}, name: 'model-not-served', test: 'TestModelNotServed', what: "the device's model is not one serve serves"},
  {cause: {'2.77': 'registered'}, name: 'registered-serial-hook', test: 'TestRegisteredWithSerialHook', what: 'the prepare-serial-request hook sets the body; the device registers'},
  {
    cause: {'2.77': 'serial-hook-body-object'},
    name: 'serial-hook-body-object',
    test: 'TestSerialHookBodyLeftAnObject',
    what: 'the prepare-serial-request hook leaves registration.body an object; a 503 makes snapd retry, and the retry cannot read it',
  },
  {
    cause: {'2.77': 'serial-hook-body-invalid'},
    name: 'serial-hook-missing-field',
    test: 'TestSerialHookMissingField',
    what: 'the prepare-serial-request hook sets a body without request-id-signature',
  },
  {cause: {'2.77': 'device-service-offline'}, name: 'device-service-offline', test: 'TestDeviceServiceOffline', what: 'the gadget sets device-service.access=offline'},
]
