/**
 * Ed25519 and SHA-512 on QuickJS with tweetnacl (pure JavaScript; its signatures are
 * byte-identical to node:crypto's, which the tests check): the device identity that signs the
 * body in api-key onboarding.
 */
import nacl from 'tweetnacl'

import type {HostCrypto} from '../../support/host-types.js'

/** Key pairs by seed: deriving one is a scalar multiplication, about a third of a signing run in pure JavaScript. */
const keyPairs = new Map<string, nacl.SignKeyPair>()
function keyPairOf(seed: Uint8Array): nacl.SignKeyPair {
  const id = Array.from(seed, (b) => b.toString(16).padStart(2, '0')).join('')
  let pair = keyPairs.get(id)
  if (!pair) {
    pair = nacl.sign.keyPair.fromSeed(seed)
    keyPairs.set(id, pair)
  }

  return pair
}

export const tweetnaclCrypto: Pick<HostCrypto, 'ed25519PublicKey' | 'ed25519Sign' | 'sha512'> = {
  ed25519PublicKey: (seed) => keyPairOf(seed).publicKey,
  ed25519Sign: (seed, message) => nacl.sign.detached(message, keyPairOf(seed).secretKey),
  sha512: (data) => nacl.hash(data),
}
