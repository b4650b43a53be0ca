/** The QuickJS cryptography of the hardware-identity runtime (see quickjs-crypto.ts): ECDSA, SHA3-384 and SHA-512, no Ed25519. */
import type {HostCrypto} from '../../support/host-types.js'
import {nobleCrypto} from './noble-keys.js'
import {missingFromRuntime} from './runtime-flavour.js'

export function quickjsCrypto(randomBytes: (length: number) => Uint8Array): HostCrypto {
  const missing = missingFromRuntime(
    'hardware-identity',
    'Ed25519 for the device identity that signs the body in api-key onboarding',
    'ship the api-key runtime (dist/runtime/prepare-device.cjs in snap-gadget, what "snap-gadget init" puts in an api-key gadget) as the gadget\'s runtime/prepare-device.cjs, set "identity": false, or run the hooks with node',
  )
  return {...nobleCrypto(randomBytes), ed25519PublicKey: missing, ed25519Sign: missing}
}
