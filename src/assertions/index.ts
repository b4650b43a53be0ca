/**
 * snapd's assertion format: decode and verify what snapd signs, encode and sign what snapd
 * decodes and verifies, and snapd's RSA key encoding and key ids; hardware identities (snapd 2.73:
 * the assertion, its key and digest, the signature over a request-id).
 */
export {type Assertion, ASSERTION_LIMITS, type HeaderMap, type HeaderValue, headerText, parseAssertion, parseAssertions, type ParseAssertionOptions} from './decode.js'
export {ASSERTION_TYPES, assertionContent, type AssertionInput, encodeHeaders} from './encode.js'
export {encodePublicKey, loadSigningKey, MIN_SIGNING_KEY_BITS, publicKeyId, type SigningKey, signingKeyFromKeyObject} from './keys.js'
export {signAssertion, signAssertionAsync, signContent, type SignedAssertion, type SignOptions} from './sign.js'
export {type AssertionPublicKey, type AssertionSignatureCheck, decodeAssertionPublicKey, MIN_VERIFY_KEY_BITS, verifyAssertionSignature} from './verify.js'
export {
  DEFAULT_HARDWARE_KEY_TYPE,
  decodeNonceSignatureText,
  describeKey,
  encodeNonceSignature,
  HARDWARE_KEY_TYPES,
  HARDWARE_NAME,
  HARDWARE_NAME_RULE,
  type HardwareIdentityInput,
  hardwareIdentityInput,
  type HardwareIdKey,
  hardwareIdKeyDigest,
  hardwareIdKeyText,
  type HardwareKeyType,
  hardwareKeyTypeOf,
  ISSUER_ID,
  ISSUER_ID_RULE,
  MAX_HARDWARE_ID_KEY_LENGTH,
  MAX_NONCE_SIGNATURE_LENGTH,
  type NonceHash,
  nonceHashOf,
  type NonceSignatureCheck,
  readHardwareIdKey,
  verifyNonceSignature,
} from './hardware-identity.js'
export {
  type AccountKeyView,
  accountKeyValidAt,
  accountKeyView,
  type AccountView,
  accountView,
  type HardwareIdentityView,
  hardwareIdentityView,
  type ModelView,
  modelView,
  type SerialRequestView,
  serialRequestView,
  type SerialView,
  serialView,
} from './views.js'
