/**
 * snapd's assertion format: decode and verify what snapd signs, encode and sign what snapd
 * decodes and verifies, and snapd's RSA key encoding and key ids.
 */
export {type Assertion, ASSERTION_LIMITS, type HeaderMap, type HeaderValue, headerText, parseAssertion, parseAssertions, type ParseAssertionOptions} from './decode.js'
export {ASSERTION_TYPES, assertionContent, type AssertionInput, encodeHeaders} from './encode.js'
export {encodePublicKey, loadSigningKey, MIN_SIGNING_KEY_BITS, publicKeyId, type SigningKey, signingKeyFromKeyObject} from './keys.js'
export {signAssertion, signAssertionAsync, signContent, type SignedAssertion, type SignOptions} from './sign.js'
export {type AssertionPublicKey, type AssertionSignatureCheck, decodeAssertionPublicKey, MIN_VERIFY_KEY_BITS, verifyAssertionSignature} from './verify.js'
export {type AccountKeyView, accountKeyValidAt, accountKeyView, type AccountView, accountView, type ModelView, modelView, type SerialRequestView, serialRequestView, type SerialView, serialView} from './views.js'
