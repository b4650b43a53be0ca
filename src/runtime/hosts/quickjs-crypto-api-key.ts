/** The QuickJS cryptography of the api-key runtime (see quickjs-crypto.ts): Ed25519 and SHA-512, no hardware identity key. */
import type {HostCrypto} from '../../support/host-types.js'
import {missingFromRuntime} from './runtime-flavour.js'
import {tweetnaclCrypto} from './tweetnacl-crypto.js'

export function quickjsCrypto(): HostCrypto {
  const missing = missingFromRuntime(
    'api-key',
    'ECDSA for the hardware identity key of hardware-identity onboarding',
    '"snap-gadget init --onboarding hardware-identity" ships the other runtime (dist/runtime/prepare-device-hardware-identity.cjs in snap-gadget) as the gadget\'s runtime/prepare-device.cjs; or run the hooks with node',
  )
  return {...tweetnaclCrypto, generatePrivateKey: missing, publicKeyOf: missing, sha3_384: missing, signWithPrivateKey: missing}
}
