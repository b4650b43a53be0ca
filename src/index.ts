/**
 * snap-gadget's SDK: validate gadget.yaml as snapd does, derive hardware serials, run the
 * prepare-device logic and scaffold gadget snaps. Nothing here prints; everything returns data
 * or throws {@link UserError} (a user's mistake) or {@link InternalError} (a bug).
 */
export {ExitCode, exitCodeFor, InternalError, UserError, type UserErrorKind, type UserErrorOptions} from './errors.js'

// gadget.yaml validation
export {compareFindings, type Finding, type Position, ruleInfo, type RuleInfo, rules, type Severity} from './gadget/findings/finding.js'
export {type GadgetModel} from './gadget/checks/snapd/index.js'
export {LATEST_SNAPD, OLDEST_SNAPD, snapdFeatures, snapdTarget, type SnapdTarget} from './gadget/snapd-version.js'
export {type GadgetSource, type GadgetValidation, validateGadget, type ValidateOptions} from './gadget/validate.js'

// device registration: assertions and the device identity
export {type Assertion, ASSERTION_LIMITS, type HeaderMap, type HeaderValue, headerText, parseAssertion, parseAssertions, type ParseAssertionOptions} from './assertions/decode.js'
export {type AssertionPublicKey, assertionKeyId, type AssertionSignatureCheck, decodeAssertionPublicKey, verifyAssertionSignature} from './assertions/verify.js'
export {
  type BodyFields,
  type BodyValue,
  DeviceIdentity,
  IDENTITY_KEY_FILE,
  IDENTITY_SCHEME,
  IdentityField,
  identitySigningInput,
  loadOrCreateIdentity,
  signWithIdentity,
  type StoredIdentity,
} from './registration/identity.js'
export {type IdentityVerification, verifyIdentity} from './registration/identity-verify.js'
export {
  type IdentityCheck,
  type IdentityDocumentKind,
  type IdentityDocumentReport,
  parseRegistrationBody,
  type ParsedRegistrationBody,
  verifyIdentityDocument,
  type VerifyIdentityDocumentOptions,
} from './registration/identity-document.js'

// hardware serial derivation
export * from './serial/index.js'

// gadget project scaffolding (init)
export * from './scaffold/index.js'

// device registration: the prepare-device logic, its config, body and snapctl calls
export {BODY_FACTS, type BodyFact, type BodyFactsReading, emitRegistrationBody, type FactInput, MAX_BODY_BYTES, readBodyFacts, yamlString} from './registration/body.js'
export {
  type BoardCatalog,
  checkRegistrationConfig,
  DEFAULT_CONFIG_NAME,
  defaultConfigFile,
  DEVICE_SERVICE_PRESETS,
  type DeviceServicePreset,
  type HeaderSpec,
  loadRegistrationConfig,
  parseRegistrationConfig,
  type RegistrationConfig,
  resolveHeaders,
  type SerialSection,
} from './registration/config.js'
export {describePreparation, type IdentityUse, neededPlugs, type PlugCheck, prepareDevice, type PrepareDeviceOptions, type PrepareDeviceResult, resolveRegistrationChain} from './registration/prepare.js'
export {
  isConnected,
  MANAGED_OPTIONS,
  registrationCall,
  RegistrationOption,
  type RegistrationValues,
  type ResolvedHeader,
  runSnapctl,
  SnapctlCall,
  type SnapctlResult,
  type SnapctlRunner,
  spawnSnapctl,
  type SpawnSnapctlOptions,
  stringOption,
  unsetOption,
} from './registration/snapctl.js'
