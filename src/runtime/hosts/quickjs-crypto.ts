/**
 * The QuickJS host's cryptography (the Node host has node:crypto). A gadget's runtime carries only
 * what its onboarding mode uses: scripts/build.mjs replaces this module with
 * quickjs-crypto-api-key.ts (tweetnacl: the Ed25519 device identity) in dist/runtime/prepare-device.cjs
 * and with quickjs-crypto-hardware-identity.ts (@noble/curves: the ECDSA hardware identity key) in
 * dist/runtime/prepare-device-hardware-identity.cjs. tweetnacl is 19 KB of a runtime and the
 * noble libraries 54 KB.
 * This module, with both, is the one the unbundled build and the tests load.
 */
import type {HostCrypto} from '../../support/host-types.js'
import {nobleCrypto} from './noble-keys.js'
import {tweetnaclCrypto} from './tweetnacl-crypto.js'

export function quickjsCrypto(randomBytes: (length: number) => Uint8Array): HostCrypto {
  return {...nobleCrypto(randomBytes), ...tweetnaclCrypto}
}
